/*
 * internal.h - what the files of libdvsfs share: the handle, the per-thread
 * bindings and the one-round-trip helpers.
 */
#ifndef DVSFS_INTERNAL_H
#define DVSFS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "dvs/dvsfs.h"
#include "dvs/fsproto.h"
#include "dvs/ipc.h"

#define DVSFS_MAGIC 0x44465331u /* "DFS1" */

/* One DVK binding of the session, owned by one thread (or, for the
 * primary, shared behind fs->prim_lock). */
struct dvsfs_bind {
	struct dvk *h;
	dvk_ep_t worker; /* where this binding sends and grants */
	struct dvsfs *fs;
	int shared;		 /* the primary: use under fs->prim_lock */
	uint32_t owner_uid;	 /* the FS_OWNER the server holds for it */
	uint32_t owner_gid;
	struct dvsfs_bind *next; /* in fs->binds, under fs->lock */
};

struct dvsfs {
	uint32_t magic;
	dvk_ep_t server_ep;
	int timeout_ms;
	uint32_t access_checked; /* FS_O_ACCESS_CHECKED or 0 */
	uint32_t session;
	uint64_t token;
	uint32_t io_max;
	uint32_t vol_flags;
	uint32_t cluster;
	pthread_key_t key;    /* -> struct dvsfs_bind of the calling thread */
	pthread_mutex_t lock; /* protects binds */
	struct dvsfs_bind *binds;
	struct dvsfs_bind *primary;
	pthread_mutex_t prim_lock; /* serialises users of primary */
};

/* One request in flight on the calling thread's binding. */
struct dvsfs_call {
	struct dvsfs *fs;
	struct dvsfs_bind *b;
	dvk_grant_t grants[2];
	int ngrants;
	size_t inline_end; /* where the next inline path ends in the payload */
};

/* Picks (binding if needed) the calling thread's binding and locks it if
 * shared.  Returns 0 or a negative errno. */
int dvsfs_call_begin(struct dvsfs *fs, struct dvsfs_call *c);
/* Revokes the call's grants and unlocks. */
void dvsfs_call_end(struct dvsfs_call *c);
/* Grants len bytes at addr to the worker for this call. */
int dvsfs_call_grant(struct dvsfs_call *c, const void *addr, size_t len, unsigned access,
		     dvk_grant_t *out);
/* Puts a NUL-terminated path into the request m, whose struct (of rq_size
 * bytes, *arg inside it) the caller filled: inline after the struct when
 * it fits (FS_GRANT_INLINE: no grant copy for the server), else granted.
 * Fills *arg.  -ENOENT for "", -ENAMETOOLONG past FS_WIRE_PATH_MAX - 1. */
int dvsfs_call_path(struct dvsfs_call *c, dvk_msg_t *m, size_t rq_size, const char *path,
		    struct fs_path_arg *arg);
/* Sends FS_RQ_BASE + call with m's payload; on return m holds the reply.
 * Returns the server's result (>= 0 or -errno) or a mapped DVK error. */
int dvsfs_call_rpc(struct dvsfs_call *c, int call, dvk_msg_t *m);

/* Maps a DVK failure of a round trip to an errno value and remembers it. */
int dvsfs_map_dvk(int err);

/* Nanoseconds since the epoch as a timespec (tv_nsec in 0..999999999). */
void dvsfs_ts_from_ns(int64_t ns, struct timespec *t);

/* Converts a wire stat (untrusted bytes from the server). */
void dvsfs_stat_from_wire(const struct dvsfs *fs, const struct fs_wire_stat *w,
			  struct dvs_stat *st);

/* Before a call that creates (POSIX volumes): tells the server the owner
 * dvs_set_owner() chose for the calling thread, if this binding's differs
 * (one more round trip, only then).  0 or -errno. */
int dvsfs_call_owner(struct dvsfs_call *c);

/* One path and a mode (struct fs_rq_path_mode), one round trip (file.c). */
int dvsfs_path_call(struct dvsfs *fs, int call, const char *path, uint32_t mode,
		    dvk_msg_t *m);
/* The stat after a change from reply m into *st (st may be NULL). */
int dvsfs_changed_stat(struct dvsfs *fs, int rc, const dvk_msg_t *m, struct dvs_stat *st);

/* One whole call without arguments (FS_SYNC, FS_STATVFS); the reply in m. */
int dvsfs_simple(struct dvsfs *fs, int call, dvk_msg_t *m);

/*
 * The request stubs (request.c), one per request of fsproto.h: each fills
 * the payload m_u.fs_rq_<call> of a cleared *m, puts the paths in (inline
 * when they fit) and grants the buffers for the call c, sends it and
 * leaves the reply in *m.  Buffers are borrowed until dvsfs_call_end(c).
 * Return the server's result (>= 0 or -errno) or a mapped DVK error.
 */
/* FS_STAT, FS_RMDIR, FS_UNLINK (mode 0), FS_MKDIR, FS_CHMOD, FS_MKNOD. */
int dvsfs_req_path_mode(struct dvsfs_call *c, int call, const char *path, uint32_t mode,
			dvk_msg_t *m);
int dvsfs_req_open(struct dvsfs_call *c, const char *path, uint32_t flags, uint32_t mode,
		   dvk_msg_t *m);
/* FS_CLOSE, FS_FSTAT, FS_FSYNC. */
int dvsfs_req_fd(struct dvsfs_call *c, int call, int fd, uint32_t flags, dvk_msg_t *m);
/* FS_CLOSE with flags FS_CLOSE_* and the times of FS_CLOSE_TIMES. */
int dvsfs_req_close(struct dvsfs_call *c, int fd, uint32_t flags, int64_t atime_ns,
		    int64_t mtime_ns, dvk_msg_t *m);
/* FS_READ, FS_WRITE: len bytes at buf (no grant for 0). */
int dvsfs_req_io(struct dvsfs_call *c, int call, int fd, void *buf, size_t len, int64_t off,
		 uint32_t flags, dvk_msg_t *m);
int dvsfs_req_lseek(struct dvsfs_call *c, int fd, int64_t off, int32_t whence,
		    dvk_msg_t *m);
/* FS_RENAME, FS_LINK, FS_SYMLINK (flags 0). */
int dvsfs_req_rename(struct dvsfs_call *c, int call, const char *from, const char *to,
		     uint32_t flags, dvk_msg_t *m);
int dvsfs_req_readdir(struct dvsfs_call *c, int fd, void *buf, size_t len, uint32_t max,
		      uint64_t cookie, dvk_msg_t *m);
/* FS_TRUNCATE of path, or with path NULL FS_FTRUNCATE of fd. */
int dvsfs_req_truncate(struct dvsfs_call *c, const char *path, int fd, int64_t len,
		       uint32_t flags, dvk_msg_t *m);
int dvsfs_req_falloc(struct dvsfs_call *c, int fd, uint32_t mode, int64_t off, int64_t len,
		     dvk_msg_t *m);
int dvsfs_req_utimens(struct dvsfs_call *c, const char *path, int64_t atime_ns,
		      int64_t mtime_ns, dvk_msg_t *m);
int dvsfs_req_chown(struct dvsfs_call *c, const char *path, uint32_t uid, uint32_t gid,
		    dvk_msg_t *m);
int dvsfs_req_readlink(struct dvsfs_call *c, const char *path, char *buf, size_t len,
		       dvk_msg_t *m);
int dvsfs_req_owner(struct dvsfs_call *c, uint32_t uid, uint32_t gid, dvk_msg_t *m);
/* A request without arguments: FS_SYNC, FS_STATVFS. */
int dvsfs_req_none(struct dvsfs_call *c, int call, dvk_msg_t *m);
/* FS_STATS: session records into buf (len bytes) unless buf is NULL. */
int dvsfs_req_stats(struct dvsfs_call *c, void *buf, size_t len, dvk_msg_t *m);

#endif
