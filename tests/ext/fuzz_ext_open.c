/*
 * fuzz_ext_open.c - libFuzzer target over the opening path of an ext
 * volume in dvs-fs: the input is a disk image (served from memory through
 * the same struct fat_blkdev the image and vdd backends fill); it is
 * probed, mounted read-only with ext_volume_mount, and, when that works,
 * walked the way clients walk it (directories listed, every inode read,
 * files read through ext_data_read, links read), then unmounted.  Seeds are
 * small images made by mke2fs when the build is configured.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ext.h"

struct mem_dev {
	unsigned char *p;
	size_t len;
};

static int
mem_read(struct fat_blkdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	struct mem_dev *m = dev->ctx;
	uint64_t off = sector * dev->sector_size, n = (uint64_t)count * dev->sector_size;

	if (off > m->len || n > m->len - off)
		return -5;
	memcpy(buf, m->p + off, n);
	return 0;
}

static int
mem_write(struct fat_blkdev *dev, uint64_t sector, uint32_t count, const void *buf)
{
	return -30; /* mounted read-only: never called */
}

static int
mem_flush(struct fat_blkdev *dev)
{
	return 0;
}

static const struct fat_blkdev_ops mem_ops = {mem_read, mem_write, mem_flush, NULL};

struct walk {
	struct ext_vol *xv;
	unsigned char *buf;
	int budget; /* entries left to visit */
	int depth;
};

static void walk_dir(struct walk *w, uint32_t dir) DVS_REQUIRES(w->xv->lock);

static int
walk_cb(struct ext2_dir_entry *d, int offset, int blocksize, char *buf, void *priv)
{
	struct walk *w = priv;
	struct ext2_inode_large in;
	struct fs_wire_pstat st;
	int nlen = ext2fs_dirent_name_len(d);

	if (d->inode == 0 || w->budget-- <= 0)
		return w->budget <= 0 ? DIRENT_ABORT : 0;
	if ((nlen == 1 && d->name[0] == '.') ||
	    (nlen == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	ext_held(w->xv); /* walk_dir iterates with it held */
	if (ext_iget(w->xv, d->inode, &in) < 0)
		return 0;
	ext_stat_to_wire(w->xv, d->inode, &in, &st);
	if (LINUX_S_ISREG(in.i_mode))
		(void)ext_data_read(w->xv, d->inode, w->buf, 65536, 0);
	else if (LINUX_S_ISDIR(in.i_mode) && w->depth < 4) {
		w->depth++;
		walk_dir(w, d->inode);
		w->depth--;
	}
	return 0;
}

static void
walk_dir(struct walk *w, uint32_t dir) DVS_REQUIRES(w->xv->lock)
{
	(void)ext_dir_empty(w->xv, dir);
	(void)ext2fs_dir_iterate(w->xv->fs, dir, 0, NULL, walk_cb, w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[65536];
	struct fat_blkdev dev;
	struct fs_volume v;
	struct mem_dev m;
	struct walk w;
	uint32_t ino;

	if (size < 2048 || size > (1u << 20))
		return 0;
	m.len = size & ~(size_t)511;
	m.p = malloc(m.len);
	if (m.p == NULL)
		return 0;
	memcpy(m.p, data, m.len);
	memset(&dev, 0, sizeof(dev));
	dev.ops = &mem_ops;
	dev.ctx = &m;
	dev.sector_size = 512;
	dev.sector_count = m.len / 512;
	dev.read_only = 1;
	memset(&v, 0, sizeof(v));
	strcpy(v.name, "fuzz");
	strcpy(v.source, "memory");
	v.read_only = 1;
	v.dev = &dev;
	if (ext_probe(&dev) && ext_volume_mount(&v, &dev) == 0) {
		memset(&w, 0, sizeof(w));
		w.xv = v.ext;
		w.buf = buf;
		w.budget = 256;
		ext_lock(w.xv);
		walk_dir(&w, EXT2_ROOT_INO);
		if (ext_lookup(w.xv, "/a/b", &ino) == 0)
			(void)ext_data_read(w.xv, ino, buf, sizeof(buf), 4096);
		ext_unlock(w.xv);
		(void)ext_volume_unmount(&v);
	}
	free(m.p);
	return 0;
}
