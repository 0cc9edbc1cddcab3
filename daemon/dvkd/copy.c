/*
 * copy.c - vcopy: checking a request against the owner's grant table and
 * copying between the two sides.  A side is reached through our own
 * mapping when it lies inside one of that process's copy buffers (buf.c),
 * else with process_vm_readv/process_vm_writev:
 *   both sides in copy buffers   memcpy here (no pages to pin)
 *   one side in a copy buffer    one kernel copy
 *   neither                      two kernel copies through a bounce buffer
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
	char *obuf; /* the owner's grant as mapped here, or NULL */
	struct dbuf *odb; /* the owner's buffer holding obuf (a user of it) */
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

/* One process_vm_readv (wr 0) or process_vm_writev of n bytes between
 * our local and pid's remote; 0, gone if pid exited, -EPERM if we may not
 * (no CAP_SYS_PTRACE), else -EFAULT (an address not mapped). */
static int
pvm(pid_t pid, int wr, void *local, uint64_t remote, size_t n, int gone)
{
	struct iovec l = { local, n }, r = { (void *)(uintptr_t)remote, n };
	ssize_t got = wr ? process_vm_writev(pid, &l, 1, &r, 1, 0)
			 : process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (got == (ssize_t)n)
		return 0;
	if (got < 0 && errno == ESRCH)
		return gone;
	return got < 0 && errno == EPERM ? -EPERM : -EFAULT;
}

/* Copies n bytes; returns 0, -EDVS_DEADPEER (owner gone), -ESRCH (copier
 * gone), -EPERM or -EFAULT. */
static int
copy_span(struct job *j, uint64_t pos, size_t n, char *bounce)
{
	int from = j->dir == DVKD_VCOPY_FROM, rc;

	/* Both mappings are ours, of sealed memfds that stay mapped while
	 * the job holds its bindings: no fault whatever the processes do.
	 * memmove: a self-grant may overlap. */
	if (j->cbuf != NULL && j->obuf != NULL) {
		if (from)
			memmove(j->cbuf + pos, j->obuf + pos, n);
		else
			memmove(j->obuf + pos, j->cbuf + pos, n);
		return 0;
	}
	if (j->cbuf != NULL) /* one copy, straight between the owner and the buffer */
		return pvm(j->owner->pid, !from, j->cbuf + pos, j->oaddr + pos, n,
			   -EDVS_DEADPEER);
	if (j->obuf != NULL) /* one copy, between the owner's buffer and the copier */
		return pvm(j->copier->pid, from, j->obuf + pos, j->caddr + pos, n, -ESRCH);
	rc = pvm(from ? j->owner->pid : j->copier->pid, 0, bounce,
		 (from ? j->oaddr : j->caddr) + pos, n, from ? -EDVS_DEADPEER : -ESRCH);
	if (rc == 0)
		rc = pvm(from ? j->copier->pid : j->owner->pid, 1, bounce,
			 (from ? j->caddr : j->oaddr) + pos, n, from ? -ESRCH : -EDVS_DEADPEER);
	return rc;
}

/* Copies up to max bytes of j; 1 = more to do, 0 = done, <0 = error. */
static int
job_step(struct job *j, uint64_t max, char *bounce)
{
	uint64_t end = j->done + max < j->len ? j->done + max : j->len;
	int rc;

	while (j->done < end) {
		size_t n = end - j->done;

		if (j->cbuf == NULL && j->obuf == NULL && n > BOUNCE_SIZE)
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
	/* Done with both buffers before the copier hears of it: it may free
	 * its buffer, or the owner its own, as soon as the reply is out. */
	atomic_fetch_sub(&j->copier->copies, 1);
	if (j->odb != NULL)
		atomic_fetch_sub(&j->odb->users, 1);
	if (rc != -ESRCH) {
		dvkd_msg_init(&m, DVKD_REPLY, j->seq);
		m.h.status = rc;
		/* A failed send means the copier is gone or not reading;
		 * the main loop notices on its socket. */
		dvkd_bind_send(j->copier, &m, NULL, 0);
	}
}

static void *
worker(void *arg)
{
	char *bounce = NULL;
	struct job *j;
	int rc, stop, need;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&qlock);
		while (qlen == 0 && !qstop)
			pthread_cond_wait(&qcond, &qlock);
		stop = qstop;
		if (qlen == 0 && stop) {
			pthread_mutex_unlock(&qlock);
			break;
		}
		j = queue[qhead];
		qhead = (qhead + 1) % DVKD_MAX_COPY_JOBS;
		qlen--;
		pthread_mutex_unlock(&qlock);

		need = j->cbuf == NULL && j->obuf == NULL;
		if (bounce == NULL && need)
			bounce = bounce_new(); /* on first use: RSS only if used */
		rc = stop ? -EDVS_NODAEMON
		     : bounce == NULL && need ? -ENOMEM
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
	rc = dvkd_grant_check(ob->gt, v->grant, b->ep, b->gen, v->dir, v->off, v->len, &oaddr);
	if (rc < 0)
		return rc;
	if (v->addr + v->len < v->addr)
		return -EFAULT;
	memset(&tmp, 0, sizeof(tmp));
	if (v->buf != 0) {
		tmp.cbuf = dvkd_buf_find(b, v->buf, v->addr, v->len);
		if (tmp.cbuf == NULL)
			return -EFAULT;
	} else {
		/* The copier's own memory, inside a buffer it said it mapped
		 * there: its claim can only make us use its own buffer. */
		dvkd_buf_at(b, v->addr, v->len, &tmp.cbuf);
	}
	/* The same for the owner's grant (already checked against the
	 * grant): we reach only the owner's own buffer. */
	tmp.odb = dvkd_buf_at(ob, oaddr, v->len, &tmp.obuf);
	tmp.copier = b;
	tmp.owner = ob;
	tmp.seq = req->h.seq;
	tmp.dir = v->dir;
	tmp.oaddr = oaddr;
	tmp.caddr = v->addr;
	tmp.len = v->len;
	if (v->len <= DVKD_INLINE_COPY) {
		if (tmp.cbuf == NULL && tmp.obuf == NULL && main_bounce == NULL &&
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
	if (j->odb != NULL)
		atomic_fetch_add(&j->odb->users, 1);
	atomic_fetch_add(&b->copies, 1);
	atomic_fetch_add(&dvkd.copies_now, 1);
	queue[(qhead + qlen) % DVKD_MAX_COPY_JOBS] = j;
	qlen++;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
	return 1;
}
