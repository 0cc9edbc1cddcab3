/*
 * remote_copy.c - vcopy when the grant's owner is bound on another node
 * (docs/CLUSTER.md, "IPC across nodes").
 *
 *   copier's node                         owner's node
 *   VC_REQ (pair, grant, dir, off, len) -> checks the copier against its
 *                                          directory and the grant (grantee,
 *                                          generation, range, direction)
 *                                          exactly as for a local copier
 *   VC_DATA ... (dir TO)                -> written into the owner
 *                                       <- VC_DATA ... (dir FROM)
 *   VC_ACK (written up to pos)         <-> lets the data sender go on
 *                                       <- VC_DONE (status): the copier's
 *                                          control request is answered
 *
 * Each node touches only its own processes' memory (through a copy
 * buffer mapped here, or process_vm_readv/writev), and only the owner's
 * node reads the owner's grant table: a node never trusts another's claim
 * about a grant it does not own.  Data go in chunks of PX_VC_CHUNK with at
 * most RC_WINDOW in flight per copy.  A copy in flight when the link
 * breaks fails (EDVS_DEADPEER); the copier may try again.  VC_DONE from
 * the copier's node ends a copy early (the copier's memory failed).
 *
 * Runs in the event loop under rlock.  Its process_vm_* calls are not
 * under the loop's watchdog (copy.c): a process whose memory never comes
 * holds the loop (docs/CLUSTER.md says so).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"
#include "proxy_wire.h"

#define RC_WINDOW (256u * 1024)
#define RC_MAX 64 /* copies at once through this node, both roles */

struct rside {
	int used;
	int node;	    /* the other node */
	uint64_t id;	    /* the copier node's number for the copy */
	int owner_side;	    /* we hold the grant */
	struct binding *b;  /* our process (copier or owner), referenced */
	char *map;	    /* its range as mapped here (a copy buffer), or NULL */
	struct dbuf *odb;   /* the buffer holding map, owner side (a user) */
	uint64_t addr;	    /* its range's address in it */
	uint32_t seq;	    /* copier side: the request to answer */
	uint32_t dir;
	uint64_t len;
	uint64_t sent, acked; /* as the data's sender */
	uint64_t got;	      /* as the data's receiver */
	int err;	      /* copier side: our side failed; told at the end */
};

static struct rside rs[RC_MAX];
static uint64_t next_id;
static uint8_t frame[sizeof(struct px_vc_data) + PX_VC_CHUNK];

/* Do we send the data of this copy? */
static int
data_sender(const struct rside *s)
{
	return s->owner_side == (s->dir == DVKD_VCOPY_FROM);
}

static struct rside *
side_find(int node, uint64_t id, int owner_side)
{
	int i;

	for (i = 0; i < RC_MAX; i++)
		if (rs[i].used && rs[i].node == node && rs[i].id == id &&
		    rs[i].owner_side == owner_side)
			return &rs[i];
	return NULL;
}

static struct rside *
side_new(void)
{
	int i;

	for (i = 0; i < RC_MAX; i++) {
		if (!rs[i].used) {
			memset(&rs[i], 0, sizeof(rs[i]));
			rs[i].used = 1;
			return &rs[i];
		}
	}
	return NULL;
}

static void
side_free(struct rside *s)
{
	if (s->odb != NULL)
		atomic_fetch_sub(&s->odb->users, 1);
	if (!s->owner_side)
		atomic_fetch_sub(&s->b->copies, 1);
	dvkd_binding_unref(s->b);
	s->used = 0;
}

static void
send_done(const struct rside *s, int status)
{
	struct px_vc_done d = { .id = htole64(s->id), .status = (int32_t)htole32((uint32_t)status) };

	cl_px_queue(s->node, PX_VC_DONE, &d, sizeof(d));
}

/* Copier side: answers the copier's request and forgets the copy. */
static void
copier_finish(struct rside *s, int status)
{
	struct dvkd_msg m;

	if (s->err < 0)
		status = s->err;
	if (status == 0) {
		if (s->dir == DVKD_VCOPY_FROM)
			atomic_fetch_add(&s->b->copied_in, s->len);
		else
			atomic_fetch_add(&s->b->copied_out, s->len);
		atomic_fetch_add(&dvkd.copied, s->len);
	}
	dvkd_msg_init(&m, DVKD_REPLY, s->seq);
	m.h.status = status;
	dvkd_bind_send(s->b, &m, NULL, 0); /* a dead copier hears nothing */
	side_free(s);
}

/* Our process's bytes [pos, pos+n) of the copy: read (wr 0) or written. */
static int
local_io(struct rside *s, int wr, void *p, uint64_t pos, size_t n)
{
	if (s->b->dead)
		return s->owner_side ? -EDVS_DEADPEER : -ESRCH;
	if (s->map != NULL) {
		if (wr)
			memcpy(s->map + pos, p, n);
		else
			memcpy(p, s->map + pos, n);
		return 0;
	}
	return dvkd_pvm(s->b->pid, wr, p, s->addr + pos, n,
			s->owner_side ? -EDVS_DEADPEER : -ESRCH);
}

/* Ends a copy from our side because of rc (our process's memory failed). */
static void
side_fail(struct rside *s, int rc)
{
	if (rc == -ESRCH)
		rc = -EDVS_DEADPEER;
	send_done(s, rc);
	if (s->owner_side)
		side_free(s);
	else
		copier_finish(s, rc);
}

/* The data sender sends what the window allows.  0, or < 0 when the copy
 * ended (s is free). */
static int
send_data(struct rside *s)
{
	struct px_vc_data *d = (struct px_vc_data *)frame;
	int rc;

	while (s->sent < s->len && s->sent - s->acked < RC_WINDOW) {
		size_t n = s->len - s->sent < PX_VC_CHUNK ? s->len - s->sent : PX_VC_CHUNK;

		rc = local_io(s, 0, d->data, s->sent, n);
		if (rc < 0) {
			side_fail(s, rc);
			return rc;
		}
		d->id = htole64(s->id);
		d->pos = htole64(s->sent);
		d->n = htole32((uint32_t)n);
		d->pad = 0;
		rc = cl_px_queue(s->node, PX_VC_DATA, d, sizeof(*d) + n);
		if (rc < 0) {
			if (s->sent > s->acked)
				return 0; /* the next acknowledgement resumes */
			side_fail(s, rc == -ENOBUFS ? -EDVS_LIMIT : -EDVS_DEADPEER);
			return -1;
		}
		s->sent += n;
	}
	return 0;
}

int
dvkd_rcopy_request(struct binding *b, const struct dvkd_msg *req)
{
	const struct dvkd_vcopy_req *v = &req->u.vcopy;
	struct epslot *o = &b->dc->eps[v->owner];
	struct px_vc_req f;
	struct rside *s;
	int rc = 1;

	if (o->runreach)
		return -EDVS_DEADPEER; /* its node is out of the membership */
	if (v->addr + v->len < v->addr)
		return -EFAULT;
	if (atomic_load(&b->copies) >= DVKD_MAX_COPIES_PER_BINDING)
		return -EDVS_LIMIT;
	dvkd_rlock();
	s = side_new();
	if (s == NULL) {
		dvkd_runlock();
		return -EDVS_LIMIT;
	}
	if (v->buf != 0) {
		s->map = dvkd_buf_find(b, v->buf, v->addr, v->len);
		if (s->map == NULL) {
			s->used = 0;
			dvkd_runlock();
			return -EFAULT;
		}
	} else {
		dvkd_buf_at(b, v->addr, v->len, &s->map);
	}
	s->node = o->rnode - 1;
	s->id = ++next_id;
	s->b = b;
	atomic_fetch_add(&b->refs, 1);
	atomic_fetch_add(&b->copies, 1);
	s->addr = v->addr;
	s->seq = req->h.seq;
	s->dir = v->dir;
	s->len = v->len;
	memset(&f, 0, sizeof(f));
	f.p.dc = htole32((uint32_t)b->dc->id);
	f.p.src = (int32_t)htole32((uint32_t)b->ep);
	f.p.src_gen = htole32(b->gen);
	f.p.dst = (int32_t)htole32((uint32_t)v->owner);
	f.p.dst_gen = htole32(o->rgen);
	f.id = htole64(s->id);
	f.grant = (int32_t)htole32((uint32_t)v->grant);
	f.dir = htole32(v->dir);
	f.off = htole64(v->off);
	f.len = htole64(v->len);
	if (cl_px_queue(s->node, PX_VC_REQ, &f, sizeof(f)) < 0) {
		atomic_fetch_sub(&b->copies, 1);
		dvkd_binding_unref(b);
		s->used = 0;
		rc = -EDVS_DEADPEER;
	} else if (v->dir == DVKD_VCOPY_TO && send_data(s) < 0) {
		rc = 1; /* answered already */
	}
	cl_px_flush_all();
	dvkd_runlock();
	return rc;
}

/* Owner's node: a copier of another node asks. */
static void
on_req(int from, const struct px_vc_req *f)
{
	struct dc *dc = dvkd_dc_find((int)le32toh(f->p.dc));
	int src = (int32_t)le32toh((uint32_t)f->p.src), dst = (int32_t)le32toh((uint32_t)f->p.dst);
	uint32_t src_gen = le32toh(f->p.src_gen), dst_gen = le32toh(f->p.dst_gen);
	uint64_t len = le64toh(f->len), oaddr;
	struct rside tmp = { .node = from, .id = le64toh(f->id), .owner_side = 1 }, *s = NULL;
	struct binding *x;
	int rc;

	if (dc == NULL || src < 0 || src >= dc->nep || dst < 0 || dst >= dc->nep) {
		send_done(&tmp, -EDVS_NOTBOUND);
		return;
	}
	/* The copier is who our directory says node `from` has there. */
	if (dc->eps[src].rnode != from + 1 || dc->eps[src].rgen != src_gen ||
	    dc->eps[src].runreach) {
		send_done(&tmp, -EDVS_GRANTPEER);
		return;
	}
	x = dc->eps[dst].b;
	if (x == NULL || x->dead || x->backup || x->gen != dst_gen) {
		send_done(&tmp, -EDVS_DEADPEER);
		return;
	}
	rc = dvkd_grant_check(x->gt, (int32_t)le32toh((uint32_t)f->grant), src, src_gen,
			      le32toh(f->dir), le64toh(f->off), len, &oaddr);
	if (rc == 0 && (len == 0 || le32toh(f->dir) > DVKD_VCOPY_TO))
		rc = -EINVAL;
	if (rc == 0 && side_find(from, tmp.id, 1) != NULL)
		rc = -EDVS_PROTO;
	if (rc == 0 && (s = side_new()) == NULL)
		rc = -EDVS_LIMIT;
	if (rc != 0) {
		send_done(&tmp, rc);
		return;
	}
	*s = tmp;
	s->used = 1;
	s->b = x;
	atomic_fetch_add(&x->refs, 1);
	s->addr = oaddr;
	s->dir = le32toh(f->dir);
	s->len = len;
	s->odb = dvkd_buf_at(x, oaddr, len, &s->map);
	if (s->odb != NULL)
		atomic_fetch_add(&s->odb->users, 1);
	if (s->dir == DVKD_VCOPY_FROM)
		send_data(s);
}

static void
on_data(int from, const struct px_vc_data *d, size_t len)
{
	uint64_t id = le64toh(d->id), pos = le64toh(d->pos);
	uint32_t n = le32toh(d->n);
	struct rside *s;
	struct px_vc_ack a;
	int rc;

	/* The data go to the side that does not send them. */
	s = side_find(from, id, 1);
	if (s == NULL || data_sender(s))
		s = side_find(from, id, 0);
	if (s == NULL || data_sender(s) || n != len - sizeof(*d) || pos != s->got ||
	    n > s->len - s->got)
		return; /* a late frame of a copy that ended, or nonsense */
	if (s->err == 0) {
		rc = local_io(s, 1, (void *)d->data, pos, n);
		if (rc < 0) {
			if (s->owner_side) {
				side_fail(s, rc);
				return;
			}
			/* The copier's memory failed: it hears at the end. */
			s->err = rc == -ESRCH ? -EDVS_DEADPEER : rc;
		}
	}
	s->got += n;
	a.id = htole64(id);
	a.pos = htole64(s->got);
	cl_px_queue(from, PX_VC_ACK, &a, sizeof(a));
	if (s->owner_side && s->got == s->len) {
		/* Pids are reused: the owner we wrote is still the one that
		 * made the grant. */
		rc = syscall(SYS_pidfd_send_signal, s->b->pidfd, 0, NULL, 0) < 0 ?
			     -EDVS_DEADPEER : 0;
		send_done(s, rc);
		side_free(s);
	}
}

static void
on_ack(int from, const struct px_vc_ack *a)
{
	uint64_t id = le64toh(a->id), pos = le64toh(a->pos);
	struct rside *s = side_find(from, id, 1);

	if (s == NULL || !data_sender(s))
		s = side_find(from, id, 0);
	if (s == NULL || !data_sender(s) || pos < s->acked || pos > s->sent)
		return;
	s->acked = pos;
	if (s->owner_side && s->acked == s->len) {
		send_done(s, syscall(SYS_pidfd_send_signal, s->b->pidfd, 0, NULL, 0) < 0 ?
				     -EDVS_DEADPEER : 0);
		side_free(s);
		return;
	}
	send_data(s);
}

static void
on_done(int from, const struct px_vc_done *d)
{
	uint64_t id = le64toh(d->id);
	int status = (int32_t)le32toh((uint32_t)d->status);
	struct rside *s = side_find(from, id, 0);

	if (s != NULL) {
		/* The owner's node is done: everything it sent us is in. */
		if (status == 0 && s->dir == DVKD_VCOPY_FROM && s->got != s->len)
			status = -EDVS_PROTO;
		copier_finish(s, status > 0 ? -EDVS_PROTO : status);
		return;
	}
	s = side_find(from, id, 1);
	if (s != NULL) /* the copier's node gave up */
		side_free(s);
}

void
dvkd_rcopy_frame(int node, unsigned type, const void *body, size_t len)
{
	switch (type) {
	case PX_VC_REQ:
		on_req(node, body);
		break;
	case PX_VC_DATA:
		on_data(node, body, len);
		break;
	case PX_VC_ACK:
		on_ack(node, body);
		break;
	case PX_VC_DONE:
		on_done(node, body);
		break;
	}
}

void
dvkd_rcopy_link_down(int node)
{
	int i;

	for (i = 0; i < RC_MAX; i++) {
		if (!rs[i].used || rs[i].node != node)
			continue;
		if (rs[i].owner_side)
			side_free(&rs[i]);
		else
			copier_finish(&rs[i], -EDVS_DEADPEER);
	}
}
