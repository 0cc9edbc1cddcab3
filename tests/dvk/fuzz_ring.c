/*
 * fuzz_ring.c - libFuzzer target: a receiver reading a ring whose shared
 * memory a rogue sender filled with anything.  Must never read outside
 * the ring, loop for ever or crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dvk_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dvk_ring *r;
	static size_t rsize;
	struct dvk h;
	struct dvk_chan c;
	dvk_msg_t m;
	uint64_t start = 0;
	int i;

	if (r == NULL) {
		rsize = dvk_ring_size(DVK_RING_SLOTS);
		r = aligned_alloc(4096, rsize);
		if (r == NULL)
			abort();
	}
	memset(r, 0, rsize);
	memcpy(r, data, size < rsize ? size : rsize);
	if (size >= rsize + 8)
		memcpy(&start, data + rsize, 8);
	memset(&h, 0, sizeof(h));
	memset(&c, 0, sizeof(c));
	h.magic = DVK_HANDLE_MAGIC;
	c.ops = &dvk_ring_ops;
	c.r = r;
	c.nslots = DVK_RING_SLOTS;
	c.peer = 3;
	c.dir = DVKD_DIR_IN;
	c.pos = start;
	c.cached = start;
	for (i = 0; i < 3 * DVK_RING_SLOTS; i++) {
		int rc = c.ops->try_recv(&h, &c, &m);

		if (rc <= 0)
			break;
		if (m.m_source != 3)
			abort(); /* the source is the ring's, never the bytes' */
		(void)c.ops->reply(&h, &c, &m);
	}
	return 0;
}
