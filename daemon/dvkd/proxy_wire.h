/*
 * proxy_wire.h - the frames of a proxy link between two dvkd (TCP).
 *
 * A frame is a 16-byte header and a body whose size is fixed by its type;
 * all integers are little-endian.  A frame with a bad magic, an unknown
 * type or a wrong length ends the link (it is never skipped).
 *
 * Handshake (the lower node id dials; the key never crosses the wire):
 *   dialer   -> HELLO     {version, its node id, nonce D}
 *   acceptor -> HELLO_ACK {its node id, nonce A, MAC("acceptor")}
 *   dialer   -> PROOF     {MAC("dialer")}
 * MAC(role) = HMAC-SHA256(cluster key, "DVS proxy 1" | cluster name | role
 *             | dialer id | acceptor id | nonce D | nonce A).
 * The acceptor also checks that the connection comes from the address the
 * cluster file gives the claimed node: a node never trusts another's
 * claim that it can check.  The dialer sends its PROOF before it checks
 * the acceptor's MAC, so both ends of a link with a wrong key log it; the
 * proof binds both nonces, both ids and the roles, so it opens no other
 * link.  The handshake authenticates a link when it is made; the frames
 * after it are neither encrypted nor authenticated one by one, so the
 * links belong on a network that only the cluster's nodes reach
 * (docs/CLUSTER.md, "Trust").
 */
#ifndef DVKD_PROXY_WIRE_H
#define DVKD_PROXY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define PX_MAGIC 0x31505644u /* "DVP1" read as little-endian */
#define PX_VERSION 1
#define PX_NONCE 32
#define PX_MAC 32

enum px_type {
	PX_HELLO = 1,
	PX_HELLO_ACK,
	PX_PROOF,
	PX_PING,
	PX_PONG,
	/* IPC across nodes (remote.c); the pair names the original message:
	 * src its sender, dst its receiver, whichever way the frame goes */
	PX_MSG,	   /* a message of src's ring to dst */
	PX_ACK,	   /* dst's node put every message before pos in dst's ring */
	PX_NAK,	   /* not taken: resend from pos later, or give up (dead) */
	PX_REPLY,  /* dst's reply to src's sendrec seq */
	PX_NOTIFY, /* src notified dst */
	/* vcopy across nodes (remote_copy.c): src the copier, dst the owner */
	PX_VC_REQ,  /* copier's node -> owner's node: check and copy */
	PX_VC_DATA, /* the bytes, either way (the only variable length) */
	PX_VC_ACK,  /* the data receiver wrote everything before pos */
	PX_VC_DONE, /* owner's node -> copier's node: the copy's status */
	/* The binding (dc, ep, gen) of the sender's node is gone, sent after
	 * the replies it wrote: the stand-ins of the other nodes may go. */
	PX_GONE,
	/* `dvs ctl run --node` (run_remote.c, run_host.c): requester's
	 * node -> host node: start a program; the program's output and
	 * exit back; the requester gave up: signal it. */
	PX_RUN,
	PX_RUN_OUT,
	PX_RUN_EXIT,
	PX_RUN_KILL,
	PX_RUN_ACK, /* requester -> host: output bytes written to the client */
	PX_TYPE_MAX
};

struct px_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags; /* 0 */
	uint32_t len;	/* body bytes */
	uint32_t seq;	/* per link and direction, from 1 */
};
_Static_assert(sizeof(struct px_hdr) == 16, "proxy frame header");

struct px_hello {
	uint32_t version;
	int32_t node;
	uint8_t nonce[PX_NONCE];
};
_Static_assert(sizeof(struct px_hello) == 40, "HELLO body");

struct px_hello_ack {
	int32_t node;
	uint32_t pad;
	uint8_t nonce[PX_NONCE];
	uint8_t mac[PX_MAC];
};
_Static_assert(sizeof(struct px_hello_ack) == 72, "HELLO_ACK body");

struct px_proof {
	uint8_t mac[PX_MAC];
};
_Static_assert(sizeof(struct px_proof) == 32, "PROOF body");

struct px_ping {
	uint64_t sent_ns; /* the sender's clock, echoed in PONG */
};
_Static_assert(sizeof(struct px_ping) == 8, "PING body");

/* Who talks to whom: (DC, endpoint, generation) of both ends. */
struct px_pair {
	uint32_t dc;
	int32_t src;
	uint32_t src_gen;
	int32_t dst;
	uint32_t dst_gen;
	uint32_t pad;
};
_Static_assert(sizeof(struct px_pair) == 24, "pair");

#define PX_MSG_BYTES 64 /* a dvk_msg_t, opaque here */

struct px_msg {
	struct px_pair p;
	uint32_t seq; /* sendrec sequence number, 0 for send */
	uint32_t pad;
	uint64_t pos; /* position in the sender node's ring, from 0 */
	uint8_t msg[PX_MSG_BYTES];
};
_Static_assert(sizeof(struct px_msg) == 104, "MSG body");

struct px_ack {
	struct px_pair p;
	uint64_t pos; /* every message before pos is in dst's ring */
};
_Static_assert(sizeof(struct px_ack) == 32, "ACK body");

#define PX_NAK_RETRY 1 /* src not known yet, or a gap: resend from pos */
#define PX_NAK_DEAD 2  /* no such pair here: the messages go nowhere */
#define PX_NAK_FULL 3  /* dst's ring is full (a slow receiver): resend */
struct px_nak {
	struct px_pair p;
	uint64_t pos; /* RETRY: resend from here */
	uint32_t reason;
	uint32_t pad;
};
_Static_assert(sizeof(struct px_nak) == 40, "NAK body");

struct px_reply {
	struct px_pair p;
	uint32_t seq;
	uint32_t pad;
	uint8_t msg[PX_MSG_BYTES];
};
_Static_assert(sizeof(struct px_reply) == 96, "REPLY body");

struct px_notify {
	struct px_pair p;
};
_Static_assert(sizeof(struct px_notify) == 24, "NOTIFY body");

struct px_vc_req {
	struct px_pair p;
	uint64_t id; /* the copier node's, echoed in the others */
	int32_t grant;
	uint32_t dir; /* DVKD_VCOPY_FROM (owner -> copier) or _TO */
	uint64_t off;
	uint64_t len;
};
_Static_assert(sizeof(struct px_vc_req) == 56, "VC_REQ body");

#define PX_VC_CHUNK 32768
struct px_vc_data {
	uint64_t id;
	uint64_t pos; /* offset in the copy */
	uint32_t n;   /* bytes of data that follow: the body is 24 + n */
	uint32_t pad;
	uint8_t data[];
};
_Static_assert(sizeof(struct px_vc_data) == 24, "VC_DATA head");

struct px_vc_ack {
	uint64_t id;
	uint64_t pos;
};
_Static_assert(sizeof(struct px_vc_ack) == 16, "VC_ACK body");

struct px_vc_done {
	uint64_t id;
	int32_t status; /* 0 or -EDVS_* / -errno */
	uint32_t pad;
};
_Static_assert(sizeof(struct px_vc_done) == 16, "VC_DONE body");

struct px_gone {
	uint32_t dc;
	int32_t ep;
	uint32_t gen;
	uint32_t pad;
};
_Static_assert(sizeof(struct px_gone) == 16, "GONE body");

#define PX_RUN_BLOB 32768 /* working directory and arguments, NUL-terminated */
#define PX_RUN_ARGS 256
struct px_run {
	uint64_t id; /* the requester node's */
	int32_t dc;
	int32_t lo, hi; /* endpoints the program may bind */
	uint32_t n;	/* bytes that follow: cwd\0arg0\0arg1\0... */
	uint8_t blob[];
};
_Static_assert(sizeof(struct px_run) == 24, "RUN head");
_Static_assert(PX_RUN_BLOB == 32768, "a RUN body fits PX_BODY_MAX");

struct px_run_out {
	uint64_t id;
	uint32_t stream; /* 1 stdout, 2 stderr */
	uint32_t n;	 /* bytes that follow, at most PX_VC_CHUNK */
	uint8_t data[];
};
_Static_assert(sizeof(struct px_run_out) == 16, "RUN_OUT head");

struct px_run_exit {
	uint64_t id;
	int32_t code;  /* exit status, or -1 */
	int32_t sig;   /* the signal that ended it, or 0 */
	int32_t error; /* 0, or the -EDVS_* / -errno that kept it from starting */
	uint32_t pad;
};
_Static_assert(sizeof(struct px_run_exit) == 24, "RUN_EXIT body");

struct px_run_kill {
	uint64_t id;
	int32_t sig;
	uint32_t pad;
};
_Static_assert(sizeof(struct px_run_kill) == 16, "RUN_KILL body");

struct px_run_ack {
	uint64_t id;
	uint64_t bytes; /* of both streams, since the start */
};
_Static_assert(sizeof(struct px_run_ack) == 16, "RUN_ACK body");

/* The largest body of any type (VC_DATA with a whole chunk). */
#define PX_BODY_MAX (sizeof(struct px_vc_data) + PX_VC_CHUNK)

/* 1 for the types whose body is a head and up to PX_VC_CHUNK bytes more
 * (VC_DATA, RUN, RUN_OUT); the n the head names is checked by the reader. */
int px_type_variable(unsigned type);
/*
 * Checks the header at buf (n >= 16 bytes available): magic, known type,
 * len equal to that type's body size (variable types: their head and at
 * most PX_VC_CHUNK bytes more).  Fills *h in host order.  Returns 0, or
 * -EPROTO.
 */
int px_hdr_check(const void *buf, size_t n, struct px_hdr *h);

/* Writes a header for a body of type (len from the type) into out. */
void px_hdr_make(void *out, unsigned type, uint32_t seq);
/* The same with the body's length (VC_DATA). */
void px_hdr_make_len(void *out, unsigned type, uint32_t seq, uint32_t len);

/* The MAC of the handshake for role "dialer" or "acceptor". */
void px_mac(const uint8_t *key, size_t klen, const char *cluster,
	    const char *role, int32_t dialer, int32_t acceptor,
	    const uint8_t nd[PX_NONCE], const uint8_t na[PX_NONCE],
	    uint8_t out[PX_MAC]);

#endif
