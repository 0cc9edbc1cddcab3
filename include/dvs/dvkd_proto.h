/*
 * dvkd_proto.h - what libdvk, dvsctl and dvkd exchange: the socket protocol
 * of dvkd and the layouts of the shared-memory pages it hands out.
 *
 * Applications never include this; they use <dvs/ipc.h>.  See docs/DVK.md
 * for the design and the trust model.
 *
 * Sockets.  Every dvkd socket is AF_UNIX SOCK_SEQPACKET.  One packet is one
 * struct dvkd_msg (header + fixed body of the type's size), plus file
 * descriptors as SCM_RIGHTS for the types that carry them.  dvkd checks the
 * magic, the type and that len equals the size of the type's body before it
 * looks at the body; anything else drops that connection.
 *
 *   management socket (mode 0600, DVS_SOCKET): dvsctl; PING, STOP, DC_*,
 *     EP_LIST, PS, ADMIT (reply carries the admission fd).
 *   admission socket (inherited, DVK_ADMIT_FD): BIND with one fd, the end
 *     of a socketpair that becomes the binding's control socket.  The reply
 *     to BIND comes on that new socket, never on the shared admission one.
 *   control socket (one per binding): OPEN, VCOPY, QUERY, UNBIND,
 *     BUF_ALLOC, BUF_FREE, BUF_WHERE; and the
 *     events dvkd sends unasked (EV_RING, EV_PROMOTED, EV_GONE).
 *
 * Shared memory.  All pages are memfds made and sealed (no grow, no shrink)
 * by dvkd, so no peer can make another fault by truncating them.  Every
 * index or count read from shared memory is untrusted and checked.
 */
#ifndef DVS_DVKD_PROTO_H
#define DVS_DVKD_PROTO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dvs/ipc.h"

#define DVKD_MAGIC 0x44564b31u /* "DVK1" */
#define DVKD_DEFAULT_SOCKET "/run/dvs/dvkd.sock"
#define DVKD_ADMIT_ENV "DVK_ADMIT_FD"
#define DVKD_SOCKET_ENV "DVS_SOCKET"

/* Largest DC: endpoints 0 .. DVK_MAX_DC_EPS-1. */
#define DVK_MAX_DC_EPS 4096
/* Grant table entries per binding. */
#define DVK_GRANTS 2048
#define DVK_GRANT_IDX_BITS 11
/* Message slots per ring (power of two). */
#define DVK_RING_SLOTS 128

enum dvkd_type {
	/* management */
	DVKD_PING = 1,
	DVKD_STOP,
	DVKD_DC_CREATE,
	DVKD_DC_DESTROY,
	DVKD_DC_LIST,
	DVKD_EP_LIST,
	DVKD_PS,
	DVKD_ADMIT,
	/* admission */
	DVKD_BIND,
	/* control */
	DVKD_OPEN,
	DVKD_VCOPY,
	DVKD_QUERY,
	DVKD_UNBIND,
	DVKD_BUF_ALLOC,
	DVKD_BUF_FREE,
	/* dvkd -> client */
	DVKD_EV_RING,
	DVKD_EV_PROMOTED,
	DVKD_REPLY,  /* status + body of the request's reply */
	DVKD_REC_DC, /* one record of a listing */
	DVKD_REC_EP,
	DVKD_REC_PS,
	DVKD_END, /* end of a listing */
	/* control, added later (at the end: the older numbers stay) */
	DVKD_BUF_WHERE,
	/* dvkd -> client: a peer binding is gone (DVK_BIND_PEER_EVENTS) */
	DVKD_EV_GONE,
	/* management, several nodes (docs/CLUSTER.md) */
	DVKD_NODE_LIST,
	DVKD_REC_NODE,
	/* management: run a program on another node (fds: a memfd holding
	 * cwd\0arg0\0arg1\0..., the write ends of the stdout and stderr
	 * pipes); the reply comes when it ends */
	DVKD_RUN_NODE,
	DVKD_TYPE_MAX
};

struct dvkd_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t len; /* bytes of the whole packet: header + body */
	uint32_t seq; /* echoed in the reply */
	int32_t status; /* replies: 0 or -EDVS_* / -errno */
};

struct dvkd_dc_req {
	int32_t dc;
	int32_t nep; /* DC_CREATE: number of endpoints */
	int32_t max_bind;  /* DC_CREATE: the DC's quotas, 0: the default */
	int32_t max_rings;
	int32_t call_timeout_ms; /* DC_CREATE: default send/sendrec timeout, 0 none */
	int32_t wait_ms; /* EP_LIST: count callers waiting longer than this */
	uint64_t nodes; /* DC_CREATE: the nodes of a DC over several (bit =
			 * node id), 0: this node only */
};

struct dvkd_admit_req {
	int32_t dc;
	int32_t lo, hi; /* allowed endpoints, inclusive */
};

struct dvkd_run_req {
	int32_t node;
	int32_t dc;
	int32_t lo, hi; /* allowed endpoints, inclusive */
};

/* Reply to RUN_NODE (status 0): how the program ended. */
struct dvkd_run_rep {
	int32_t code; /* exit status, or -1 */
	int32_t sig;  /* the signal that ended it, or 0 */
};

struct dvkd_bind_req {
	int32_t ep; /* or DVK_ANY */
	uint32_t flags; /* DVK_BIND_* */
};

/* Reply to BIND; fds: [doorbell, grant table, generation table]. */
struct dvkd_bind_rep {
	int32_t dc;
	int32_t ep;
	int32_t dc_size;
	uint32_t flags; /* DVKD_BOUND_* */
	uint32_t gen;	/* this binding's generation (never 0) */
	int32_t call_timeout_ms; /* the DC's default for send/sendrec, 0: none */
};
#define DVKD_BOUND_BACKUP 0x1 /* bound as backup, not yet owner */
#define DVKD_BOUND_PRIV 0x2   /* dvkd may copy from non-dumpable processes */

#define DVKD_DIR_OUT 0 /* ring me -> peer */
#define DVKD_DIR_IN 1  /* ring peer -> me */

struct dvkd_open_req {
	int32_t peer;
	uint32_t dir;
};

/* Reply to OPEN and body of EV_RING; fds: [ring] (+ [peer doorbell] for
 * DIR_OUT). */
struct dvkd_ring_rep {
	int32_t peer;
	uint32_t dir;
	uint32_t nslots;
	uint32_t peer_gen; /* generation of the peer's binding */
	uint64_t ring_id;
};

/* Body of EV_GONE: every binding of ep with a generation <= gen is gone
 * (coalesced: one event may stand for several). */
struct dvkd_gone_ev {
	int32_t ep;
	uint32_t gen;
	int32_t reason; /* DVK_GONE_* */
	uint32_t pad;
};

#define DVKD_VCOPY_FROM 0 /* owner's grant -> caller's buffer */
#define DVKD_VCOPY_TO 1	  /* caller's buffer -> owner's grant */

struct dvkd_vcopy_req {
	int32_t owner;
	int32_t grant;
	uint32_t dir;
	uint32_t buf; /* 0: addr is an address in the caller; else the id of
		       * a copy buffer and addr an offset in it */
	uint64_t off;
	uint64_t len;
	uint64_t addr;
};

/* BUF_ALLOC: len, flags; reply: id + fd.  BUF_FREE: id. */
struct dvkd_buf_req {
	uint64_t len;
	uint32_t id;
	uint32_t flags; /* 0 or DVKD_BUF_STAGE */
};

/* libdvk's staging buffer for vcopy of ordinary memory (dvkd copies
 * between the grant and it, the library between it and the caller's
 * memory): one per binding, at most DVKD_STAGE_MAX bytes, not counted in
 * the limits of dvk_buf_alloc buffers. */
#define DVKD_BUF_STAGE 1u
#define DVKD_STAGE_MAX (2u << 20)

/*
 * BUF_WHERE: where the caller mapped its copy buffer id.  From then on
 * dvkd also recognises that buffer on the OTHER side of a vcopy: a grant
 * of the caller's that lies entirely inside it, or the caller's own
 * address (buf 0) inside it, is copied through dvkd's mapping of the
 * buffer (a copy between two such buffers is a memcpy in dvkd, with no
 * process_vm_* call and no page pinning).  A false address only makes
 * dvkd read or write the caller's own buffer instead of the caller's
 * memory, so it harms nobody else.  Not for the staging buffer.
 */
struct dvkd_buf_where {
	uint64_t addr;
	uint32_t id;
	uint32_t pad;
};

struct dvkd_query_req {
	int32_t ep;
};

#define DVKD_EP_FREE 0
#define DVKD_EP_BOUND 1

struct dvkd_query_rep {
	int32_t state;
	int32_t pid;
};

struct dvkd_status_rep {
	int32_t pid;
	uint32_t ndc;
	uint32_t nbind;
	uint32_t nadmit;
	uint32_t nrings;
	uint32_t ncopies;
	uint64_t uptime_ms;
	uint64_t copied_bytes;
};

struct dvkd_dc_rec {
	int32_t dc;
	int32_t nep;
	int32_t nbound;
	int32_t nadmit;
	int32_t nbind, max_bind;   /* bindings (owners and backups), quota */
	int32_t nrings, max_rings; /* rings, quota */
	int32_t call_timeout_ms;
	int32_t pad;
	uint64_t nodes; /* the nodes it spans, 0: this node only */
};

struct dvkd_ep_rec {
	int32_t dc;
	int32_t ep;
	int32_t pid;
	int32_t backup_pid; /* 0: none */
	uint64_t sent_msgs, recv_msgs;
	uint64_t sent_bytes, recv_bytes; /* messages x 64 + vcopy bytes */
	uint64_t errors;
	uint32_t nrings;
	uint32_t waiting; /* callers in sendrec with it for longer than asked */
	uint32_t oldest_wait_ms; /* the longest of those waits */
	uint32_t pad;
	int32_t node;	/* where it is bound; -1: this node, which runs alone */
	uint32_t gen;	/* of its owner on another node (node != this one) */
	uint32_t flags; /* DVKD_EPF_* */
	uint32_t pad2;
};
#define DVKD_EPF_UNREACHABLE 0x1 /* its node is out of the membership */

struct dvkd_ps_rec {
	int32_t pid;
	int32_t dc;
	int32_t ep;
	int32_t backup; /* 1: waiting as backup */
	char comm[16];
};

/* NODE_LIST: one record per node of the cluster file (none on a node
 * that runs alone). */
#define DVKD_NODE_DOWN 0	/* its dvkd is not in the membership */
#define DVKD_NODE_MEMBER 1	/* in the membership, proxy link up (or self) */
#define DVKD_NODE_UNREACHABLE 2 /* in the membership, no proxy link */
#define DVKD_LINK_NONE 0
#define DVKD_LINK_CONNECTING 1 /* connecting or proving the key */
#define DVKD_LINK_UP 2
#define DVKD_LINK_REFUSED 3 /* the last attempt failed the key check */
#define DVKD_NODEF_SELF 0x1
#define DVKD_NODEF_QUORATE 0x2 /* this node's partition has quorum */
struct dvkd_node_rec {
	int32_t node;
	uint32_t state; /* DVKD_NODE_* */
	uint32_t link;	/* DVKD_LINK_* */
	uint32_t flags; /* DVKD_NODEF_* */
	uint32_t addr;	/* IPv4 address of its dvkd, network order */
	uint32_t port;
	uint64_t ring_id; /* Corosync ring (membership epoch) seen here */
	uint64_t msgs_tx, msgs_rx; /* proxy frames to and from that node */
	uint64_t bytes_tx, bytes_rx;
	uint64_t link_ups; /* times the link was established */
};

struct dvkd_msg {
	struct dvkd_hdr h;
	union {
		struct dvkd_dc_req dc;
		struct dvkd_admit_req admit;
		struct dvkd_run_req run;
		struct dvkd_run_rep runrep;
		struct dvkd_bind_req bind;
		struct dvkd_bind_rep bound;
		struct dvkd_open_req open;
		struct dvkd_ring_rep ring;
		struct dvkd_gone_ev gone;
		struct dvkd_vcopy_req vcopy;
		struct dvkd_query_req query;
		struct dvkd_buf_req buf;
		struct dvkd_buf_where where;
		struct dvkd_query_rep qrep;
		struct dvkd_status_rep status;
		struct dvkd_dc_rec dcrec;
		struct dvkd_ep_rec eprec;
		struct dvkd_ps_rec psrec;
		struct dvkd_node_rec noderec;
		uint8_t raw[96];
	} u;
};

/*
 * The wire sizes of the header and of every body: a packet's len is the
 * header plus exactly its type's body (proto.c), so a body struct never
 * changes size (a new field goes into a new type, or a pad).  Every field's
 * offset is checked in tests/fs/test_proto_layout.c.
 */
#define DVKD_BODY_SIZE(t, n) _Static_assert(sizeof(struct t) == (n), #t " body size")
DVKD_BODY_SIZE(dvkd_hdr, 16);
DVKD_BODY_SIZE(dvkd_dc_req, 32);
DVKD_BODY_SIZE(dvkd_admit_req, 12);
DVKD_BODY_SIZE(dvkd_run_req, 16);
DVKD_BODY_SIZE(dvkd_run_rep, 8);
DVKD_BODY_SIZE(dvkd_bind_req, 8);
DVKD_BODY_SIZE(dvkd_bind_rep, 24);
DVKD_BODY_SIZE(dvkd_open_req, 8);
DVKD_BODY_SIZE(dvkd_ring_rep, 24);
DVKD_BODY_SIZE(dvkd_gone_ev, 16);
DVKD_BODY_SIZE(dvkd_vcopy_req, 40);
DVKD_BODY_SIZE(dvkd_buf_req, 16);
DVKD_BODY_SIZE(dvkd_buf_where, 16);
DVKD_BODY_SIZE(dvkd_query_req, 4);
DVKD_BODY_SIZE(dvkd_query_rep, 8);
DVKD_BODY_SIZE(dvkd_status_rep, 40);
DVKD_BODY_SIZE(dvkd_dc_rec, 48);
DVKD_BODY_SIZE(dvkd_ep_rec, 88);
DVKD_BODY_SIZE(dvkd_ps_rec, 32);
DVKD_BODY_SIZE(dvkd_node_rec, 72);
_Static_assert(sizeof(struct dvkd_ep_rec) <= sizeof(((struct dvkd_msg *)0)->u.raw),
	       "the largest body fits raw");

/* Size of the body of a packet of this type (a request, or for DVKD_REPLY
 * the largest reply body); -1 for an unknown type. */
int dvkd_body_size(unsigned type);

/*
 * Checks a received packet: magic, known type, len == header + body size
 * of that type, len == n (bytes received).  Returns 0 or -EDVS_PROTO.
 * Never reads beyond n bytes of buf.
 */
int dvkd_msg_check(const void *buf, size_t n);

/*
 * Sends one packet (len set from type) with up to 4 fds (borrowed, not
 * closed).  flags go to sendmsg (MSG_DONTWAIT etc.).  0 or -errno.
 */
int dvkd_send(int sock, struct dvkd_msg *m, const int *fds, int nfds, int flags);
/*
 * Receives one packet and checks it with dvkd_msg_check().  Received fds
 * (up to max_fds; extra ones are closed) are stored in fds and owned by the
 * caller; *nfds says how many.  Returns 0, -EDVS_NODAEMON on EOF,
 * -EDVS_PROTO on a malformed packet (fds closed), or -errno.
 */
int dvkd_recv(int sock, struct dvkd_msg *m, int *fds, int max_fds, int *nfds,
	      int flags);
struct ucred;
/* The same, and the sender's credentials when the socket has SO_PASSCRED
 * (cred->pid is 0 when none came). */
int dvkd_recv_cred(int sock, struct dvkd_msg *m, int *fds, int max_fds,
		   int *nfds, int flags, struct ucred *cred);
/* Fills a header for type with seq. */
void dvkd_msg_init(struct dvkd_msg *m, unsigned type, uint32_t seq);
/* Management socket path: DVS_SOCKET or the default.  Static string. */
const char *dvkd_socket_path(void);

/* ---- shared memory ---- */

/*
 * One ring: messages from one sender endpoint to one receiver endpoint.
 * Mapped by the sender, the receiver and (the first page) dvkd.
 * tail: written by the sender; head: by the receiver; each on its own
 * cache line.  Counters count messages for ever (head/tail % nslots is the
 * slot), so they double as statistics.
 */
/* receiver_cpu of a ring to a stand-in, sender_cpu of a doorbell that
 * dvkd rang for a sender of another node: the peer's answer comes through
 * two proxies and takes longer than any spin, so waiters sleep at once. */
#define DVK_CPU_REMOTE 0xffffffffu

struct dvk_ring {
	/* written by the sender for every message */
	_Alignas(64) _Atomic uint64_t tail;
	_Atomic uint32_t sender_cpu;
	/* CLOCK_MONOTONIC ns since the sender waits in sendrec for a reply
	 * of this ring, 0 when it does not (statistics: ep list) */
	_Atomic uint64_t wait_since;

	/* written by the receiver for every message; the sender writes the
	 * two flags only now and then, so the receiver's loads of them hit
	 * its own cache line */
	_Alignas(64) _Atomic uint64_t head;
	_Atomic uint64_t replies; /* replies written (statistics) */
	_Atomic uint32_t receiver_cpu;
	_Atomic uint32_t space_futex;
	_Atomic uint32_t space_waiting; /* sender sleeps on space_futex */
	_Atomic uint32_t notify_pending;

	/* The one-slot reply area of sendrec: the receiver writes reply,
	 * then reply_seq = the request's sequence number. */
	_Alignas(64) _Atomic uint32_t reply_seq;
	_Atomic uint32_t reply_futex;
	_Atomic uint32_t reply_waiting;
	_Atomic uint32_t dead; /* set by dvkd when either side is gone */

	_Alignas(64) dvk_msg_t reply;
	_Alignas(64) dvk_msg_t slot[];
};

/* One per bound endpoint; writable by its senders (hints, futex). */
struct dvk_doorbell {
	_Alignas(64) _Atomic uint32_t futex;
	_Atomic uint32_t sleeping;
	_Atomic uint32_t ctl_seq; /* bumped by dvkd after an event */
	_Atomic uint32_t owner_cpu;
	_Atomic uint32_t sender_cpu;
	_Alignas(64) _Atomic uint64_t errors; /* self-reported statistics */
	_Alignas(64) _Atomic uint64_t hint[DVK_MAX_DC_EPS / 64];
};

#define DVK_DOORBELL_SIZE 4096
_Static_assert(sizeof(struct dvk_doorbell) <= DVK_DOORBELL_SIZE, "one page");

/* Grant table entry, shared only between its owner and dvkd. */
#define DVK_GSTATE_FREE 0
#define DVK_GSTATE_ACTIVE 1
#define DVK_GSTATE_REVOKED 2
struct dvk_grant_ent {
	_Atomic uint32_t state;
	_Atomic uint32_t gen;
	int32_t grantee;
	uint32_t access;
	uint64_t addr;
	uint64_t len;
	/* The grantee's binding (its generation when the grant was made):
	 * a later binding of the same endpoint is refused (GRANTPEER).  0:
	 * the endpoint was free then; only a binding made after the grant
	 * (generation > grantee_after) may use it. */
	uint32_t grantee_gen;
	uint32_t grantee_after;
};
_Static_assert(sizeof(struct dvk_grant_ent) == 40, "grant entry size");
#define DVK_GRANT_TABLE_SIZE (DVK_GRANTS * sizeof(struct dvk_grant_ent))

/*
 * Generation table of a DC: one word per endpoint, the generation of the
 * binding that owns it now, 0 when nobody does, and the last generation
 * given in the DC.  Written by dvkd only, mapped read-only by every
 * binding of the DC, so a library can name the current binding of an
 * endpoint (dvk_grant) or tell whether a binding it heard from is still
 * alive without a system call.
 */
struct dvk_gen_table {
	_Atomic uint32_t gen[DVK_MAX_DC_EPS];
	_Atomic uint32_t last;
};
#define DVK_GEN_TABLE_SIZE ((sizeof(struct dvk_gen_table) + 4095) & ~(size_t)4095)

static inline size_t
dvk_ring_size(unsigned nslots)
{
	size_t n = sizeof(struct dvk_ring) + (size_t)nslots * sizeof(dvk_msg_t);

	return (n + 4095) & ~(size_t)4095;
}

#endif
