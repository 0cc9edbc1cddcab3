/* blkdev_image.c - the image-file block device (whole image or one MBR
 * primary partition).  pread/pwrite make it safe for parallel callers.
 * Also the image lock every DVS program that writes an image takes
 * (include/dvs/imagelock.h): it lives here because the image backend is
 * the one place every image writer already links. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dvs/imagelock.h"
#include "fat_int.h"

int
dvs_image_lock(int fd, int exclusive)
{
	int r;

	do
		r = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	return errno == EWOULDBLOCK ? -EBUSY : -errno;
}

/* The program name of pid (its comm), or "" if it is gone. */
static void
proc_comm(long pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof path, "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

char *
dvs_image_holder(const char *path, char *buf, size_t len)
{
	char line[256], comm[64];
	long pid = 0, best = 0;
	int best_write = 0, best_exact = 0;
	struct stat st;
	FILE *f;

	snprintf(buf, len, "another process");
	if (stat(path, &st) < 0)
		return buf;
	f = fopen("/proc/locks", "re");
	if (f == NULL)
		return buf;
	/* "1: FLOCK  ADVISORY  WRITE 1234 fe:00:56789 0 EOF"; a line with
	 * "->" is a waiter, not a holder. */
	while (fgets(line, sizeof line, f) != NULL) {
		char *tok[8], *save = NULL, *t;
		unsigned int maj, min;
		unsigned long long ino;
		int n = 0, exact;

		for (t = strtok_r(line, " \n", &save); t != NULL && n < 8;
		     t = strtok_r(NULL, " \n", &save))
			tok[n++] = t;
		if (n < 6 || strcmp(tok[1], "FLOCK") != 0)
			continue;
		if (sscanf(tok[5], "%x:%x:%llu", &maj, &min, &ino) != 3 ||
		    ino != (unsigned long long)st.st_ino)
			continue;
		/* Some file systems (btrfs) show another device number in
		 * /proc/locks than stat does: an inode match will do. */
		exact = maj == major(st.st_dev) && min == minor(st.st_dev);
		pid = strtol(tok[4], NULL, 10);
		if (best == 0 || (exact && !best_exact)) {
			best = pid;
			best_exact = exact;
			best_write = strcmp(tok[3], "WRITE") == 0;
		}
	}
	fclose(f);
	if (best <= 0)
		return buf;	/* not found, or in another pid namespace */
	if (best == (long)getpid()) {
		snprintf(buf, len, "this same program (pid %ld)", best);
		return buf;
	}
	proc_comm(best, comm, sizeof comm);
	if (comm[0] == '\0')
		snprintf(buf, len, "pid %ld (gone; a child of it keeps the image open)", best);
	else
		snprintf(buf, len, "%s (pid %ld), which %s it", comm, best,
			 best_write ? "writes" : "reads");
	return buf;
}

char *
dvs_image_busy_msg(const char *path, char *buf, size_t len)
{
	char who[160];

	snprintf(buf, len, "%s is in use by %s; stop that program first (for a "
		 "mount: dvs umount MOUNTPOINT)", path,
		 dvs_image_holder(path, who, sizeof who));
	return buf;
}

struct image_ctx {
	int fd;
	uint64_t base;	/* byte offset of sector 0 in the file */
};

static int
image_read(struct fat_blkdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	struct image_ctx *c = dev->ctx;
	size_t len = (size_t)count * dev->sector_size;
	off_t off = (off_t)(c->base + sector * dev->sector_size);
	uint8_t *p = buf;

	if (sector + count > dev->sector_count)
		return -EIO;
	while (len > 0) {
		ssize_t r = pread(c->fd, p, len, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0) {
			/* a file shorter than its volume: reads past its end
			 * see zeros, like a sparse file */
			memset(p, 0, len);
			break;
		}
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

static int
image_write(struct fat_blkdev *dev, uint64_t sector, uint32_t count,
	    const void *buf)
{
	struct image_ctx *c = dev->ctx;
	size_t len = (size_t)count * dev->sector_size;
	off_t off = (off_t)(c->base + sector * dev->sector_size);
	const uint8_t *p = buf;

	if (dev->read_only)
		return -EROFS;
	if (sector + count > dev->sector_count)
		return -EIO;
	while (len > 0) {
		ssize_t r = pwrite(c->fd, p, len, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

static int
image_flush(struct fat_blkdev *dev)
{
	struct image_ctx *c = dev->ctx;

	if (dev->read_only)
		return 0;
	if (fdatasync(c->fd) < 0)
		return -errno;
	return 0;
}

static void
image_close(struct fat_blkdev *dev)
{
	struct image_ctx *c = dev->ctx;

	if (c) {
		close(c->fd);
		free(c);
	}
	dev->ctx = NULL;
}

static const struct fat_blkdev_ops image_ops = {
	.read = image_read,
	.write = image_write,
	.flush = image_flush,
	.close = image_close,
};

/* Finds primary partition part (1..4) in the MBR of fd. */
static int
mbr_partition(int fd, int part, uint64_t *start, uint64_t *size)
{
	struct fat_mbr mbr;
	const struct fat_mbr_part *e;

	if (part < 1 || part > 4)
		return -EINVAL;
	if (pread(fd, &mbr, sizeof mbr, 0) != (ssize_t)sizeof mbr)
		return -EINVAL;
	if (mbr.signature[0] != FAT_BOOT_SIG0 || mbr.signature[1] != FAT_BOOT_SIG1)
		return -EINVAL;
	e = &mbr.part[part - 1];
	if (e->type == 0 || le32toh(e->num_sectors) == 0)
		return -EINVAL;
	*start = (uint64_t)le32toh(e->lba_first) * 512;
	*size = (uint64_t)le32toh(e->num_sectors) * 512;
	return 0;
}

int
fat_image_open(const char *path, const struct fat_image_opts *opts,
	       struct fat_blkdev **out)
{
	struct fat_image_opts o = {0};
	struct fat_blkdev *dev = NULL;
	struct image_ctx *c = NULL;
	struct stat st;
	uint64_t base, size, fsize;
	int fd = -1, err;

	*out = NULL;
	if (opts)
		o = *opts;
	if (o.sector_size == 0)
		o.sector_size = 512;
	if (o.sector_size < 512 || o.sector_size > 4096 ||
	    (o.sector_size & (o.sector_size - 1)))
		return -EINVAL;
	if (o.create_size && !o.read_only)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	else
		fd = open(path, (o.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Before anything can change the file (the ftruncate below): one
	 * writer, or any number of readers, per image. */
	err = dvs_image_lock(fd, !o.read_only);
	if (err)
		goto fail;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	fsize = (uint64_t)st.st_size;
	if (o.create_size && fsize < o.create_size) {
		if (ftruncate(fd, (off_t)o.create_size) < 0) {
			err = -errno;
			goto fail;
		}
		fsize = o.create_size;
	}
	if (o.partition) {
		err = mbr_partition(fd, o.partition, &base, &size);
		if (err)
			goto fail;
		if (o.size && o.size < size)
			size = o.size;
	} else {
		base = o.offset;
		if (base % 512 || base > fsize) {
			err = -EINVAL;
			goto fail;
		}
		size = o.size ? o.size : fsize - base;
	}
	if (base + size > fsize && !o.create_size) {
		/* a truncated image is still opened: fat_mount sees reads past
		 * the end as zeros and refuses what does not fit */
		if (base >= fsize) {
			err = -EINVAL;
			goto fail;
		}
	}
	c = calloc(1, sizeof *c);
	dev = calloc(1, sizeof *dev);
	if (!c || !dev) {
		err = -ENOMEM;
		goto fail;
	}
	c->fd = fd;
	c->base = base;
	dev->ops = &image_ops;
	dev->ctx = c;
	dev->sector_size = o.sector_size;
	dev->sector_count = size / o.sector_size;
	dev->read_only = o.read_only;
	*out = dev;
	return 0;
fail:
	free(c);
	free(dev);
	if (fd >= 0)
		close(fd);
	return err;
}

void
fat_blkdev_free(struct fat_blkdev *dev)
{
	if (!dev)
		return;
	if (dev->ops && dev->ops->close)
		dev->ops->close(dev);
	free(dev);
}
