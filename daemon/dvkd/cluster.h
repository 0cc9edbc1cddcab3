/*
 * cluster.h - dvkd on several nodes: the cluster file, membership through
 * Corosync, and the proxy links to the other nodes' dvkd.  See
 * docs/CLUSTER.md.
 *
 * Threads: everything here runs on dvkd's main thread, inside its epoll
 * loop; nothing is locked.
 */
#ifndef DVKD_CLUSTER_H
#define DVKD_CLUSTER_H

#include <netinet/in.h>
#include <stdint.h>

#include "dvkd.h"
#include "dvs/dvkd_proto.h"

#define CL_MAX_NODES 64
#define CL_NAME_MAX 32
#define CL_KEY_MIN 16
#define CL_KEY_MAX 1024
#define CL_DEFAULT_PORT 7420

/* What the cluster file says (docs/CLUSTER.md, "The cluster file"). */
struct cl_file {
	char name[CL_NAME_MAX + 1];
	char key_path[256];
	uint16_t port;
	int nnodes;
	struct {
		int id;			 /* 0 .. CL_MAX_NODES-1 */
		struct in_addr addr;	 /* where its dvkd listens */
	} nodes[CL_MAX_NODES];
};

/*
 * Parses the cluster file text (len bytes, need not end in NUL) into *f.
 * Returns 0, or -EINVAL with a message naming the line in err (errlen
 * bytes).  Never reads beyond len.
 */
int cl_file_parse(const char *text, size_t len, struct cl_file *f,
		  char *err, size_t errlen);

/* Reads and parses the file at path (at most 64 KiB). */
int cl_file_load(const char *path, struct cl_file *f, char *err, size_t errlen);

/* Loads the key file: CL_KEY_MIN .. CL_KEY_MAX bytes, not readable by
 * others.  Returns the key's length or -errno / -EINVAL. */
int cl_key_load(const char *path, uint8_t *key, size_t cap, char *err,
		size_t errlen);

/* ---- the running cluster (member.c, proxy.c) ---- */

struct px_link;

/* An epoll registration of the cluster code: fn(self, events). */
struct cl_ev {
	struct ev ev; /* kind EV_CLUSTER, obj = this */
	void (*fn)(void *self, uint32_t events);
	void *self;
};

struct cl_node {
	int id;
	struct in_addr addr;
	int in_cpg;		/* its dvkd is in the CPG group */
	struct px_link *link;	/* the proxy link, NULL when none */
	int link_state;		/* DVKD_LINK_* */
	uint64_t next_dial_ns;	/* when the lower id dials again */
	unsigned backoff_ms;
	uint64_t msgs_tx, msgs_rx, bytes_tx, bytes_rx, link_ups;
};

struct cl_state {
	int on;
	struct cl_file file;
	int self; /* our node id */
	uint8_t key[CL_KEY_MAX];
	size_t keylen;
	struct cl_node nodes[CL_MAX_NODES]; /* in the file's order */
	int nnodes;
	/* Corosync (member.c) */
	uint64_t cpg, vq; /* handles; 0 while not connected */
	struct cl_ev cpg_ev, vq_ev;
	int cpg_fd, vq_fd;
	int quorate;
	uint64_t ring_id;
	uint64_t next_corosync_ns; /* when to try to reach Corosync again */
	/* proxies (proxy.c) */
	struct cl_ev listen_ev, timer_ev;
	int listen_fd, timer_fd;
};

extern struct cl_state cl;

struct cl_node *cl_node_find(int id);
/* member.c: (re)connects to Corosync when due; called every tick. */
void cl_member_tick(uint64_t now);
int cl_member_start(void);
void cl_member_stop(void);
/* proxy.c: membership changed for node n (joined or left the group). */
void cl_proxy_member_changed(struct cl_node *n);
int cl_proxy_start(void);
void cl_proxy_stop(void);
/* member.c: sends one message to the CPG group (total order); 0 or -EIO. */
int cl_mcast(const void *msg, size_t len);

/* ---- directory.c: DCs over several nodes ---- */

/* May a local process bind ep of dc?  0, -EDVS_EPBUSY (owned on another
 * node), -EDVS_NOQUORUM (our partition has no quorum). */
int dvkd_dir_bind_check(const struct dc *dc, int ep);
/* b now owns its endpoint / no longer does: announce it. */
void dvkd_dir_bound(struct binding *b);
void dvkd_dir_unbound(struct binding *b);
/* DC_CREATE with --nodes, DC_DESTROY of such a DC: 1 when the answer to m
 * goes out once the message comes back in the total order, or < 0. */
int dvkd_dir_dc_create(struct mgmt *m, uint32_t seq, int dc, int nep, uint64_t nodes);
int dvkd_dir_dc_destroy(struct mgmt *m, uint32_t seq, struct dc *dc);
void dvkd_dir_mgmt_closed(struct mgmt *m);
/* From member.c: a message delivered by CPG; a node left; someone joined. */
void dvkd_dir_deliver(uint32_t nodeid, const void *msg, size_t len);
void dvkd_dir_node_left(int node);
void dvkd_dir_snapshot(void);
/* 1 and the entry if ep of dc is owned on another node, else 0. */
int dvkd_dir_entry(const struct dc *dc, int ep, int *node, uint32_t *gen,
		   int *unreachable);

/* ---- remote.c: IPC with endpoints of other nodes ---- */

/* The lock of everything the pump thread shares with the event loop:
 * rings with a stand-in, stand-ins, proxy links.  Recursive. */
void dvkd_rlock(void);
void dvkd_runlock(void);
int dvkd_remote_start(void);
void dvkd_remote_stop(void);
/* The stand-in of ep's owner on another node (made on need), or NULL if
 * ep is not bound on a reachable other node. */
struct binding *dvkd_standin_get(struct dc *dc, int ep);
/* The directory entry of ep changed: a stand-in that no longer matches
 * it goes (its rings die, local peers hear the endpoint is gone). */
void dvkd_remote_entry_changed(struct dc *dc, int ep);
/* dc goes: its stand-ins and stand-in doorbell too. */
void dvkd_remote_dc_gone(struct dc *dc);
/* ring.c tells: r was made / is about to be freed. */
void dvkd_remote_ring_added(struct ring *r);
void dvkd_remote_ring_removed(struct ring *r);
/* proxy.c: a frame of the IPC types from node; the end of a batch of
 * frames from it (acknowledgements go out); its link came up. */
void dvkd_remote_frame(int node, unsigned type, const void *body, size_t len);
void dvkd_remote_rx_done(int node);
void dvkd_remote_link_up(int node);
/* proxy.c: node's link went down (copies through it fail, stand-ins
 * waiting for its PX_GONE go). */
void dvkd_remote_link_down(int node);
/* bind.c: b, owner of its endpoint, is gone and its rings are dead:
 * tells the DC's other nodes (PX_GONE), after the replies b wrote. */
void dvkd_remote_bind_gone(struct binding *b);
/* proxy.c: 1 if the link to node is up; bytes queued on it, not written. */
int cl_px_up(int node);
size_t cl_px_queued(int node);

/* run_remote.c: `dvs ctl run --node` on the requester's node.  A
 * RUN_NODE request of m (fds: blob memfd, stdout, stderr; owned from
 * here): 1 (answered when the program ends) or < 0.  m closes: its
 * programs are told to stop.  Frames RUN_OUT and RUN_EXIT from node;
 * node's link went down: its programs' fate is unknown. */
int dvkd_run_remote_start(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds);
void dvkd_run_mgmt_closed(struct mgmt *m);
void dvkd_run_remote_frame(int node, unsigned type, const void *body, size_t len);
void dvkd_run_remote_link_down(int node);
/* run_host.c: the host side.  A RUN or RUN_KILL frame from node; node's
 * link went down (the programs it started are stopped); the 100 ms tick
 * (output held back while a link's queue is long goes on). */
void dvkd_run_host_frame(int node, unsigned type, const void *body, size_t len);
void dvkd_run_host_link_down(int node);
void dvkd_run_host_tick(void);
/* remote_copy.c: a vcopy frame from node (under rlock); node's link went
 * down (copies through it fail). */
void dvkd_rcopy_frame(int node, unsigned type, const void *body, size_t len);
void dvkd_rcopy_link_down(int node);
/* proxy.c for remote.c: queues a frame on node's link without writing
 * (-ENOTCONN: no link up, -ENOBUFS: the peer reads nothing); writes what
 * is queued on every link. */
int cl_px_queue(int node, unsigned type, const void *body, size_t len);
void cl_px_flush_all(void);

/* Registers e (fd, events) with dvkd's epoll set. */
int cl_ev_add(int fd, struct cl_ev *e, uint32_t events, void (*fn)(void *, uint32_t),
	      void *self);

/*
 * Starts membership (joins the CPG group dvs-NAME, tracks votequorum) and
 * the proxy listener of node self.  Returns 0 or a negative error (logged).
 */
int dvkd_cluster_start(const char *file, int self);
void dvkd_cluster_stop(void);
/* 1 when dvkd runs as a node of a cluster. */
int dvkd_cluster_on(void);
/* Handles an event of one of the cluster's descriptors (struct ev.obj). */
void dvkd_cluster_event(void *obj, uint32_t events);
/* Fills the node records of NODE_LIST: up to max, returns how many. */
int dvkd_cluster_nodes(struct dvkd_node_rec *recs, int max);

#endif
