/*
 * vdd.h - dvs-vdd, the virtual disk driver: a block device over IPC on an
 * image file.  One thread: every request is a bounded pread/pwrite plus
 * one grant copy, and the driver keeps no per-client state.
 */
#ifndef DVS_VDD_H
#define DVS_VDD_H

#include <stdint.h>

#include "dvs/blkproto.h"
#include "dvs/ipc.h"

struct vdd {
	struct dvk *h;
	int fd;
	uint64_t size;
	uint32_t sector;
	int read_only;
	unsigned char *buf; /* BLK_IO_MAX */
	struct blk_rp_stats st;
	dvk_ep_t seen[1024]; /* distinct client endpoints (capped) */
};

/* Answers one request: returns the reply's m_type; out's payload is set. */
int vdd_dispatch(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out);

#endif
