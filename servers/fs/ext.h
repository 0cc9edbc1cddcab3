/*
 * ext.h - ext2/ext3/ext4 volumes of dvs-fs, through libext2fs.
 *
 * A volume whose image holds an ext superblock is served by these files
 * instead of the FAT engine: dispatch.c picks ext_table for a session on
 * such a volume (same call numbers, handlers named ext_do_<call>).
 *
 * Concurrency.  libext2fs is not thread-safe on one ext2_filsys: its inode
 * cache, bitmaps, group descriptors and the I/O channel are shared state
 * with no lock of their own.  So each volume has one mutex, xv->lock, held
 * around every libext2fs call of a request and never across a DVK call:
 * the copy from or into the client's grant (the slow part of a read or a
 * write, and the only part that waits on a peer) runs unlocked, in
 * parallel with other workers.  Lock order: session/fd locks (fs.h) ->
 * xv->lock.  docs/EXT.md has the measurements.
 *
 * Descriptors hold only the inode number: each read or write opens an
 * ext2_file_t under the lock and closes it before unlocking (as fuse2fs
 * does), so two descriptors of one file never disagree about its size.
 * Open counts per inode keep an unlinked file's blocks until its last
 * descriptor closes.
 *
 * Consistency: no journal is written (libext2fs has no transaction API).
 * Data and metadata go to the image in place; the bitmaps, group
 * descriptors and superblock go at every fsync, FS_SYNC and periodic
 * flush.  The superblock says "not clean" while the volume is mounted
 * read-write, so e2fsck checks it fully after a crash; a clean stop marks
 * it clean.  An image whose journal needs recovery is refused.
 */
#ifndef DVS_FS_EXT_H
#define DVS_FS_EXT_H

#include <pthread.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "fs.h"

struct ext_open_ino {
	uint32_t ino;
	uint32_t count;
};

struct ext_names;

struct ext_vol {
	ext2_filsys fs;	      /* under lock */
	dvs_mutex_t lock; /* fs and everything below */
	int read_only;
	/* Inodes with open descriptors (open counts), a small array:
	 * descriptors are few next to files. */
	struct ext_open_ino *open;
	size_t nopen, cap_open;
	uint64_t lock_wait_ns; /* total time spent waiting for lock */
	uint64_t lock_taken;
	struct ext_names *names; /* paths looked up (ext_names.c); under lock */
};

/* ---- the I/O manager (ext_blkio.c) ----------------------------------- */

/* libext2fs's I/O manager over a struct fat_blkdev (an image file or a
 * dvs-vdd, vddblk.c).  ext_blkio_name() registers dev (borrowed; it must
 * outlive the ext2_filsys) and returns the name to pass to ext2fs_open2
 * with ext_blkio_manager. */
extern io_manager ext_blkio_manager;
int ext_blkio_name(struct fat_blkdev *dev, char *name, size_t len);
/* Drops dev from the names (after its file system is closed). */
void ext_blkio_forget(struct fat_blkdev *dev);
/* Writes the block held back for merging (ext_blkio.c); ext_unlock calls
 * it, so a request leaves nothing unwritten.  0, or -EIO (logged; the
 * block stays held and the next flush fails if it still cannot go). */
int ext_blkio_settle(io_channel ch);

/* ---- volumes (ext_vol.c) ---------------------------------------------- */

/* 1 when the device holds an ext2/3/4 superblock (magic at byte 1080). */
int ext_probe(struct fat_blkdev *dev);
/* Opens the ext file system on dev for v (v->ext).  0 or -errno, with the
 * reason logged in words. */
int ext_volume_mount(struct fs_volume *v, struct fat_blkdev *dev);
/* Writes everything, marks the file system clean and closes it. */
int ext_volume_unmount(struct fs_volume *v);
/* Writes bitmaps, descriptors and superblock, then flushes the device. */
int ext_volume_sync(struct ext_vol *xv);

void ext_lock(struct ext_vol *xv) DVS_ACQUIRE(xv->lock);
void ext_unlock(struct ext_vol *xv) DVS_RELEASE(xv->lock);
/* Says that xv->lock is held here: in the callbacks libext2fs calls
 * (ext2fs_dir_iterate...) for a caller that holds it.  No run-time check. */
static inline void ext_held(struct ext_vol *xv) DVS_ASSERT_HELD(xv->lock);
static inline void
ext_held(struct ext_vol *xv)
{
	(void)xv;
}
/* -errno for a libext2fs error code (logged when it is not an everyday
 * one such as "not found"). */
int ext_err(errcode_t e, const char *what);

/* Open counts (caller holds xv->lock). */
int ext_open_ref(struct ext_vol *xv, uint32_t ino)
	DVS_REQUIRES(xv->lock);
/* Drops one; frees the inode if that was the last and it has no link. */
void ext_open_put(struct ext_vol *xv, uint32_t ino)
	DVS_REQUIRES(xv->lock);
int ext_is_open(struct ext_vol *xv, uint32_t ino)
	DVS_REQUIRES(xv->lock);
/* A descriptor's last reference went (session.c): ext_open_put, locked. */
void ext_fd_release(struct ext_vol *xv, uint32_t ino);

/* ---- inodes and paths (ext_inode.c); caller holds xv->lock ----------- */

int ext_iget(struct ext_vol *xv, uint32_t ino, struct ext2_inode_large *in)
	DVS_REQUIRES(xv->lock);
int ext_iput(struct ext_vol *xv, uint32_t ino, struct ext2_inode_large *in)
	DVS_REQUIRES(xv->lock);
/* Looks path (absolute, normalised) up without following a final
 * symbolic link. */
int ext_lookup(struct ext_vol *xv, const char *path, uint32_t *ino)
	DVS_REQUIRES(xv->lock);
/* Splits path into its directory's inode (a directory) and its last
 * name (points into path).  -ENOENT, -ENOTDIR, -ENAMETOOLONG, -EEXIST
 * for the root. */
int ext_parent(struct ext_vol *xv, const char *path, uint32_t *dir, const char **name)
	DVS_REQUIRES(xv->lock);
void ext_stat_to_wire(struct ext_vol *xv, uint32_t ino, const struct ext2_inode_large *in,
		      struct fs_wire_pstat *w)
	DVS_REQUIRES(xv->lock);
/* The stat of ino as the inode now is: 0, or <0 if it cannot be read. */
int ext_stat_ino(struct ext_vol *xv, uint32_t ino, struct fs_wire_pstat *w)
	DVS_REQUIRES(xv->lock);
/* The stat of ino into the reply payload (left zero on failure). */
void ext_reply_stat(struct fs_req *r, struct ext_vol *xv, uint32_t ino)
	DVS_REQUIRES(xv->lock);
/* Time fields: which is 'a', 'm' or 'c'. */
void ext_set_time(struct ext_vol *xv, struct ext2_inode_large *in, int which,
		  const struct timespec *t)
	DVS_REQUIRES(xv->lock);
void ext_touch(struct ext_vol *xv, uint32_t ino, int mtime)
	DVS_REQUIRES(xv->lock); /* ctime (+mtime) = now */
/* The same with the instant given (borrowed for the call). */
void ext_touch_at(struct ext_vol *xv, uint32_t ino, int mtime, const struct timespec *now)
	DVS_REQUIRES(xv->lock);
/* Adds name -> ino in dir, growing the directory when it is full. */
int ext_add_link(struct ext_vol *xv, uint32_t dir, const char *name, uint32_t ino,
		 int ftype)
	DVS_REQUIRES(xv->lock);
/* Drops one link of ino (a directory loses all); frees it when no link
 * and no descriptor is left. */
int ext_drop_link(struct ext_vol *xv, uint32_t ino)
	DVS_REQUIRES(xv->lock);
/* Frees an inode with no link left (blocks, then the inode itself). */
int ext_free_inode(struct ext_vol *xv, uint32_t ino)
	DVS_REQUIRES(xv->lock);
/* Makes a new inode of mode in dir named name with the request's owner;
 * *out its number.  Not for directories (ext_do_mkdir) or symlinks. */
int ext_new_node(struct fs_req *r, struct ext_vol *xv, const char *path, uint32_t mode,
		 uint32_t *out)
	DVS_REQUIRES(xv->lock);
/* A new inode's owner (the caller, as the DVK told the server, never the
 * client's bytes) and its access, change and modification times: now
 * (also into *now). */
void ext_own_new(struct fs_req *r, struct ext_vol *xv, struct ext2_inode_large *in,
		 struct timespec *now)
	DVS_REQUIRES(xv->lock);
/* After libext2fs made name in dir (ext2fs_mkdir, ext2fs_symlink): the new
 * inode gets ext_own_new's owner and times (and mode, unless 0), dir's
 * times change, the reply carries its stat.  what: for a failed lookup's
 * log line. */
int ext_finish_made(struct fs_req *r, struct ext_vol *xv, uint32_t dir, const char *name,
		    uint32_t mode, const char *what)
	DVS_REQUIRES(xv->lock);
/* After a name for ino was added in dir: writes in back, dir's times
 * change, the reply carries ino's stat.  0 or -errno. */
int ext_put_named(struct fs_req *r, struct ext_vol *xv, uint32_t dir, uint32_t ino,
		  struct ext2_inode_large *in)
	DVS_REQUIRES(xv->lock);
/* The same in directory dir (from ext_parent) where the caller has just
 * found no entry name.  dir's modification and change times become the
 * new inode's times (one instant). */
int ext_new_node_at(struct fs_req *r, struct ext_vol *xv, uint32_t dir, const char *name,
		    uint32_t mode, uint32_t *out)
	DVS_REQUIRES(xv->lock);
int ext_ftype(uint32_t mode);
/* 1 when directory ino holds nothing but "." and "..". */
int ext_dir_empty(struct ext_vol *xv, uint32_t ino)
	DVS_REQUIRES(xv->lock);

/* ---- the memo of paths (ext_names.c); caller holds xv->lock ------- */

/* Allocates and frees xv->names (without one, lookups just walk). */
int ext_names_new(struct ext_vol *xv);
void ext_names_free(struct ext_vol *xv);
/* 1 and *ino when path is known. */
int ext_names_get(struct ext_vol *xv, const char *path, uint32_t *ino);
/* Remembers that path names ino (path is copied). */
void ext_names_put(struct ext_vol *xv, const char *path, uint32_t ino);
/* Forgets every path: call before any name is removed or renamed. */
void ext_names_forget(struct ext_vol *xv);

/* ---- file data (ext_data.c); caller holds xv->lock ------------------ */

/* Reads up to len bytes at off of regular file ino into buf: the count
 * (short at end of file) or -errno. */
ssize_t ext_data_read(struct ext_vol *xv, uint32_t ino, unsigned char *buf, size_t len,
		      uint64_t off)
	DVS_REQUIRES(xv->lock);
/* Writes len bytes at off, growing the file as needed: the count written
 * (short only after an error) or -errno.  Updates mtime and ctime of the
 * blocks written in runs; the caller touches the file after. */
ssize_t ext_data_write(struct ext_vol *xv, uint32_t ino, const unsigned char *buf,
		       size_t len, uint64_t off)
	DVS_REQUIRES(xv->lock);

/* ---- arguments (ext_attr.c) ------------------------------------------- */

/* -EROFS when the volume is read-only. */
int ext_writable(struct fs_req *r);

/* ---- handlers (ext_file.c, ext_dir.c, ext_link.c, ext_attr.c) -------- */

extern const struct fs_call_desc ext_table[FS_NCALLS];

int ext_do_open(struct fs_req *r);
int ext_do_read(struct fs_req *r);
int ext_do_write(struct fs_req *r);
int ext_do_lseek(struct fs_req *r);
int ext_do_truncate(struct fs_req *r);
int ext_do_ftruncate(struct fs_req *r);
int ext_do_fsync(struct fs_req *r);
int ext_do_stat(struct fs_req *r);
int ext_do_fstat(struct fs_req *r);
int ext_do_mkdir(struct fs_req *r);
int ext_do_rmdir(struct fs_req *r);
int ext_do_unlink(struct fs_req *r);
int ext_do_rename(struct fs_req *r);
int ext_do_readdir(struct fs_req *r);
int ext_do_utimens(struct fs_req *r);
int ext_do_close(struct fs_req *r);
int ext_do_chmod(struct fs_req *r);
int ext_do_chown(struct fs_req *r);
int ext_do_sync(struct fs_req *r);
int ext_do_statvfs(struct fs_req *r);
int ext_do_symlink(struct fs_req *r);
int ext_do_readlink(struct fs_req *r);
int ext_do_link(struct fs_req *r);
int ext_do_mknod(struct fs_req *r);
int ext_do_owner(struct fs_req *r);

#endif
