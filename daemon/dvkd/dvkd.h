/*
 * dvkd.h - the node daemon's tables.
 *
 * Threads: the main thread (an epoll loop) owns every table below and is
 * the only one that changes them.  Copy workers (copy.c) only use a job's
 * two bindings through references (refs), write replies under a binding's
 * wlock, and add to atomic counters.
 */
#ifndef DVKD_H
#define DVKD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "dvs/clock.h"
#include "dvs/dvkd_proto.h"
#include "dvs/thread_safety.h"

/* Bounded resources (see docs/DVK.md, "Limits"). */
#define DVKD_MAX_MGMT 64
#define DVKD_MAX_ADMITS 1024
#define DVKD_MAX_BINDINGS 4096
#define DVKD_MAX_RINGS 16384
#define DVKD_DC_RINGS_DEFAULT_MAX 4096 /* a DC's default ring quota, at most */
#define DVKD_MAX_DCS 64
#define DVKD_MAX_COPIES_PER_BINDING 4
#define DVKD_MAX_COPY_JOBS 256
#define DVKD_MAX_BUFS 64			 /* copy buffers per binding */
#define DVKD_MAX_BUF_BYTES (256ull << 20)	 /* their bytes per binding */
/* Copies up to this size run in the main loop (a hand-off to a copy
 * thread costs a cross-CPU wake-up); larger ones go to the copy threads. */
#define DVKD_INLINE_COPY (1024 * 1024)
/* After work, the main loop polls this long before it sleeps, so that a
 * burst of requests does not pay a wake-up each (while its polls find
 * work and a CPU is idle: spin.h). */
#define DVKD_SPIN_NS 50000

enum ev_kind { EV_LISTEN, EV_MGMT, EV_ADMIT, EV_BIND, EV_PIDFD, EV_SIGNAL, EV_CLUSTER };

/* What an epoll event points to. */
struct ev {
	enum ev_kind kind;
	void *obj;
};

struct dc;
struct binding;

/* A copy buffer: a memfd mapped both here and in the binding's process. */
struct dbuf {
	uint32_t id;
	int stage; /* libdvk's staging buffer (DVKD_BUF_STAGE) */
	size_t len;
	char *map;
	/* Where the binding's process says it mapped the buffer
	 * (BUF_WHERE), 0 if it did not say: only ever used to reach this
	 * buffer, so a lie harms only that process. */
	uint64_t uaddr;
	/* Queued copies using map (taken by the main thread, dropped by copy
	 * threads): BUF_FREE refuses while > 0, so map stays valid. */
	atomic_int users;
	struct dbuf *next;
};

/* A ring from a stand-in holds what its remote sender has on the wire
 * (its own ring's DVK_RING_SLOTS) and three times as many the receiver
 * has not taken: acknowledged on arrival while there is room, so a
 * receiver that keeps up costs nothing more, and never overrun
 * (remote.c, "flow control" in docs/CLUSTER.md). */
#define DVKD_RING_SLOTS_IN (4 * DVK_RING_SLOTS)

struct ring {
	uint64_t id;
	int fd; /* memfd, re-sent when a side asks again */
	struct binding *src, *dst;
	struct dvk_ring *hdr; /* the whole ring, mapped here */
	/* A ring with a stand-in on one side (remote.c; under its lock).
	 * To a stand-in: sent is the next position to forward, head (in
	 * hdr) what the other node acknowledged; req_seq the sendrec whose
	 * reply we wait for.  From a stand-in: sent is our tail, expect the
	 * next position of the other node's ring we take (-1: the first
	 * one sets it), acked the position we acknowledged (what the local
	 * receiver has taken), reply_want the sendrec the local receiver
	 * owes. */
	int rslot; /* index in remote.c's list, -1 if none */
	uint32_t nslots; /* DVK_RING_SLOTS, DVKD_RING_SLOTS_IN from a stand-in */
	uint64_t sent, expect, acked;
	int expect_set;
	uint32_t req_seq, reply_want;
	uint64_t retry_ns; /* NAKed: not before this */
	unsigned retries;
	/* From a stand-in: the pump's current futex_waitv set has the
	 * ring's reply futex / head (space futex) in it, so the event loop
	 * need not wake the pump for them. */
	uint8_t watch_reply, watch_space;
	uint8_t had_request; /* from a stand-in: a sendrec came through it */
	/* From a stand-in: the acknowledgement of the sendrec request we
	 * put in the ring last waits to go with its REPLY (one frame pair,
	 * one write), or until ack_later_ns + RM_ACK_DEFER_NS. */
	uint8_t ack_later;
	uint64_t ack_later_ns;
};

struct binding {
	struct ev ev, pev;
	int fd;	   /* control socket */
	int pidfd; /* tells us when the process exits */
	pid_t pid;
	atomic_int refs;
	dvs_mutex_t wlock; /* serialises writes on fd */
	/* Set once, by the main thread under wlock; copy threads read it
	 * without the lock, hence atomic. */
	atomic_int dead;
	struct dc *dc;
	int ep;
	uint32_t gen; /* this binding's generation: unique, never 0 */
	int backup; /* waiting as backup of ep */
	int events; /* wants EV_GONE (DVK_BIND_PEER_EVENTS) */
	/* A stand-in for an endpoint bound on another node (remote.c):
	 * node + 1, 0 for a real binding.  It has no socket, no process,
	 * and shares its DC's stand-in doorbell. */
	int remote;
	/* A stand-in whose owner the directory says unbound, kept until
	 * its node's PX_GONE says every reply has come (remote.c). */
	int unbound_wait;
	int gone_told; /* its peers were told it is gone */
	uint32_t gone_mark; /* gen of the last binding we told b about */
	/* EV_GONE events that did not fit in the socket, coalesced per
	 * endpoint (highest generation wins), sent when it drains
	 * (EPOLLOUT).  gone_pend[ep] 0: none.  nep entries, made on need. */
	uint32_t *gone_pend;
	uint8_t *gone_why;
	int ngone_pend;
	int sndbuf; /* of fd, as the kernel counts it */
	int db_fd;
	struct dvk_doorbell *db;
	struct dvk_grant_ent *gt;
	struct ring **rings; /* rings where we are src or dst */
	int nrings, cap_rings;
	atomic_int copies; /* vcopies in flight */
	struct dbuf *bufs; /* freed with the binding (copies may use them) */
	int nbufs; /* not counting the staging buffer */
	int has_stage;
	uint64_t buf_bytes;
	uint32_t next_buf_id;
	atomic_uint_least64_t copied_in;  /* vcopy_from bytes as copier */
	atomic_uint_least64_t copied_out; /* vcopy_to bytes as copier */
	struct binding *next, *prev;
};

struct epslot {
	struct binding *b;	/* owner */
	struct binding *backup; /* waiting backup */
	/* A DC over several nodes (directory.c): the owner on another node,
	 * node + 1 (0: none), its generation, and whether that node is out
	 * of the membership now; announced: our own owner's DIR_BIND came
	 * back in the total order (so it holds against later claims). */
	int rnode;
	uint32_t rgen;
	int runreach;
	int announced;
	/* The stand-in of that remote owner, once a ring needs one. */
	struct binding *standin;
	/* The generation whose node said it is gone (PX_GONE): no new
	 * stand-in for it, even before the directory hears of it. */
	uint32_t rgone;
	/* statistics of rings gone, added to the live ones when listed */
	uint64_t sent, recv, sbytes, rbytes, errors;
};

struct dc {
	int id;
	int nep;
	int nadmit;
	/* Quotas, promised at creation: the sums over all DCs never exceed
	 * the node's limits, so no DC can use up what another was given. */
	int max_bind, max_rings;
	int nbind, nrings;
	int call_timeout_ms; /* handed to every binding: send/sendrec default */
	struct epslot *eps;
	/* The generation table (DVK_GEN_TABLE_SIZE): gens[ep] is the gen of
	 * ep's owner, 0 if none.  Mapped read-only by every binding. */
	int gen_fd;
	struct dvk_gen_table *gens;
	/* The nodes the DC spans (bit = node id), 0 for a DC of this node
	 * only (directory.c). */
	uint64_t nodes;
};

struct admit {
	struct ev ev;
	int fd;
	struct dc *dc;
	int lo, hi;
	/* The process it was handed to (dvsctl run, which execs the
	 * program): only it and its descendants may bind through it, so a
	 * descriptor taken from it (pidfd_getfd) is useless elsewhere.  0:
	 * unknown (no check). */
	pid_t owner;
	uint64_t owner_start; /* its start time, against pid reuse */
	struct admit *next, *prev;
};

struct mgmt {
	struct ev ev;
	int fd;
	struct mgmt *next, *prev;
};

struct dvkd {
	int epfd;
	int listen_fd;
	const char *sock_path;
	int stopping;
	int priv; /* may read non-dumpable processes (CAP_SYS_PTRACE) */
	uint64_t start_ns;
	uint64_t next_ring_id;
	uint32_t next_gen;
	struct dc *dcs[DVKD_MAX_DCS];
	int ndc;
	struct binding *bindings;
	int nbind;
	struct admit *admits;
	int nadmit;
	struct mgmt *mgmts;
	int nmgmt;
	int nrings;
	atomic_uint_least64_t copied;
	atomic_uint copies_now;
};

extern struct dvkd dvkd;

/* The lists of admissions, management connections and bindings: objects
 * with next and prev, head the first of them. */
#define DVKD_LIST_ADD(head, o)                        \
	do {                                          \
		(o)->prev = NULL;                     \
		(o)->next = (head);                   \
		if ((o)->next != NULL)                \
			(o)->next->prev = (o);        \
		(head) = (o);                         \
	} while (0)
#define DVKD_LIST_DEL(head, o)                        \
	do {                                          \
		if ((o)->prev != NULL)                \
			(o)->prev->next = (o)->next;  \
		else                                  \
			(head) = (o)->next;           \
		if ((o)->next != NULL)                \
			(o)->next->prev = (o)->prev;  \
	} while (0)

/* core.c */
/* The function that runs the event loop (main.c's), for hand-overs. */
void dvkd_set_loop(void *(*fn)(void *));
/* Starts a new thread that runs the event loop from now on (the caller,
 * the old loop thread, is stuck in a copy and ends when it is over). */
int dvkd_loop_handover(void);
int dvkd_ep_add(int fd, struct ev *ev);
/* Also waits for fd to be writable (out 1) or not any more (out 0). */
int dvkd_ep_out(int fd, struct ev *ev, int out);
void dvkd_ep_del(int fd);
/* Takes *fd out of the epoll set, closes it and sets it to -1; 0 if it
 * was already closed (-1), else 1. */
int dvkd_ep_close(int *fd);
/* Reads one request that carries no descriptors, without blocking: 0,
 * -EAGAIN (none yet), -EDVS_PROTO (bad packet, or descriptors: closed),
 * -EDVS_NODAEMON (EOF) or another error. */
int dvkd_recv_req(int fd, struct dvkd_msg *m);
/* Runs fn(p) after the current batch of events: an object closed while
 * handling one event may still be named by a later one of the batch. */
void dvkd_defer(void (*fn)(void *), void *p);
void dvkd_run_deferred(void);
/* Runs what is left and frees the list (at exit). */
void dvkd_deferred_release(void);

/* sd.c */
/* The listening socket systemd passed (socket activation; *path is set to
 * its path), -1 when none was passed, or a negative error (logged). */
int dvkd_sd_listen_fd(const char **path);
/* Tells systemd our state ("READY=1", "STOPPING=1"); nothing without it. */
void dvkd_sd_notify(const char *state);

/* mgmt.c */
/* Creates or destroys a DC on this node (what DC_CREATE and DC_DESTROY
 * do; the directory calls them for DCs over several nodes). */
int dvkd_dc_create(int id, int nep, int max_bind, int max_rings, int call_timeout_ms);
int dvkd_dc_destroy(int id);
void dvkd_mgmt_accept(void);
void dvkd_mgmt_input(struct mgmt *m);
void dvkd_mgmt_close_all(void);
struct dc *dvkd_dc_find(int id);
void dvkd_dc_free_all(void);

/* bind.c */
/* A new admission to dc for endpoints lo..hi, for process owner and its
 * descendants (0: anyone holding it). */
int dvkd_admit_new(struct dc *dc, int lo, int hi, pid_t owner, int *client_fd);
void dvkd_admit_input(struct admit *a);
void dvkd_admit_close(struct admit *a);
void dvkd_bind_input(struct binding *b);
/* The binding's socket can take more (EPOLLOUT): sends queued events. */
void dvkd_bind_flush(struct binding *b);
void dvkd_bind_gone(struct binding *b);
/* Tells the local peers of b (a binding or a stand-in) that it is gone and
 * marks its rings dead (they are freed by the caller). */
void dvkd_bind_tell_gone(struct binding *b, int reason);
void dvkd_binding_unref(struct binding *b);
/* Bumps b's ctl_seq and wakes it: an event waits on its socket. */
void dvkd_ring_ctl(struct binding *b);
int dvkd_bind_send(struct binding *b, struct dvkd_msg *m, const int *fds, int nfds);
void dvkd_dc_drop_all(struct dc *dc);
/* Statistics of ep; callers waiting in sendrec for more than wait_ms
 * (<= 0: 1000) are counted as waiting. */
void dvkd_ep_stats(struct dc *dc, int ep, int wait_ms, struct dvkd_ep_rec *rec);

/* ring.c */
/* Answers an OPEN (sends the reply itself) or returns a status < 0. */
int dvkd_ring_open(struct binding *b, const struct dvkd_msg *req);
void dvkd_ring_kill(struct ring *r);
/* The ring from stand-in sb to the local binding d, made and announced
 * to d on need; NULL over quota or when d is gone. */
struct ring *dvkd_ring_inbound(struct binding *sb, struct binding *d);
int dvkd_memfd(const char *name, size_t size);

/* buf.c */
int dvkd_buf_alloc(struct binding *b, const struct dvkd_msg *req);
int dvkd_buf_free(struct binding *b, uint32_t id);
/* The mapping of [off, off+len) of buffer id, or NULL if out of it. */
char *dvkd_buf_find(struct binding *b, uint32_t id, uint64_t off, uint64_t len);
/* Records where b's process mapped buffer id (BUF_WHERE). */
int dvkd_buf_where(struct binding *b, uint32_t id, uint64_t addr);
/* The buffer of b (not the stage) whose claimed address range holds all of
 * [addr, addr+len), or NULL; *map is then our mapping of addr. */
struct dbuf *dvkd_buf_at(struct binding *b, uint64_t addr, uint64_t len, char **map);
void dvkd_bufs_free(struct binding *b);

/* copy.c */
int dvkd_copy_start(void);
void dvkd_copy_stop(void);
/* Validates and runs or queues a vcopy; returns 1 when the reply will be
 * sent later, or a status to reply now. */
int dvkd_copy_request(struct binding *b, const struct dvkd_msg *req);
/* One process_vm_readv (wr 0) or _writev of n bytes between our local and
 * pid's remote: 0, gone if pid exited, -EPERM, or -EFAULT. */
int dvkd_pvm(pid_t pid, int wr, void *local, uint64_t remote, size_t n, int gone);
/* remote_copy.c: a vcopy whose owner is on another node: 1 (the reply
 * comes later) or a status. */
int dvkd_rcopy_request(struct binding *b, const struct dvkd_msg *req);
int dvkd_grant_check(const struct dvk_grant_ent *table, int32_t grant,
		     int copier_ep, uint32_t copier_gen, uint32_t dir, uint64_t off,
		     uint64_t len, uint64_t *addr);

#endif
