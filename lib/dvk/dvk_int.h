/*
 * dvk_int.h - libdvk internals shared by its source files.
 *
 * A struct dvk is one binding, used by one thread at a time: none of its
 * fields is locked.  Channels (struct dvk_chan) are the per-peer
 * operations behind one small ops table, so that a remote endpoint (a
 * proxy) or a migrated one plugs in without changing the API.
 */
#ifndef DVK_INT_H
#define DVK_INT_H

#include <stdint.h>

#include "dvs/backoff.h"
#include "dvs/dvkd_proto.h"
#include "dvs/ipc.h"

#define DVK_HANDLE_MAGIC 0x64766b68u
/* Longest futex sleep: a rogue peer that corrupts a doorbell can delay a
 * waiter by this much, never hang it. */
#define DVK_TICK_MS 50
/* How long a blocking call spins before sleeping (peer on another CPU). */
#define DVK_SPIN_NS_DEFAULT 50000
/* After a spin that ran out, that kind of wait sleeps at once the next
 * DVK_SPIN_SKIP_FIRST times, doubling up to the max while spins keep
 * failing (dvs/backoff.h). */
#define DVK_SPIN_SKIP_FIRST 1u
#define DVK_SPIN_SKIP_MAX 64u
/* How long a control call waits for dvkd's answer before -ETIMEDOUT. */
#define DVK_CTL_TIMEOUT_MS 10000

struct dvk;
struct dvk_chan;

/* Deadline in ns of CLOCK_MONOTONIC; INT64_MAX for ever. */
typedef int64_t dvk_deadline_t;

struct dvk_chan_ops {
	/* sender side: seq != 0 marks a sendrec request */
	int (*send)(struct dvk *h, struct dvk_chan *c, const dvk_msg_t *m,
		    uint32_t seq, dvk_deadline_t dl);
	int (*notify)(struct dvk *h, struct dvk_chan *c);
	int (*wait_reply)(struct dvk *h, struct dvk_chan *c, uint32_t seq,
			  dvk_msg_t *m, dvk_deadline_t dl);
	/* receiver side: 1 = got one, 0 = none, <0 = dead/broken */
	int (*try_recv)(struct dvk *h, struct dvk_chan *c, dvk_msg_t *m);
	/* 1 if try_recv could return something now (for waiting) */
	int (*ready)(struct dvk_chan *c);
	int (*reply)(struct dvk *h, struct dvk_chan *c, const dvk_msg_t *m);
	/* 1 once the channel's peer is gone for good */
	int (*dead)(struct dvk_chan *c);
	void (*close)(struct dvk_chan *c);
};

struct dvk_chan {
	const struct dvk_chan_ops *ops;
	dvk_ep_t peer;
	uint32_t peer_gen; /* the peer's binding, as dvkd told us */
	uint32_t dir; /* DVKD_DIR_OUT / DVKD_DIR_IN */
	uint64_t id;
	struct dvk_ring *r;
	size_t map_len;
	uint32_t nslots;
	uint64_t pos;	 /* sender: our tail; receiver: our head */
	uint64_t cached; /* sender: last head seen; receiver: last tail */
	struct dvk_doorbell *peer_db; /* sender side: receiver's doorbell */
	uint32_t want_seq;	      /* receiver: pending sendrec, 0 none */
	uint32_t ops_count;	      /* samples the CPU every few calls */
	struct dvk_chan *next_grave;  /* replaced, freed at the next call */
};

/* A copy buffer shared with dvkd (dvk_buf_alloc). */
struct dvk_buf {
	uint32_t id;
	char *addr;
	size_t len;
	struct dvk_buf *next;
};

struct dvk {
	uint32_t magic;
	int ctl; /* control socket to dvkd, owned */
	int dc;
	int dc_size;
	dvk_ep_t ep;
	uint32_t gen;	 /* our binding's generation */
	uint32_t last_gen; /* sender of the last message received */
	/* dvkd's generation table of our DC (read-only, DVK_GEN_TABLE_SIZE) */
	const struct dvk_gen_table *gens;
	int events;	 /* DVK_BIND_PEER_EVENTS */
	/* Peer-gone events not delivered yet: gone[ep] is the highest
	 * generation of ep that is gone (0: none), why the reason; dc_size
	 * entries, made at the first event.  Bounded by the DC's size. */
	uint32_t *gone;
	uint8_t *gone_why;
	unsigned ngone;
	int backup;	 /* still waiting as backup */
	int daemon_gone; /* control socket hit EOF */
	struct dvk_doorbell *db;
	struct dvk_grant_ent *gt;
	uint32_t ctl_seen;
	uint32_t seq;	/* last sendrec sequence */
	uint32_t ctl_req; /* last control request sequence */
	struct dvk_chan **out; /* by destination endpoint */
	struct dvk_chan **in;  /* by source endpoint */
	uint64_t *pending;     /* hint bits taken from the doorbell */
	unsigned nwords;
	unsigned rr; /* round-robin start of receive(ANY) */
	struct dvk_chan *last; /* gave the last message of receive(ANY) */
	unsigned grant_next;
	int64_t spin_ns;
	/* Channels replaced by an event while a caller may still hold them;
	 * freed when the next public call starts (dvk_enter). */
	struct dvk_chan *grave;
	struct dvk_buf *bufs;
	/* Staging buffer for vcopy of ordinary memory (DVKD_BUF_STAGE):
	 * dvkd copies between the grant and it, we between it and the
	 * caller's memory.  Made at the first such copy; stage_off once dvkd
	 * refused one (then copies go through dvkd's bounce buffer). */
	struct dvk_buf stage;
	int stage_off;
	int stage_never;   /* DVK_OPT_VCOPY_STAGE 0: never make one */
	int buf_where_off; /* DVK_OPT_BUF_WHERE 0: buffers not announced */
	int ctl_timeout_ms; /* for the next control call; 0: the default */
	int ctl_timeout_def; /* the default (DVK_CTL_TIMEOUT_MS, 10 s) */
	int call_timeout_ms; /* the DC's default for send/sendrec, -1 none */
	/* A request whose reply did not come in time (0: none).  dvkd may
	 * still be working on it (a copy into our staging buffer): the next
	 * control call, or stage use, waits for that reply first. */
	uint32_t ctl_stale;
	struct dvs_backoff ctl_spin; /* whether a control call spins (ctl.c) */
};

/* ring.c: the local shared-memory channel */
extern const struct dvk_chan_ops dvk_ring_ops;
/* Validates a ring's indices as a receiver would; used by the fuzzer. */
int dvk_ring_check_tail(uint64_t head, uint64_t tail, uint32_t nslots);

/* ctl.c */
/* A request and its reply (status returned; fds received if asked). */
int dvk_ctl_call(struct dvk *h, struct dvkd_msg *req, struct dvkd_msg *rep,
		 int *fds, int max_fds, int *nfds);
/* Waits for the reply of a request that timed out, if any: 0, -ETIMEDOUT
 * (still none) or -EDVS_NODAEMON. */
int dvk_ctl_drain(struct dvk *h);
/* Reads pending events of dvkd if the doorbell says there are some (or
 * force).  Sets h->daemon_gone on EOF. */
void dvk_ctl_poll(struct dvk *h, int force);
int dvk_chan_get(struct dvk *h, dvk_ep_t peer, uint32_t dir,
		 struct dvk_chan **out);
void dvk_chan_drop(struct dvk *h, struct dvk_chan *c);
/* Start of every public call on h: checks h, frees replaced channels. */
int dvk_enter(struct dvk *h);

/* grant.c */
void dvk_bufs_unmap(struct dvk *h);

/* wait.c */
dvk_deadline_t dvk_deadline(int timeout_ms);
int64_t dvk_now_ns(void);

/* Whether to spin before sleeping for a peer that last ran on peer_cpu:
 * only if it is another CPU of this node (DVK_CPU_REMOTE: another node,
 * whose answer no spin catches). */
static inline int
dvk_spin_for(uint32_t peer_cpu, uint32_t cpu)
{
	return peer_cpu != cpu && peer_cpu != DVK_CPU_REMOTE;
}
/*
 * Waits once for *futex to change, spinning first when spin is set (the
 * peer last ran on another CPU) and the back-off bo allows (NULL: none;
 * one per thread and kind of wait, kept by the caller).  ready(arg) is
 * rechecked after the
 * sleeping flag is raised, so a wake-up is never lost.  Returns 0 (caller
 * rechecks), -ETIMEDOUT, or -EDVS_NODAEMON.
 */
int dvk_wait(struct dvk *h, _Atomic uint32_t *futex, _Atomic uint32_t *sleeping,
	     int (*ready)(void *), void *arg, dvk_deadline_t dl, int spin,
	     struct dvs_backoff *bo);
void dvk_futex_wake(_Atomic uint32_t *futex);
int dvk_cpu(void);
int dvk_check(const struct dvk *h);

#endif
