/*
 * bind.c - admissions and bindings.
 *
 * An admission is a socketpair: dvkd keeps one end (tagged with a DC and
 * an endpoint range) and `dvsctl run` hands the other to a program, whose
 * children inherit it.  A BIND over it carries a fresh socket that becomes
 * the binding's control connection.  The binding's process is the one the
 * kernel names: the creator of that socket (SO_PEERCRED), which must also
 * be the sender of the BIND (SCM_CREDENTIALS); a pidfd tells us when it
 * exits even if a forked child still holds the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"

/* Parent and start time of pid from /proc (0 or -1). */
static int
proc_stat(pid_t pid, pid_t *ppid, uint64_t *start)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	int pp = 0, n, fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold anything, even ')': the fields follow the last one */
	p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			  "%*d %*d %*d %*d %llu", &pp, &st) != 2)
		return -1;
	*ppid = pp;
	*start = st;
	return 0;
}

/* Is pid the admission's owner or one of its descendants (now)? */
static int
admitted_tree(const struct admit *a, pid_t pid)
{
	uint64_t start;
	pid_t ppid;
	int depth;

	if (a->owner == 0)
		return 1;
	for (depth = 0; depth < 256 && pid > 1; depth++) {
		if (proc_stat(pid, &ppid, &start) < 0)
			return 0;
		if (pid == a->owner)
			return start == a->owner_start;
		pid = ppid;
	}
	return 0;
}

int
dvkd_admit_new(struct dc *dc, int lo, int hi, pid_t owner, int *client_fd)
{
	struct admit *a;
	int sv[2], one = 1;

	if (dvkd.nadmit >= DVKD_MAX_ADMITS)
		return -EDVS_LIMIT;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	a->ev.kind = EV_ADMIT;
	a->ev.obj = a;
	a->fd = sv[0];
	a->dc = dc;
	a->lo = lo;
	a->hi = hi;
	if (owner > 0) {
		pid_t pp;

		if (proc_stat(owner, &pp, &a->owner_start) == 0)
			a->owner = owner;
	}
	if (dvkd_ep_add(a->fd, &a->ev) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(a);
		return -EDVS_LIMIT;
	}
	DVKD_LIST_ADD(dvkd.admits, a);
	dvkd.nadmit++;
	dc->nadmit++;
	*client_fd = sv[1];
	return 0;
}

void
dvkd_admit_close(struct admit *a)
{
	if (!dvkd_ep_close(&a->fd))
		return;
	DVKD_LIST_DEL(dvkd.admits, a);
	dvkd.nadmit--;
	a->dc->nadmit--;
	dvkd_defer(free, a);
}

static void
binding_free(struct binding *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->pidfd >= 0)
		close(b->pidfd);
	if (b->db_fd >= 0)
		close(b->db_fd);
	if (b->db != NULL)
		munmap(b->db, DVK_DOORBELL_SIZE);
	if (b->gt != NULL)
		munmap(b->gt, DVK_GRANT_TABLE_SIZE);
	free(b->rings);
	free(b->gone_pend);
	free(b->gone_why);
	dvkd_bufs_free(b);
	pthread_mutex_destroy(&b->wlock);
	free(b);
}

void
dvkd_binding_unref(struct binding *b)
{
	if (atomic_fetch_sub(&b->refs, 1) == 1)
		binding_free(b);
}

static void
binding_unref_cb(void *p)
{
	dvkd_binding_unref(p);
}

int
dvkd_bind_send(struct binding *b, struct dvkd_msg *m, const int *fds, int nfds)
{
	int rc;

	dvs_mutex_lock(&b->wlock);
	rc = b->dead ? -EPIPE : dvkd_send(b->fd, m, fds, nfds, MSG_DONTWAIT);
	dvs_mutex_unlock(&b->wlock);
	return rc;
}

/* Tells a binding's thread that its control socket has news. */
void
dvkd_ring_ctl(struct binding *b)
{
	atomic_fetch_add(&b->db->ctl_seq, 1);
	atomic_fetch_add(&b->db->futex, 1);
	syscall(SYS_futex, (uint32_t *)&b->db->futex, 1 /* FUTEX_WAKE */, 1 << 30,
		NULL, NULL, 0);
}

/* Peer-gone events use at most a quarter of a binding's socket buffer
 * (where the kernel says it is writable again), so a flood of them never
 * leaves no room for a new ring's event. */
static int
sock_crowded(const struct binding *o)
{
	int q = 0;

	if (o->sndbuf <= 0 || ioctl(o->fd, SIOCOUTQ, &q) < 0)
		return 0;
	return (int64_t)q * 4 > o->sndbuf;
}

/* Sends one EV_GONE; 0, -EAGAIN (socket crowded) or another error. */
static int
gone_send(struct binding *o, int ep, uint32_t gen, int reason)
{
	struct dvkd_msg ev;

	if (sock_crowded(o))
		return -EAGAIN;
	dvkd_msg_init(&ev, DVKD_EV_GONE, 0);
	ev.u.gone.ep = ep;
	ev.u.gone.gen = gen;
	ev.u.gone.reason = reason;
	return dvkd_bind_send(o, &ev, NULL, 0);
}

/* Keeps an event that did not fit until o's socket drains.  One slot per
 * endpoint: the newest generation stands for the older ones, so this is
 * bounded by the DC's size whatever peers do. */
static void
gone_queue(struct binding *o, int ep, uint32_t gen, int reason)
{
	if (o->gone_pend == NULL) {
		o->gone_pend = calloc((size_t)o->dc->nep, sizeof(*o->gone_pend));
		o->gone_why = calloc((size_t)o->dc->nep, sizeof(*o->gone_why));
		if (o->gone_pend == NULL || o->gone_why == NULL) {
			dvs_err("out of memory: peer-gone events to dc %d ep %d lost",
				o->dc->id, o->ep);
			return;
		}
	}
	if (o->gone_pend[ep] == 0)
		o->ngone_pend++;
	if (gen > o->gone_pend[ep]) {
		o->gone_pend[ep] = gen;
		o->gone_why[ep] = (uint8_t)reason;
	}
	if (o->ngone_pend == 1)
		dvkd_ep_out(o->fd, &o->ev, 1);
}

void
dvkd_bind_flush(struct binding *b)
{
	int ep, rc, sent = 0;

	if (b->dead || b->ngone_pend == 0)
		return;
	for (ep = 0; ep < b->dc->nep && b->ngone_pend > 0; ep++) {
		if (b->gone_pend[ep] == 0)
			continue;
		rc = gone_send(b, ep, b->gone_pend[ep], b->gone_why[ep]);
		if (rc == -EAGAIN)
			break;
		/* Other errors: the loop sees the socket's end. */
		b->gone_pend[ep] = 0;
		b->ngone_pend--;
		sent = 1;
	}
	if (b->ngone_pend == 0)
		dvkd_ep_out(b->fd, &b->ev, 0);
	if (sent)
		dvkd_ring_ctl(b);
}

/* Tells every binding that has a ring with b and asked for events that b
 * is gone.  Never blocks: a full socket queues the event (coalesced). */
static void
gone_events(struct binding *b, int reason)
{
	int i, rc;

	if (b->gone_told || dvkd.stopping)
		return;
	b->gone_told = 1;
	/* Nothing more from b after the event (the rings die just after;
	 * a process we drop for garbage may still be running). */
	for (i = 0; i < b->nrings; i++)
		atomic_store(&b->rings[i]->hdr->dead, 1);
	for (i = 0; i < b->nrings; i++) {
		struct ring *r = b->rings[i];
		struct binding *o = r->src == b ? r->dst : r->src;

		if (o == b || o->dead || !o->events || o->gone_mark == b->gen)
			continue;
		o->gone_mark = b->gen; /* once, even with rings both ways */
		rc = o->ngone_pend > 0 ? -EAGAIN : gone_send(o, b->ep, b->gen, reason);
		if (rc == -EAGAIN)
			gone_queue(o, b->ep, b->gen, reason);
		else if (rc == 0)
			dvkd_ring_ctl(o);
		/* else: o is going; the loop sees its socket's end. */
	}
}

void
dvkd_bind_tell_gone(struct binding *b, int reason)
{
	gone_events(b, reason);
}

static void
promote(struct epslot *s)
{
	struct binding *nb = s->backup;
	struct dvkd_msg ev;

	s->backup = NULL;
	nb->backup = 0;
	s->b = nb;
	atomic_store_explicit(&nb->dc->gens->gen[nb->ep], nb->gen, memory_order_release);
	dvkd_msg_init(&ev, DVKD_EV_PROMOTED, 0);
	if (dvkd_bind_send(nb, &ev, NULL, 0) < 0) {
		dvkd_bind_gone(nb);
		return;
	}
	dvkd_ring_ctl(nb);
	dvkd_dir_bound(nb);
	dvs_info("dc %d ep %d: backup pid %d took over", nb->dc->id, nb->ep,
		 (int)nb->pid);
}

void
dvkd_bind_gone(struct binding *b)
{
	struct epslot *s;
	int owner;

	if (b->dead)
		return;
	dvs_mutex_lock(&b->wlock);
	b->dead = 1;
	/* The client reads EOF at once, even if a forked child of it still
	 * holds the socket. */
	shutdown(b->fd, SHUT_RDWR);
	dvs_mutex_unlock(&b->wlock);
	dvkd_ring_ctl(b);
	dvkd_ep_del(b->fd);
	dvkd_ep_del(b->pidfd);
	DVKD_LIST_DEL(dvkd.bindings, b);
	dvkd.nbind--;
	b->dc->nbind--;
	s = &b->dc->eps[b->ep];
	/* First the table, then the events: whoever hears of the death and
	 * looks finds the binding gone. */
	owner = s->b == b;
	if (owner) {
		atomic_store_explicit(&b->dc->gens->gen[b->ep], 0, memory_order_release);
		dvkd_dir_unbound(b);
	}
	gone_events(b, DVK_GONE_DEATH);
	/* Killing a ring sends the reply b wrote to a remote caller... */
	while (b->nrings > 0)
		dvkd_ring_kill(b->rings[b->nrings - 1]);
	/* ... before the other nodes hear that b is gone. */
	if (owner)
		dvkd_remote_bind_gone(b);
	s->errors += atomic_load(&b->db->errors);
	s->rbytes += atomic_load(&b->copied_in);
	s->sbytes += atomic_load(&b->copied_out);
	if (s->backup == b)
		s->backup = NULL;
	if (s->b == b) {
		s->b = NULL;
		if (s->backup != NULL && !dvkd.stopping)
			promote(s);
	}
	dvs_debug("dc %d ep %d: pid %d unbound", b->dc->id, b->ep, (int)b->pid);
	dvkd_defer(binding_unref_cb, b);
}

/* A generation no other binding had: never 0, and on a node of a cluster
 * with the node id in its low 6 bits, so that it is unique across the
 * nodes (a grant or a session names a binding, wherever it lives). */
static uint32_t
new_gen(void)
{
	uint32_t g;

	do {
		g = ++dvkd.next_gen;
		if (cl.on)
			g = g << 6 | (uint32_t)cl.self;
	} while (g == 0);
	return g;
}

static int
new_binding(struct admit *a, int fd, pid_t pid, int ep, int backup,
	    struct binding **out)
{
	struct binding *b;
	int gt_fd = -1, rc = -ENOMEM, sz = 1 << 20;
	void *p;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	pthread_mutex_init(&b->wlock, NULL);
	atomic_init(&b->refs, 1);
	b->fd = fd;
	b->pid = pid;
	b->dc = a->dc;
	b->ep = ep;
	b->backup = backup;
	b->gen = new_gen();
	b->db_fd = -1;
	b->ev.kind = EV_BIND;
	b->ev.obj = b;
	b->pev.kind = EV_PIDFD;
	b->pev.obj = b;
	b->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (b->pidfd < 0) {
		rc = -errno == -ESRCH ? -EDVS_DEADPEER : -errno;
		goto fail;
	}
	b->db_fd = dvkd_memfd("dvk-doorbell", DVK_DOORBELL_SIZE);
	gt_fd = dvkd_memfd("dvk-grants", DVK_GRANT_TABLE_SIZE);
	if (b->db_fd < 0 || gt_fd < 0) {
		rc = b->db_fd < 0 ? b->db_fd : gt_fd;
		goto fail;
	}
	p = mmap(NULL, DVK_DOORBELL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 b->db_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	b->db = p;
	p = mmap(NULL, DVK_GRANT_TABLE_SIZE, PROT_READ, MAP_SHARED, gt_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	b->gt = p;
	/* Events for a busy binding queue here, not in our memory. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	{
		socklen_t len = sizeof(b->sndbuf);

		if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &b->sndbuf, &len) < 0)
			b->sndbuf = 0;
	}
	if (dvkd_ep_add(fd, &b->ev) < 0 || dvkd_ep_add(b->pidfd, &b->pev) < 0) {
		dvkd_ep_del(fd);
		rc = -EDVS_LIMIT;
		goto fail;
	}
	*out = b;
	DVKD_LIST_ADD(dvkd.bindings, b);
	dvkd.nbind++;
	a->dc->nbind++;
	return gt_fd;
fail:
	if (gt_fd >= 0)
		close(gt_fd);
	b->fd = -1; /* the caller still owns fd */
	binding_free(b);
	return rc < 0 ? rc : -ENOMEM; /* never >= 0: that means success */
}

static void
bind_reply(int fd, int status, const struct dvkd_bind_rep *rep, int *fds, int nfds)
{
	struct dvkd_msg m;

	dvkd_msg_init(&m, DVKD_REPLY, 1);
	m.h.status = status;
	if (rep != NULL)
		m.u.bound = *rep;
	dvkd_send(fd, &m, fds, nfds, MSG_DONTWAIT);
}

static int
pick_ep(struct admit *a, int ep, unsigned flags)
{
	struct dc *dc = a->dc;
	int i;

	if (ep == DVK_ANY) {
		if (flags & DVK_BIND_BACKUP)
			return -EINVAL;
		for (i = a->lo; i <= a->hi && i < dc->nep; i++)
			if (dc->eps[i].b == NULL && dc->eps[i].rnode == 0)
				return i;
		return -EDVS_EPBUSY;
	}
	if (ep < 0 || ep >= dc->nep)
		return -EDVS_BADEP;
	if (ep < a->lo || ep > a->hi)
		return -EDVS_EPRANGE;
	if (flags & DVK_BIND_BACKUP)
		return dc->eps[ep].backup == NULL ? ep : -EDVS_EPBUSY;
	return dc->eps[ep].b == NULL ? ep : -EDVS_EPBUSY;
}

static void
do_bind(struct admit *a, const struct dvkd_msg *m, int fd, pid_t sender)
{
	struct dvkd_bind_rep rep = { 0 };
	struct binding *b = NULL;
	struct ucred peer;
	socklen_t len = sizeof(peer);
	int type = 0, backup, ep, rc, gt_fd, fds[3];
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_SEQPACKET ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
		close(fd);
		return;
	}
	if (sender == 0 || peer.pid != sender) {
		/* The socket must be the sender's own: no binding on behalf
		 * of another process. */
		rc = -EPERM;
		goto refuse;
	}
	if (!admitted_tree(a, peer.pid)) {
		/* The admission was taken from the process it was given
		 * to (pidfd_getfd): it is not ours to use. */
		dvs_warn("dc %d: pid %d holds an admission of pid %d's but is not "
			 "its descendant: bind refused", a->dc->id, (int)peer.pid,
			 (int)a->owner);
		rc = -EPERM;
		goto refuse;
	}
	if ((m->u.bind.flags & ~(uint32_t)(DVK_BIND_BACKUP | DVK_BIND_PEER_EVENTS)) != 0) {
		rc = -EINVAL;
		goto refuse;
	}
	ep = pick_ep(a, m->u.bind.ep, m->u.bind.flags);
	if (ep < 0) {
		rc = ep;
		goto refuse;
	}
	/* A DC over several nodes: not owned elsewhere, and quorum. */
	rc = dvkd_dir_bind_check(a->dc, ep);
	if (rc < 0)
		goto refuse;
	if (a->dc->nbind >= a->dc->max_bind || dvkd.nbind >= DVKD_MAX_BINDINGS) {
		rc = -EDVS_LIMIT;
		goto refuse;
	}
	/* A backup of a free endpoint simply owns it. */
	backup = (m->u.bind.flags & DVK_BIND_BACKUP) && a->dc->eps[ep].b != NULL;
	gt_fd = new_binding(a, fd, peer.pid, ep, backup, &b);
	if (gt_fd < 0) {
		rc = gt_fd;
		goto refuse;
	}
	b->events = (m->u.bind.flags & DVK_BIND_PEER_EVENTS) != 0;
	if (backup) {
		a->dc->eps[ep].backup = b;
	} else {
		struct epslot *s = &a->dc->eps[ep];

		/* A new owner starts its own statistics. */
		s->sent = s->recv = s->sbytes = s->rbytes = s->errors = 0;
		s->b = b;
		atomic_store_explicit(&a->dc->gens->gen[ep], b->gen, memory_order_release);
	}
	atomic_store_explicit(&a->dc->gens->last, b->gen, memory_order_release);
	rep.dc = a->dc->id;
	rep.ep = ep;
	rep.dc_size = a->dc->nep;
	rep.gen = b->gen;
	rep.call_timeout_ms = a->dc->call_timeout_ms;
	rep.flags = (backup ? DVKD_BOUND_BACKUP : 0) | (dvkd.priv ? DVKD_BOUND_PRIV : 0);
	fds[0] = b->db_fd;
	fds[1] = gt_fd;
	fds[2] = a->dc->gen_fd;
	bind_reply(fd, 0, &rep, fds, 3);
	close(gt_fd);
	if (!backup)
		dvkd_dir_bound(b);
	dvs_debug("dc %d ep %d: pid %d bound%s", rep.dc, ep, (int)peer.pid,
		  backup ? " as backup" : "");
	return;
refuse:
	bind_reply(fd, rc, NULL, NULL, 0);
	close(fd);
}

void
dvkd_admit_input(struct admit *a)
{
	struct dvkd_msg m;
	struct ucred cred;
	int fds[2], nfds, rc;

	if (a->fd < 0)
		return;
	rc = dvkd_recv_cred(a->fd, &m, fds, 2, &nfds, MSG_DONTWAIT, &cred);
	if (rc == -EAGAIN)
		return;
	if (rc < 0 || m.h.type != DVKD_BIND || nfds != 1) {
		/* EOF: every holder exited.  Garbage: drop this admission
		 * only (its holders share one trust domain). */
		if (rc != -EDVS_NODAEMON)
			dvs_warn("dc %d: bad packet on an admission; closing it",
				 a->dc->id);
		while (rc == 0 && nfds > 0)
			close(fds[--nfds]);
		dvkd_admit_close(a);
		return;
	}
	do_bind(a, &m, fds[0], cred.pid);
}

/*
 * A binding's control requests (libdvk), dispatched through bind_table as
 * the management calls go through mgmt_table, with the same reply
 * convention: a handler returns a status that dvkd_bind_input() sends in
 * the header of one DVKD_REPLY, whose body the handler filled in *r; or
 * BIND_REPLIED when it answered itself (a reply that carries descriptors:
 * OPEN, BUF_ALLOC; UNBIND, which answers before the binding goes) or will
 * answer when the work is done (a queued VCOPY).  A request with no
 * handler drops the binding: libdvk never sends one.
 */
#define BIND_REPLIED 1

typedef int (*bind_fn)(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r);

static int
do_open(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r)
{
	int rc = dvkd_ring_open(b, req);

	return rc < 0 ? rc : BIND_REPLIED;
}

static int
do_vcopy(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r)
{
	int rc = dvkd_copy_request(b, req);

	return rc == 1 ? BIND_REPLIED : rc;
}

static int
do_buf_alloc(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r)
{
	int rc = dvkd_buf_alloc(b, req);

	return rc < 0 ? rc : BIND_REPLIED;
}

static int
do_buf_free(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r)
{
	return dvkd_buf_free(b, req->u.buf.id);
}

static int
do_buf_where(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r)
{
	return dvkd_buf_where(b, req->u.where.id, req->u.where.addr);
}

static int
do_query(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r)
{
	int ep = req->u.query.ep;

	if (ep < 0 || ep >= b->dc->nep)
		return -EDVS_BADEP;
	if (b->dc->eps[ep].b != NULL) {
		r->u.qrep.state = DVKD_EP_BOUND;
		r->u.qrep.pid = b->dc->eps[ep].b->pid;
	} else if (b->dc->eps[ep].rnode != 0 && !b->dc->eps[ep].runreach) {
		r->u.qrep.state = DVKD_EP_BOUND; /* on another node */
	}
	return 0;
}

static int
do_unbind(struct binding *b, const struct dvkd_msg *req, struct dvkd_msg *r)
{
	/* Peers learn before the caller goes on. */
	if (b->dc->eps[b->ep].b == b)
		atomic_store_explicit(&b->dc->gens->gen[b->ep], 0, memory_order_release);
	gone_events(b, DVK_GONE_UNBIND);
	while (b->nrings > 0)
		dvkd_ring_kill(b->rings[b->nrings - 1]);
	r->h.status = 0;
	(void)dvkd_bind_send(b, r, NULL, 0); /* it goes whether or not this arrives */
	dvkd_bind_gone(b);
	return BIND_REPLIED;
}

static const bind_fn bind_table[DVKD_TYPE_MAX] = {
	[DVKD_OPEN] = do_open,
	[DVKD_VCOPY] = do_vcopy,
	[DVKD_BUF_ALLOC] = do_buf_alloc,
	[DVKD_BUF_FREE] = do_buf_free,
	[DVKD_BUF_WHERE] = do_buf_where,
	[DVKD_QUERY] = do_query,
	[DVKD_UNBIND] = do_unbind,
};

void
dvkd_bind_input(struct binding *b)
{
	bind_fn fn = NULL;
	struct dvkd_msg m, r;
	int rc;

	if (b->dead)
		return;
	rc = dvkd_recv_req(b->fd, &m);
	if (rc == -EAGAIN)
		return;
	if (rc < 0) {
		if (rc != -EDVS_NODAEMON)
			dvs_warn("dc %d ep %d: bad packet; dropping the binding",
				 b->dc->id, b->ep);
		dvkd_bind_gone(b);
		return;
	}
	if (m.h.type < DVKD_TYPE_MAX)
		fn = bind_table[m.h.type];
	if (fn == NULL) {
		dvs_warn("dc %d ep %d: unexpected request %u; dropping the binding",
			 b->dc->id, b->ep, m.h.type);
		dvkd_bind_gone(b);
		return;
	}
	dvkd_msg_init(&r, DVKD_REPLY, m.h.seq);
	rc = fn(b, &m, &r);
	if (rc == BIND_REPLIED)
		return;
	r.h.status = rc;
	if (dvkd_bind_send(b, &r, NULL, 0) < 0)
		dvkd_bind_gone(b);
}

void
dvkd_dc_drop_all(struct dc *dc)
{
	struct binding *b, *nb;
	struct admit *a, *na;

	for (b = dvkd.bindings; b != NULL; b = nb) {
		nb = b->next;
		if (b->dc == dc)
			dvkd_bind_gone(b);
	}
	for (a = dvkd.admits; a != NULL; a = na) {
		na = a->next;
		if (a->dc == dc)
			dvkd_admit_close(a);
	}
}

void
dvkd_ep_stats(struct dc *dc, int ep, int wait_ms, struct dvkd_ep_rec *rec)
{
	struct epslot *s = &dc->eps[ep];
	struct binding *b = s->b;
	uint64_t now = dvs_now_ns(), thr;
	int i;

	thr = (uint64_t)(wait_ms > 0 ? wait_ms : 1000) * 1000000u;
	memset(rec, 0, sizeof(*rec));
	rec->dc = dc->id;
	rec->ep = ep;
	rec->sent_msgs = s->sent;
	rec->recv_msgs = s->recv;
	rec->sent_bytes = s->sbytes;
	rec->recv_bytes = s->rbytes;
	rec->errors = s->errors;
	if (s->backup != NULL)
		rec->backup_pid = s->backup->pid;
	if (b == NULL)
		goto out;
	rec->pid = b->pid;
	rec->nrings = (uint32_t)b->nrings;
	rec->errors += atomic_load(&b->db->errors);
	rec->sent_bytes += atomic_load(&b->copied_out);
	rec->recv_bytes += atomic_load(&b->copied_in);
	/* Ring counters are written by clients: statistics only. */
	for (i = 0; i < b->nrings; i++) {
		struct ring *r = b->rings[i];

		/* Replies count as messages: a server's answers are sent. */
		if (r->src == b) {
			rec->sent_msgs += atomic_load(&r->hdr->tail);
			rec->recv_msgs += atomic_load(&r->hdr->replies);
		}
		if (r->dst == b) {
			uint64_t ws = atomic_load(&r->hdr->wait_since);

			rec->recv_msgs += atomic_load(&r->hdr->head);
			rec->sent_msgs += atomic_load(&r->hdr->replies);
			/* A caller waits for b's answer (its clock, its word:
			 * statistics only). */
			if (ws != 0 && ws < now && now - ws > thr) {
				rec->waiting++;
				if ((now - ws) / 1000000 > rec->oldest_wait_ms)
					rec->oldest_wait_ms = (uint32_t)((now - ws) / 1000000);
			}
		}
	}
out:
	rec->sent_bytes += rec->sent_msgs * DVK_MSG_SIZE;
	rec->recv_bytes += rec->recv_msgs * DVK_MSG_SIZE;
}
