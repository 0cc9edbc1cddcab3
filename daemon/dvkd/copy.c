/*
 * copy.c - vcopy: checking a request against the owner's grant table and
 * copying between the two sides.  A side is reached through our own
 * mapping when it lies inside one of that process's copy buffers (buf.c),
 * else with process_vm_readv/process_vm_writev:
 *   both sides in copy buffers   memcpy here (no pages to pin)
 *   one side in a copy buffer    one kernel copy
 *   neither                      two kernel copies through a bounce buffer
 *
 * A process's memory may never come (a userfaultfd page nobody serves, a
 * FUSE-backed mapping), and the event loop serves every DC.  Small copies
 * run in the loop under a watchdog that hands the loop to a new thread
 * when one takes too long (inline_copy); larger ones, and every copy of a
 * DC that held the loop so once, go to the copy threads, one chunk at a
 * time, round-robin over the DCs and within a DC over its jobs, so one
 * client's huge copy does not stall other clients, and each DC holds at
 * most DC_RUNNING threads (more threads are started while all are busy),
 * so one DC's stuck copies do not stall other DCs.  A
 * process that dies mid-copy makes the system calls fail (ESRCH/EFAULT,
 * and the owner's death ends a wait on its userfaultfd): the copier gets
 * an error, dvkd goes on.  A copy stuck on a live owner's memory holds
 * its thread until the owner serves the fault or dies; the copier's
 * death does not end it (the kernel waits killably only).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dvkd.h"
#include "dvs/log.h"
#include "dvs/parse.h"

/* Copy threads: a few at start, more on demand, each DC holding at most
 * DC_RUNNING of them at a time.  A copy can wait on the owner's memory
 * for as long as the owner likes (a userfaultfd page never served, a
 * FUSE-backed mapping), so a thread may be stuck: one DC can only ever
 * stall DC_RUNNING threads, and others get new ones. */
#define COPY_THREADS_MIN 2
#define COPY_THREADS_MAX 64
#define DC_RUNNING 2
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
	int dc; /* the DC's number (the DC itself may go first) */
	uint32_t seq;
	uint32_t dir;
	uint64_t oaddr, caddr, len, done;
	struct job *next;
};

/* The jobs of one DC, served round-robin with the other DCs'.  Under
 * qlock, like everything below. */
struct dcq {
	int used;
	int dc;
	struct job *head, *tail;
	int running; /* its jobs on a thread now */
};

static dvs_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static pthread_t threads[COPY_THREADS_MAX] DVS_GUARDED_BY(qlock);
static int nthreads DVS_GUARDED_BY(qlock), nidle DVS_GUARDED_BY(qlock);
static struct dcq dcqs[DVKD_MAX_DCS] DVS_GUARDED_BY(qlock);
static int ndcq DVS_GUARDED_BY(qlock); /* used entries */
static unsigned rr DVS_GUARDED_BY(qlock);
static unsigned qlen DVS_GUARDED_BY(qlock); /* jobs queued, not running */
/* Set under qlock (what waiters on qcond check), read without it by a
 * thread about to copy: atomic. */
static atomic_int qstop;
static atomic_int nexited;

/*
 * The loop's own copies.  Small copies run in the event loop (a hand-off
 * to a thread costs a cross-CPU wake-up per copy), but a process's memory
 * may never come (a userfaultfd page nobody serves, a FUSE-backed
 * mapping) and the loop serves every DC.  So a watchdog thread looks at
 * each inline copy: one that takes longer than INLINE_MAX_NS loses the
 * loop, which goes on in a new thread; the old one finishes the copy as a
 * copy thread would and ends.  That DC's copies then all go to the copy
 * threads, where it holds at most DC_RUNNING of them: stuck threads are
 * bounded by the number of DC numbers.
 */
#define INLINE_MAX_NS (50 * 1000000ull) /* DVKD_INLINE_MAX_US sets it (tests) */
static uint64_t inline_max_ns = INLINE_MAX_NS;
#define WATCH_NS (10 * 1000000)
static _Atomic uint64_t inline_since; /* 0: no inline copy now */
static atomic_int inline_dc;
static _Atomic uint64_t offloop[65536 / 64]; /* DC numbers, a bit each */
static pthread_t watch_thread;
static int watch_started;
static char *main_bounce;

static void *worker(void *arg);

static struct dcq *
dcq_get(int dc) DVS_REQUIRES(qlock)
{
	struct dcq *free_q = NULL;
	int i;

	for (i = 0; i < DVKD_MAX_DCS; i++) {
		if (dcqs[i].used && dcqs[i].dc == dc)
			return &dcqs[i];
		if (!dcqs[i].used && free_q == NULL)
			free_q = &dcqs[i];
	}
	if (free_q != NULL) {
		memset(free_q, 0, sizeof(*free_q));
		free_q->used = 1;
		free_q->dc = dc;
		ndcq++;
	}
	return free_q;
}

static void
dcq_put(struct dcq *q) DVS_REQUIRES(qlock)
{
	if (q->head == NULL && q->running == 0) {
		q->used = 0;
		ndcq--;
	}
}

static void
enqueue(struct job *j) DVS_REQUIRES(qlock)
{
	struct dcq *q = dcq_get(j->dc);

	/* There is a queue per DC at most, and at most DVKD_MAX_DCS DCs. */
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	qlen++;
}

/* The next job, round-robin over the DCs that may run one more. */
static struct job *
pick(void) DVS_REQUIRES(qlock)
{
	unsigned k, i;

	for (k = 0; k < DVKD_MAX_DCS && qlen > 0; k++) {
		struct dcq *q;
		struct job *j;

		i = (rr + k) % DVKD_MAX_DCS;
		q = &dcqs[i];
		if (!q->used || q->head == NULL || q->running >= DC_RUNNING)
			continue;
		j = q->head;
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->running++;
		qlen--;
		rr = i + 1;
		return j;
	}
	return NULL;
}

/* Caller holds qlock: wake a thread for a new job, or start one when
 * every thread is busy (maybe stuck on some DC's memory). */
static void
kick(void) DVS_REQUIRES(qlock)
{
	pthread_attr_t a;

	if (nidle > 0) {
		pthread_cond_signal(&qcond);
		return;
	}
	if (nthreads >= COPY_THREADS_MAX || nthreads >= DC_RUNNING * ndcq + 1)
		return;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (pthread_create(&threads[nthreads], &a, worker, NULL) == 0)
		nthreads++;
	pthread_attr_destroy(&a);
}

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
int
dvkd_pvm(pid_t pid, int wr, void *local, uint64_t remote, size_t n, int gone)
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
		return dvkd_pvm(j->owner->pid, !from, j->cbuf + pos, j->oaddr + pos, n,
			   -EDVS_DEADPEER);
	if (j->obuf != NULL) /* one copy, between the owner's buffer and the copier */
		return dvkd_pvm(j->copier->pid, from, j->obuf + pos, j->caddr + pos, n, -ESRCH);
	rc = dvkd_pvm(from ? j->owner->pid : j->copier->pid, 0, bounce,
		 (from ? j->oaddr : j->caddr) + pos, n, from ? -EDVS_DEADPEER : -ESRCH);
	if (rc == 0)
		rc = dvkd_pvm(from ? j->copier->pid : j->owner->pid, 1, bounce,
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
	struct dcq *q;
	int rc, need;

	(void)arg;
	dvs_mutex_lock(&qlock);
	for (;;) {
		j = pick();
		if (j == NULL && qstop)
			break;
		if (j == NULL) {
			nidle++;
			pthread_cond_wait(&qcond, &qlock);
			nidle--;
			continue;
		}
		dvs_mutex_unlock(&qlock);

		need = j->cbuf == NULL && j->obuf == NULL;
		if (bounce == NULL && need)
			bounce = bounce_new(); /* on first use: RSS only if used */
		rc = qstop ? -EDVS_NODAEMON
		     : bounce == NULL && need ? -ENOMEM
					      : job_step(j, JOB_CHUNK, bounce);
		dvs_mutex_lock(&qlock);
		q = dcq_get(j->dc);
		q->running--;
		if (rc == 1) {
			enqueue(j);
			continue;
		}
		dcq_put(q);
		dvs_mutex_unlock(&qlock);
		job_finish(j, rc);
		atomic_fetch_sub(&dvkd.copies_now, 1);
		dvkd_binding_unref(j->copier);
		dvkd_binding_unref(j->owner);
		free(j);
		dvs_mutex_lock(&qlock);
	}
	dvs_mutex_unlock(&qlock);
	free(bounce);
	atomic_fetch_add(&nexited, 1);
	return NULL;
}

static int
dc_offloop(int dc)
{
	return (atomic_load_explicit(&offloop[(unsigned)dc / 64], memory_order_relaxed) >>
		((unsigned)dc % 64)) & 1;
}

static void *
watchdog(void *arg)
{
	struct timespec ts = { 0, WATCH_NS };
	uint64_t t;
	int stop, dc;

	(void)arg;
	for (;;) {
		nanosleep(&ts, NULL);
		dvs_mutex_lock(&qlock);
		stop = qstop;
		dvs_mutex_unlock(&qlock);
		if (stop)
			break;
		t = atomic_load(&inline_since);
		if (t == 0 || dvs_now_ns() - t < inline_max_ns)
			continue;
		dc = atomic_load(&inline_dc);
		if (!atomic_compare_exchange_strong(&inline_since, &t, 0))
			continue; /* it just finished */
		/* The loop is stuck in the copy and touches nothing else
		 * until it returns: its bounce buffer goes with it. */
		main_bounce = NULL;
		atomic_fetch_or(&offloop[(unsigned)dc / 64], 1ull << ((unsigned)dc % 64));
		dvs_warn("dc %d: a copy waits on a process's memory; the event loop "
			 "goes on in a new thread, and the DC's copies on copy threads", dc);
		if (dvkd_loop_handover() < 0)
			dvs_err("cannot start a new event loop thread: dvkd waits");
	}
	return NULL;
}

/* Runs j in the event loop, watched (see inline_since).  Returns its
 * status; does not return if the loop was handed over meanwhile. */
static int
inline_copy(struct job *j, char *bounce)
{
	uint64_t t0 = dvs_now_ns();
	int rc;

	/* Held as a queued job would be: if this thread loses the loop, the
	 * new loop may see the bindings go and their buffers freed. */
	atomic_fetch_add(&j->copier->refs, 1);
	atomic_fetch_add(&j->owner->refs, 1);
	atomic_fetch_add(&j->copier->copies, 1);
	if (j->odb != NULL)
		atomic_fetch_add(&j->odb->users, 1);
	atomic_store(&inline_dc, j->dc);
	atomic_store(&inline_since, t0);
	rc = job_step(j, j->len, bounce);
	if (!atomic_compare_exchange_strong(&inline_since, &t0, 0)) {
		/* Not the loop thread any more: finish like a copy thread. */
		job_finish(j, rc);
		dvkd_binding_unref(j->copier);
		dvkd_binding_unref(j->owner);
		free(bounce);
		/* The main thread stays: when it exits, /proc/PID/status
		 * shows the process as a zombie with no memory figures
		 * (tools and tests read dvkd's RSS there).  Its signals are
		 * blocked (signalfd): it sleeps until the process exits. */
		if ((pid_t)syscall(SYS_gettid) == getpid())
			for (;;)
				pause();
		pthread_exit(NULL);
	}
	if (rc == 0) {
		if (j->dir == DVKD_VCOPY_FROM)
			atomic_fetch_add(&j->copier->copied_in, j->len);
		else
			atomic_fetch_add(&j->copier->copied_out, j->len);
		atomic_fetch_add(&dvkd.copied, j->len);
	}
	atomic_fetch_sub(&j->copier->copies, 1);
	if (j->odb != NULL)
		atomic_fetch_sub(&j->odb->users, 1);
	/* The table still holds both bindings: these are not the last. */
	atomic_fetch_sub(&j->copier->refs, 1);
	atomic_fetch_sub(&j->owner->refs, 1);
	return rc == -ESRCH ? -EDVS_DEADPEER : rc;
}

int
dvkd_copy_start(void)
{
	const char *s = getenv("DVKD_INLINE_MAX_US");
	long us;
	int i, n;

	if (s != NULL) {
		if (dvs_parse_long(s, 0, 60L * 1000 * 1000, &us) == 0)
			inline_max_ns = (uint64_t)us * 1000;
		else
			dvs_warn("DVKD_INLINE_MAX_US: a number of microseconds up to "
				 "60000000, not '%s'; ignored", s);
	}
	dvs_mutex_lock(&qlock);
	for (i = 0; i < COPY_THREADS_MIN; i++) {
		if (pthread_create(&threads[nthreads], NULL, worker, NULL) != 0)
			break;
		nthreads++;
	}
	n = nthreads;
	dvs_mutex_unlock(&qlock);
	if (pthread_create(&watch_thread, NULL, watchdog, NULL) == 0)
		watch_started = 1;
	return n > 0 && watch_started ? 0 : -1;
}

void
dvkd_copy_stop(void)
{
	uint64_t end = dvs_now_ns() + 2000000000ull;
	int i, n;

	free(main_bounce);
	main_bounce = NULL;
	dvs_mutex_lock(&qlock);
	qstop = 1;
	pthread_cond_broadcast(&qcond);
	n = nthreads;
	dvs_mutex_unlock(&qlock);
	if (watch_started)
		pthread_join(watch_thread, NULL);
	watch_started = 0;
	/* A thread stuck on a process's memory that never comes is left to
	 * the exit (which ends the wait): wait 2 s for the others. */
	while (atomic_load(&nexited) < n && dvs_now_ns() < end)
		usleep(1000);
	dvs_mutex_lock(&qlock);
	for (i = 0; i < n; i++) {
		if (atomic_load(&nexited) == n)
			pthread_join(threads[i], NULL);
		else
			pthread_detach(threads[i]);
	}
	if (atomic_load(&nexited) < n)
		dvs_warn("%d copy threads still wait on a process's memory",
			 n - atomic_load(&nexited));
	nthreads = 0;
	dvs_mutex_unlock(&qlock);
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
	if (ob == NULL && b->dc->eps[v->owner].rnode != 0)
		return dvkd_rcopy_request(b, req); /* the owner is on another node */
	if (ob == NULL || ob->dead)
		return -EDVS_NOTBOUND;
	rc = dvkd_grant_check(ob->gt, v->grant, b->ep, b->gen, v->dir, v->off,
			      v->len, &oaddr);
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
	tmp.dc = b->dc->id;
	tmp.seq = req->h.seq;
	tmp.dir = v->dir;
	tmp.oaddr = oaddr;
	tmp.caddr = v->addr;
	tmp.len = v->len;
	if (v->len <= DVKD_INLINE_COPY && tmp.cbuf != NULL && tmp.obuf != NULL) {
		/* Between two of our own mappings of sealed memfds: cannot
		 * fault, cannot wait on any process. */
		rc = job_step(&tmp, v->len, NULL);
		if (rc == 0) {
			if (v->dir == DVKD_VCOPY_FROM)
				atomic_fetch_add(&b->copied_in, v->len);
			else
				atomic_fetch_add(&b->copied_out, v->len);
			atomic_fetch_add(&dvkd.copied, v->len);
		}
		return rc == -ESRCH ? -EDVS_DEADPEER : rc;
	}
	if (v->len <= DVKD_INLINE_COPY && !dc_offloop(tmp.dc)) {
		if (tmp.cbuf == NULL && tmp.obuf == NULL && main_bounce == NULL &&
		    (main_bounce = bounce_new()) == NULL)
			return -ENOMEM;
		return inline_copy(&tmp, main_bounce);
	}
	if (atomic_load(&b->copies) >= DVKD_MAX_COPIES_PER_BINDING ||
	    atomic_load(&dvkd.copies_now) >= DVKD_MAX_COPY_JOBS)
		return -EDVS_LIMIT;
	j = malloc(sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	*j = tmp;
	atomic_fetch_add(&b->refs, 1);
	atomic_fetch_add(&ob->refs, 1);
	if (j->odb != NULL)
		atomic_fetch_add(&j->odb->users, 1);
	atomic_fetch_add(&b->copies, 1);
	atomic_fetch_add(&dvkd.copies_now, 1);
	dvs_mutex_lock(&qlock);
	enqueue(j);
	kick();
	dvs_mutex_unlock(&qlock);
	return 1;
}
