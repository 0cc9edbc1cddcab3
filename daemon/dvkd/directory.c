/*
 * directory.c - DCs that span several nodes, and who owns each of their
 * endpoints: (DC, endpoint) -> (node, generation).
 *
 * The directory changes only by CPG messages, which Corosync delivers to
 * every member in one total order (and which only a node holding
 * Corosync's authkey can send); every node applies them in that order, so
 * all agree.  The sending node is the one CPG names, never a field of the
 * message.  A node announces its own bindings only (DIR_BIND, DIR_UNBIND),
 * so each node is the authority for its endpoints:
 *
 * - a bind is checked against the directory at once (an endpoint owned on
 *   another node is busy) and announced; of two nodes binding one endpoint
 *   at the same moment, the one whose DIR_BIND comes first in the total
 *   order keeps it and the other drops its binding when it sees that;
 * - a node that leaves the membership keeps its entries, marked
 *   unreachable (still busy); when it comes back every node sends
 *   DIR_RESET and its bindings again, and the DCs it knows (a snapshot);
 * - a partition without quorum refuses new binds in these DCs and keeps
 *   serving what it has.
 *
 * Messages between the endpoints of different nodes (the remote channels)
 * are not built yet: the directory makes endpoints unique across the DC
 * and shows where each one lives (docs/CLUSTER.md).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "dvs/log.h"

#define DIR_MAGIC 0x31445644u /* "DVD1" little-endian */

enum dir_type {
	DIR_DC = 1,  /* the DC exists on the nodes of the mask */
	DIR_DC_GONE, /* the DC is destroyed everywhere */
	DIR_BIND,    /* the sender's process owns dc/ep with generation gen */
	DIR_UNBIND,  /* ... no longer */
	DIR_RESET,   /* forget every entry of the sender (bindings follow) */
	DIR_TYPE_MAX
};

/* One CPG message; integers little-endian. */
struct dir_msg {
	uint32_t magic;
	uint16_t type;
	uint16_t pad;
	int32_t dc;
	int32_t ep;
	int32_t nep;
	uint32_t gen;
	uint64_t nodes;
	uint64_t tag; /* DIR_DC: the sender's request, answered on delivery */
};
_Static_assert(sizeof(struct dir_msg) == 40, "directory message");

/* DC creations waiting for their own message to come back. */
struct pending {
	struct mgmt *m;
	uint32_t seq;
	uint64_t tag;
	struct pending *next;
};
static struct pending *pendings;
static uint64_t next_tag;

/* Queues an answer to m for when the message tagged tag comes back. */
static int
pend(struct mgmt *m, uint32_t seq, uint64_t *tag)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->m = m;
	p->seq = seq;
	p->tag = *tag = ++next_tag;
	p->next = pendings;
	pendings = p;
	return 0;
}

static void
answer(uint64_t tag, int status)
{
	struct pending **pp, *p;
	struct dvkd_msg r;

	for (pp = &pendings; (p = *pp) != NULL; pp = &p->next) {
		if (p->tag != tag)
			continue;
		*pp = p->next;
		if (p->m != NULL && p->m->fd >= 0) {
			dvkd_msg_init(&r, DVKD_REPLY, p->seq);
			r.h.status = status;
			dvkd_send(p->m->fd, &r, NULL, 0, 0);
		}
		free(p);
		return;
	}
}


static int
mcast(unsigned type, int dc, int ep, int nep, uint32_t gen, uint64_t nodes,
      uint64_t tag)
{
	struct dir_msg w = {
		.magic = htole32(DIR_MAGIC),
		.type = htole16((uint16_t)type),
		.dc = (int32_t)htole32((uint32_t)dc),
		.ep = (int32_t)htole32((uint32_t)ep),
		.nep = (int32_t)htole32((uint32_t)nep),
		.gen = htole32(gen),
		.nodes = htole64(nodes),
		.tag = htole64(tag),
	};

	return cl_mcast(&w, sizeof(w));
}

static int
dc_spans(const struct dc *dc)
{
	return dc != NULL && dc->nodes != 0;
}

int
dvkd_dir_bind_check(const struct dc *dc, int ep)
{
	const struct epslot *s = &dc->eps[ep];

	if (!dc_spans(dc))
		return 0;
	if (!cl.quorate)
		return -EDVS_NOQUORUM;
	return s->rnode != 0 ? -EDVS_EPBUSY : 0;
}

void
dvkd_dir_bound(struct binding *b)
{
	struct epslot *s = &b->dc->eps[b->ep];

	if (!dc_spans(b->dc) || s->b != b)
		return;
	s->announced = 0;
	if (mcast(DIR_BIND, b->dc->id, b->ep, 0, b->gen, 0, 0) < 0)
		dvs_warn("dc %d ep %d: cannot announce the binding to the cluster",
			 b->dc->id, b->ep);
}

void
dvkd_dir_unbound(struct binding *b)
{
	if (!dc_spans(b->dc) || dvkd.stopping)
		return;
	if (mcast(DIR_UNBIND, b->dc->id, b->ep, 0, b->gen, 0, 0) < 0)
		dvs_warn("dc %d ep %d: cannot announce the unbind to the cluster",
			 b->dc->id, b->ep);
}

int
dvkd_dir_dc_create(struct mgmt *m, uint32_t seq, int dc, int nep, uint64_t nodes)
{
	uint64_t tag;
	int k;

	if (!cl.on)
		return -EINVAL; /* --nodes needs a cluster */
	if (cl.cpg == 0)
		return -EDVS_NODAEMON;
	if (!cl.quorate)
		return -EDVS_NOQUORUM;
	for (k = 0; k < CL_MAX_NODES; k++)
		if ((nodes >> k & 1) && cl_node_find(k) == NULL)
			return -EINVAL;
	if (dvkd_dc_find(dc) != NULL)
		return -EEXIST;
	if (pend(m, seq, &tag) < 0)
		return -ENOMEM;
	if (mcast(DIR_DC, dc, 0, nep, 0, nodes, tag) < 0)
		answer(tag, -EIO);
	return 1;
}

int
dvkd_dir_dc_destroy(struct mgmt *m, uint32_t seq, struct dc *dc)
{
	uint64_t tag;

	if (!dc_spans(dc))
		return 0;
	if (cl.cpg == 0)
		return -EDVS_NODAEMON;
	if (pend(m, seq, &tag) < 0)
		return -ENOMEM;
	if (mcast(DIR_DC_GONE, dc->id, 0, 0, 0, 0, tag) < 0) {
		answer(tag, -EIO);
		return 1;
	}
	return 1;
}

void
dvkd_dir_mgmt_closed(struct mgmt *m)
{
	struct pending *p;

	for (p = pendings; p != NULL; p = p->next)
		if (p->m == m)
			p->m = NULL;
}

static void
apply_dc(int from, const struct dir_msg *w)
{
	struct dc *dc = dvkd_dc_find(w->dc);
	int rc = 0;

	if (dc != NULL) {
		if (dc->nodes != w->nodes || dc->nep != w->nep) {
			dvs_warn("dc %d: node %d says it spans nodes %#llx with %d endpoints; "
				 "here it is %#llx with %d: ignored", w->dc, from,
				 (unsigned long long)w->nodes, w->nep,
				 (unsigned long long)dc->nodes, dc->nep);
			rc = -EEXIST;
		}
	} else if (w->nodes >> cl.self & 1) {
		rc = dvkd_dc_create(w->dc, w->nep, 0, 0, 0);
		dc = dvkd_dc_find(w->dc);
		if (dc != NULL)
			dc->nodes = w->nodes;
		else
			dvs_warn("dc %d: cannot create it here (%s)", w->dc, dvk_strerror(rc));
	}
	if (from == cl.self)
		answer(w->tag, rc);
}

/* The sender's claim on dc/ep, in total order. */
static void
apply_bind(int from, const struct dir_msg *w)
{
	struct dc *dc = dvkd_dc_find(w->dc);
	struct epslot *s;

	if (!dc_spans(dc) || w->ep < 0 || w->ep >= dc->nep || !(dc->nodes >> from & 1))
		return;
	s = &dc->eps[w->ep];
	if (from == cl.self) {
		if (s->b != NULL && s->b->gen == w->gen)
			s->announced = 1;
		return;
	}
	if (s->b != NULL && s->announced) {
		/* Ours came first; the sender drops its binding when it
		 * reads ours, which it did before this one. */
		return;
	}
	if (s->b != NULL) {
		dvs_warn("dc %d ep %d: node %d bound it first; dropping pid %d's binding",
			 dc->id, w->ep, from, (int)s->b->pid);
		dvkd_bind_gone(s->b);
	}
	s->rnode = from + 1;
	s->rgen = w->gen;
	s->runreach = 0;
	/* Local peers see the remote owner as any other (dvk_peer_alive). */
	atomic_store_explicit(&dc->gens->gen[w->ep], w->gen, memory_order_release);
	dvkd_remote_entry_changed(dc, w->ep);
}

static void
apply_unbind(int from, const struct dir_msg *w)
{
	struct dc *dc = dvkd_dc_find(w->dc);
	struct epslot *s;

	if (!dc_spans(dc) || w->ep < 0 || w->ep >= dc->nep)
		return;
	s = &dc->eps[w->ep];
	if (s->rnode == from + 1 && s->rgen == w->gen) {
		s->rnode = 0;
		atomic_store_explicit(&dc->gens->gen[w->ep], 0, memory_order_release);
		dvkd_remote_entry_changed(dc, w->ep);
	}
}

/* Calls fn on every directory entry of node (all DCs). */
static void
for_node_entries(int node, void (*fn)(struct dc *, int))
{
	int i, k;

	for (i = 0; i < dvkd.ndc; i++) {
		struct dc *dc = dvkd.dcs[i];

		if (!dc_spans(dc))
			continue;
		for (k = 0; k < dc->nep; k++)
			if (dc->eps[k].rnode == node + 1)
				fn(dc, k);
	}
}

static void
entry_clear(struct dc *dc, int ep)
{
	dc->eps[ep].rnode = 0;
	atomic_store_explicit(&dc->gens->gen[ep], 0, memory_order_release);
	dvkd_remote_entry_changed(dc, ep);
}

/* Its processes may still run (so the entry stays busy), but nobody here
 * can reach them: calls on them fail, local peers hear they are gone. */
static void
entry_unreachable(struct dc *dc, int ep)
{
	dc->eps[ep].runreach = 1;
	atomic_store_explicit(&dc->gens->gen[ep], 0, memory_order_release);
	dvkd_remote_entry_changed(dc, ep);
}

void
dvkd_dir_deliver(uint32_t nodeid, const void *msg, size_t len)
{
	struct dir_msg w;
	int from = (int)nodeid - 1;

	if (len != sizeof(w) || cl_node_find(from) == NULL) {
		dvs_warn("CPG: a message of %zu bytes from Corosync node %u ignored", len,
			 nodeid);
		return;
	}
	memcpy(&w, msg, sizeof(w));
	w.magic = le32toh(w.magic);
	w.type = le16toh(w.type);
	w.dc = (int32_t)le32toh((uint32_t)w.dc);
	w.ep = (int32_t)le32toh((uint32_t)w.ep);
	w.nep = (int32_t)le32toh((uint32_t)w.nep);
	w.gen = le32toh(w.gen);
	w.nodes = le64toh(w.nodes);
	w.tag = le64toh(w.tag);
	if (w.magic != DIR_MAGIC || w.type == 0 || w.type >= DIR_TYPE_MAX || w.dc < 0 ||
	    w.dc > 65535) {
		dvs_warn("CPG: a malformed directory message from node %d ignored", from);
		return;
	}
	switch (w.type) {
	case DIR_DC:
		if (w.nep < 1 || w.nep > DVK_MAX_DC_EPS || w.nodes == 0)
			return;
		apply_dc(from, &w);
		break;
	case DIR_DC_GONE: {
		struct dc *dc = dvkd_dc_find(w.dc);

		if (dc_spans(dc))
			dvkd_dc_destroy(w.dc);
		if (from == cl.self)
			answer(w.tag, 0);
		break;
	}
	case DIR_BIND:
		apply_bind(from, &w);
		break;
	case DIR_UNBIND:
		apply_unbind(from, &w);
		break;
	case DIR_RESET:
		if (from != cl.self)
			for_node_entries(from, entry_clear);
		break;
	}
}

void
dvkd_dir_node_left(int node)
{
	for_node_entries(node, entry_unreachable);
}

/* A node joined: tell it (and everyone) what we know and what we own. */
void
dvkd_dir_snapshot(void)
{
	struct binding *b;
	int i;

	if (cl.cpg == 0)
		return;
	for (i = 0; i < dvkd.ndc; i++) {
		struct dc *dc = dvkd.dcs[i];

		if (dc_spans(dc))
			mcast(DIR_DC, dc->id, 0, dc->nep, 0, dc->nodes, 0);
	}
	mcast(DIR_RESET, 0, 0, 0, 0, 0, 0);
	for (b = dvkd.bindings; b != NULL; b = b->next) {
		struct epslot *s = &b->dc->eps[b->ep];

		if (dc_spans(b->dc) && s->b == b && !b->dead)
			mcast(DIR_BIND, b->dc->id, b->ep, 0, b->gen, 0, 0);
	}
}

int
dvkd_dir_entry(const struct dc *dc, int ep, int *node, uint32_t *gen, int *unreachable)
{
	const struct epslot *s = &dc->eps[ep];

	if (s->rnode == 0)
		return 0;
	*node = s->rnode - 1;
	*gen = s->rgen;
	*unreachable = s->runreach;
	return 1;
}
