/*
 * fs.h - what the files of dvs-fs share.
 *
 * Threads: one worker thread per DVK binding.  Worker 0 owns the server's
 * well-known endpoint: it answers FS_HELLO/FS_JOIN and hands every new
 * client binding to one of the other workers (the least loaded), which
 * then serves that binding's requests on its own endpoint.  With no spare
 * endpoint in the admission, worker 0 serves everything itself.
 *
 * Lock order (outer first): srv.lock -> worker.lock -> session.lock ->
 * fd.lock -> the FAT engine's own locks.  Nothing is held across a DVK
 * call except fd.lock (a read/write on one descriptor keeps its position
 * while it copies; the copy never waits for the client's cooperation).
 */
#ifndef DVS_FS_SERVER_H
#define DVS_FS_SERVER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "dvs/fat.h"
#include "dvs/fsproto.h"
#include "dvs/ipc.h"
#include "dvs/srv.h"
#include "dvs/thread_safety.h"

#define FS_MAX_VOLUMES	8
#define FS_MAX_WORKERS	32
#define FS_MAX_SESSIONS 4096
#define FS_BIND_BUCKETS 64
/* Longest receive of a worker: how long a stop or a periodic flush waits. */
#define FS_TICK_MS 200

/* ---- volumes (volume.c) ---------------------------------------------- */

struct fs_volume {
	char name[FS_VOLNAME_MAX + 1];
	char source[256];	/* image path or "vdd:EP", for messages */
	struct fat_blkdev *dev; /* owned */
	int dev_is_vdd;		/* freed by fs_vdd_close, not fat_blkdev_free */
	struct fat_vol *vol;	/* mounted (FAT) */
	struct ext_vol *ext;	/* mounted (ext2/3/4, ext.h); NULL for FAT */
	int read_only;
	uint32_t cluster;
};

/* ---- descriptors and sessions (session.c) ---------------------------- */

struct ext_vol;

struct fs_fd {
	atomic_int refs;       /* table slot + calls in flight */
	dvs_mutex_t lock;  /* pos, dir */
	struct fat_file *file; /* files and directories (FAT) */
	struct fat_dir *dir;   /* directories, for FS_READDIR (FAT) */
	struct ext_vol *xv;    /* ext volumes: the volume and the inode */
	uint32_t xino;
	int is_dir;
	uint32_t flags; /* FS_O_* */
	int64_t pos;
};

struct fs_session {
	uint32_t id;
	uint64_t token;
	struct fs_volume *vol;
	atomic_int refs; /* bindings + requests in flight */
	atomic_uint_fast64_t requests;
	dvk_ep_t first_ep;
	dvs_mutex_t lock; /* fds, nfds, bindings */
	struct fs_fd *fds[FS_FD_MAX];
	int nfds;
	int bindings;
	struct fs_session *next; /* srv.sessions, under srv.lock */
};

struct fs_worker;

/* A client binding: one client endpoint, served by one worker.  The
 * generation tells the binding apart from a later process on the same
 * endpoint number, which must never inherit the session. */
struct fs_binding {
	dvk_ep_t ep;
	uint32_t gen;
	struct fs_session *s; /* holds a session reference */
	struct fs_worker *w;
	uint32_t uid, gid; /* owner of its creations (FS_OWNER), under w->lock */
	struct fs_binding *next; /* in w->buckets, under w->lock */
};

struct fs_worker {
	int idx;
	struct dvk *h;
	dvk_ep_t ep;
	pthread_t tid;
	int started;
	dvs_mutex_t lock; /* buckets, nbindings */
	struct fs_binding *buckets[FS_BIND_BUCKETS];
	int nbindings;
	/* Scratch of this thread only. */
	unsigned char *iobuf; /* FS_IO_MAX (also readdir/stats lists): io.p,
			       * or the unit tests' own memory */
	struct srv_iobuf io;  /* shared with dvkd: one-copy vcopy */
	char path1[FS_WIRE_PATH_MAX];
	char path2[FS_WIRE_PATH_MAX];
};

struct fs_server {
	dvs_mutex_t lock; /* sessions, nsessions, next_id */
	struct fs_session *sessions;
	int nsessions;
	uint32_t next_id;
	struct fs_volume vols[FS_MAX_VOLUMES];
	int nvols;
	struct fs_worker workers[FS_MAX_WORKERS];
	int nworkers; /* including worker 0 */
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t errors;
	atomic_int stop; /* set by the signal handler (lock-free: async-signal-safe) */
	int flush_ms; /* worker 0 syncs the volumes this often; 0: never */
};

extern struct fs_server fs_srv;

/* ---- one request (worker.c, table.c, handlers) ------------------------ */

struct fs_req {
	struct fs_worker *w;
	dvk_ep_t src;
	const dvk_msg_t *in;
	dvk_msg_t *out;	      /* payload of the reply; m_type is set from the result */
	struct fs_session *s; /* NULL for calls that need none */
	uint32_t inline_end;  /* where the next inline path ends (fs_get_path) */
	uint32_t uid, gid;    /* the binding's FS_OWNER, copied at dispatch */
};

typedef int (*fs_handler_fn)(struct fs_req *r);

struct fs_call_desc {
	fs_handler_fn fn;
	const char *name;
	int need_session;
};

extern const struct fs_call_desc fs_table[FS_NCALLS];

/* Handles one message: decodes, dispatches, returns the result for the
 * reply (>= 0 or -errno).  out's payload is the reply payload. */
int fs_dispatch(struct fs_worker *w, const dvk_msg_t *in, dvk_msg_t *out);

/* A handler reads its request as r->in->m_u.fs_rq_<call> and writes its
 * reply payload into r->out->m_u.fs_rp_<call> (fsproto.h). */

/* ---- request helpers (req.c) ----------------------------------------- */

/* Copies a path argument from the client into buf (FS_WIRE_PATH_MAX), checks
 * it, and makes it absolute and free of "." / "..".  rq_size is where the
 * request's fields end, FS_RQ_END(fs_rq_<call>): an inline path
 * (FS_GRANT_INLINE) must lie beyond it.
 * -EINVAL, -EFAULT, -ENAMETOOLONG, -ENOENT (empty). */
int fs_get_path(struct fs_req *r, const struct fs_path_arg *a, size_t rq_size,
		char *buf);
/* The same bytes taken as they are (no '/' needed, not normalised), at
 * most max - 1 of them, NUL-terminated: a symbolic link's target. */
int fs_get_bytes(struct fs_req *r, const struct fs_path_arg *a, size_t rq_size,
		 char *buf, size_t max);
/* The descriptor fd of the request's session with a reference, or NULL
 * (-EBADF). */
struct fs_fd *fs_fd_get(struct fs_session *s, int fd);
void fs_fd_put(struct fs_fd *f);
/* Maps an engine/DVK error to what a client is told. */
int fs_client_err(int err);
void fs_stat_to_wire(const struct fs_volume *v, const struct fat_stat *st,
		     struct fs_wire_stat *w);
/* After a change that succeeded (rc 0): the reply payload gets the stat of
 * path (or of file when not NULL), so the client needs no FS_STAT after
 * it; a stat that fails leaves ino 0.  Returns rc. */
int fs_reply_stat(struct fs_req *r, int rc, const char *path, struct fat_file *file);
/* Lexical path normalisation (exposed for tests/fuzzing). */
int fs_normalize_path(char *path, size_t len);

/* ---- sessions (session.c) -------------------------------------------- */

int fs_session_new(struct fs_volume *v, dvk_ep_t first, struct fs_session **out);
struct fs_session *fs_session_find(uint32_t id, uint64_t token);
void fs_session_ref(struct fs_session *s);
void fs_session_put(struct fs_session *s);
/* Installs f in the lowest free slot; returns the descriptor or -EMFILE. */
int fs_session_add_fd(struct fs_session *s, struct fs_fd *f);
/* Removes fd from the table; returns it (its table reference) or NULL. */
struct fs_fd *fs_session_take_fd(struct fs_session *s, int fd);
/* Closes every descriptor and frees every session (at shutdown). */
void fs_sessions_shutdown(void);

/* ---- bindings (worker.c) ---------------------------------------------- */

/* The binding of ep on w if it is the one that sent w's last received
 * message (same generation), else NULL.  Caller holds w->lock. */
struct fs_binding *fs_binding_find(struct fs_worker *w, dvk_ep_t ep) DVS_REQUIRES(w->lock);
/* Attaches client ep (binding generation gen) to s on the least loaded
 * worker; drops any older binding of ep.  Returns the worker or NULL
 * (-ENOMEM). */
struct fs_worker *fs_binding_add(dvk_ep_t ep, uint32_t gen, struct fs_session *s);
/* The DVK said every binding of ep up to generation gen is gone: drops
 * them on every worker (their sessions end with their last binding). */
void fs_bindings_gone(dvk_ep_t ep, uint32_t gen);
/* Removes ep's binding from w (drops its session reference). */
void fs_binding_remove(struct fs_worker *w, dvk_ep_t ep);
void *fs_worker_main(void *arg);

/* ---- file data and position, for every back end (io.c) --------------- */

/* A back end's read of len bytes of f at off into buf: the count or
 * -errno. */
typedef ssize_t (*fs_pread_fn)(struct fs_req *r, struct fs_fd *f, void *buf, size_t len,
			       int64_t off);
/* A back end's write of len bytes of buf to f at off (at its end when
 * append: a write through the position of an O_APPEND descriptor): the
 * count or -errno; *end: the offset after the bytes written. */
typedef ssize_t (*fs_pwrite_fn)(struct fs_req *r, struct fs_fd *f, const void *buf,
				size_t len, int64_t off, int append, int64_t *end);
/* A back end's size of f's file into *size: 0 or -errno. */
typedef int (*fs_size_fn)(struct fs_req *r, struct fs_fd *f, int64_t *size);
/* FS_READ, FS_WRITE, FS_LSEEK: checks, the client's grant, the position. */
int fs_io_read(struct fs_req *r, fs_pread_fn pread_fn);
int fs_io_write(struct fs_req *r, fs_pwrite_fn pwrite_fn);
int fs_io_lseek(struct fs_req *r, fs_size_fn size_fn);

/* ---- handlers --------------------------------------------------------- */

int do_hello(struct fs_req *r);
int do_join(struct fs_req *r);
int do_bye(struct fs_req *r);
int do_open(struct fs_req *r);
int do_close(struct fs_req *r);
int do_read(struct fs_req *r);
int do_write(struct fs_req *r);
int do_lseek(struct fs_req *r);
int do_stat(struct fs_req *r);
int do_fstat(struct fs_req *r);
int do_mkdir(struct fs_req *r);
int do_rmdir(struct fs_req *r);
int do_unlink(struct fs_req *r);
int do_rename(struct fs_req *r);
int do_readdir(struct fs_req *r);
int do_truncate(struct fs_req *r);
int do_ftruncate(struct fs_req *r);
int do_utimens(struct fs_req *r);
int do_chmod(struct fs_req *r);
int do_fsync(struct fs_req *r);
int do_sync(struct fs_req *r);
int do_statvfs(struct fs_req *r);
int do_stats(struct fs_req *r);
int do_fallocate(struct fs_req *r);

/* ---- volumes (volume.c) and the vdd backend (vddblk.c) --------------- */

int fs_volume_add_image(const char *name, const char *path, int read_only,
			size_t cache_bytes);
int fs_volume_add_vdd(const char *name, dvk_ep_t ep, int read_only, size_t cache_bytes,
		      struct dvk *h);
struct fs_volume *fs_volume_find(const char *name, size_t len);
/* Unmounts every volume; 0 or the first error (not clean). */
int fs_volumes_unmount(void);

/* The binding the calling thread may use for requests to dvs-vdd. */
extern __thread struct dvk *fs_thread_dvk;
int fs_vdd_open(dvk_ep_t ep, struct dvk *h, int read_only, struct fat_blkdev **out);
void fs_vdd_close(struct fat_blkdev *dev);

#endif
