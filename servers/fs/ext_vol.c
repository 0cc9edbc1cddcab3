/*
 * ext_vol.c - mounting and unmounting an ext2/3/4 volume, its lock, the
 * open counts of its inodes, and libext2fs's errors as errno values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dvs/clock.h"
#include "dvs/log.h"
#include "ext.h"

int
ext_probe(struct fat_blkdev *dev)
{
	unsigned char sb[4096];
	uint32_t ss = dev->sector_size, n;

	/* The superblock is bytes 1024..2047; its magic is at 56. */
	if (ss == 0 || ss > sizeof(sb) || dev->sector_count * ss < 2048)
		return 0;
	n = (2048 + ss - 1) / ss;
	if (n * ss > sizeof(sb) || dev->ops->read(dev, 0, n, sb) < 0)
		return 0;
	return sb[1024 + 56] == 0x53 && sb[1024 + 57] == 0xef;
}

void
ext_lock(struct ext_vol *xv)
{
	uint64_t t0;

	if (dvs_mutex_trylock(&xv->lock)) {
		xv->lock_taken++;
		return;
	}
	t0 = dvs_now_ns();
	dvs_mutex_lock(&xv->lock);
	xv->lock_taken++;
	xv->lock_wait_ns += dvs_now_ns() - t0;
}

void
ext_unlock(struct ext_vol *xv)
{
	/* Whatever the request wrote is on the device before anyone else
	 * runs (ext_blkio.c merges only within one locked section). */
	if (xv->fs != NULL)
		(void)ext_blkio_settle(xv->fs->io);
	dvs_mutex_unlock(&xv->lock);
}

int
ext_err(errcode_t e, const char *what)
{
	if (e == 0)
		return 0;
	if (e > 0 && e < 4096)
		return -(int)e; /* libext2fs passes errno values through */
	switch (e) {
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_RO_FILSYS:
		return -EROFS;
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_EA_NO_SPACE:
		return -ENOSPC;
	case EXT2_ET_FILE_TOO_BIG:
		return -EFBIG;
	case EXT2_ET_SYMLINK_LOOP:
		return -ELOOP;
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_DIR_EXISTS:
	case EXT2_ET_FILE_EXISTS:
		return -EEXIST;
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	default:
		/* Corruption or a failing device: say which, once. */
		dvs_warn("%s: %s", what, error_message(e));
		return -EIO;
	}
}

static int
check_features(ext2_filsys fs, const char *name, int rw)
{
	if (ext2fs_has_feature_journal_needs_recovery(fs->super)) {
		dvs_err("volume %s: the journal needs recovery: run e2fsck on the image "
			"first (dvs-fs does not replay journals)",
			name);
		return -EUCLEAN;
	}
	if (ext2fs_has_feature_journal_dev(fs->super)) {
		dvs_err("volume %s: an external journal device, not a file system", name);
		return -EINVAL;
	}
	if (rw && (fs->super->s_state & EXT2_ERROR_FS))
		dvs_warn("volume %s: the file system says it has errors: run e2fsck", name);
	return 0;
}

int
ext_volume_mount(struct fs_volume *v, struct fat_blkdev *dev)
{
	struct ext_vol *xv;
	char name[64];
	errcode_t e;
	int rc, flags;

	static int messages;

	/* error_message() names libext2fs's codes only once its table is
	 * in (volumes are mounted by the main thread, one at a time). */
	if (!messages) {
		initialize_ext2_error_table();
		messages = 1;
	}
	rc = ext_blkio_name(dev, name, sizeof(name));
	if (rc < 0)
		return rc;
	xv = calloc(1, sizeof(*xv));
	if (xv == NULL)
		return -ENOMEM;
	pthread_mutex_init(&xv->lock, NULL);
	xv->read_only = v->read_only || dev->read_only;
	flags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP;
	if (!xv->read_only)
		flags |= EXT2_FLAG_RW;
	e = ext2fs_open2(name, NULL, flags, 0, 0, ext_blkio_manager, &xv->fs);
	if (e != 0) {
		dvs_err("volume %s (%s): not a usable ext2/3/4 file system: %s", v->name,
			v->source, error_message(e));
		rc = -EINVAL;
		goto fail;
	}
	rc = check_features(xv->fs, v->name, !xv->read_only);
	if (rc < 0)
		goto fail;
	e = ext2fs_read_bitmaps(xv->fs);
	if (e != 0) {
		dvs_err("volume %s (%s): cannot read the bitmaps: %s", v->name, v->source,
			error_message(e));
		rc = -EIO;
		goto fail;
	}
	if (!xv->read_only) {
		/* Not clean while we write: e2fsck checks it all after a
		 * crash (no journal is written, see ext.h). */
		xv->fs->super->s_state &= (uint16_t)~EXT2_VALID_FS;
		xv->fs->super->s_mnt_count++;
		xv->fs->super->s_mtime = (uint32_t)time(NULL);
		ext2fs_mark_super_dirty(xv->fs);
		e = ext2fs_flush2(xv->fs, 0);
		if (e != 0) {
			dvs_err("volume %s: cannot write the superblock: %s", v->name,
				error_message(e));
			rc = -EIO;
			goto fail;
		}
	}
	(void)ext_names_new(xv);
	v->ext = xv;
	v->cluster = xv->fs->blocksize;
	dvs_info("volume %s: ext%d, %u-byte blocks, %s, no journal writes", v->name,
		 ext2fs_has_feature_extents(xv->fs->super)		  ? 4
		 : ext2fs_has_feature_journal(xv->fs->super) ? 3
							      : 2,
		 xv->fs->blocksize, xv->read_only ? "read-only" : "read-write");
	return 0;
fail:
	if (xv->fs != NULL) {
		/* Nothing of ours to write back: drop without flushing. */
		xv->fs->flags &= ~EXT2_FLAG_DIRTY;
		ext2fs_free(xv->fs);
	}
	ext_blkio_forget(dev);
	pthread_mutex_destroy(&xv->lock);
	free(xv);
	return rc;
}

int
ext_volume_sync(struct ext_vol *xv)
{
	errcode_t e = 0;

	ext_lock(xv);
	if (!xv->read_only) {
		e = ext2fs_flush2(xv->fs, 0);
		if (e == 0)
			e = io_channel_flush(xv->fs->io);
	}
	ext_unlock(xv);
	return ext_err(e, "sync");
}

int
ext_volume_unmount(struct fs_volume *v)
{
	struct ext_vol *xv = v->ext;
	errcode_t e = 0;
	size_t i;

	if (xv == NULL)
		return 0;
	ext_lock(xv);
	/* Descriptors are all closed by now; unlinked files still open
	 * were freed as they closed.  Anything left is freed here. */
	for (i = 0; i < xv->nopen; i++)
		xv->open[i].count = 1;
	while (xv->nopen > 0)
		ext_open_put(xv, xv->open[xv->nopen - 1].ino);
	if (!xv->read_only) {
		xv->fs->super->s_state |= EXT2_VALID_FS;
		ext2fs_mark_super_dirty(xv->fs);
	}
	/* How much the one lock cost (docs/EXT.md, "Concurrency"). */
	dvs_info("volume %s: lock taken %llu times, %.1f ms spent waiting for it", v->name,
		 (unsigned long long)xv->lock_taken, (double)xv->lock_wait_ns / 1e6);
	e = ext2fs_close2(xv->fs, 0);
	xv->fs = NULL; /* freed, even after an error */
	if (e == 0 && !xv->read_only)
		dvs_info("volume %s: written and marked clean", v->name);
	else if (e != 0)
		dvs_err("volume %s: final flush failed: %s (run e2fsck)", v->name,
			error_message(e));
	ext_unlock(xv);
	ext_blkio_forget(v->dev);
	pthread_mutex_destroy(&xv->lock);
	ext_names_free(xv);
	free(xv->open);
	free(xv);
	v->ext = NULL;
	return e != 0 ? -EIO : 0;
}

static struct ext_open_ino *
open_find(struct ext_vol *xv, uint32_t ino)
{
	size_t i;

	for (i = 0; i < xv->nopen; i++)
		if (xv->open[i].ino == ino)
			return &xv->open[i];
	return NULL;
}

int
ext_open_ref(struct ext_vol *xv, uint32_t ino)
{
	struct ext_open_ino *o = open_find(xv, ino), *n;

	if (o != NULL) {
		o->count++;
		return 0;
	}
	if (xv->nopen == xv->cap_open) {
		size_t cap = xv->cap_open ? xv->cap_open * 2 : 16;

		n = realloc(xv->open, cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		xv->open = n;
		xv->cap_open = cap;
	}
	xv->open[xv->nopen].ino = ino;
	xv->open[xv->nopen].count = 1;
	xv->nopen++;
	return 0;
}

int
ext_is_open(struct ext_vol *xv, uint32_t ino)
{
	return open_find(xv, ino) != NULL;
}

void
ext_open_put(struct ext_vol *xv, uint32_t ino)
{
	struct ext_open_ino *o = open_find(xv, ino);
	struct ext2_inode_large in;

	if (o == NULL || --o->count > 0)
		return;
	*o = xv->open[--xv->nopen];
	if (xv->read_only)
		return;
	if (ext_iget(xv, ino, &in) == 0 && in.i_links_count == 0 && in.i_dtime == 0)
		(void)ext_free_inode(xv, ino);
}

void
ext_fd_release(struct ext_vol *xv, uint32_t ino)
{
	ext_lock(xv);
	ext_open_put(xv, ino);
	ext_unlock(xv);
}
