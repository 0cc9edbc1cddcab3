/*
 * blkproto.h - the block protocol between dvs-fs (or any client) and
 * dvs-vdd, the virtual disk driver.
 *
 * Minix style like fsproto.h: m_type of a request is BLK_RQ_BASE +
 * BLK_<CALL>, the payload is struct blk_rq_<call> (the member
 * m_u.blk_rq_<call> of dvk_msg_t, ipc.h); the reply's m_type is 0 or a
 * byte count on success, a negative errno value on failure, its payload
 * struct blk_rp_<call> where there is one.  Each payload struct is padded
 * to exactly DVK_PAYLOAD_SIZE bytes.
 *
 * Data moves only through grants: for BLK_READ the client grants the vdd
 * endpoint write access to its buffer, for BLK_WRITE read access; the vdd
 * vcopies.  Offsets and lengths are in bytes and must be multiples of the
 * sector size reported by BLK_INFO; a request that is misaligned, empty,
 * longer than BLK_IO_MAX or reaching past the end of the device gets
 * -EINVAL (or -ENOSPC past the end), a bad grant -EFAULT.
 *
 * Requests are independent: the vdd keeps no per-client state, so any
 * number of clients may use it and a client that dies leaves nothing
 * behind.
 */
#ifndef DVS_BLKPROTO_H
#define DVS_BLKPROTO_H

#include <stdint.h>

#include "ipc_types.h"

/* Default well-known endpoint of dvs-vdd in its DC (dvs-vdd --ep): outside
 * the range 1-9 that dvs-fs (endpoint 1) is admitted with for its workers. */
#define VDD_EP_DEFAULT 20

/* The most bytes one BLK_READ/BLK_WRITE moves. */
#define BLK_IO_MAX (1u << 20)

#define BLK_RQ_BASE 0x4200
enum blk_call {
	BLK_INFO = 1, /* -> size, sector size, flags      */
	BLK_READ,     /* off, len, grant(W) -> count      */
	BLK_WRITE,    /* off, len, grant(R) -> count      */
	BLK_FLUSH,    /* fdatasync the image              */
	BLK_STATS,    /* -> counters                      */
	BLK_NCALLS
};

/* BLK_INFO, BLK_FLUSH and BLK_STATS carry no arguments. */
struct blk_rp_info {
	uint64_t size;	 /* bytes, a multiple of sector */
	uint32_t sector; /* bytes per sector (512 .. 4096) */
	uint32_t flags;	 /* BLK_F_* */
	uint32_t io_max; /* BLK_IO_MAX of this server */
	uint32_t pad;
	uint8_t padding[32];
};
#define BLK_F_RDONLY 0x1

/* BLK_READ, BLK_WRITE. */
struct blk_rq_io {
	uint64_t off;
	uint32_t len;
	dvk_grant_t grant;
	uint8_t padding[40];
};

struct blk_rp_stats {
	uint64_t reads;	 /* BLK_READ requests served */
	uint64_t writes; /* BLK_WRITE requests served */
	uint64_t flushes;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t errors;  /* requests answered with an error */
	uint32_t clients; /* distinct endpoints seen so far (capped) */
	uint32_t pad;
};

/* Every payload is exactly one message payload (ipc_types.h). */
DVK_PAYLOAD_ASSERT(blk_rp_info);
DVK_PAYLOAD_ASSERT(blk_rq_io);
DVK_PAYLOAD_ASSERT(blk_rp_stats);

#endif

/* After the guard: <dvs/ipc.h> includes this file for the payloads of its
 * message union, and a program that includes only this one gets it. */
#include "ipc.h"
