/* hset.c - see hset.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hset.h"

int
img_hset_init(struct img_hset *s, const uint8_t (*hash)[IMG_HASH_LEN], uint64_t n)
{
	uint64_t cap = 16;

	while (cap < n * 2)
		cap <<= 1;
	s->slot = calloc(cap, sizeof(*s->slot));
	if (s->slot == NULL)
		return -ENOMEM;
	s->mask = cap - 1;
	s->hash = hash;
	return 0;
}

void
img_hset_fini(struct img_hset *s)
{
	free(s->slot);
	s->slot = NULL;
}

static uint64_t
bucket(const uint8_t h[IMG_HASH_LEN])
{
	uint64_t v;

	/* SHA-256 output is uniform: its first bytes are a good bucket. */
	memcpy(&v, h, sizeof(v));
	return v;
}

uint32_t
img_hset_insert(struct img_hset *s, uint32_t blk)
{
	uint64_t i = bucket(s->hash[blk]) & s->mask;

	while (s->slot[i] != 0) {
		uint32_t o = s->slot[i] - 1;

		if (memcmp(s->hash[o], s->hash[blk], IMG_HASH_LEN) == 0)
			return o;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = blk + 1;
	return blk;
}

uint32_t
img_hset_find(const struct img_hset *s, const uint8_t h[IMG_HASH_LEN])
{
	uint64_t i = bucket(h) & s->mask;

	while (s->slot[i] != 0) {
		uint32_t o = s->slot[i] - 1;

		if (memcmp(s->hash[o], h, IMG_HASH_LEN) == 0)
			return o;
		i = (i + 1) & s->mask;
	}
	return IMG_HSET_NONE;
}
