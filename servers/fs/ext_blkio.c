/*
 * ext_blkio.c - libext2fs's I/O manager over a struct fat_blkdev, the
 * block-device table dvs-fs already has for the FAT engine: an image file
 * (scenario A1, with its lock) or a dvs-vdd over IPC (A2, vddblk.c).  So
 * both scenarios reach ext volumes through one seam, and the vdd calls
 * run on the binding of whichever worker holds the volume's lock.
 *
 * libext2fs asks for blocks of its current block size (or, with a
 * negative count, a byte length); the device works in sectors.  Aligned
 * requests go straight through; anything else goes through a bounce
 * buffer (read-modify-write), which only the superblock's byte writes
 * need in practice.
 *
 * Consecutive writes of one block are merged: libext2fs writes the inode
 * table block of an inode two or three times in a row while making a file
 * (ext2fs_write_new_inode then the large fields, fallocate then the size),
 * and a new data block is zeroed and then written.  A one-block write is
 * held as the pending block until a write of any other block, a read that
 * covers it, a flush, or the end of the locked section (ext_unlock calls
 * ext_blkio_settle), so the device sees the same writes in the same order
 * minus those overwritten at once, and nothing stays unwritten once a
 * request lets go of the volume.
 *
 * Zeroing (io_channel_zeroout, which ext2fs_fallocate uses for the blocks
 * it maps in a file) is deferred the same way: the range is remembered,
 * whatever a write covers in it is dropped from it (ext_data.c writes the
 * file data into the very blocks just allocated), and what is left is
 * written as zeroes when the locked section ends or anything reads it.  So
 * a block is never read as anything but zeroes or its new data, and a
 * 1 MiB write costs one write of the device, not a zeroing and a write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/log.h"
#include "ext.h"

/* Devices handed to ext2fs_open2 by name: volumes are mounted before the
 * workers start, one at a time, so no lock. */
static struct fat_blkdev *blkio_devs[FS_MAX_VOLUMES];

/* Bytes of blocks kept per channel (EXT_BLKIO_CACHE_BYTES). */
#define EXT_BLKIO_CACHE_BYTES (8u << 20)

/*
 * A write-through cache of single blocks, direct-mapped by block number:
 * libext2fs reads the same inode table, extent and directory blocks over
 * and over, one block at a time, and keeps no cache of its own.  Only
 * one-block reads fill it; every write updates or drops the blocks it
 * covers, so the device is always current and reads of many blocks (file
 * data) go straight to it.  The volume's lock covers it (ext.h).
 */
struct blkio_ctx {
	struct fat_blkdev *dev;
	unsigned nslots;       /* 0: no cache */
	uint64_t *tag;	       /* block number + 1 per slot, 0 empty */
	unsigned char *data;   /* nslots blocks of ch->block_size */
	uint64_t hits, misses; /* for docs/EXT.md figures */
	/* The pending block (see the top): its number and contents, written
	 * by settle(). */
	int pend;
	uint64_t pend_blk;
	unsigned char *pend_buf; /* one block of ch->block_size */
	uint64_t merged;	 /* writes that never reached the device */
	/* Blocks still to be zeroed: [z_blk, z_blk + z_count). */
	uint64_t z_blk, z_count;
	uint64_t z_saved; /* zeroed blocks that data replaced */
};

/* Zeroes written per device call. */
#define ZERO_CHUNK_BYTES (256u << 10)

static errcode_t settle(io_channel ch);

static void
cache_free(struct blkio_ctx *c)
{
	free(c->tag);
	free(c->data);
	c->tag = NULL;
	c->data = NULL;
	c->nslots = 0;
}

/* A cache of blocks of bs bytes (dropping what there was). */
static void
cache_init(struct blkio_ctx *c, int bs)
{
	cache_free(c);
	c->nslots = EXT_BLKIO_CACHE_BYTES / (unsigned)bs;
	c->tag = calloc(c->nslots, sizeof(*c->tag));
	c->data = malloc((size_t)c->nslots * (size_t)bs);
	if (c->tag == NULL || c->data == NULL)
		cache_free(c); /* run without: slower, not wrong */
}

static unsigned
cache_slot(const struct blkio_ctx *c, uint64_t blk)
{
	return (unsigned)((blk * 0x9e3779b97f4a7c15ull) >> 32) % c->nslots;
}

/* Writes of count blocks from blk: cached copies follow the new data. */
static void
cache_wrote(struct blkio_ctx *c, int bs, uint64_t blk, uint64_t count, const void *buf)
{
	uint64_t i;
	unsigned k;

	for (i = 0; c->nslots > 0 && i < count; i++) {
		k = cache_slot(c, blk + i);
		if (c->tag[k] == blk + i + 1)
			memcpy(c->data + (size_t)k * (size_t)bs,
			       (const unsigned char *)buf + i * (uint64_t)bs, (size_t)bs);
	}
}

/* Any write that is not whole blocks: drop the blocks it touches. */
static void
cache_drop(struct blkio_ctx *c, int bs, uint64_t off, size_t len)
{
	uint64_t b;
	unsigned k;

	if (c->nslots == 0 || len == 0)
		return;
	for (b = off / (uint64_t)bs; b <= (off + len - 1) / (uint64_t)bs; b++) {
		k = cache_slot(c, b);
		if (c->tag[k] == b + 1)
			c->tag[k] = 0;
	}
}

int
ext_blkio_name(struct fat_blkdev *dev, char *name, size_t len)
{
	int i;

	for (i = 0; i < FS_MAX_VOLUMES; i++) {
		if (blkio_devs[i] == NULL || blkio_devs[i] == dev) {
			blkio_devs[i] = dev;
			snprintf(name, len, "dvs-blkdev:%d", i);
			return 0;
		}
	}
	return -ENOSPC;
}

void
ext_blkio_forget(struct fat_blkdev *dev)
{
	int i;

	for (i = 0; i < FS_MAX_VOLUMES; i++)
		if (blkio_devs[i] == dev)
			blkio_devs[i] = NULL;
}

static errcode_t
blkio_open(const char *name, int flags, io_channel *out)
{
	io_channel ch;
	int i;

	if (sscanf(name, "dvs-blkdev:%d", &i) != 1 || i < 0 || i >= FS_MAX_VOLUMES ||
	    blkio_devs[i] == NULL)
		return EXT2_ET_BAD_DEVICE_NAME;
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return EXT2_ET_NO_MEMORY;
	ch->name = strdup(name);
	ch->private_data = calloc(1, sizeof(struct blkio_ctx));
	if (ch->name == NULL || ch->private_data == NULL) {
		free(ch->private_data);
		free(ch->name);
		free(ch);
		return EXT2_ET_NO_MEMORY;
	}
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = ext_blkio_manager;
	ch->block_size = 1024;
	ch->refcount = 1;
	((struct blkio_ctx *)ch->private_data)->dev = blkio_devs[i];
	if (blkio_devs[i]->read_only && (flags & IO_FLAG_RW)) {
		free(ch->private_data);
		free(ch->name);
		free(ch);
		return EXT2_ET_RO_FILSYS;
	}
	cache_init(ch->private_data, ch->block_size);
	((struct blkio_ctx *)ch->private_data)->pend_buf = malloc((size_t)ch->block_size);
	if (((struct blkio_ctx *)ch->private_data)->pend_buf == NULL) {
		cache_free(ch->private_data);
		free(ch->private_data);
		free(ch->name);
		free(ch);
		return EXT2_ET_NO_MEMORY;
	}
	*out = ch;
	return 0;
}

static errcode_t
blkio_close(io_channel ch)
{
	struct blkio_ctx *c = ch->private_data;
	errcode_t e;

	if (--ch->refcount > 0)
		return 0;
	e = settle(ch);
	if (e != 0)
		dvs_warn("closing: block %llu not written: %s", (unsigned long long)c->pend_blk,
			 error_message(e));
	if (c->merged > 0 || c->z_saved > 0)
		dvs_debug("%llu block writes merged into the next, %llu blocks not zeroed "
			  "before their data",
			  (unsigned long long)c->merged, (unsigned long long)c->z_saved);
	cache_free(c);
	free(c->pend_buf);
	free(ch->private_data);
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t
blkio_set_blksize(io_channel ch, int blksize)
{
	struct blkio_ctx *c = ch->private_data;
	unsigned char *p;
	errcode_t e;

	if (blksize <= 0)
		return EXT2_ET_INVALID_ARGUMENT;
	if (blksize == ch->block_size && c->pend_buf != NULL)
		return 0;
	e = settle(ch);
	if (e != 0)
		return e;
	p = realloc(c->pend_buf, (size_t)blksize);
	if (p == NULL)
		return EXT2_ET_NO_MEMORY;
	c->pend_buf = p;
	if (blksize != ch->block_size)
		cache_init(c, blksize);
	ch->block_size = blksize;
	return 0;
}

/* Moves len bytes at byte offset off; write != 0 writes buf. */
static errcode_t
blkio_rw(io_channel ch, uint64_t off, size_t len, void *buf, int write)
{
	struct fat_blkdev *dev = ((struct blkio_ctx *)ch->private_data)->dev;
	uint64_t ss = dev->sector_size, first, last, end;
	unsigned char *bounce;
	int rc;

	if (len == 0)
		return 0;
	end = off + len;
	if (end < off || end > dev->sector_count * ss)
		return write ? EXT2_ET_SHORT_WRITE : EXT2_ET_SHORT_READ;
	if (off % ss == 0 && len % ss == 0 && len / ss <= UINT32_MAX) {
		if (write)
			rc = dev->ops->write(dev, off / ss, (uint32_t)(len / ss), buf);
		else
			rc = dev->ops->read(dev, off / ss, (uint32_t)(len / ss), buf);
		if (rc < 0) {
			dvs_warn("%s of %zu bytes at %llu: %s", write ? "write" : "read", len,
				 (unsigned long long)off, strerror(-rc));
			return write ? EXT2_ET_SHORT_WRITE : EXT2_ET_SHORT_READ;
		}
		return 0;
	}
	first = off / ss;
	last = (end + ss - 1) / ss;
	bounce = malloc((last - first) * ss);
	if (bounce == NULL)
		return EXT2_ET_NO_MEMORY;
	rc = dev->ops->read(dev, first, (uint32_t)(last - first), bounce);
	if (rc == 0 && write) {
		memcpy(bounce + (off - first * ss), buf, len);
		rc = dev->ops->write(dev, first, (uint32_t)(last - first), bounce);
	} else if (rc == 0) {
		memcpy(buf, bounce + (off - first * ss), len);
	}
	free(bounce);
	if (rc < 0)
		return write ? EXT2_ET_SHORT_WRITE : EXT2_ET_SHORT_READ;
	return 0;
}

/* Writes the zeroes still owed, in chunks; what failed stays owed. */
static errcode_t
settle_zero(io_channel ch)
{
	struct blkio_ctx *c = ch->private_data;
	uint64_t bs = (uint64_t)ch->block_size, n;
	unsigned char *z;
	errcode_t e = 0;

	if (c->z_count == 0)
		return 0;
	z = calloc(1, ZERO_CHUNK_BYTES > bs ? ZERO_CHUNK_BYTES : bs);
	if (z == NULL)
		return EXT2_ET_NO_MEMORY;
	while (c->z_count > 0 && e == 0) {
		n = (ZERO_CHUNK_BYTES > bs ? ZERO_CHUNK_BYTES : bs) / bs;
		if (n > c->z_count)
			n = c->z_count;
		e = blkio_rw(ch, c->z_blk * bs, (size_t)(n * bs), z, 1);
		if (e == 0) {
			c->z_blk += n;
			c->z_count -= n;
		}
	}
	free(z);
	return e;
}

/* Writes the pending block, if any; on failure it stays pending. */
static errcode_t
settle_pend(io_channel ch)
{
	struct blkio_ctx *c = ch->private_data;
	uint64_t bs = (uint64_t)ch->block_size;
	errcode_t e;

	if (!c->pend)
		return 0;
	if (c->pend_blk > UINT64_MAX / bs)
		return EXT2_ET_SHORT_WRITE;
	e = blkio_rw(ch, c->pend_blk * bs, (size_t)bs, c->pend_buf, 1);
	if (e == 0)
		c->pend = 0;
	return e;
}

/* Writes the pending block and the zeroes owed, if any.  On failure they
 * stay owed (the next settle or flush tries again) and the error is
 * returned. */
static errcode_t
settle(io_channel ch)
{
	errcode_t e = settle_pend(ch);

	return e != 0 ? e : settle_zero(ch);
}

/* A write of [blk, blk + count) replaces what it covers of the zeroes
 * owed; a hole it would leave in the middle is zeroed at once. */
static errcode_t
zero_cut(io_channel ch, uint64_t blk, uint64_t count)
{
	struct blkio_ctx *c = ch->private_data;
	uint64_t z0 = c->z_blk, z1 = c->z_blk + c->z_count, a = blk, b = blk + count;
	errcode_t e;

	if (c->z_count == 0 || b <= z0 || a >= z1)
		return 0;
	if (a > z0 && b < z1) {
		c->z_count = a - z0; /* the left part now, the right kept */
		e = settle_zero(ch);
		if (e != 0) {
			c->z_count = z1 - c->z_blk;
			return e;
		}
		c->z_saved += count;
		c->z_blk = b;
		c->z_count = z1 - b;
		return 0;
	}
	c->z_saved += (b < z1 ? b : z1) - (a > z0 ? a : z0);
	if (a <= z0 && b >= z1) {
		c->z_count = 0;
	} else if (a <= z0) {
		c->z_blk = b;
		c->z_count = z1 - b;
	} else {
		c->z_count = a - z0;
	}
	return 0;
}

/* 1 when [off, off + len) touches the zeroes owed. */
static int
zero_within(const struct blkio_ctx *c, int bs, uint64_t off, size_t len)
{
	return c->z_count > 0 && len > 0 && c->z_blk * (uint64_t)bs < off + len &&
	       off < (c->z_blk + c->z_count) * (uint64_t)bs;
}

/* 1 when the pending block lies in [off, off + len). */
static int
pend_within(const struct blkio_ctx *c, int bs, uint64_t off, size_t len)
{
	uint64_t p = c->pend_blk * (uint64_t)bs;

	return c->pend && len > 0 && p < off + len && off < p + (uint64_t)bs;
}

int
ext_blkio_settle(io_channel ch)
{
	errcode_t e;

	if (ch == NULL || ch->manager != ext_blkio_manager)
		return 0;
	e = settle(ch);
	if (e != 0) {
		dvs_warn("writing held blocks: %s (kept, written at the next flush)",
			 error_message(e));
		return -EIO;
	}
	return 0;
}

static errcode_t
blkio_span(io_channel ch, unsigned long long block, int count, uint64_t *off, size_t *len)
{
	unsigned long long bs = (unsigned long long)ch->block_size;

	if (count < 0) {
		*len = (size_t)-(long long)count;
	} else {
		*len = (size_t)count * bs;
	}
	if (block > UINT64_MAX / bs)
		return EXT2_ET_SHORT_READ;
	*off = block * bs;
	return 0;
}

static errcode_t
blkio_read64(io_channel ch, unsigned long long block, int count, void *data)
{
	struct blkio_ctx *c = ch->private_data;
	size_t bs = (size_t)ch->block_size;
	unsigned k = 0;
	uint64_t off;
	size_t len;
	errcode_t e;

	if (count == 1 && c->pend && c->pend_blk == block) {
		memcpy(data, c->pend_buf, bs);
		return 0;
	}
	e = blkio_span(ch, block, count, &off, &len);
	if (e == 0 && (pend_within(c, ch->block_size, off, len) ||
		       zero_within(c, ch->block_size, off, len)))
		e = settle(ch);
	if (e != 0)
		return e;
	if (count == 1 && c->nslots > 0) {
		k = cache_slot(c, block);
		if (c->tag[k] == block + 1) {
			memcpy(data, c->data + (size_t)k * bs, bs);
			c->hits++;
			return 0;
		}
		c->misses++;
	}
	e = blkio_rw(ch, off, len, data, 0);
	if (e == 0 && count == 1 && c->nslots > 0) {
		memcpy(c->data + (size_t)k * bs, data, bs);
		c->tag[k] = block + 1;
	}
	if (e != 0 && ch->read_error != NULL)
		return ch->read_error(ch, (unsigned long)block, count, data, len, 0, e);
	return e;
}

static errcode_t
blkio_write64(io_channel ch, unsigned long long block, int count, const void *data)
{
	struct blkio_ctx *c = ch->private_data;
	uint64_t off, size = c->dev->sector_count * (uint64_t)c->dev->sector_size;
	size_t len;
	errcode_t e;

	e = blkio_span(ch, block, count, &off, &len);
	if (e == 0 && count > 0)
		e = zero_cut(ch, block, (uint64_t)count);
	else if (e == 0 && zero_within(c, ch->block_size, off, len))
		e = settle(ch); /* a byte write: the zeroes first */
	if (e == 0 && count == 1 && off <= size && len <= size - off) {
		/* Held, merged with the next write if that is this block
		 * again (the top of the file). */
		if (c->pend && c->pend_blk == block)
			c->merged++;
		else
			e = settle_pend(ch); /* the zeroes owed lie elsewhere */
		if (e == 0) {
			memcpy(c->pend_buf, data, len);
			c->pend_blk = block;
			c->pend = 1;
			cache_wrote(c, ch->block_size, block, 1, data);
			return 0;
		}
	} else if (e == 0) {
		/* Keeps the order of writes; the zeroes owed lie elsewhere
		 * (zero_cut) unless this is a byte write, settled above. */
		e = settle_pend(ch);
	}
	if (e == 0) {
		e = blkio_rw(ch, off, len, (void *)(uintptr_t)data, 1);
		if (e == 0 && count > 0)
			cache_wrote(c, ch->block_size, block, (uint64_t)count, data);
		else
			cache_drop(c, ch->block_size, off, len);
	}
	if (e != 0 && ch->write_error != NULL)
		return ch->write_error(ch, (unsigned long)block, count, data, len, 0, e);
	return e;
}

static errcode_t
blkio_read(io_channel ch, unsigned long block, int count, void *data)
{
	return blkio_read64(ch, block, count, data);
}

static errcode_t
blkio_write(io_channel ch, unsigned long block, int count, const void *data)
{
	return blkio_write64(ch, block, count, data);
}

static errcode_t
blkio_write_byte(io_channel ch, unsigned long offset, int count, const void *data)
{
	errcode_t e;

	if (count < 0)
		return EXT2_ET_INVALID_ARGUMENT;
	e = settle(ch); /* in order, and never under a byte write */
	if (e != 0)
		return e;
	cache_drop(ch->private_data, ch->block_size, offset, (size_t)count);
	return blkio_rw(ch, offset, (size_t)count, (void *)(uintptr_t)data, 1);
}

static errcode_t
blkio_flush(io_channel ch)
{
	struct fat_blkdev *dev = ((struct blkio_ctx *)ch->private_data)->dev;
	errcode_t e = settle(ch);

	if (e != 0)
		return e;
	if (dev->ops->flush != NULL && dev->ops->flush(dev) < 0)
		return EXT2_ET_SHORT_WRITE;
	return 0;
}

/* Deferred (see the top): only remembered here. */
static errcode_t
blkio_zeroout(io_channel ch, unsigned long long block, unsigned long long count)
{
	struct blkio_ctx *c = ch->private_data;
	uint64_t bs = (uint64_t)ch->block_size, size;
	errcode_t e;

	if (count == 0)
		return 0;
	size = c->dev->sector_count * (uint64_t)c->dev->sector_size / bs;
	if (block >= size || count > size - block)
		return EXT2_ET_SHORT_WRITE;
	if (c->z_count > 0 && block == c->z_blk + c->z_count) {
		c->z_count += count; /* the next run of the same allocation */
	} else {
		e = settle_zero(ch);
		if (e != 0)
			return e;
		c->z_blk = block;
		c->z_count = count;
	}
	if (c->pend && c->pend_blk >= block && c->pend_blk < block + count)
		c->pend = 0; /* zeroed after it was written: the zeroes win */
	cache_drop(c, ch->block_size, block * bs, (size_t)(count * bs));
	return 0;
}

static errcode_t
blkio_set_option(io_channel ch, const char *option, const char *arg)
{
	return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager blkio_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "dvs blkdev I/O manager",
    .open = blkio_open,
    .close = blkio_close,
    .set_blksize = blkio_set_blksize,
    .read_blk = blkio_read,
    .write_blk = blkio_write,
    .flush = blkio_flush,
    .write_byte = blkio_write_byte,
    .set_option = blkio_set_option,
    .read_blk64 = blkio_read64,
    .write_blk64 = blkio_write64,
    .zeroout = blkio_zeroout,
};

io_manager ext_blkio_manager = &blkio_manager;
