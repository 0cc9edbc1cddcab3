/*
 * ipc.h - libdvk, the client side of the DVK's Minix-style IPC.
 *
 * A process admitted to a DC (see `dvsctl run`) binds endpoints of that DC
 * and talks to any other endpoint of it with fixed-size messages:
 *
 *   send      blocks until the DVK has taken the message (it sits in the
 *             destination's bounded queue), or the peer is gone;
 *   receive   from DVK_ANY or from one endpoint;
 *   sendrec   send, then wait for the reply of that same peer, in one call;
 *   reply     answers a sendrec; never blocks;
 *   notify    never blocks; notifications of one source coalesce.
 *
 * Every blocking call has a _t variant with a timeout in milliseconds
 * (-1 waits for ever, 0 polls).  Bulk data moves only through grants and
 * vcopy, checked against the owner's grant table by dvkd.
 *
 * Threads: a struct dvk is one binding and is used by one thread at a time.
 * Threads that talk at once bind an endpoint each (dvk_bind(DVK_ANY, ...)
 * picks a free one of the process's admitted range); there is no global
 * lock on the fast path.
 *
 * Where an endpoint lives (this node now, another node or a migrated one
 * later) is invisible here: the same calls work for every peer.
 *
 * Errors: every int-returning call gives 0 (or a count) on success and a
 * negative code on failure: -EDVS_* below or -errno; dvk_strerror() names
 * both.
 */
#ifndef DVS_IPC_H
#define DVS_IPC_H

#include <stddef.h>
#include <stdint.h>

/* dvk_ep_t, dvk_grant_t and the message sizes. */
#include "ipc_types.h"

#define DVK_ANY ((dvk_ep_t)-1)	/* receive from anyone; bind any free ep */
#define DVK_NONE ((dvk_ep_t)-2)
#define DVK_SYSTEM ((dvk_ep_t)-3) /* m_source of events from the DVK itself */

/* m_type of a notification delivered by receive; m_source is the notifier. */
#define DVK_MSG_NOTIFY ((int32_t)0x7fff0001)

/*
 * m_type of a peer-gone event (m_source DVK_SYSTEM), delivered by
 * receive(DVK_ANY) to bindings made with DVK_BIND_PEER_EVENTS: a binding
 * that had a channel with us unbound or died.  Every binding of endpoint
 * ep whose generation is <= gen is gone (events for one endpoint
 * coalesce).  It comes after the messages that binding had queued to us.
 * Payload: m_u.dvk_peer_gone.
 */
#define DVK_MSG_PEER_GONE ((int32_t)0x7fff0002)
#define DVK_GONE_UNBIND 1 /* dvk_unbind */
#define DVK_GONE_DEATH 2  /* the process exited, or dvkd dropped it */

struct dvk_peer_gone {
	dvk_ep_t ep;
	uint32_t gen;
	int32_t reason; /* DVK_GONE_* */
	uint8_t padding[44];
};
DVK_PAYLOAD_ASSERT(dvk_peer_gone);

/* The payload structs of the protocols above the DVK, members of the
 * union below. */
#include "blkproto.h"
#include "fsproto.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One message.  m_source is stamped by the receiving side from the channel
 * the message came through; whatever a sender writes there is ignored, so
 * it cannot be forged.
 *
 * The payload is one member of m_u, named after its struct: a protocol
 * declares each request and reply as a struct of exactly DVK_PAYLOAD_SIZE
 * bytes in its header (fsproto.h, blkproto.h; DVK_PAYLOAD_ASSERT) and adds
 * it here, so a sender fills m.m_u.fs_rq_open.flags and a receiver reads
 * it the same way, with no cast (Minix's include/minix/ipc.h).  raw is the
 * payload as bytes (inline paths, copies); i32 and i64 serve tests and
 * benchmarks that send bare numbers.
 */
typedef struct dvk_msg {
	dvk_ep_t m_source;
	int32_t m_type;
	union {
		uint8_t raw[DVK_PAYLOAD_SIZE];
		int32_t i32[DVK_PAYLOAD_SIZE / 4];
		int64_t i64[DVK_PAYLOAD_SIZE / 8];
		uint64_t u64[DVK_PAYLOAD_SIZE / 8];
		/* the DVK itself */
		struct dvk_peer_gone dvk_peer_gone;
		/* the block protocol (blkproto.h) */
		struct blk_rq_io blk_rq_io;
		struct blk_rp_info blk_rp_info;
		struct blk_rp_stats blk_rp_stats;
		/* the file protocol (fsproto.h) */
		struct fs_rq_hello fs_rq_hello;
		struct fs_rp_hello fs_rp_hello;
		struct fs_rq_join fs_rq_join;
		struct fs_rp_join fs_rp_join;
		struct fs_rq_open fs_rq_open;
		struct fs_rp_open fs_rp_open;
		struct fs_rp_create fs_rp_create;
		struct fs_rq_fd fs_rq_fd;
		struct fs_rq_io fs_rq_io;
		struct fs_rp_io fs_rp_io;
		struct fs_rp_unlink fs_rp_unlink;
		struct fs_rq_lseek fs_rq_lseek;
		struct fs_rp_lseek fs_rp_lseek;
		struct fs_rq_path fs_rq_path;
		struct fs_rq_path_mode fs_rq_path_mode;
		struct fs_rq_rename fs_rq_rename;
		struct fs_rq_readdir fs_rq_readdir;
		struct fs_rp_readdir fs_rp_readdir;
		struct fs_rq_truncate fs_rq_truncate;
		struct fs_rq_falloc fs_rq_falloc;
		struct fs_rq_utimens fs_rq_utimens;
		struct fs_rq_chown fs_rq_chown;
		struct fs_rq_readlink fs_rq_readlink;
		struct fs_rq_owner fs_rq_owner;
		struct fs_rp_statvfs fs_rp_statvfs;
		struct fs_rq_stats fs_rq_stats;
		struct fs_rp_stats fs_rp_stats;
		struct fs_wire_stat fs_wire_stat;
		struct fs_wire_pstat fs_wire_pstat;
	} m_u;
} dvk_msg_t;

_Static_assert(sizeof(dvk_msg_t) == DVK_MSG_SIZE, "a message is one cache line");
_Static_assert(offsetof(dvk_msg_t, m_u) == DVK_MSG_SIZE - DVK_PAYLOAD_SIZE,
	       "the payload follows source and type");

/* Errors of our own, returned negated.  Clear of every errno value. */
enum {
	EDVS_BASE = 1000,
	EDVS_DEADPEER,	   /* the peer died or unbound while we waited */
	EDVS_NOTBOUND,	   /* no process is bound to that endpoint */
	EDVS_BADEP,	   /* endpoint number outside the DC */
	EDVS_NOTADMITTED,  /* this process holds no admission to a DC */
	EDVS_EPRANGE,	   /* the endpoint is outside this process's admission */
	EDVS_EPBUSY,	   /* the endpoint is already bound */
	EDVS_BADGRANT,	   /* no such grant (or wrong owner) */
	EDVS_GRANTRANGE,   /* offset/length outside the granted range */
	EDVS_GRANTPEER,	   /* the grant was not made for the caller */
	EDVS_GRANTACCESS,  /* the grant does not allow that direction */
	EDVS_REVOKED,	   /* the grant was revoked */
	EDVS_NOTWAITING,   /* reply to a peer that is not in sendrec with us */
	EDVS_NODAEMON,	   /* dvkd is not running or went away */
	EDVS_PROTO,	   /* malformed message from a peer or from dvkd */
	EDVS_NODC,	   /* no such DC */
	EDVS_LIMIT,	   /* a bounded resource is exhausted */
	EDVS_NOQUORUM,	   /* this node's partition of the cluster has no quorum */
	EDVS_MAX
};

/* Returns a static string for any negative code from this library. */
const char *dvk_strerror(int err);

struct dvk;

/* Flags for dvk_bind(). */
#define DVK_BIND_BACKUP 0x1 /* wait as backup; take the endpoint over when
			     * its primary dies */
#define DVK_BIND_PEER_EVENTS 0x2 /* receive(DVK_ANY) also returns
				  * DVK_MSG_PEER_GONE events */

/*
 * Binds the calling thread to endpoint ep (or DVK_ANY: a free endpoint of
 * the process's admitted range) of the DC the process was admitted to.
 * With DVK_BIND_BACKUP the call returns at once with a handle whose
 * endpoint becomes live when the primary dies; dvk_wait_primary() blocks
 * until then.  *out is freed by dvk_unbind().
 */
int dvk_bind(dvk_ep_t ep, unsigned flags, struct dvk **out);
/* Unbinds and frees h; peers waiting on it get -EDVS_DEADPEER.  NULL ok. */
int dvk_unbind(struct dvk *h);

dvk_ep_t dvk_self(const struct dvk *h);
int dvk_dc(const struct dvk *h);

/*
 * Generations.  dvkd gives every binding a generation, unique on the node
 * (it grows with every bind; 0 is never one), so a process that binds an
 * endpoint number after another one left it is told apart from it:
 * a server keys what it keeps for a client by (endpoint, generation).
 */
/* This binding's generation. */
uint32_t dvk_gen(const struct dvk *h);
/* The generation of the binding that sent the message the last receive on
 * h returned (0 after an event of DVK_SYSTEM, or before any message). */
uint32_t dvk_peer_gen(const struct dvk *h);
/* 1 if binding gen of endpoint ep (our DC) is alive and owns ep, else 0.
 * No system call: reads dvkd's generation table. */
int dvk_peer_alive(const struct dvk *h, dvk_ep_t ep, uint32_t gen);

/* Backup handles: wait until this handle owns its endpoint. */
int dvk_wait_primary(struct dvk *h, int timeout_ms);
/* Wait until endpoint ep of our DC is bound (or unbound). */
int dvk_wait_bound(struct dvk *h, dvk_ep_t ep, int timeout_ms);
int dvk_wait_unbound(struct dvk *h, dvk_ep_t ep, int timeout_ms);

int dvk_send(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m);
int dvk_send_t(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m, int timeout_ms);
int dvk_receive(struct dvk *h, dvk_ep_t src, dvk_msg_t *m);
int dvk_receive_t(struct dvk *h, dvk_ep_t src, dvk_msg_t *m, int timeout_ms);
/* m holds the request and, on success, the reply. */
int dvk_sendrec(struct dvk *h, dvk_ep_t dst, dvk_msg_t *m);
int dvk_sendrec_t(struct dvk *h, dvk_ep_t dst, dvk_msg_t *m, int timeout_ms);
int dvk_reply(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m);
int dvk_notify(struct dvk *h, dvk_ep_t dst);

/*
 * Grants.  The caller (owner) lets endpoint grantee read (DVK_GRANT_READ)
 * and/or write (DVK_GRANT_WRITE) len bytes at addr, until dvk_revoke().
 * The grant is for the binding that owns grantee when it is made (its
 * generation is recorded): once that binding is gone the grant is void,
 * whoever binds the endpoint next (a grant to an unbound endpoint is void
 * from the start).
 * The memory is borrowed: it must stay valid until the grant is revoked.
 */
/* dvk_grant_t is in ipc_types.h. */
#define DVK_GRANT_READ 0x1  /* the grantee may copy from this memory */
#define DVK_GRANT_WRITE 0x2 /* the grantee may copy into this memory */

int dvk_grant(struct dvk *h, dvk_ep_t grantee, void *addr, size_t len,
	      unsigned access, dvk_grant_t *out);
int dvk_revoke(struct dvk *h, dvk_grant_t g);

/*
 * vcopy: dvkd checks the owner's grant on every copy.  buf is the
 * caller's own memory and must be valid for len bytes: libdvk copies
 * between it and its staging buffer in this process (an invalid pointer
 * faults like memcpy, it is not reported as -EFAULT).
 */
/* Copies len bytes from owner's grant g at offset off into buf. */
int dvk_vcopy_from(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
		   void *buf, size_t len);
/* Copies len bytes from buf into owner's grant g at offset off. */
int dvk_vcopy_to(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
		 const void *buf, size_t len);

/*
 * Copy buffers (optional).  Memory from dvk_buf_alloc() is shared with
 * dvkd, so a vcopy from or into it takes one copy (the kernel copies
 * straight between the grant owner and this buffer) instead of that copy
 * into libdvk's staging buffer plus a memcpy: use it for the bulk I/O
 * buffers of servers and clients.
 * Any other memory works with vcopy too, only slower.  The buffer is
 * zeroed, page aligned, and valid until dvk_buf_free() or dvk_unbind()
 * (which frees it); it may also be granted like any memory.
 */
int dvk_buf_alloc(struct dvk *h, size_t len, void **out);
/* Frees a buffer of dvk_buf_alloc(); NULL is ok. */
int dvk_buf_free(struct dvk *h, void *p);

/*
 * Options of one binding.  Each has a default that suits every program;
 * the two "the old way" switches exist so that dvs-bench can measure
 * today's path beside the one it replaced.  Set them before the binding
 * is used (they are not synchronised with calls running on it).
 */
enum dvk_opt {
	/* How long a blocking call spins before sleeping when the peer
	 * last ran on another CPU, in microseconds (default 50; 0: never,
	 * at most 60 s). */
	DVK_OPT_SPIN_US = 1,
	/* How long a control call (open, vcopy, query, ...) waits for dvkd
	 * before -ETIMEDOUT, in milliseconds (default 10000, 1 to 3599999;
	 * a vcopy adds 10 s per GB). */
	DVK_OPT_CTL_TIMEOUT_MS,
	/* 0: a vcopy of ordinary memory goes through dvkd's bounce buffer
	 * (two kernel copies), the old way; 1 (default): through the
	 * binding's staging buffer.  Only before the first such vcopy. */
	DVK_OPT_VCOPY_STAGE,
	/* 0: buffers allocated from now on are not announced to dvkd, so a
	 * grant inside one is reached with a kernel copy, the old way; 1
	 * (default): dvkd copies through its own mapping of them. */
	DVK_OPT_BUF_WHERE,
};
/* Sets option opt of h to value: 0, or -EINVAL for an unknown option or
 * a value out of its range. */
int dvk_set_opt(struct dvk *h, enum dvk_opt opt, long value);

#ifdef __cplusplus
}
#endif

#endif
