/*
 * fetch_output.c - OUTPUT.partial, the file a fetch writes: whole reads
 * and writes, holes for zero blocks, a block marked written (and the
 * resume state saved every 64 MiB or 2 s), the final verification
 * against the index and the rename to OUTPUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch_int.h"

int
fetch_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		got += (size_t)n;
	}
	return 0;
}

int
fetch_pwrite_full(struct fet *f, const void *buf, size_t len, uint64_t off)
{
	size_t put = 0;
	ssize_t n;

	while (put < len) {
		n = pwrite(f->fd, (const uint8_t *)buf + put, len - put, (off_t)(off + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			img_err("writing %s failed: %s%s", f->partial, strerror(e),
				e == ENOSPC ? " (free some space and run the same command "
					      "again: it resumes)" : "");
			return -e;
		}
		put += (size_t)n;
	}
	return 0;
}

int
fetch_punch_zero(struct fet *f, uint64_t b)
{
	uint64_t len = img_block_len(&f->ix, b);

	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(b * f->ix.block_size), (off_t)len) == 0)
		return 0;
	memset(f->blk, 0, (size_t)len);
	return fetch_pwrite_full(f, f->blk, (size_t)len, b * f->ix.block_size);
}

int
fetch_mark_written(struct fet *f, uint64_t b)
{
	f->state[b] = ST_DONE;
	fetch_bit_set(f->pending, b, 1);
	f->unsynced += f->ix.block_size;
	if (f->unsynced >= (64u << 20) || dvs_now_ns() - f->last_sync > 2000000000u) {
		f->last_sync = dvs_now_ns();
		return fetch_state_save(f);
	}
	return 0;
}

int
fetch_verify_all(struct fet *f)
{
	uint8_t (*h)[IMG_HASH_LEN];
	uint64_t b, bad = 0;
	int r;

	h = malloc(f->ix.nblocks * IMG_HASH_LEN + 1);
	if (h == NULL)
		return -ENOMEM;
	r = img_hash_blocks(f->fd, f->ix.image_size, f->ix.block_size, 0, f->ix.nblocks, h,
			    f->o->nthreads);
	for (b = 0; r == 0 && b < f->ix.nblocks; b++) {
		if (memcmp(h[b], f->ix.hash[b], IMG_HASH_LEN) != 0) {
			bad++;
			fetch_bit_set(f->done, b, 0);
		}
	}
	free(h);
	if (r == 0 && bad) {
		img_err("verification failed: %llu blocks of %s do not match the index",
			(unsigned long long)bad, f->partial);
		r = -EILSEQ;
	}
	return r;
}

int
fetch_finish(struct fet *f)
{
	char *d = NULL, *dir;
	int dfd, r = 0;

	if (rename(f->partial, f->o->output) != 0) {
		img_err("cannot rename %s to %s: %s", f->partial, f->o->output, strerror(errno));
		return -EIO;
	}
	unlink(f->statep);
	d = strdup(f->o->output);
	if (d) {
		dir = dirname(d);
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(d);
	return r;
}
