/*
 * cluster.c - dvkd as one node of a cluster: reads the cluster file and
 * the key, starts membership (member.c) and the proxy links (proxy.c),
 * and answers NODE_LIST.  A dvkd started without --cluster runs alone, as
 * before, and needs no Corosync.
 */
#include <errno.h>
#include <string.h>

#include "cluster.h"
#include "dvs/log.h"
#include "wake.h"

struct cl_state cl = { .cpg_fd = -1, .vq_fd = -1, .listen_fd = -1, .timer_fd = -1 };

int
dvkd_cluster_on(void)
{
	return cl.on;
}

int
dvkd_cluster_start(const char *file, int self)
{
	char err[512];
	int k, rc;

	rc = cl_file_load(file, &cl.file, err, sizeof(err));
	if (rc < 0) {
		dvs_err("cluster file: %s", err);
		return rc;
	}
	cl.self = self;
	cl.nnodes = cl.file.nnodes;
	for (k = 0; k < cl.nnodes; k++) {
		cl.nodes[k].id = cl.file.nodes[k].id;
		cl.nodes[k].addr = cl.file.nodes[k].addr;
	}
	if (cl_node_find(self) == NULL) {
		dvs_err("%s has no line 'node %d ADDRESS' for this node (--node %d)", file,
			self, self);
		return -EINVAL;
	}
	rc = cl_key_load(cl.file.key_path, cl.key, sizeof(cl.key), err, sizeof(err));
	if (rc < 0) {
		dvs_err("cluster key: %s", err);
		return rc;
	}
	cl.keylen = (size_t)rc;
	cl.on = 1;
	rc = cl_proxy_start();
	if (rc < 0)
		return rc;
	rc = cl_member_start();
	if (rc < 0)
		return rc;
	rc = dvkd_remote_start();
	if (rc < 0)
		return rc;
	dvs_info("node %d of cluster %s (%d nodes in the cluster file)", self,
		 cl.file.name, cl.nnodes);
	return 0;
}

void
dvkd_cluster_stop(void)
{
	if (!cl.on)
		return;
	dvkd_remote_stop();
	dvkd_rlock();
	cl_member_stop();
	cl_proxy_stop();
	dvkd_runlock();
	memset(cl.key, 0, sizeof(cl.key));
	cl.on = 0;
}

void
dvkd_cluster_event(void *obj, uint32_t events)
{
	struct cl_ev *e = obj;

	/* The pump thread (remote.c) shares links, stand-ins and their
	 * rings with whatever the cluster code does here. */
	dvkd_rlock();
	dvkd_wake_defer();
	e->fn(e->self, events);
	dvkd_runlock();
	dvkd_wake_flush();
}

int
dvkd_cluster_nodes(struct dvkd_node_rec *recs, int max)
{
	int k, n = 0;

	for (k = 0; k < cl.nnodes && n < max; k++) {
		const struct cl_node *c = &cl.nodes[k];
		struct dvkd_node_rec *r = &recs[n++];

		memset(r, 0, sizeof(*r));
		r->node = c->id;
		r->addr = c->addr.s_addr;
		r->port = cl.file.port;
		r->ring_id = cl.ring_id;
		r->link = (uint32_t)c->link_state;
		if (cl.quorate)
			r->flags |= DVKD_NODEF_QUORATE;
		if (c->id == cl.self) {
			r->flags |= DVKD_NODEF_SELF;
			/* Without Corosync we cannot say we are in the cluster. */
			r->state = cl.cpg != 0 ? DVKD_NODE_MEMBER : DVKD_NODE_UNREACHABLE;
		} else if (!c->in_cpg) {
			r->state = DVKD_NODE_DOWN;
		} else {
			r->state = c->link_state == DVKD_LINK_UP ? DVKD_NODE_MEMBER :
								   DVKD_NODE_UNREACHABLE;
		}
		r->msgs_tx = c->msgs_tx;
		r->msgs_rx = c->msgs_rx;
		r->bytes_tx = c->bytes_tx;
		r->bytes_rx = c->bytes_rx;
		r->link_ups = c->link_ups;
	}
	return n;
}
