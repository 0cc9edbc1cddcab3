/*
 * fetch_resume.c - the resume state, OUTPUT.partial.state: which blocks of
 * OUTPUT.partial are on disk and synced, for the index it was fetched by
 * (its digest), with a CRC.  Only synced blocks are ever recorded, and the
 * next run re-hashes them before it trusts them (fetch_plan.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dvs/log.h"
#include "fetch_int.h"

#define RES_MAGIC "DVSRES1\0"

char *
img_partial_path(const char *output)
{
	char *p;

	return asprintf(&p, "%s.partial", output) < 0 ? NULL : p;
}

char *
img_state_path(const char *output)
{
	char *p;

	return asprintf(&p, "%s.partial.state", output) < 0 ? NULL : p;
}

int
fetch_state_save(struct fet *f)
{
	size_t bml = (size_t)(f->ix.nblocks + 7) / 8;
	size_t len = 8 + 32 + 4 + 8 + bml + 4;
	uint8_t *buf;
	char *tmp = NULL;
	uint64_t b;
	int fd = -1, r = 0;

	if (fdatasync(f->fd) != 0) {
		r = -errno;
		img_err("syncing %s failed: %s", f->partial, strerror(-r));
		return r;
	}
	/* Only synced blocks count as done for a later run. */
	for (b = 0; b < bml; b++)
		f->done[b] |= f->pending[b];
	memset(f->pending, 0, bml);
	f->unsynced = 0;
	if (f->live)
		return 0; /* a live transfer starts over: its index keeps changing */
	buf = malloc(len);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, RES_MAGIC, 8);
	memcpy(buf + 8, f->ident, 32);
	img_put32(buf + 40, f->ix.block_size);
	img_put64(buf + 44, f->ix.nblocks);
	memcpy(buf + 52, f->done, bml);
	img_put32(buf + 52 + bml, (uint32_t)crc32(0, buf, (uInt)(52 + bml)));
	if (asprintf(&tmp, "%s.tmp", f->statep) < 0) {
		r = -ENOMEM;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0) {
		r = -errno;
		goto out;
	}
	if (rename(tmp, f->statep) != 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0) {
		img_err("cannot write the resume state %s: %s", f->statep, strerror(-r));
		if (tmp)
			unlink(tmp);
		if (r != -ENOSPC && r != -ENOMEM)
			r = -EIO;
	}
	free(tmp);
	free(buf);
	return r;
}

/* Loads a previous run's state; returns 1 if it belongs to this image. */
int
fetch_state_load(struct fet *f)
{
	size_t bml = (size_t)(f->ix.nblocks + 7) / 8;
	size_t len = 8 + 32 + 4 + 8 + bml + 4;
	uint8_t *buf;
	int fd, ok = 0;

	fd = open(f->statep, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	buf = malloc(len + 1);
	if (buf != NULL && read(fd, buf, len + 1) == (ssize_t)len &&
	    memcmp(buf, RES_MAGIC, 8) == 0 && memcmp(buf + 8, f->ident, 32) == 0 &&
	    img_get32(buf + 40) == f->ix.block_size && img_get64(buf + 44) == f->ix.nblocks &&
	    img_get32(buf + 52 + bml) == (uint32_t)crc32(0, buf, (uInt)(52 + bml))) {
		memcpy(f->done, buf + 52, bml);
		ok = 1;
	}
	free(buf);
	close(fd);
	if (!ok)
		dvs_info("resume state %s does not match this image: starting over", f->statep);
	return ok;
}
