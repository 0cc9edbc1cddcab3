/*
 * copy.c - vcopy: checking a request against the owner's grant table and
 * copying between the two processes through a bounce buffer with
 * process_vm_readv/process_vm_writev.
 *
 * Small copies run in the main loop.  Larger ones go to a few copy
 * threads, one chunk at a time, round-robin, so one client's huge copy
 * does not stall other clients.  A process that dies mid-copy makes the
 * system calls fail (ESRCH/EFAULT): the copier gets an error, dvkd goes on.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dvkd.h"
#include "dvs/log.h"

#define COPY_THREADS 2
/* The bounce buffer sits in one transparent huge page: the kernel pins
 * our side of each copy without walking 256 small pages. */
#define BOUNCE_SIZE (1024 * 1024)
#define BOUNCE_ALLOC (2 * 1024 * 1024)
#define JOB_CHUNK (1024 * 1024) /* then the next job gets a turn */

struct job {
	struct binding *copier, *owner;
	char *cbuf; /* the copier's copy buffer as mapped here, or NULL */
	uint32_t seq;
	uint32_t dir;
	uint64_t oaddr, caddr, len, done;
};

static pthread_t threads[COPY_THREADS];
static int nthreads;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct job *queue[DVKD_MAX_COPY_JOBS];
static unsigned qhead, qlen;
static int qstop;
static char *main_bounce;

static char *
bounce_new(void)
{
	char *p = aligned_alloc(BOUNCE_ALLOC, BOUNCE_ALLOC);

	if (p != NULL)
		madvise(p, BOUNCE_ALLOC, MADV_HUGEPAGE);
	return p;
}

/* Copies n bytes; returns 0, -EDVS_DEADPEER (owner gone), -ESRCH (copier
 * gone) or -EFAULT (an address not mapped). */
static int
copy_span(struct job *j, uint64_t pos, size_t n, char *bounce)
{
	int owner_is_src = j->dir == DVKD_VCOPY_FROM;
	pid_t src = owner_is_src ? j->owner->pid : j->copier->pid;
	pid_t dst = owner_is_src ? j->copier->pid : j->owner->pid;
	uint64_t sa = (owner_is_src ? j->oaddr : j->caddr) + pos;
	uint64_t da = (owner_is_src ? j->caddr : j->oaddr) + pos;
	struct iovec l, r;
	ssize_t got;

	if (j->cbuf != NULL) {
		/* One copy, straight between the owner and the buffer. */
		l.iov_base = j->cbuf + pos;
		l.iov_len = n;
		r.iov_base = (void *)(uintptr_t)(j->oaddr + pos);
		r.iov_len = n;
		if (owner_is_src)
			got = process_vm_readv(j->owner->pid, &l, 1, &r, 1, 0);
		else
			got = process_vm_writev(j->owner->pid, &l, 1, &r, 1, 0);
		if (got < 0 && errno == ESRCH)
			return -EDVS_DEADPEER;
		if (got < 0 && errno == EPERM)
			return -EPERM; /* dvkd lacks CAP_SYS_PTRACE */
		return got == (ssize_t)n ? 0 : -EFAULT;
	}
	l.iov_base = bounce;
	l.iov_len = n;
	r.iov_base = (void *)(uintptr_t)sa;
	r.iov_len = n;
	got = process_vm_readv(src, &l, 1, &r, 1, 0);
	if (got < 0 && errno == ESRCH)
		return owner_is_src ? -EDVS_DEADPEER : -ESRCH;
	if (got < 0 && errno == EPERM)
		return -EPERM;
	if (got != (ssize_t)n)
		return -EFAULT;
	r.iov_base = (void *)(uintptr_t)da;
	got = process_vm_writev(dst, &l, 1, &r, 1, 0);
	if (got < 0 && errno == ESRCH)
		return owner_is_src ? -ESRCH : -EDVS_DEADPEER;
	if (got < 0 && errno == EPERM)
		return -EPERM;
	if (got != (ssize_t)n)
		return -EFAULT;
	return 0;
}

/* Copies up to max bytes of j; 1 = more to do, 0 = done, <0 = error. */
static int
job_step(struct job *j, uint64_t max, char *bounce)
{
	uint64_t end = j->done + max < j->len ? j->done + max : j->len;
	int rc;

	while (j->done < end) {
		size_t n = end - j->done;

		if (j->cbuf == NULL && n > BOUNCE_SIZE)
			n = BOUNCE_SIZE;

		if (j->owner->dead)
			return -EDVS_DEADPEER;
		if (j->copier->dead)
			return -ESRCH;
		rc = copy_span(j, j->done, n, bounce);
		if (rc < 0)
			return rc;
		j->done += n;
	}
	if (j->done < j->len)
		return 1;
	/* Pids are reused: make sure the owner we copied is still the
	 * process that made the grant. */
	if (syscall(SYS_pidfd_send_signal, j->owner->pidfd, 0, NULL, 0) < 0)
		return -EDVS_DEADPEER;
	return 0;
}

static void
job_finish(struct job *j, int rc)
{
	struct dvkd_msg m;

	if (rc == 0) {
		if (j->dir == DVKD_VCOPY_FROM)
			atomic_fetch_add(&j->copier->copied_in, j->len);
		else
			atomic_fetch_add(&j->copier->copied_out, j->len);
		atomic_fetch_add(&dvkd.copied, j->len);
	}
	if (rc != -ESRCH) {
		dvkd_msg_init(&m, DVKD_REPLY, j->seq);
		m.h.status = rc;
		/* A failed send means the copier is gone or not reading;
		 * the main loop notices on its socket. */
		dvkd_bind_send(j->copier, &m, NULL, 0);
	}
	atomic_fetch_sub(&j->copier->copies, 1);
}

static void *
worker(void *arg)
{
	char *bounce = NULL;
	struct job *j;
	int rc;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&qlock);
		while (qlen == 0 && !qstop)
			pthread_cond_wait(&qcond, &qlock);
		if (qlen == 0 && qstop) {
			pthread_mutex_unlock(&qlock);
			break;
		}
		j = queue[qhead];
		qhead = (qhead + 1) % DVKD_MAX_COPY_JOBS;
		qlen--;
		pthread_mutex_unlock(&qlock);

		if (bounce == NULL && j->cbuf == NULL)
			bounce = bounce_new(); /* on first use: RSS only if used */
		rc = qstop ? -EDVS_NODAEMON
		     : bounce == NULL && j->cbuf == NULL ? -ENOMEM
							 : job_step(j, JOB_CHUNK, bounce);
		if (rc == 1) {
			pthread_mutex_lock(&qlock);
			queue[(qhead + qlen) % DVKD_MAX_COPY_JOBS] = j;
			qlen++;
			pthread_mutex_unlock(&qlock);
			continue;
		}
		job_finish(j, rc);
		atomic_fetch_sub(&dvkd.copies_now, 1);
		dvkd_binding_unref(j->copier);
		dvkd_binding_unref(j->owner);
		free(j);
	}
	free(bounce);
	return NULL;
}

int
dvkd_copy_start(void)
{
	int i;

	for (i = 0; i < COPY_THREADS; i++) {
		if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
			return -1;
		nthreads++;
	}
	return 0;
}

void
dvkd_copy_stop(void)
{
	int i;

	free(main_bounce);
	main_bounce = NULL;
	pthread_mutex_lock(&qlock);
	qstop = 1;
	pthread_cond_broadcast(&qcond);
	pthread_mutex_unlock(&qlock);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
}

int
dvkd_copy_request(struct binding *b, const struct dvkd_msg *req)
{
	const struct dvkd_vcopy_req *v = &req->u.vcopy;
	struct binding *ob;
	struct job *j, tmp;
	uint64_t oaddr;
	int rc;

	if (v->dir > DVKD_VCOPY_TO || v->len == 0)
		return -EINVAL;
	if (b->backup)
		return -EDVS_NOTBOUND;
	if (v->owner < 0 || v->owner >= b->dc->nep)
		return -EDVS_BADEP;
	ob = b->dc->eps[v->owner].b;
	if (ob == NULL || ob->dead)
		return -EDVS_NOTBOUND;
	rc = dvkd_grant_check(ob->gt, v->grant, b->ep, v->dir, v->off, v->len, &oaddr);
	if (rc < 0)
		return rc;
	if (v->addr + v->len < v->addr)
		return -EFAULT;
	memset(&tmp, 0, sizeof(tmp));
	if (v->buf != 0) {
		tmp.cbuf = dvkd_buf_find(b, v->buf, v->addr, v->len);
		if (tmp.cbuf == NULL)
			return -EFAULT;
	}
	tmp.copier = b;
	tmp.owner = ob;
	tmp.seq = req->h.seq;
	tmp.dir = v->dir;
	tmp.oaddr = oaddr;
	tmp.caddr = v->addr;
	tmp.len = v->len;
	if (v->len <= DVKD_INLINE_COPY) {
		if (tmp.cbuf == NULL && main_bounce == NULL &&
		    (main_bounce = bounce_new()) == NULL)
			return -ENOMEM;
		rc = job_step(&tmp, v->len, main_bounce);
		if (rc == 0) {
			if (v->dir == DVKD_VCOPY_FROM)
				atomic_fetch_add(&b->copied_in, v->len);
			else
				atomic_fetch_add(&b->copied_out, v->len);
			atomic_fetch_add(&dvkd.copied, v->len);
		}
		return rc == -ESRCH ? -EDVS_DEADPEER : rc;
	}
	if (atomic_load(&b->copies) >= DVKD_MAX_COPIES_PER_BINDING)
		return -EDVS_LIMIT;
	j = malloc(sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	*j = tmp;
	pthread_mutex_lock(&qlock);
	if (qlen >= DVKD_MAX_COPY_JOBS) {
		pthread_mutex_unlock(&qlock);
		free(j);
		return -EDVS_LIMIT;
	}
	atomic_fetch_add(&b->refs, 1);
	atomic_fetch_add(&ob->refs, 1);
	atomic_fetch_add(&b->copies, 1);
	atomic_fetch_add(&dvkd.copies_now, 1);
	queue[(qhead + qlen) % DVKD_MAX_COPY_JOBS] = j;
	qlen++;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
	return 1;
}
