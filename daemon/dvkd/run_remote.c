/*
 * run_remote.c - `dvs ctl run --node N` on the node where it is typed
 * (docs/CLUSTER.md, "Running a program on another node").
 *
 *   dvsctl --RUN_NODE (memfd: cwd, argv; stdout and stderr pipes)--> dvkd
 *   dvkd --PX_RUN--> node N, whose dvkd starts `dvsctl run` there
 *   node N --PX_RUN_OUT...--> written into the pipes (dvsctl copies them
 *                             to its own stdout and stderr)
 *   node N --PX_RUN_EXIT--> the reply to RUN_NODE: exit status or signal
 *
 * Output flows in a window: the host sends at most a window of bytes
 * beyond what this node acknowledged (RUN_ACK) as written to the client's
 * pipes, so a client that reads slowly slows the program down (its pipe
 * fills) and nothing is dropped.  RR_HOLD_MAX only guards against a host
 * that ignores the window (dropped, logged).  The client gone (Ctrl-C, killed): the program
 * gets SIGTERM.  Node N's link gone: the client hears that node N left
 * and what became of the program is unknown.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"
#include "proxy_wire.h"

#define RR_HOLD_MAX (4u << 20)

struct rr_out {
	struct cl_ev ev;
	int fd;
	uint8_t *buf;
	size_t len, cap;
	uint64_t dropped;
	uint32_t events;
	struct rrun *r;
};

struct rrun {
	uint64_t id;
	int node;
	struct mgmt *m; /* NULL once answered or gone */
	uint32_t seq;
	int ended; /* answered: closes when the output is written */
	uint64_t written, acked; /* output bytes written to the client, acknowledged */
	struct rr_out out[2];
	struct rrun *next;
};

static struct rrun *runs;
static uint64_t next_id;

static void
out_want(struct rr_out *o, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = &o->ev.ev };

	if (o->fd >= 0 && o->events != events &&
	    epoll_ctl(dvkd.epfd, EPOLL_CTL_MOD, o->fd, &ee) == 0)
		o->events = events;
}

static void
out_close(struct rr_out *o)
{
	if (o->fd < 0)
		return;
	epoll_ctl(dvkd.epfd, EPOLL_CTL_DEL, o->fd, NULL);
	close(o->fd);
	o->fd = -1;
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

static void
run_free(struct rrun *r)
{
	struct rrun **pp;

	for (pp = &runs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	out_close(&r->out[0]);
	out_close(&r->out[1]);
	dvkd_defer(free, r);
}

/* Ended and every byte written (or nobody to write to): free. */
static void
maybe_done(struct rrun *r)
{
	if (r->ended && r->out[0].len == 0 && r->out[1].len == 0)
		run_free(r);
}

/* Tells the host what the client took, every 64 KiB or when all is. */
static void
ack(struct rrun *r)
{
	struct px_run_ack f = { .id = htole64(r->id), .bytes = htole64(r->written) };

	if (r->ended || r->written == r->acked ||
	    (r->written - r->acked < 65536 && (r->out[0].len > 0 || r->out[1].len > 0)))
		return;
	if (cl_px_queue(r->node, PX_RUN_ACK, &f, sizeof(f)) == 0) {
		r->acked = r->written;
		cl_px_flush_all();
	}
}

static void
out_flush(struct rr_out *o)
{
	while (o->len > 0) {
		ssize_t n = write(o->fd, o->buf, o->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) { /* the client closed its end: nobody reads */
			o->r->written += o->len;
			o->len = 0;
			break;
		}
		memmove(o->buf, o->buf + n, o->len - (size_t)n);
		o->len -= (size_t)n;
		o->r->written += (size_t)n;
	}
	out_want(o, o->len > 0 ? EPOLLOUT : 0);
	ack(o->r);
}

static void
out_event(void *self, uint32_t events)
{
	struct rr_out *o = self;
	struct rrun *r = o->r;

	(void)events;
	if (o->fd < 0)
		return;
	out_flush(o);
	maybe_done(r);
}

static void
out_add(struct rr_out *o, const uint8_t *p, size_t n)
{
	if (o->fd < 0) {
		o->r->written += n; /* nobody to write to: as good as read */
		ack(o->r);
		return;
	}
	if (o->len + n > RR_HOLD_MAX) {
		if (o->dropped == 0)
			dvs_warn("run on node %d: output beyond the window; dropping some",
				 o->r->node);
		o->dropped += n;
		return;
	}
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		uint8_t *b;

		while (cap < o->len + n)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (b == NULL) {
			o->dropped += n;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	out_flush(o);
}

static void
answer(struct rrun *r, int status, int code, int sig)
{
	struct dvkd_msg rep;

	if (r->m != NULL && r->m->fd >= 0) {
		dvkd_msg_init(&rep, DVKD_REPLY, r->seq);
		rep.h.status = status;
		rep.u.runrep.code = code;
		rep.u.runrep.sig = sig;
		dvkd_send(r->m->fd, &rep, NULL, 0, 0);
	}
	r->m = NULL;
	r->ended = 1;
}

/* Reads the memfd: cwd\0arg0\0...\0, at most PX_RUN_BLOB bytes and
 * PX_RUN_ARGS arguments.  Returns its length or < 0. */
static ssize_t
blob_read(int fd, uint8_t *blob)
{
	struct stat st;
	ssize_t n;
	size_t i, strings = 0;

	if (fstat(fd, &st) < 0 || st.st_size < 4 || st.st_size > PX_RUN_BLOB)
		return -E2BIG;
	n = pread(fd, blob, (size_t)st.st_size, 0);
	if (n != st.st_size || blob[n - 1] != '\0')
		return -EINVAL;
	for (i = 0; i < (size_t)n; i++)
		strings += blob[i] == '\0';
	if (strings < 2 || strings > PX_RUN_ARGS + 1 || blob[0] == '\0' || blob[strlen((char *)blob) + 1] == '\0')
		return -EINVAL;
	return n;
}

static int run_start(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds);

/* From the management socket, outside the cluster events: under rlock,
 * since the links are the pump thread's too. */
int
dvkd_run_remote_start(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds)
{
	int rc;

	dvkd_rlock();
	rc = run_start(m, req, fds, nfds);
	dvkd_runlock();
	return rc;
}

static int
run_start(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds)
{
	const struct dvkd_run_req *q = &req->u.run;
	struct px_run *f = NULL;
	struct dc *dc;
	struct rrun *r = NULL;
	ssize_t n;
	int i, rc;

	rc = -EINVAL;
	if (nfds != 3)
		goto fail;
	rc = -EDVS_NODAEMON; /* "not a node of a cluster" below */
	if (!cl.on || cl_node_find(q->node) == NULL)
		goto fail;
	rc = -EDVS_NODC;
	dc = dvkd_dc_find(q->dc);
	if (dc == NULL || q->node >= 64 || !(dc->nodes >> q->node & 1))
		goto fail;
	rc = -EDVS_BADEP;
	if (q->lo < 0 || q->hi < q->lo || q->hi >= dc->nep)
		goto fail;
	rc = -EDVS_DEADPEER;
	if (q->node == cl.self || !cl_px_up(q->node))
		goto fail;
	rc = -ENOMEM;
	f = malloc(sizeof(*f) + PX_RUN_BLOB);
	r = calloc(1, sizeof(*r));
	if (f == NULL || r == NULL)
		goto fail;
	n = blob_read(fds[0], f->blob);
	if (n < 0) {
		rc = (int)n;
		goto fail;
	}
	close(fds[0]);
	r->id = ++next_id;
	r->node = q->node;
	r->m = m;
	r->seq = req->h.seq;
	for (i = 0; i < 2; i++) {
		struct rr_out *o = &r->out[i];

		o->fd = fds[1 + i];
		o->r = r;
		fcntl(o->fd, F_SETFL, fcntl(o->fd, F_GETFL) | O_NONBLOCK);
		if (cl_ev_add(o->fd, &o->ev, 0, out_event, o) < 0) {
			/* Not a pipe epoll can watch: the output goes. */
			close(o->fd);
			o->fd = -1;
		}
	}
	f->id = htole64(r->id);
	f->dc = (int32_t)htole32((uint32_t)q->dc);
	f->lo = (int32_t)htole32((uint32_t)q->lo);
	f->hi = (int32_t)htole32((uint32_t)q->hi);
	f->n = htole32((uint32_t)n);
	if (cl_px_queue(q->node, PX_RUN, f, sizeof(*f) + (size_t)n) < 0) {
		free(f);
		answer(r, -EDVS_DEADPEER, -1, 0);
		r->next = runs;
		runs = r;
		run_free(r);
		return 1;
	}
	cl_px_flush_all();
	dvs_info("run on node %d (dc %d, ep %d-%d): %s", q->node, q->dc, q->lo, q->hi,
		 (char *)f->blob + strlen((char *)f->blob) + 1);
	free(f);
	r->next = runs;
	runs = r;
	return 1;
fail:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	free(f);
	free(r);
	return rc;
}

static struct rrun *
find(int node, uint64_t id)
{
	struct rrun *r;

	for (r = runs; r != NULL; r = r->next)
		if (r->id == id && r->node == node && !r->ended)
			return r;
	return NULL;
}

void
dvkd_run_remote_frame(int node, unsigned type, const void *body, size_t len)
{
	if (type == PX_RUN_OUT) {
		const struct px_run_out *f = body;
		uint32_t n = le32toh(f->n), s = le32toh(f->stream);
		struct rrun *r = find(node, le64toh(f->id));

		if (r == NULL || n != len - sizeof(*f) || (s != 1 && s != 2))
			return; /* late (its client went), or not ours */
		out_add(&r->out[s - 1], f->data, n);
	} else {
		const struct px_run_exit *f = body;
		struct rrun *r = find(node, le64toh(f->id));
		int err = (int32_t)le32toh((uint32_t)f->error);

		if (r == NULL)
			return;
		if (err > 0 || err < -EDVS_MAX)
			err = -EDVS_PROTO;
		answer(r, err, (int32_t)le32toh((uint32_t)f->code), (int32_t)le32toh((uint32_t)f->sig));
		if (r->out[0].dropped + r->out[1].dropped > 0)
			dvs_warn("run on node %d: %llu bytes of output were not read and dropped",
				 node, (unsigned long long)(r->out[0].dropped + r->out[1].dropped));
		maybe_done(r);
	}
}

void
dvkd_run_mgmt_closed(struct mgmt *m)
{
	struct rrun *r, *next;
	int any = 0;

	/* Called for every management connection that closes, outside the
	 * cluster events: the links are the pump thread's too. */
	dvkd_rlock();
	for (r = runs; r != NULL; r = next) {
		next = r->next;
		if (r->m != m)
			continue;
		struct px_run_kill k = { .id = htole64(r->id), .sig = (int32_t)htole32(SIGTERM) };

		cl_px_queue(r->node, PX_RUN_KILL, &k, sizeof(k));
		r->m = NULL;
		r->ended = 1;
		run_free(r);
		any = 1;
	}
	if (any)
		cl_px_flush_all();
	dvkd_runlock();
}

void
dvkd_run_remote_link_down(int node)
{
	struct rrun *r, *next;

	for (r = runs; r != NULL; r = next) {
		next = r->next;
		if (r->node != node || r->ended)
			continue;
		answer(r, -EDVS_DEADPEER, -1, 0);
		maybe_done(r);
	}
}
