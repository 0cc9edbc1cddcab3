/*
 * fetch_plan.c - where each block comes from: nothing (a zero block stays
 * a hole), the earlier run (re-verified), a seed, an equal block of the
 * image itself, or the server; and the local copies from seeds and twins,
 * each re-hashed before it counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvs/log.h"
#include "fetch_int.h"
#include "hset.h"

/* Finds each block's source: nothing (zero), earlier run, seed, twin, server. */
int
fetch_plan(struct fet *f, int resumed)
{
	struct img_hset set;
	uint64_t b, i, kept = 0;
	size_t s;
	int r;

	r = img_hset_init(&set, (const uint8_t (*)[IMG_HASH_LEN])f->ix.hash, f->ix.nblocks);
	if (r != 0)
		return r;
	for (b = 0; b < f->ix.nblocks; b++) {
		f->leader[b] = (uint32_t)b;
		if (img_hash_is_zero(f->ix.hash[b])) {
			f->state[b] = ST_ZERO;
			f->st->zero_blocks++;
			continue;
		}
		f->leader[b] = img_hset_insert(&set, (uint32_t)b);
		f->state[b] = f->leader[b] == b ? ST_NEED : ST_DUP;
	}
	if (resumed) {
		/* Re-verify what the earlier run left: a crash may have torn it. */
		for (b = 0; b < f->ix.nblocks; b++) {
			int ok = 0;

			if (!fetch_bit(f->done, b) || f->state[b] == ST_ZERO)
				continue;
			fetch_bit_set(f->done, b, 0);
			r = fetch_pread_full(f->fd, f->blk, (size_t)img_block_len(&f->ix, b),
				       b * f->ix.block_size);
			if (r == 0) {
				uint8_t h[IMG_HASH_LEN];

				img_hash_block(f->blk, (size_t)img_block_len(&f->ix, b), h);
				ok = memcmp(h, f->ix.hash[b], IMG_HASH_LEN) == 0;
			}
			if (ok) {
				f->state[b] = ST_DONE;
				fetch_bit_set(f->done, b, 1);
				kept++;
			}
		}
		f->st->resumed_blocks += kept;
		dvs_info("resuming: %llu blocks of the earlier run verified",
			 (unsigned long long)kept);
	}
	for (s = 0; s < f->o->nseeds; s++) {
		struct img_index *sx = NULL;
		int rebuilt;

		r = img_index_open(f->o->seeds[s], NULL, f->ix.block_size, f->o->nthreads, 1,
				   &rebuilt, &sx);
		if (r != 0) {
			img_err("cannot index seed %s", f->o->seeds[s]);
			goto out;
		}
		for (i = 0; i < sx->nblocks; i++) {
			uint32_t l;

			if (img_hash_is_zero(sx->hash[i]) || img_block_len(sx, i) != f->ix.block_size)
				continue;
			l = img_hset_find(&set, sx->hash[i]);
			if (l == IMG_HSET_NONE || f->src_seed[l] != 0 ||
			    img_block_len(&f->ix, l) != f->ix.block_size)
				continue;
			f->src_seed[l] = (uint8_t)(s + 1);
			f->src_blk[l] = (uint32_t)i;
		}
		img_index_free(sx);
	}
	for (b = 0; b < f->ix.nblocks; b++) {
		uint32_t l = f->leader[b];

		if (f->state[b] == ST_DONE || f->state[b] == ST_ZERO)
			continue;
		if (f->state[b] == ST_DUP && f->state[l] == ST_DONE)
			continue; /* copy from the resumed leader */
		if (f->src_seed[l] != 0) {
			/* Every block with a seed source copies from the seed. */
			f->state[b] = ST_SEED;
			f->src_seed[b] = f->src_seed[l];
			f->src_blk[b] = f->src_blk[l];
		} else if (f->state[b] == ST_NEED) {
			f->need_bytes += img_block_len(&f->ix, b);
		}
	}
	r = 0;
out:
	img_hset_fini(&set);
	return r;
}

/* Copies a block we already hold (seed or output) after re-hashing it. */
static int
copy_verified(struct fet *f, int sfd, uint64_t sblk, uint64_t b, int *ok)
{
	size_t len = (size_t)img_block_len(&f->ix, b);
	uint8_t h[IMG_HASH_LEN];
	int r;

	*ok = 0;
	r = fetch_pread_full(sfd, f->blk, len, sblk * f->ix.block_size);
	if (r == -ENODATA)
		return 0; /* the seed got shorter: treat as a mismatch */
	if (r != 0)
		return r;
	img_hash_block(f->blk, len, h);
	if (memcmp(h, f->ix.hash[b], IMG_HASH_LEN) != 0)
		return 0;
	r = fetch_pwrite_full(f, f->blk, len, b * f->ix.block_size);
	if (r != 0)
		return r;
	*ok = 1;
	return fetch_mark_written(f, b);
}

/* Copies n target blocks from consecutive seed blocks: one read, one
 * write when every block still matches (the usual case). */
static int
copy_seed_run(struct fet *f, int sfd, uint64_t b, uint64_t n, int *bad)
{
	uint8_t h[IMG_HASH_LEN];
	uint64_t i, ok = 0;
	size_t len = (size_t)n * f->ix.block_size;
	int r;

	*bad = 0;
	r = fetch_pread_full(sfd, f->raw, len, (uint64_t)f->src_blk[b] * f->ix.block_size);
	if (r == -ENODATA) {
		/* The seed got shorter: fall back to one block at a time. */
		for (i = 0; i < n; i++) {
			int one;

			r = copy_verified(f, sfd, f->src_blk[b + i], b + i, &one);
			if (r != 0)
				return r;
			if (one) {
				f->st->seed_blocks++;
			} else {
				f->state[b + i] = ST_NEED;
				(*bad)++;
			}
		}
		return 0;
	}
	if (r != 0)
		return r;
	for (i = 0; i < n; i++) {
		img_hash_block(f->raw + i * f->ix.block_size, f->ix.block_size, h);
		if (memcmp(h, f->ix.hash[b + i], IMG_HASH_LEN) == 0) {
			ok++;
			continue;
		}
		f->state[b + i] = ST_NEED;
		(*bad)++;
	}
	if (ok == n) {
		r = fetch_pwrite_full(f, f->raw, len, b * f->ix.block_size);
		for (i = 0; r == 0 && i < n; i++)
			r = fetch_mark_written(f, b + i);
	} else {
		for (i = 0; r == 0 && i < n; i++) {
			if (f->state[b + i] == ST_NEED)
				continue;
			r = fetch_pwrite_full(f, f->raw + i * f->ix.block_size, f->ix.block_size,
					(b + i) * f->ix.block_size);
			if (r == 0)
				r = fetch_mark_written(f, b + i);
		}
	}
	f->st->seed_blocks += ok;
	return r;
}

int
fetch_copy_from_seeds(struct fet *f)
{
	int *fds = calloc(f->o->nseeds + 1, sizeof(int));
	uint64_t b, n, i, maxrun = IMG_RUN_BYTES / f->ix.block_size;
	size_t s;
	int r = 0, bad;

	if (fds == NULL)
		return -ENOMEM;
	for (s = 0; s < f->o->nseeds; s++)
		fds[s] = open(f->o->seeds[s], O_RDONLY | O_CLOEXEC);
	for (b = 0; b < f->ix.nblocks && r == 0; b += n) {
		n = 1;
		if (f->state[b] != ST_SEED)
			continue;
		while (b + n < f->ix.nblocks && n < maxrun && f->state[b + n] == ST_SEED &&
		       f->src_seed[b + n] == f->src_seed[b] &&
		       f->src_blk[b + n] == f->src_blk[b] + n)
			n++;
		s = f->src_seed[b] - 1u;
		bad = (int)n;
		if (fds[s] >= 0)
			r = copy_seed_run(f, fds[s], b, n, &bad);
		else
			for (i = 0; i < n; i++)
				f->state[b + i] = ST_NEED;
		if (r != 0 || bad == 0)
			continue;
		if (f->st->seed_mismatch == 0)
			img_warn("seed %s changed since it was indexed: its stale "
				 "blocks are fetched from the server instead", f->o->seeds[s]);
		f->st->seed_mismatch += (uint64_t)bad;
		for (i = 0; i < n; i++)
			if (f->state[b + i] == ST_NEED)
				f->need_bytes += img_block_len(&f->ix, b + i);
	}
	for (s = 0; s < f->o->nseeds; s++)
		if (fds[s] >= 0)
			close(fds[s]);
	free(fds);
	return r;
}

int
fetch_copy_dups(struct fet *f, uint64_t *left)
{
	uint64_t b;
	int r = 0, ok;

	*left = 0;
	for (b = 0; b < f->ix.nblocks && r == 0; b++) {
		if (f->state[b] != ST_DUP)
			continue;
		ok = 0;
		if (f->state[f->leader[b]] == ST_DONE)
			r = copy_verified(f, f->fd, f->leader[b], b, &ok);
		if (r == 0 && ok) {
			f->st->dup_blocks++;
		} else if (r == 0) {
			f->state[b] = ST_NEED;
			f->need_bytes += img_block_len(&f->ix, b);
			(*left)++;
		}
	}
	return r;
}
