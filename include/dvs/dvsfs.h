/*
 * dvsfs.h - libdvsfs, the client side of the file protocol (fsproto.h):
 * a POSIX-like file API on a volume served by dvs-fs (MoL's syscall
 * library: each call is one or a few sendrec round trips).
 *
 * A process must be admitted to the DC of dvs-fs (run it with
 * `dvsctl run --dc N --ep E[-F] -- prog ...`, see docs/DVK.md and docs/FS.md).
 *
 * Handles and threads.  dvsfs_connect() opens one session on one volume and
 * returns a handle that every thread of the process may use at the same
 * time, with no lock shared between threads: each thread that calls into
 * the handle gets its own DVK binding (dvk_bind(DVK_ANY)) on first use,
 * joined to the same session, so descriptors opened by one thread are valid
 * in every other.  A thread's binding is released when the thread exits or
 * at dvsfs_disconnect().  When the process's admission has no free endpoint
 * left for a new thread, that thread shares the connecting thread's binding
 * behind a mutex (correct, only slower): admit a range of endpoints
 * (one per thread that talks at once, plus one) to avoid it.
 *
 * Errors.  Every call returns 0 / a count / a descriptor on success and a
 * negative errno value on failure (-ENOENT, -EEXIST, -ENOTEMPTY, -EISDIR,
 * -ENOTDIR, -ENOSPC, -ENAMETOOLONG, -EROFS, -EBADF, -EINVAL, -EIO, ...);
 * errno is not set.  A server that died or unbound gives -ENOTCONN, a DVK
 * failure that is not the server's answer -EIO; dvsfs_last_dvk_error()
 * tells the DVK code behind the last such error of the calling thread.
 * dvsfs_connect() returns the DVK's own codes (-EDVS_NOTBOUND when no
 * dvs-fs is bound to the endpoint, -EDVS_NOTADMITTED outside a DC, ...):
 * print them with dvk_strerror(), which also names -errno values.
 *
 * Memory: the library never keeps a pointer the caller passed after the
 * call returns; buffers are granted to the server only for one request.
 */
#ifndef DVS_DVSFS_H
#define DVS_DVSFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

#include "fsproto.h"
#include "ipc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dvsfs;

/* Longest name in a directory, in UTF-8 bytes. */
#define DVS_NAME_MAX FS_NAME_MAX

struct dvsfs_opts {
	dvk_ep_t server_ep; /* well-known endpoint of dvs-fs; default from
			     * $DVS_FS_EP, else FS_EP_DEFAULT (1) */
	const char *volume; /* volume name or NULL (first volume); default
			     * from $DVS_FS_VOLUME; borrowed for the call */
	dvk_ep_t self_ep;   /* endpoint of the connecting thread's binding;
			     * DVK_ANY (default) picks a free one */
	int timeout_ms;	    /* per round trip; -1 (default) waits: a dead
			     * server answers at once anyway */
	int access_checked; /* 1: the caller's kernel checked permissions
			     * already (a FUSE adapter with
			     * default_permissions): opens for writing and
			     * truncations are not refused for the FAT
			     * read-only bit (FS_O_ACCESS_CHECKED); 0
			     * (default): they are, as for a non-root caller */
};

/* Fills o with the defaults above (reads the environment). */
void dvsfs_opts_init(struct dvsfs_opts *o);

/* Opens a session.  o may be NULL (defaults).  *out is freed by
 * dvsfs_disconnect().  Returns 0 or a negative DVK/errno code. */
int dvsfs_connect(const struct dvsfs_opts *o, struct dvsfs **out);

/* Ends the session (the server closes every descriptor still open) and
 * frees fs with every thread binding.  Call it when no other thread is in
 * a call on fs.  NULL is fine. */
int dvsfs_disconnect(struct dvsfs *fs);

/* Endpoint of the server and of the calling thread's binding (binds it
 * if needed; negative on failure). */
dvk_ep_t dvsfs_server_ep(const struct dvsfs *fs);
dvk_ep_t dvsfs_self_ep(struct dvsfs *fs);
/* Session id the server gave. */
uint32_t dvsfs_session(const struct dvsfs *fs);
/* Largest transfer of one round trip (what the server announced). */
size_t dvsfs_io_max(const struct dvsfs *fs);
/* The DVK code behind the calling thread's last -ENOTCONN/-EIO, or 0. */
int dvsfs_last_dvk_error(void);

/* File attributes.  st_ino is the FAT engine's node id (fat.h): the root
 * is 1; any other node's id comes from where its directory entry lives, so
 * it is unique on the volume, the same across mounts and unchanged by
 * writes, truncation, attribute and time changes.  A rename gives the node
 * a new id (open descriptors keep working) and the old id may be reused by
 * a later create: a FUSE low-level adapter keeps its own id -> path map and
 * updates it on rename. */
struct dvs_stat {
	uint64_t st_ino;
	uint64_t st_size;
	uint64_t st_blocks; /* 512-byte units */
	uint32_t st_mode;   /* S_IFREG or S_IFDIR | 0755/0644, 0555/0444 when
			     * the FAT read-only bit is set; on a POSIX
			     * volume the file's own type and mode */
	uint32_t st_nlink;
	uint32_t st_uid;     /* POSIX volumes; 0 on FAT */
	uint32_t st_gid;
	uint32_t st_blksize; /* cluster size: the best I/O unit */
	uint8_t fat_attr;    /* FS_ATTR_* of fsproto.h */
	struct timespec st_atim;
	struct timespec st_mtim;
	struct timespec st_ctim; /* FAT has no change time: = st_mtim */
};

/* Files.  flags are Linux O_ flags: O_RDONLY/O_WRONLY/O_RDWR, O_CREAT,
 * O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY (others are ignored, O_NOFOLLOW
 * and O_CLOEXEC included: FAT has no links and the descriptor lives in the
 * server).  mode only decides the read-only bit of a created file. */
int dvs_open(struct dvsfs *fs, const char *path, int flags, mode_t mode);
/* dvs_open that also fills *st with the opened file's attributes, in the
 * same round trip (a create followed by an fstat costs one). */
int dvs_open_stat(struct dvsfs *fs, const char *path, int flags, mode_t mode,
		  struct dvs_stat *st);
/*
 * What creating a file did to its directory (dvs_create_stat): when known
 * is 1, the directory (inode number ino) now has size and blocks, and its
 * modification and change times are both time; nothing else of it changed.
 * known 0: the server did not say (FAT, or it could not tell): ask.
 */
struct dvs_create_dir {
	int known;
	uint64_t ino;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	struct timespec time;
};
/* dvs_open_stat of a file to be made (flags must hold O_CREAT and O_EXCL,
 * else -EINVAL) that also tells, in the same round trip, what the create
 * did to the directory (*dir, FS_O_DIRSTAT on a POSIX volume). */
int dvs_create_stat(struct dvsfs *fs, const char *path, int flags, mode_t mode,
		    struct dvs_stat *st, struct dvs_create_dir *dir);
int dvs_creat(struct dvsfs *fs, const char *path, mode_t mode);
int dvs_close(struct dvsfs *fs, int fd);
/* dvs_close that first sets the file's access and modification times (ts
 * as dvs_utimens: NULL is both now) and its change time, in the same
 * round trip.  Only where dvsfs_close_times() says the server can (ext
 * volumes); the descriptor closes even when the times fail (the error is
 * returned). */
int dvs_close_times(struct dvsfs *fs, int fd, const struct timespec ts[2]);
/* 1 when the server takes times with a close, else 0 (asks it: one round
 * trip; ask once). */
int dvsfs_close_times(struct dvsfs *fs);

/* Transfers of any size (split into dvsfs_io_max() round trips; a short
 * count only at end of file or when the volume fills up after some bytes).
 * dvs_read/dvs_write use and move the descriptor's position, shared by
 * every thread; dvs_pread/dvs_pwrite leave it alone. */
ssize_t dvs_read(struct dvsfs *fs, int fd, void *buf, size_t count);
ssize_t dvs_write(struct dvsfs *fs, int fd, const void *buf, size_t count);
ssize_t dvs_pread(struct dvsfs *fs, int fd, void *buf, size_t count, off_t off);
ssize_t dvs_pwrite(struct dvsfs *fs, int fd, const void *buf, size_t count, off_t off);
/*
 * What a write changed (the server's reply, POSIX volumes): the file
 * (inode number st_ino) now has st_size, st_blocks and the two times;
 * none of its other attributes changed.  st_ino 0: not told (FAT, or
 * nothing written).
 */
struct dvs_write_stat {
	uint64_t st_ino;
	uint64_t st_size;
	uint64_t st_blocks; /* 512-byte units */
	struct timespec st_mtim;
	struct timespec st_ctim;
};
/* dvs_pwrite that also fills *ws with what the server said after the
 * last round trip (st_ino 0 if one failed). */
ssize_t dvs_pwrite_stat(struct dvsfs *fs, int fd, const void *buf, size_t count, off_t off,
			struct dvs_write_stat *ws);
off_t dvs_lseek(struct dvsfs *fs, int fd, off_t off, int whence);

int dvs_stat(struct dvsfs *fs, const char *path, struct dvs_stat *st);
int dvs_fstat(struct dvsfs *fs, int fd, struct dvs_stat *st);

int dvs_mkdir(struct dvsfs *fs, const char *path, mode_t mode);
int dvs_rmdir(struct dvsfs *fs, const char *path);
int dvs_unlink(struct dvsfs *fs, const char *path);
/* dvs_unlink that also fills *dir with what the unlink did to the
 * directory the name was in (st_ino its inode number, st_size, st_blocks
 * and both times after it; st_ino 0: not told, as on FAT or after an
 * error). */
int dvs_unlink_stat(struct dvsfs *fs, const char *path, struct dvs_write_stat *dir);
/* flags: 0 or RENAME_NOREPLACE (from <stdio.h>/<linux/fs.h>, value 1). */
int dvs_rename(struct dvsfs *fs, const char *from, const char *to);
int dvs_rename2(struct dvsfs *fs, const char *from, const char *to, unsigned flags);

int dvs_truncate(struct dvsfs *fs, const char *path, off_t len);
int dvs_ftruncate(struct dvsfs *fs, int fd, off_t len);
/* fallocate(2) for the modes FAT holds: 0 and FALLOC_FL_KEEP_SIZE (its
 * clusters past the size are freed when a writer closes); other modes
 * -EOPNOTSUPP. */
int dvs_fallocate(struct dvsfs *fs, int fd, int mode, off_t off, off_t len);
/* ts[0] atime, ts[1] mtime; UTIME_NOW and UTIME_OMIT work; ts NULL: now. */
int dvs_utimens(struct dvsfs *fs, const char *path, const struct timespec ts[2]);
/* Only the write bits count: none set -> FAT read-only bit on, else off. */
int dvs_chmod(struct dvsfs *fs, const char *path, mode_t mode);
/*
 * The same calls, also filling *st with the file's attributes after the
 * change, from the same round trip (st->st_ino 0: the server could not
 * give them; ask dvs_stat).  st may be NULL.
 */
int dvs_mkdir_stat(struct dvsfs *fs, const char *path, mode_t mode, struct dvs_stat *st);
int dvs_chmod_stat(struct dvsfs *fs, const char *path, mode_t mode, struct dvs_stat *st);
int dvs_truncate_stat(struct dvsfs *fs, const char *path, off_t len, struct dvs_stat *st);
int dvs_ftruncate_stat(struct dvsfs *fs, int fd, off_t len, struct dvs_stat *st);
int dvs_utimens_stat(struct dvsfs *fs, const char *path, const struct timespec ts[2],
		     struct dvs_stat *st);
int dvs_fsync(struct dvsfs *fs, int fd);
int dvs_fdatasync(struct dvsfs *fs, int fd);
int dvs_sync(struct dvsfs *fs);
/* f_bsize = f_frsize = cluster size; f_namemax = 255 (UTF-16 units). */
int dvs_statvfs(struct dvsfs *fs, struct statvfs *out);

/* Directories.
 *
 * Raw form: dirfd comes from dvs_open(path, O_RDONLY | O_DIRECTORY).
 * dvs_getdents() fills up to max entries starting at cookie (0: the
 * first) and returns how many (0: end of directory).  Each entry's
 * `next` is the cookie that resumes right after it, stable while the
 * directory is not changed (FUSE readdir offsets can be these cookies).
 * "." and ".." are never returned.
 */
struct dvs_dirent {
	uint64_t next;
	struct dvs_stat st;
	char name[DVS_NAME_MAX + 1]; /* UTF-8, NUL-terminated */
};
ssize_t dvs_getdents(struct dvsfs *fs, int dirfd, uint64_t cookie,
		     struct dvs_dirent *ents, size_t max);
/* The same, and *eof = 1 when no entry follows the last one returned (the
 * call that would return 0 can be saved). */
ssize_t dvs_getdents_eof(struct dvsfs *fs, int dirfd, uint64_t cookie,
			 struct dvs_dirent *ents, size_t max, int *eof);

/* Iterator form: opendir, readdir until it returns 0, closedir.
 * dvs_readdir returns 1 with *ent filled (valid until the next call on d),
 * 0 at the end, or a negative errno.  A struct dvs_dir is used by one
 * thread at a time. */
struct dvs_dir;
int dvs_opendir(struct dvsfs *fs, const char *path, struct dvs_dir **out);
int dvs_readdir(struct dvs_dir *d, const struct dvs_dirent **ent);
/* Cookie of the position after the entry last returned (0 at start). */
uint64_t dvs_telldir(const struct dvs_dir *d);
void dvs_seekdir(struct dvs_dir *d, uint64_t cookie);
int dvs_closedir(struct dvs_dir *d);

/*
 * POSIX volumes (ext2/3/4).  dvsfs_posix() says whether fs is one: its
 * stats carry owners and any file type, and these calls work (on FAT they
 * give -EPERM, dvs_readlink -EINVAL).  uid or gid (uid_t)-1 leaves that
 * one alone.  dvs_mknod makes FIFOs (S_IFIFO) and sockets (S_IFSOCK)
 * only.  dvs_readlink returns the target's length (no NUL written; cut
 * to len as readlink(2)).
 *
 * dvs_set_owner() sets the owner the calling thread's next creations get
 * (dvs_open with O_CREAT, dvs_mkdir, dvs_mknod, dvs_symlink) on any
 * handle; a thread that never set one creates as 0:0.  It costs one more
 * round trip on the next creation after a change, none otherwise.  The
 * server takes it as the client's word (docs/EXT.md, "Who the caller is").
 */
int dvsfs_posix(const struct dvsfs *fs);
void dvs_set_owner(uid_t uid, gid_t gid);
int dvs_chown(struct dvsfs *fs, const char *path, uid_t uid, gid_t gid);
int dvs_chown_stat(struct dvsfs *fs, const char *path, uid_t uid, gid_t gid,
		   struct dvs_stat *st);
int dvs_symlink(struct dvsfs *fs, const char *target, const char *path);
int dvs_symlink_stat(struct dvsfs *fs, const char *target, const char *path,
		     struct dvs_stat *st);
ssize_t dvs_readlink(struct dvsfs *fs, const char *path, char *buf, size_t len);
int dvs_link(struct dvsfs *fs, const char *from, const char *to);
int dvs_link_stat(struct dvsfs *fs, const char *from, const char *to, struct dvs_stat *st);
int dvs_mknod(struct dvsfs *fs, const char *path, mode_t mode);
int dvs_mknod_stat(struct dvsfs *fs, const char *path, mode_t mode, struct dvs_stat *st);

/* Server statistics (FS_STATS): totals and, if sessions != NULL, up to
 * max sessions with their open descriptor counts. */
struct dvsfs_server_stats {
	uint64_t requests;
	uint64_t errors;
	uint32_t sessions;
	uint32_t bindings;
	uint32_t fds;
	uint32_t workers;
};
struct dvsfs_session_stats {
	uint64_t requests;
	uint32_t session;
	dvk_ep_t first_ep;
	uint32_t bindings;
	uint32_t fds;
};
int dvsfs_stats(struct dvsfs *fs, struct dvsfs_server_stats *st,
		struct dvsfs_session_stats *sessions, size_t max, size_t *nsessions);

#ifdef __cplusplus
}
#endif

#endif
