/*
 * hset.h - a set of blocks keyed by their hash (open addressing).
 *
 * Stores block numbers (u32) that point into a hash array the caller owns;
 * 8 bytes per stored block at a load factor of one half.
 */
#ifndef DVS_IMG_HSET_H
#define DVS_IMG_HSET_H

#include <stdint.h>

#include "dvs/img.h"

#define IMG_HSET_NONE UINT32_MAX

struct img_hset {
	uint32_t *slot;	/* block + 1; 0 = empty */
	uint64_t mask;
	const uint8_t (*hash)[IMG_HASH_LEN]; /* borrowed */
};

/* Room for up to n blocks of the borrowed hash array. */
int img_hset_init(struct img_hset *s, const uint8_t (*hash)[IMG_HASH_LEN], uint64_t n);
void img_hset_fini(struct img_hset *s);
/* Inserts blk unless its hash is there; returns the block that holds it. */
uint32_t img_hset_insert(struct img_hset *s, uint32_t blk);
/* The block with this hash, or IMG_HSET_NONE. */
uint32_t img_hset_find(const struct img_hset *s, const uint8_t h[IMG_HASH_LEN]);

#endif
