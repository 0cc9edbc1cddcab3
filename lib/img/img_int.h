/*
 * img_int.h - pieces shared inside lib/img: byte order helpers, the framed
 * connection and the wire protocol's message numbers.
 */
#ifndef DVS_IMG_INT_H
#define DVS_IMG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "dvs/clock.h"
#include "dvs/img.h"

static inline void
img_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
img_put32(uint8_t *p, uint32_t v)
{
	img_put16(p, (uint16_t)v);
	img_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void
img_put64(uint8_t *p, uint64_t v)
{
	img_put32(p, (uint32_t)v);
	img_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
img_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
img_get32(const uint8_t *p)
{
	return (uint32_t)img_get16(p) | ((uint32_t)img_get16(p + 2) << 16);
}

static inline uint64_t
img_get64(const uint8_t *p)
{
	return (uint64_t)img_get32(p) | ((uint64_t)img_get32(p + 4) << 32);
}

/* Length of block b of ix (the last one may be short). */
uint64_t img_block_len(const struct img_index *ix, uint64_t b);

/* 1 when len bytes at data are all zero. */
int img_is_zero(const void *data, size_t len);

/* ---- frames (frame.c) ---- */

#define IMG_FRAME_MAGIC 0x49535644u /* "DVSI" little-endian */
#define IMG_FRAME_HDR 16u
/* Largest payload: a DATA frame of 4 MiB of blocks plus its hashes. */
#define IMG_RUN_BYTES (4u << 20)
#define IMG_FRAME_MAX (IMG_RUN_BYTES + IMG_RUN_BYTES / IMG_MIN_BLOCK * IMG_HASH_LEN + 64u)
#define IMG_PROTO_VERSION 1u

enum img_msg {
	IMG_MSG_HELLO = 1,	/* c->s version u32, flags u32, nonce[32] */
	IMG_MSG_CHALLENGE = 2,	/* s->c version u32, need_auth u32, nonce[32] */
	IMG_MSG_AUTH = 3,	/* c->s proof[32] or nothing */
	IMG_MSG_AUTH_OK = 4,	/* s->c proof[32] or nothing */
	IMG_MSG_ERROR = 5,	/* any: code u32, text */
	IMG_MSG_OPTIONS = 6,	/* c->s codec u32, level i32 */
	IMG_MSG_INFO = 7,	/* s->c bs u32, flags u32, size u64, nblocks u64 */
	IMG_MSG_INDEX = 8,	/* s->c first u64, count u32, zero bitmap, hashes */
	IMG_MSG_INDEX_END = 9,	/* s->c round u32, final u32, digest[32], mac[32] */
	IMG_MSG_GET = 10,	/* c->s first u64, count u32 */
	IMG_MSG_DATA = 11,	/* s->c first u64, count u32, codec u8, hashed u8,
				   pad u16, rawlen u32, [hashes], data */
	IMG_MSG_ROUND = 12,	/* c->s this round is complete */
	IMG_MSG_CHANGES = 13,	/* s->c count u32, (block u64, hash[32])* */
	IMG_MSG_DONE = 14,	/* c->s image verified */
	IMG_MSG_BYE = 15,	/* s->c rounds u32, pause_us u64 */
	IMG_MSG_MAX = 16
};

#define IMG_INFO_LIVE 1u

struct img_conn {
	int rfd, wfd;
	uint64_t bytes_in, bytes_out;
	uint64_t drop_after;	/* test hook: 0 = never */
	uint64_t corrupt_at;	/* test hook: 0 = never */
	int timeout_ms;
	uint32_t max_in;	/* largest payload accepted (IMG_FRAME_MAX) */
	uint8_t *buf;		/* last received payload */
	size_t cap;
	int broken;
};

void img_conn_init(struct img_conn *c, int rfd, int wfd);
void img_conn_fini(struct img_conn *c);
/* Sends one frame made of the iov parts; -EPIPE when the peer is gone. */
int img_conn_sendv(struct img_conn *c, int type, const struct iovec *iov, int n);
int img_conn_send(struct img_conn *c, int type, const void *p, size_t len);
/* Sends an ERROR frame with a message (best effort). */
void img_conn_send_error(struct img_conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Receives one frame; *payload stays valid until the next call.  -EPIPE
 * on EOF or a reset, -EBADMSG on a bad checksum, magic, type or length,
 * -ETIMEDOUT when the peer says nothing for timeout_ms.
 */
int img_conn_recv(struct img_conn *c, int *type, const uint8_t **payload,
		  size_t *len);

/*
 * Checks a frame header; on success *type and *len are set.  Used by
 * img_conn_recv and the fuzz target.
 */
int img_frame_check_hdr(const uint8_t hdr[IMG_FRAME_HDR], int *type, uint32_t *len);
/* Checks the checksum of a whole frame (header + payload). */
int img_frame_check_crc(const uint8_t hdr[IMG_FRAME_HDR], const uint8_t *payload,
			size_t len);

/* Decodes an INDEX frame payload into hashes[first..first+count) of an
 * index of nblocks blocks; first_out and count_out report the range. */
int img_index_frame_decode(const uint8_t *p, size_t len, uint64_t nblocks,
			   uint8_t (*hashes)[IMG_HASH_LEN], uint64_t *first_out,
			   uint64_t *count_out);

/* ---- authentication (auth.c) ---- */

int img_random(void *buf, size_t len);
/* HMAC-SHA256(key, label || a || b) */
void img_auth_proof(const uint8_t *key, size_t klen, const char *label,
		    const uint8_t a[32], const uint8_t b[32], uint8_t out[32]);
int img_auth_equal(const uint8_t a[32], const uint8_t b[32]);

/* ---- messages (frame.c) ---- */

/*
 * What the user reads: "dvs img fetch: TEXT", or "dvs img fetch: warning:
 * TEXT" (the prefix set by img_log_prefix).  dvs/log.h's lines name the C
 * function ("recv_expect:"), which users took for part of the message;
 * lib/img keeps those for DVS_LOG=info and debug only.
 */
void img_log(int warn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define img_err(...) img_log(0, __VA_ARGS__)
#define img_warn(...) img_log(1, __VA_ARGS__)

/* ---- misc ---- */
int img_ncpu(void);

#endif
