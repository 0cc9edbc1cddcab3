/*
 * request.c - one stub per request of the file protocol (fsproto.h), as
 * Minix's servers/vfs/request.c: the only place where libdvsfs builds a
 * message.  Each dvsfs_req_<call>() fills m_u.fs_rq_<call> of *m, puts
 * its paths in (inline or granted) and buffers granted for the call c,
 * sends it to c's worker and leaves the reply in *m.  It returns the
 * server's result (>= 0 or -errno) or a mapped DVK error.  Grants live
 * until dvsfs_call_end(c); buffers are borrowed until then.
 */
#include <string.h>

#include "internal.h"

static dvk_msg_t *
clear(dvk_msg_t *m)
{
	memset(m, 0, sizeof(*m));
	return m;
}

int
dvsfs_req_path_mode(struct dvsfs_call *c, int call, const char *path, uint32_t mode,
		    dvk_msg_t *m)
{
	struct fs_rq_path_mode *rq = &clear(m)->m_u.fs_rq_path_mode;
	int rc;

	rq->mode = mode;
	rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_path_mode), path, &rq->path);
	return rc < 0 ? rc : dvsfs_call_rpc(c, call, m);
}

int
dvsfs_req_open(struct dvsfs_call *c, const char *path, uint32_t flags, uint32_t mode,
	       dvk_msg_t *m)
{
	struct fs_rq_open *rq = &clear(m)->m_u.fs_rq_open;
	int rc;

	rq->flags = flags;
	rq->mode = mode;
	rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_open), path, &rq->path);
	return rc < 0 ? rc : dvsfs_call_rpc(c, FS_OPEN, m);
}

int
dvsfs_req_fd(struct dvsfs_call *c, int call, int fd, uint32_t flags, dvk_msg_t *m)
{
	struct fs_rq_fd *rq = &clear(m)->m_u.fs_rq_fd;

	rq->fd = fd;
	rq->flags = flags;
	return dvsfs_call_rpc(c, call, m);
}

int
dvsfs_req_close(struct dvsfs_call *c, int fd, uint32_t flags, int64_t atime_ns,
		int64_t mtime_ns, dvk_msg_t *m)
{
	struct fs_rq_fd *rq = &clear(m)->m_u.fs_rq_fd;

	rq->fd = fd;
	rq->flags = flags;
	rq->atime_ns = atime_ns;
	rq->mtime_ns = mtime_ns;
	return dvsfs_call_rpc(c, FS_CLOSE, m);
}

int
dvsfs_req_io(struct dvsfs_call *c, int call, int fd, void *buf, size_t len, int64_t off,
	     uint32_t flags, dvk_msg_t *m)
{
	struct fs_rq_io *rq = &clear(m)->m_u.fs_rq_io;
	int rc;

	rq->grant = -1;
	/* A zero-byte transfer only checks the descriptor: no grant. */
	if (len > 0) {
		rc = dvsfs_call_grant(c, buf, len,
				      call == FS_READ ? DVK_GRANT_WRITE : DVK_GRANT_READ,
				      &rq->grant);
		if (rc < 0)
			return rc;
	}
	rq->fd = fd;
	rq->flags = flags;
	rq->len = (uint32_t)len;
	rq->off = off;
	return dvsfs_call_rpc(c, call, m);
}

int
dvsfs_req_lseek(struct dvsfs_call *c, int fd, int64_t off, int32_t whence, dvk_msg_t *m)
{
	struct fs_rq_lseek *rq = &clear(m)->m_u.fs_rq_lseek;

	rq->fd = fd;
	rq->whence = whence;
	rq->off = off;
	return dvsfs_call_rpc(c, FS_LSEEK, m);
}

int
dvsfs_req_rename(struct dvsfs_call *c, int call, const char *from, const char *to,
		 uint32_t flags, dvk_msg_t *m)
{
	struct fs_rq_rename *rq = &clear(m)->m_u.fs_rq_rename;
	int rc;

	rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_rename), from, &rq->from);
	if (rc == 0)
		rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_rename), to, &rq->to);
	if (rc < 0)
		return rc;
	rq->flags = flags;
	return dvsfs_call_rpc(c, call, m);
}

int
dvsfs_req_readdir(struct dvsfs_call *c, int fd, void *buf, size_t len, uint32_t max,
		  uint64_t cookie, dvk_msg_t *m)
{
	struct fs_rq_readdir *rq = &clear(m)->m_u.fs_rq_readdir;
	int rc;

	rc = dvsfs_call_grant(c, buf, len, DVK_GRANT_WRITE, &rq->grant);
	if (rc < 0)
		return rc;
	rq->fd = fd;
	rq->len = (uint32_t)len;
	rq->max = max;
	rq->cookie = cookie;
	return dvsfs_call_rpc(c, FS_READDIR, m);
}

int
dvsfs_req_truncate(struct dvsfs_call *c, const char *path, int fd, int64_t len,
		   uint32_t flags, dvk_msg_t *m)
{
	struct fs_rq_truncate *rq = &clear(m)->m_u.fs_rq_truncate;
	int rc;

	rq->path.grant = -1;
	rq->fd = fd;
	rq->flags = flags;
	rq->len = len;
	if (path == NULL)
		return dvsfs_call_rpc(c, FS_FTRUNCATE, m);
	rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_truncate), path, &rq->path);
	return rc < 0 ? rc : dvsfs_call_rpc(c, FS_TRUNCATE, m);
}

int
dvsfs_req_falloc(struct dvsfs_call *c, int fd, uint32_t mode, int64_t off, int64_t len,
		 dvk_msg_t *m)
{
	struct fs_rq_falloc *rq = &clear(m)->m_u.fs_rq_falloc;

	rq->fd = fd;
	rq->mode = mode;
	rq->off = off;
	rq->len = len;
	return dvsfs_call_rpc(c, FS_FALLOCATE, m);
}

int
dvsfs_req_utimens(struct dvsfs_call *c, const char *path, int64_t atime_ns,
		  int64_t mtime_ns, dvk_msg_t *m)
{
	struct fs_rq_utimens *rq = &clear(m)->m_u.fs_rq_utimens;
	int rc;

	rq->atime_ns = atime_ns;
	rq->mtime_ns = mtime_ns;
	rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_utimens), path, &rq->path);
	return rc < 0 ? rc : dvsfs_call_rpc(c, FS_UTIMENS, m);
}

int
dvsfs_req_chown(struct dvsfs_call *c, const char *path, uint32_t uid, uint32_t gid,
		dvk_msg_t *m)
{
	struct fs_rq_chown *rq = &clear(m)->m_u.fs_rq_chown;
	int rc;

	rq->uid = uid;
	rq->gid = gid;
	rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_chown), path, &rq->path);
	return rc < 0 ? rc : dvsfs_call_rpc(c, FS_CHOWN, m);
}

int
dvsfs_req_readlink(struct dvsfs_call *c, const char *path, char *buf, size_t len,
		   dvk_msg_t *m)
{
	struct fs_rq_readlink *rq = &clear(m)->m_u.fs_rq_readlink;
	int rc = 0;

	rq->len = (uint32_t)len;
	rq->grant = -1;
	if (len > 0)
		rc = dvsfs_call_grant(c, buf, len, DVK_GRANT_WRITE, &rq->grant);
	if (rc == 0)
		rc = dvsfs_call_path(c, m, FS_RQ_END(fs_rq_readlink), path, &rq->path);
	return rc < 0 ? rc : dvsfs_call_rpc(c, FS_READLINK, m);
}

int
dvsfs_req_owner(struct dvsfs_call *c, uint32_t uid, uint32_t gid, dvk_msg_t *m)
{
	struct fs_rq_owner *rq = &clear(m)->m_u.fs_rq_owner;

	rq->uid = uid;
	rq->gid = gid;
	return dvsfs_call_rpc(c, FS_OWNER, m);
}

int
dvsfs_req_none(struct dvsfs_call *c, int call, dvk_msg_t *m)
{
	return dvsfs_call_rpc(c, call, clear(m));
}

int
dvsfs_req_stats(struct dvsfs_call *c, void *buf, size_t len, dvk_msg_t *m)
{
	struct fs_rq_stats *rq = &clear(m)->m_u.fs_rq_stats;
	int rc;

	rq->grant = -1;
	if (buf != NULL) {
		rc = dvsfs_call_grant(c, buf, len, DVK_GRANT_WRITE, &rq->grant);
		if (rc < 0)
			return rc;
		rq->len = (uint32_t)len;
	}
	return dvsfs_call_rpc(c, FS_STATS, m);
}
