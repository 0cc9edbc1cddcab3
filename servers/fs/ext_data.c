/*
 * ext_data.c - the data path of regular files on an ext volume.
 *
 * libext2fs's file API (ext2_file_t) moves one block at a time and maps
 * and allocates each block on its own: every block walks the extent tree
 * again (and verifies its checksum), and a file that grows a block at a
 * time gets an extent per few blocks.  Here whole blocks go in runs
 * instead: reads map the range and read each physically contiguous run
 * with one device call, straight into the worker's buffer; writes first
 * allocate the whole range with ext2fs_fallocate (one extent where the
 * free space allows; new blocks zeroed, which costs a second write of
 * newly allocated space but never exposes old data) and then write each
 * run with one device call.  The
 * partial blocks at either end, inline-data files, block-mapped (ext2/3)
 * files being written and anything unusual go through the file API.
 * Everything here runs under xv->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ext.h"

/* The physical block of lblk, 0 for a hole; -1 after an error or for an
 * uninitialised extent (the caller falls back). */
static int
map_block(struct ext_vol *xv, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
	  blk64_t *pblk)
{
	int flags = 0;
	errcode_t e;

	*pblk = 0;
	e = ext2fs_bmap2(xv->fs, ino, (struct ext2_inode *)in, NULL, 0, lblk, &flags, pblk);
	if (e != 0 || (flags & BMAP_RET_UNINIT))
		return -1;
	if (*pblk >= ext2fs_blocks_count(xv->fs->super))
		return -1; /* a corrupt map: never read outside the volume */
	return 0;
}

/*
 * The run of physical blocks that logical blocks [lblk, lblk + max) of an
 * extent-mapped file start with: *pblk (0 for a hole: then *len is 1) and
 * *len.  One walk of the extent tree per run, with the handle h the caller
 * opened, instead of ext2fs_bmap2 per block, which opened a handle and
 * read and checksummed the extent leaf again for every 4 KiB block (as
 * much CRC work as data).  -1 after an error, for an uninitialised extent
 * or a run outside the volume (the caller falls back).
 */
static int
map_run(struct ext_vol *xv, ext2_extent_handle_t h, blk64_t lblk, blk64_t max,
	blk64_t *pblk, blk64_t *len)
{
	struct ext2fs_extent ex;
	errcode_t e;

	*pblk = 0;
	*len = 1;
	e = ext2fs_extent_goto2(h, 0, lblk);
	if (e == EXT2_ET_EXTENT_NOT_FOUND)
		return 0; /* a hole */
	if (e == 0)
		e = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ex);
	if (e != 0 || (ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT) || lblk < ex.e_lblk ||
	    lblk >= ex.e_lblk + ex.e_len)
		return -1;
	*pblk = ex.e_pblk + (lblk - ex.e_lblk);
	*len = ex.e_lblk + ex.e_len - lblk;
	if (*len > max)
		*len = max;
	if (*pblk == 0 || *pblk >= ext2fs_blocks_count(xv->fs->super) ||
	    *len > ext2fs_blocks_count(xv->fs->super) - *pblk)
		return -1; /* a corrupt map: never touch outside the volume */
	return 0;
}

/* Moves n whole blocks from lblk on: runs of contiguous physical blocks
 * in one device call each; holes read as zeroes (a write must not meet
 * one).  0, -EAGAIN to fall back, or -errno. */
static int
blocks_io(struct ext_vol *xv, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
	  blk64_t n, unsigned char *buf, int write)
{
	size_t bs = xv->fs->blocksize;
	ext2_extent_handle_t h = NULL;
	blk64_t i = 0, j, p0, p, run;
	errcode_t e;
	int rc = 0;

	if (in->i_flags & EXT4_EXTENTS_FL) {
		e = ext2fs_extent_open2(xv->fs, ino, (struct ext2_inode *)in, &h);
		if (e != 0)
			return -EAGAIN;
	}
	while (i < n) {
		if (h != NULL) {
			if (map_run(xv, h, lblk + i, n - i, &p0, &run) < 0) {
				rc = -EAGAIN;
				break;
			}
			j = i + run;
		} else {
			if (map_block(xv, ino, in, lblk + i, &p0) < 0) {
				rc = -EAGAIN;
				break;
			}
			j = i + 1;
			while (j < n && map_block(xv, ino, in, lblk + j, &p) == 0 && p0 != 0 &&
			       p == p0 + (j - i) && j - i < 65536)
				j++;
		}
		if (p0 == 0) {
			if (write) {
				rc = -EAGAIN;
				break;
			}
			memset(buf + i * bs, 0, (size_t)(j - i) * bs);
		} else if (write) {
			e = io_channel_write_blk64(xv->fs->io, p0, (int)(j - i), buf + i * bs);
			if (e != 0) {
				rc = ext_err(e, "writing file data");
				break;
			}
		} else {
			e = io_channel_read_blk64(xv->fs->io, p0, (int)(j - i), buf + i * bs);
			if (e != 0) {
				rc = ext_err(e, "reading file data");
				break;
			}
		}
		i = j;
	}
	if (h != NULL)
		ext2fs_extent_free(h);
	return rc;
}

/* The file API for [off, off + len): the count, or -errno. */
static ssize_t
api_io(struct ext_vol *xv, uint32_t ino, unsigned char *buf, size_t len, uint64_t off,
       int write)
{
	unsigned int got = 0;
	ext2_file_t ef;
	errcode_t e, e2;

	e = ext2fs_file_open2(xv->fs, ino, NULL, write ? EXT2_FILE_WRITE : 0, &ef);
	if (e != 0)
		return ext_err(e, "opening a file");
	e = ext2fs_file_llseek(ef, off, EXT2_SEEK_SET, NULL);
	if (e == 0 && write)
		e = ext2fs_file_write(ef, buf, (unsigned int)len, &got);
	else if (e == 0)
		e = ext2fs_file_read(ef, buf, (unsigned int)len, &got);
	e2 = ext2fs_file_close(ef);
	if (e == 0)
		e = e2;
	if (e != 0 && got == 0)
		return ext_err(e, write ? "writing a file" : "reading a file");
	return (ssize_t)got;
}

static int
runs_ok(struct ext_vol *xv, const struct ext2_inode_large *in)
{
	return LINUX_S_ISREG(in->i_mode) && !(in->i_flags & EXT4_INLINE_DATA_FL) &&
	       !(xv->fs->super->s_feature_incompat & EXT4_FEATURE_INCOMPAT_ENCRYPT);
}

ssize_t
ext_data_read(struct ext_vol *xv, uint32_t ino, unsigned char *buf, size_t len,
	      uint64_t off)
{
	struct ext2_inode_large in;
	uint64_t size, bs = xv->fs->blocksize, first, head, whole;
	int rc;

	rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	size = EXT2_I_SIZE(&in);
	if (off >= size || len == 0)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	if (!runs_ok(xv, &in))
		return api_io(xv, ino, buf, len, off, 0);
	/* The unaligned head and the partial tail through the file API;
	 * the whole blocks between them in runs. */
	head = off % bs ? bs - off % bs : 0;
	if (head > len)
		head = len;
	first = (off + head) / bs;
	whole = (len - head) / bs;
	if (whole == 0)
		return api_io(xv, ino, buf, len, off, 0);
	rc = blocks_io(xv, ino, &in, first, whole, buf + head, 0);
	if (rc == -EAGAIN)
		return api_io(xv, ino, buf, len, off, 0);
	if (rc < 0)
		return rc;
	if (head > 0 && api_io(xv, ino, buf, head, off, 0) != (ssize_t)head)
		return -EIO;
	if (head + whole * bs < len) {
		size_t tail = len - head - whole * bs;

		if (api_io(xv, ino, buf + head + whole * bs, tail, off + head + whole * bs, 0) !=
		    (ssize_t)tail)
			return -EIO;
	}
	return (ssize_t)len;
}

/* The whole blocks [first, first + n) written in runs after allocating
 * them; the file's size grows to at least end.  0, -EAGAIN, -errno. */
static int
write_whole(struct ext_vol *xv, uint32_t ino, const unsigned char *buf, blk64_t first,
	    blk64_t n, uint64_t end) DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large in;
	struct timespec now;
	errcode_t e;
	int rc;

	rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (!runs_ok(xv, &in) || !(in.i_flags & EXT4_EXTENTS_FL))
		return -EAGAIN;
	/* Initialised extents at once, their new blocks zeroed first:
	 * libext2fs may allocate next to the range as well (to join
	 * extents), and those blocks must never show what a deleted file
	 * left there; a crash before the data lands shows zeroes. */
	e = ext2fs_fallocate(xv->fs, EXT2_FALLOCATE_ZERO_BLOCKS | EXT2_FALLOCATE_FORCE_INIT |
				 EXT2_FALLOCATE_INIT_BEYOND_EOF,
			     ino, (struct ext2_inode *)&in, ~0ULL, first, n);
	if (e != 0)
		return ext_err(e, "allocating file blocks");
	/* fallocate changed in (extent root, i_blocks) without writing all
	 * of it: in is the inode now, written below. */
	rc = blocks_io(xv, ino, &in, first, n, (unsigned char *)(uintptr_t)buf, 1);
	if (rc < 0) {
		(void)ext_iput(xv, ino, &in);
		return rc;
	}
	if (EXT2_I_SIZE(&in) < end) {
		e = ext2fs_inode_size_set(xv->fs, (struct ext2_inode *)&in, end);
		if (e != 0)
			return ext_err(e, "growing a file");
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ext_set_time(xv, &in, 'm', &now);
	ext_set_time(xv, &in, 'c', &now);
	return ext_iput(xv, ino, &in);
}

ssize_t
ext_data_write(struct ext_vol *xv, uint32_t ino, const unsigned char *buf, size_t len,
	       uint64_t off)
{
	uint64_t bs = xv->fs->blocksize, head, whole, tail;
	ssize_t n;
	int rc;

	head = off % bs ? bs - off % bs : 0;
	if (head > len)
		head = len;
	whole = (len - head) / bs;
	tail = len - head - whole * bs;
	if (whole == 0)
		goto api;
	if (head > 0) {
		n = api_io(xv, ino, (unsigned char *)(uintptr_t)buf, head, off, 1);
		if (n != (ssize_t)head)
			return n < 0 ? n : (ssize_t)n;
	}
	rc = write_whole(xv, ino, buf + head, (off + head) / bs, whole,
			 off + head + whole * bs);
	if (rc == -EAGAIN) {
		n = api_io(xv, ino, (unsigned char *)(uintptr_t)(buf + head), len - head,
			   off + head, 1);
		return n < 0 ? (head > 0 ? (ssize_t)head : n) : (ssize_t)head + n;
	}
	if (rc < 0)
		return head > 0 ? (ssize_t)head : rc;
	if (tail > 0) {
		n = api_io(xv, ino, (unsigned char *)(uintptr_t)(buf + head + whole * bs), tail,
			   off + head + whole * bs, 1);
		if (n < 0)
			return (ssize_t)(head + whole * bs);
		return (ssize_t)(head + whole * bs) + n;
	}
	return (ssize_t)len;
api:
	return api_io(xv, ino, (unsigned char *)(uintptr_t)buf, len, off, 1);
}
