/*
 * similarity.c - how much of a target image its seeds already hold (the
 * thesis's table 5.1), counted on the non-zero blocks only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/log.h"
#include "img_int.h"
#include "hset.h"

int
img_similarity(const struct img_index *t, const struct img_index *const *seeds,
	       size_t nseeds, struct img_similarity *out)
{
	struct img_hset set;
	uint8_t *found = NULL;
	uint64_t b, i;
	size_t s;
	int r;

	memset(out, 0, sizeof(*out));
	if (t->nblocks >= IMG_HSET_NONE) {
		img_err("image too large (%llu blocks)", (unsigned long long)t->nblocks);
		return -EFBIG;
	}
	r = img_hset_init(&set, (const uint8_t (*)[IMG_HASH_LEN])t->hash, t->nblocks);
	if (r != 0)
		return r;
	found = calloc(t->nblocks ? t->nblocks : 1, 1);
	if (found == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (b = 0; b < t->nblocks; b++)
		if (!img_hash_is_zero(t->hash[b]))
			img_hset_insert(&set, (uint32_t)b);
	for (s = 0; s < nseeds; s++) {
		const struct img_index *sd = seeds[s];

		if (sd->block_size != t->block_size) {
			img_err("seed %zu uses %u-byte blocks, the target %u", s + 1,
				sd->block_size, t->block_size);
			r = -EINVAL;
			goto out;
		}
		for (i = 0; i < sd->nblocks; i++) {
			uint32_t l;

			if (img_hash_is_zero(sd->hash[i]))
				continue;
			l = img_hset_find(&set, sd->hash[i]);
			if (l != IMG_HSET_NONE)
				found[l] = 1;
		}
	}
	out->blocks = t->nblocks;
	for (b = 0; b < t->nblocks; b++) {
		uint32_t l;
		uint64_t len = t->block_size;

		if (b == t->nblocks - 1 && t->image_size % t->block_size)
			len = t->image_size % t->block_size;
		if (img_hash_is_zero(t->hash[b])) {
			out->zero_blocks++;
			continue;
		}
		out->nonzero_blocks++;
		l = img_hset_find(&set, t->hash[b]);
		if (found[l]) {
			out->found_blocks++;
			continue;
		}
		out->missing_blocks++;
		out->missing_bytes += len;
		if (l == b) {
			out->missing_unique++;
			out->missing_unique_bytes += len;
		}
	}
out:
	free(found);
	img_hset_fini(&set);
	return r;
}
