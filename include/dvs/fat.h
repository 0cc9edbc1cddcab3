/*
 * fat.h - the DVS FAT engine: FAT12/16/32 with VFAT long names, formatting
 * and fsck-clean updates, over a pluggable block device.  No IPC inside.
 *
 * Layers:
 *
 *   struct fat_blkdev   a table of functions + context that reads and
 *                       writes device sectors (image file backend below;
 *                       dvs-fs adds one over IPC to dvs-vdd);
 *   struct fat_vol      a mounted volume (fat_mount/fat_unmount);
 *   path operations     fat_stat, fat_mkdir, fat_unlink, fat_rename, ...;
 *   struct fat_file     an open file (fat_open, fat_pread, fat_pwrite, ...);
 *   struct fat_dir      a directory iterator (fat_dir_open, fat_dir_read).
 *
 * Paths are absolute, UTF-8, '/'-separated ("/a/b.txt"; "/" is the root;
 * repeated '/' and a trailing '/' are accepted; "." and ".." components are
 * refused with -EINVAL: callers resolve them).  Name matching is
 * case-insensitive the way Windows does it (ASCII and the Latin-1/Greek/
 * Cyrillic upper-case folds of UTF-16); names keep the case they were
 * created with.
 *
 * Errors: every int-returning call gives 0 (or a byte count) on success
 * and a negative errno on failure.  The ones callers should expect:
 *   -ENOENT   no such file or directory (or a parent is missing)
 *   -ENOTDIR  a path component is not a directory
 *   -EISDIR   open for writing / unlink of a directory
 *   -EEXIST   O_CREAT|O_EXCL on an existing name, mkdir on an existing name
 *   -ENOTEMPTY rmdir / rename over a non-empty directory
 *   -EINVAL   bad name (invalid character, "." or "..", empty, trailing dot
 *             or space only), rename of a directory into itself, bad option
 *   -ENAMETOOLONG  a name over 255 UTF-16 units, a path over FAT_PATH_MAX
 *   -EACCES   write to a file with the read-only attribute
 *   -EROFS    any change on a read-only mount
 *   -ENOSPC   no free cluster / no room for a directory entry (the volume
 *             stays consistent: a short write returns what was written)
 *   -EFBIG    a file would grow past 4 GiB - 1
 *   -EBADF    write on a handle opened O_RDONLY, read on O_WRONLY
 *   -EUCLEAN  the volume's metadata is corrupt (chain loop, cluster out of
 *             range, directory that contains itself, bad boot sector);
 *             the operation is refused, nothing is written
 *   -EIO      the block device failed (its own negative code is passed on
 *             when it gives one)
 *
 * Threads: every call may be made from any thread.  A volume has one
 * metadata lock (FAT, directories, the block cache) and one read/write lock
 * per open file node.  What runs in parallel:
 *   - fat_pread on the same or different files: in parallel (the data is
 *     read from the device outside the metadata lock);
 *   - fat_pwrite on different files: in parallel, except for the short
 *     moments a write allocates clusters; fat_pwrite / fat_ftruncate on the
 *     same file are serialized with each other and with reads of that file;
 *   - path operations (lookup, create, rename, unlink, readdir, stat):
 *     serialized with each other by the metadata lock;
 *   - fat_sync / fat_fsync: serialized with metadata changes.
 * fat_close of a handle must not race with other calls on the same handle
 * (as with close(2)); fat_unmount must be called after every other call on
 * the volume has returned and every handle and iterator is closed.
 *
 * Durability: large writes go to the block device at once (without a
 * device flush); small writes that continue one another are gathered in a
 * per-file write-behind buffer (written out before an overlapping read,
 * a truncation, at fat_close and at every flush; at fat_close, whole
 * sectors may instead join the volume's 1 MiB stage, written with their
 * device neighbours before any access to them and at every flush).  FAT
 * and directory
 * sectors are cached write-back and reach the device at fat_fsync,
 * fat_sync, fat_unmount, or when the cache is over its bound.  Every flush
 * is ordered: buffered data, device flush, FAT (both copies), device
 * flush, directory entries, device flush, then clusters freed since the
 * last flush are released.  A crash therefore
 * leaves at worst lost clusters and files shorter than their chains, never
 * a cross-link or a directory entry that points at a free cluster.  After
 * fat_fsync(f) returns 0, f's data, size and times survive a crash.
 */
#ifndef DVS_FAT_H
#define DVS_FAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest name in UTF-8 bytes (255 UTF-16 units, up to 3 bytes each). */
#define FAT_NAME_MAX 765
/*
 * fat_open flag (beside the O_* ones): the caller's permission to write was
 * already checked by someone entitled to (a kernel that lets root write a
 * file with no write bits): the read-only attribute does not refuse the
 * write or the truncation.  Linux's vfat lets root do the same.
 */
#define FAT_O_OVERRIDE_RO 0x40000000

/* Longest path accepted, in bytes, without the terminating NUL: paths are
 * from the root of the volume, so it is more than Linux's PATH_MAX (a path
 * relative to a deep working directory is measured from there). */
#define FAT_PATH_MAX 65535

/* ------------------------------------------------------------------ */
/* Block devices                                                       */
/* ------------------------------------------------------------------ */

struct fat_blkdev;

/*
 * A backend.  Sector numbers and counts are in the device's own sectors
 * (dev->sector_size bytes).  Each function returns 0 or a negative errno.
 * The engine never asks for a sector at or past dev->sector_count.  The
 * functions may be called from several threads at once (the image backend
 * uses pread/pwrite); a backend that cannot do that must lock inside.
 *   read   fill buf with count sectors from sector;
 *   write  write count sectors of buf at sector;
 *   flush  make every completed write durable (fsync); may be NULL;
 *   close  release ctx; called by fat_blkdev_free; may be NULL.
 */
struct fat_blkdev_ops {
	int (*read)(struct fat_blkdev *dev, uint64_t sector, uint32_t count,
		    void *buf);
	int (*write)(struct fat_blkdev *dev, uint64_t sector, uint32_t count,
		     const void *buf);
	int (*flush)(struct fat_blkdev *dev);
	void (*close)(struct fat_blkdev *dev);
};

/*
 * A block device.  A backend fills every field.  sector_size is a power of
 * two from 512 to 4096; a volume's logical sector size must be a multiple
 * of it.  read_only makes fat_mount refuse read-write mounts and
 * fat_format refuse to run.  ops is borrowed (static tables are usual);
 * ctx belongs to the backend.
 */
struct fat_blkdev {
	const struct fat_blkdev_ops *ops;
	void *ctx;
	uint32_t sector_size;
	uint64_t sector_count;
	int read_only;
};

/* Options of the image-file backend.  Zero means the default. */
struct fat_image_opts {
	int read_only;		/* open O_RDONLY */
	int partition;		/* 0: whole image; 1..4: that MBR primary
				   partition (its start and size are used) */
	uint64_t offset;	/* byte offset of the volume in the file
				   (multiple of 512; ignored if partition) */
	uint64_t size;		/* volume size in bytes; 0: to the end of the
				   file or partition */
	uint64_t create_size;	/* if nonzero and the file is missing or
				   shorter, create/extend it to this size
				   (sparse); used before fat_format */
	uint32_t sector_size;	/* device sector size; default 512 */
};

/*
 * Opens an image file as a block device.  path is borrowed for the call.
 * On success *out is a new device to be freed with fat_blkdev_free (which
 * closes the file).  Errors: -errno of open/fstat, -EINVAL for a partition
 * number out of range, a missing/empty MBR entry, or a window past the end
 * of the file; -EBUSY when another program holds the image's lock (a
 * writable open takes it exclusively, a read-only one shared, on the open
 * file: see <dvs/imagelock.h>), with a message naming the holder.
 */
int fat_image_open(const char *path, const struct fat_image_opts *opts,
		   struct fat_blkdev **out);

/* Calls dev->ops->close and frees a device made by fat_image_open.  NULL
 * is fine.  Backends made elsewhere are released by their makers. */
void fat_blkdev_free(struct fat_blkdev *dev);

/* ------------------------------------------------------------------ */
/* Format                                                              */
/* ------------------------------------------------------------------ */

/* Options of fat_format.  Zero means "choose like mkfs.fat". */
struct fat_format_opts {
	int fat_type;		/* 0 (auto), 12, 16 or 32 */
	uint64_t size;		/* volume bytes; 0: the whole device */
	uint32_t cluster_size;	/* bytes: sector size * 1..128, <= 64 KiB */
	uint32_t sector_size;	/* logical: 512..4096; 0: the device's */
	const char *label;	/* up to 11 bytes, borrowed; NULL: "NO NAME" */
	uint32_t volume_id;	/* 0: derived from the time */
	uint32_t root_entries;	/* FAT12/16 root directory size; 0: 512 (224
				   for a 1.44 MB floppy) */
	uint32_t hidden_sectors; /* sectors before the volume (partitions) */
	uint8_t media;		/* 0: 0xF8 (0xF0 for floppies) */
	uint8_t num_fats;	/* 0: 2 */
};

/*
 * Writes a new, empty volume on dev (destroying what was there): boot
 * sector (and FSInfo + backup boot sector for FAT32), both FATs, an empty
 * root directory, and the label (boot sector and root directory entry).
 * Sizes follow mkfs.fat's rules, so fsck.fat and mtools accept the result.
 * Errors: -EINVAL for a combination that cannot make a valid volume of the
 * asked type (e.g. FAT32 with too few clusters), -EROFS, device errors.
 */
int fat_format(struct fat_blkdev *dev, const struct fat_format_opts *opts);

/* ------------------------------------------------------------------ */
/* Volumes                                                             */
/* ------------------------------------------------------------------ */

struct fat_vol;

struct fat_mount_opts {
	int read_only;		/* refuse every change with -EROFS */
	size_t cache_bytes;	/* bound of the block cache (directories,
				   and up to half of it for write-behind
				   buffers); 0: 8 MiB.  The in-memory FAT
				   (4 bytes a cluster) is counted apart. */
	int tz_offset_min;	/* minutes east of UTC of the on-disk times
				   (FAT stores local time); default 0 (UTC) */
};

/*
 * Mounts the FAT volume on dev.  dev is borrowed and must outlive the
 * volume.  The boot sector is checked (signature, sizes, that the volume
 * fits in the device); the FAT is read into memory.  A read-write mount
 * sets the dirty flag on disk at once; fat_unmount clears it.
 * On success *out is a new volume to be ended with fat_unmount.
 * Errors: -EUCLEAN (not a FAT volume, or inconsistent boot sector),
 * -ENOMEM, -EROFS (read-write mount on a read-only device), device errors.
 */
int fat_mount(struct fat_blkdev *dev, const struct fat_mount_opts *opts,
	      struct fat_vol **out);

/*
 * Flushes everything (like fat_sync), clears the dirty flag, writes FSInfo
 * and frees the volume.  The volume is freed even when the flush fails;
 * the return value says whether the final state reached the device.
 * NULL is fine (returns 0).
 */
int fat_unmount(struct fat_vol *vol);

/* Writes every dirty block in the order described above; then flushes the
 * device.  The dirty flag stays set (the volume is still mounted). */
int fat_sync(struct fat_vol *vol);

struct fat_statfs {
	int fat_type;		/* 12, 16 or 32 */
	uint32_t sector_size;	/* logical sector size */
	uint32_t cluster_size;	/* bytes */
	uint32_t total_clusters;
	uint32_t free_clusters;
	uint64_t total_bytes;	/* data area: total_clusters * cluster_size */
	uint64_t free_bytes;
	uint32_t volume_id;
	char label[12];		/* NUL-terminated, trailing spaces removed */
	uint32_t name_max;	/* 255 */
	int read_only;
};

int fat_statfs(struct fat_vol *vol, struct fat_statfs *st);

/* Sets the volume label (boot sector and root entry).  label: up to 11
 * bytes of printable ASCII (upper-cased; no *?.,;:/\|+=<>[]"); "" removes
 * it.  -EINVAL for a bad label. */
int fat_set_label(struct fat_vol *vol, const char *label);

/* ------------------------------------------------------------------ */
/* Files and directories by path                                      */
/* ------------------------------------------------------------------ */

/* Attribute bits (the on-disk ones). */
#define FAT_ATTR_RDONLY 0x01
#define FAT_ATTR_HIDDEN 0x02
#define FAT_ATTR_SYSTEM 0x04
#define FAT_ATTR_VOLID 0x08
#define FAT_ATTR_DIR 0x10
#define FAT_ATTR_ARCHIVE 0x20

/*
 * What fat_stat and friends report.
 *
 * ino: a stable node number.  The root is 1.  Every other node's number
 * is derived from where its 8.3 directory entry lives on the device
 * (byte offset / 32 + 2), so it is unique on the volume, the same across
 * mounts, and unchanged by writes, truncation, attribute and time
 * changes.  A rename moves the entry but the node keeps its number for
 * the life of the mount (the volume remembers it for each renamed file
 * that still exists; a new file in the old slot gets a number from 2^60
 * up while the renamed one lives), as Linux file systems keep an inode's
 * number.  After a remount a renamed file has the number of where it is.
 *
 * Times are Unix seconds + nanoseconds (UTC, see tz_offset_min) at FAT's
 * resolution: mtime 2 s, btime (creation) 10 ms, atime one day.  FAT has
 * no change time: ctime = mtime, as Linux's vfat reports.
 */
struct fat_stat {
	uint64_t ino;
	uint64_t size;		/* bytes; 0 for directories */
	uint32_t attr;		/* FAT_ATTR_* */
	uint32_t nlink;		/* 1 (directories: 2 + subdirectories is not
				   tracked; 1 as well) */
	struct timespec mtime;
	struct timespec atime;
	struct timespec ctime;
	struct timespec btime;
	uint32_t blksize;	/* the cluster size */
	uint64_t blocks;	/* 512-byte units allocated (clusters * cs/512) */
	uint32_t first_cluster;	/* 0 for an empty file */
};

/* Looks a path up.  -ENOENT, -ENOTDIR, -EINVAL (bad name). */
int fat_stat(struct fat_vol *vol, const char *path, struct fat_stat *st);

/* Creates a directory (with "." and ".." entries).  -EEXIST, -ENOSPC. */
int fat_mkdir(struct fat_vol *vol, const char *path);

/* Removes an empty directory.  -ENOTEMPTY, -ENOTDIR, -EBUSY for "/". */
int fat_rmdir(struct fat_vol *vol, const char *path);

/*
 * Removes a file.  -EISDIR for a directory.  If handles are open on it,
 * they keep working on the (now nameless) data until the last one closes,
 * then its clusters are freed (a crash before that leaves lost clusters).
 */
int fat_unlink(struct fat_vol *vol, const char *path);

/*
 * Renames from to to, across directories too.  If to exists: a file is
 * replaced by a file atomically from the caller's view (in the on-disk
 * order: new entry, then the old one is removed); a directory by a
 * directory only if it is empty; -EISDIR / -ENOTDIR on a mismatch.
 * -EINVAL if to is inside from.  Renaming a name to itself (or to a case
 * variant of itself, which changes the stored case) is allowed.
 */
int fat_rename(struct fat_vol *vol, const char *from, const char *to);
/* fat_rename with flags: FAT_RENAME_NOREPLACE gives -EEXIST if to exists
 * (other than from itself in another case), decided atomically with the
 * rename.  Other flags -EINVAL. */
#define FAT_RENAME_NOREPLACE 0x1
int fat_rename2(struct fat_vol *vol, const char *from, const char *to,
		unsigned flags);

/*
 * Sets the times: mtime and/or atime (NULL leaves one unchanged).
 * Rounded down to FAT's resolution.
 */
int fat_utimens(struct fat_vol *vol, const char *path,
		const struct timespec *atime, const struct timespec *mtime);

/*
 * Sets the attribute bits in mask to the values in attr.  Only
 * FAT_ATTR_RDONLY, _HIDDEN, _SYSTEM and _ARCHIVE may be changed
 * (-EINVAL otherwise).  A read-only file refuses opening for writing and
 * truncation (-EACCES) until the bit is cleared (or the opener passes
 * FAT_O_OVERRIDE_RO); unlink and rename are
 * allowed (they change the directory, not the file: Linux's vfat does the
 * same).
 */
int fat_setattr(struct fat_vol *vol, const char *path, uint32_t attr,
		uint32_t mask);

/* ------------------------------------------------------------------ */
/* Directory listing                                                   */
/* ------------------------------------------------------------------ */

struct fat_dir;

struct fat_dirent {
	char name[FAT_NAME_MAX + 1];	/* UTF-8, NUL-terminated */
	char short_name[13];		/* the 8.3 alias, "NAME.EXT" */
	struct fat_stat st;
	uint64_t off;	/* pass to fat_dir_seek to resume after this entry */
};

/*
 * Opens a directory for listing.  "." and ".." are not listed; the volume
 * label is not listed.  On success *out is an iterator freed by
 * fat_dir_close.  -ENOTDIR, -ENOENT.
 *
 * An iterator sees a snapshot of positions: entries created or removed
 * while it is open may or may not be listed, but no entry is listed twice
 * and no entry that stayed is skipped.  Offsets are stable slot numbers
 * (fit for telldir/getdents cookies of a server).
 */
int fat_dir_open(struct fat_vol *vol, const char *path, struct fat_dir **out);

/* Reads the next entry into *ent: returns 1, 0 at the end, or -errno
 * (-EUCLEAN for a corrupt directory). */
int fat_dir_read(struct fat_dir *d, struct fat_dirent *ent);

/* Resumes listing after the entry whose ent.off was given (0: restart). */
int fat_dir_seek(struct fat_dir *d, uint64_t off);

/* Frees an iterator.  NULL is fine. */
void fat_dir_close(struct fat_dir *d);

/*
 * Convenience: calls cb for each entry of path (ent is valid only during
 * the call).  cb returns 0 to go on, anything else stops the walk and is
 * returned.  cb must not call into the same volume.
 */
typedef int (*fat_readdir_cb)(void *arg, const struct fat_dirent *ent);
int fat_readdir(struct fat_vol *vol, const char *path, fat_readdir_cb cb,
		void *arg);

/* ------------------------------------------------------------------ */
/* Open files                                                          */
/* ------------------------------------------------------------------ */

struct fat_file;

/*
 * Opens a file.  flags: O_RDONLY, O_WRONLY or O_RDWR, plus O_CREAT,
 * O_EXCL, O_TRUNC, O_APPEND (other bits are ignored).  Directories may be
 * opened O_RDONLY (for fat_fstat / fat_fsync); reads on them give -EISDIR.
 * On success *out is a new handle to be freed with fat_close.  Handles of
 * the same file share one node (size, extent map), so a write through one
 * is seen at once by reads through another.
 * Errors: -ENOENT (no O_CREAT), -EEXIST (O_CREAT|O_EXCL), -EISDIR (write
 * access to a directory), -EACCES (write access to a read-only file),
 * -EROFS, -ENOSPC (no room for the directory entry), -EINVAL (bad name).
 * FAT_O_OVERRIDE_RO in flags: see its definition.
 */
int fat_open(struct fat_vol *vol, const char *path, int flags,
	     struct fat_file **out);

/*
 * Reads up to len bytes at off into buf (borrowed).  Returns the number of
 * bytes read (0 at or past the end of the file) or -errno.
 */
ssize_t fat_pread(struct fat_file *f, void *buf, size_t len, uint64_t off);

/*
 * Writes len bytes from buf at off; with O_APPEND the offset is ignored
 * and the data goes to the end of the file (as Linux's pwrite does).  A
 * write past the end fills the gap with zeros (clusters are allocated, FAT
 * has no holes).  Returns the bytes written, which is less than len only
 * when the volume filled up (then the next call gives -ENOSPC), or -errno.
 * Updates mtime and sets the archive bit.
 */
ssize_t fat_pwrite(struct fat_file *f, const void *buf, size_t len,
		   uint64_t off);

/* Sets the size; growing fills with zeros.  Needs write access. */
int fat_ftruncate(struct fat_file *f, uint64_t size);

/*
 * Allocates clusters for [off, off + len) (Linux's fallocate, the modes FAT
 * can hold, as vfat).  mode 0: the file grows to off + len if shorter
 * (zeros, like fat_ftruncate).  FAT_FALLOC_KEEP_SIZE: clusters past the
 * size are allocated and the size stays; they are freed again when a
 * handle with write access closes.  Needs write access.  Errors: -ENOSPC
 * (nothing is kept), -EFBIG, -EINVAL (len 0), -EOPNOTSUPP (any other mode
 * bit: FAT has no holes to punch or ranges to collapse or zero lazily).
 */
#define FAT_FALLOC_KEEP_SIZE 0x1 /* Linux's FALLOC_FL_KEEP_SIZE */
int fat_fallocate(struct fat_file *f, int mode, uint64_t off, uint64_t len);

/* Makes this file's data and metadata (and so the whole FAT and its
 * directory entry) durable. */
int fat_fsync(struct fat_file *f);

/* Stats the open file (works after fat_unlink too; ino then stays the
 * old value). */
int fat_fstat(struct fat_file *f, struct fat_stat *st);

/*
 * Closes a handle.  Its buffered bytes are written to the device (or
 * staged to be written with the next closed files' bytes; an error of
 * that later write is reported by the next fat_fsync / fat_sync); the
 * directory entry (size, mtime) is updated in the cache and reaches the
 * device at the next flush.  NULL is fine.  The handle is freed even on
 * error; the return value is 0 or the error of writing buffered data.
 */
int fat_close(struct fat_file *f);

/* ------------------------------------------------------------------ */
/* Checking helpers (used by tests and dvs-fat)                        */
/* ------------------------------------------------------------------ */

/* A human-readable name for an engine error (strerror plus our meaning
 * of EUCLEAN).  Static string. */
const char *fat_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
