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
	if (ch->name == NULL) {
		free(ch);
		return EXT2_ET_NO_MEMORY;
	}
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = ext_blkio_manager;
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->private_data = blkio_devs[i];
	if (blkio_devs[i]->read_only && (flags & IO_FLAG_RW)) {
		free(ch->name);
		free(ch);
		return EXT2_ET_RO_FILSYS;
	}
	*out = ch;
	return 0;
}

static errcode_t
blkio_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t
blkio_set_blksize(io_channel ch, int blksize)
{
	if (blksize <= 0)
		return EXT2_ET_INVALID_ARGUMENT;
	ch->block_size = blksize;
	return 0;
}

/* Moves len bytes at byte offset off; write != 0 writes buf. */
static errcode_t
blkio_rw(io_channel ch, uint64_t off, size_t len, void *buf, int write)
{
	struct fat_blkdev *dev = ch->private_data;
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
	uint64_t off;
	size_t len;
	errcode_t e;

	e = blkio_span(ch, block, count, &off, &len);
	if (e == 0)
		e = blkio_rw(ch, off, len, data, 0);
	if (e != 0 && ch->read_error != NULL)
		return ch->read_error(ch, (unsigned long)block, count, data, len, 0, e);
	return e;
}

static errcode_t
blkio_write64(io_channel ch, unsigned long long block, int count, const void *data)
{
	uint64_t off;
	size_t len;
	errcode_t e;

	e = blkio_span(ch, block, count, &off, &len);
	if (e == 0)
		e = blkio_rw(ch, off, len, (void *)(uintptr_t)data, 1);
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
	if (count < 0)
		return EXT2_ET_INVALID_ARGUMENT;
	return blkio_rw(ch, offset, (size_t)count, (void *)(uintptr_t)data, 1);
}

static errcode_t
blkio_flush(io_channel ch)
{
	struct fat_blkdev *dev = ch->private_data;

	if (dev->ops->flush != NULL && dev->ops->flush(dev) < 0)
		return EXT2_ET_SHORT_WRITE;
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
};

io_manager ext_blkio_manager = &blkio_manager;
