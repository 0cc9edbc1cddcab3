/*
 * file.c - libdvsfs calls on files and paths: one request struct each,
 * paths and data through grants made for the call only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static uint32_t
open_flags(int flags)
{
	uint32_t f = 0;

	switch (flags & O_ACCMODE) {
	case O_WRONLY:
		f = FS_O_WRONLY;
		break;
	case O_RDWR:
		f = FS_O_RDWR;
		break;
	default:
		f = FS_O_RDONLY;
		break;
	}
	if (flags & O_CREAT)
		f |= FS_O_CREAT;
	if (flags & O_EXCL)
		f |= FS_O_EXCL;
	if (flags & O_TRUNC)
		f |= FS_O_TRUNC;
	if (flags & O_APPEND)
		f |= FS_O_APPEND;
	if (flags & O_DIRECTORY)
		f |= FS_O_DIRECTORY;
	return f;
}

/* The round trip of a one-path request with a mode (stat, rmdir, unlink,
 * mkdir, chmod, mknod) on the calling thread's binding; a creation first
 * tells the server the owner (POSIX volumes). */
static int
path_mode_call(struct dvsfs *fs, int call, const char *path, uint32_t mode, dvk_msg_t *m)
{
	struct dvsfs_call c;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	if (call == FS_MKDIR || call == FS_MKNOD)
		rc = dvsfs_call_owner(&c);
	if (rc == 0)
		rc = dvsfs_req_path_mode(&c, call, path, mode, m);
	dvsfs_call_end(&c);
	return rc;
}

/* One path, one call: the shape of stat, rmdir, unlink, mkdir, chmod. */
int
dvsfs_path_call(struct dvsfs *fs, int call, const char *path, uint32_t mode, dvk_msg_t *m)
{
	return path_mode_call(fs, call, path, mode, m);
}

/* FS_OPEN with the protocol's flags; a creation first tells the server
 * the owner (POSIX volumes). */
static int
open_call(struct dvsfs *fs, const char *path, uint32_t flags, uint32_t mode, dvk_msg_t *m)
{
	struct dvsfs_call c;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	if (flags & FS_O_CREAT)
		rc = dvsfs_call_owner(&c);
	if (rc == 0)
		rc = dvsfs_req_open(&c, path, flags, mode, m);
	dvsfs_call_end(&c);
	return rc;
}

int
dvs_open(struct dvsfs *fs, const char *path, int flags, mode_t mode)
{
	dvk_msg_t m;

	return open_call(fs, path, open_flags(flags) | fs->access_checked, (uint32_t)mode,
			 &m);
}

int
dvs_open_stat(struct dvsfs *fs, const char *path, int flags, mode_t mode,
	      struct dvs_stat *st)
{
	struct fs_wire_stat w;
	dvk_msg_t m;
	int fd;

	fd = open_call(fs, path, open_flags(flags) | fs->access_checked | FS_O_STAT,
		       (uint32_t)mode, &m);
	if (fd < 0)
		return fd;
	w = m.m_u.fs_wire_stat;
	dvsfs_stat_from_wire(fs, &w, st);
	return fd;
}

int
dvs_create_stat(struct dvsfs *fs, const char *path, int flags, mode_t mode,
		struct dvs_stat *st, struct dvs_create_dir *dir)
{
	struct fs_rp_create rp;
	struct fs_wire_pstat p;
	struct fs_wire_stat w;
	dvk_msg_t m;
	int fd;

	memset(dir, 0, sizeof(*dir));
	if ((flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL))
		return -EINVAL;
	if (fs == NULL || fs->magic != DVSFS_MAGIC || !(fs->vol_flags & FS_VOL_POSIX))
		return dvs_open_stat(fs, path, flags, mode, st);
	fd = open_call(fs, path,
		       open_flags(flags) | fs->access_checked | FS_O_STAT | FS_O_DIRSTAT,
		       (uint32_t)mode, &m);
	if (fd < 0)
		return fd;
	/* A new file: empty, its three times one instant (fsproto.h). */
	rp = m.m_u.fs_rp_create;
	memset(&p, 0, sizeof(p));
	p.ino = rp.ino;
	p.uid = rp.uid;
	p.gid = rp.gid;
	p.mode = rp.mode;
	p.nlink = rp.nlink;
	p.blocks = rp.blocks;
	p.atime_ns = p.mtime_ns = p.ctime_ns = rp.time_ns;
	memcpy(&w, &p, sizeof(w));
	dvsfs_stat_from_wire(fs, &w, st);
	if ((rp.dir_flags & FS_CREATE_DIR_TIMES) && rp.dir_ino != 0) {
		dir->known = 1;
		dir->ino = rp.dir_ino;
		dir->size = rp.dir_size;
		dir->blocks = rp.dir_blocks;
		dvsfs_ts_from_ns(rp.time_ns, &dir->time);
	}
	return fd;
}

int
dvs_creat(struct dvsfs *fs, const char *path, mode_t mode)
{
	return dvs_open(fs, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

static int
fd_call(struct dvsfs *fs, int call, int fd, uint32_t flags, dvk_msg_t *m)
{
	struct dvsfs_call c;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_fd(&c, call, fd, flags, m);
	dvsfs_call_end(&c);
	return rc;
}

int
dvs_close(struct dvsfs *fs, int fd)
{
	dvk_msg_t m;

	return fd_call(fs, FS_CLOSE, fd, 0, &m);
}

/* What the reply m of a write says about the file (fsproto.h, struct
 * fs_rp_io) into *ws, st_ino 0 when nothing. */
static void
write_stat(const dvk_msg_t *m, struct dvs_write_stat *ws)
{
	struct fs_rp_io rp = m->m_u.fs_rp_io;

	memset(ws, 0, sizeof(*ws));
	if (rp.ino == 0)
		return;
	ws->st_ino = rp.ino;
	ws->st_size = rp.size;
	ws->st_blocks = rp.blocks;
	dvsfs_ts_from_ns(rp.mtime_ns, &ws->st_mtim);
	dvsfs_ts_from_ns(rp.ctime_ns, &ws->st_ctim);
}

/* One round trip of at most io_max bytes; ws (writes, may be NULL) gets
 * what the reply says of the file. */
static ssize_t
io_once(struct dvsfs *fs, int call, int fd, void *buf, size_t len, off_t off, int at,
	struct dvs_write_stat *ws)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_io(&c, call, fd, buf, len, off, at ? FS_IO_AT : 0, &m);
	if (rc > (int)len)
		rc = -EIO; /* a server claiming more than asked is broken */
	dvsfs_call_end(&c);
	if (ws != NULL && rc > 0)
		write_stat(&m, ws);
	else if (ws != NULL)
		memset(ws, 0, sizeof(*ws));
	return rc;
}

static ssize_t
io_loop(struct dvsfs *fs, int call, int fd, void *buf, size_t count, off_t off, int at,
	struct dvs_write_stat *ws)
{
	size_t done = 0, chunk;
	ssize_t n;

	if (ws != NULL)
		memset(ws, 0, sizeof(*ws));
	if (fs == NULL || fs->magic != DVSFS_MAGIC)
		return -EINVAL;
	if (at && off < 0)
		return -EINVAL;
	if (count > SSIZE_MAX)
		count = SSIZE_MAX;
	if (count == 0) /* still checks the descriptor */
		return io_once(fs, call, fd, buf, 0, off, at, ws);
	while (done < count) {
		chunk = count - done;
		if (chunk > fs->io_max)
			chunk = fs->io_max;
		n = io_once(fs, call, fd, (char *)buf + done, chunk, off + (off_t)done,
			    at, ws);
		if (n < 0)
			return done > 0 ? (ssize_t)done : n;
		done += (size_t)n;
		if ((size_t)n < chunk)
			break; /* end of file, or the volume is full */
	}
	return (ssize_t)done;
}

ssize_t
dvs_read(struct dvsfs *fs, int fd, void *buf, size_t count)
{
	return io_loop(fs, FS_READ, fd, buf, count, 0, 0, NULL);
}

ssize_t
dvs_write(struct dvsfs *fs, int fd, const void *buf, size_t count)
{
	return io_loop(fs, FS_WRITE, fd, (void *)(uintptr_t)buf, count, 0, 0, NULL);
}

ssize_t
dvs_pread(struct dvsfs *fs, int fd, void *buf, size_t count, off_t off)
{
	return io_loop(fs, FS_READ, fd, buf, count, off, 1, NULL);
}

ssize_t
dvs_pwrite(struct dvsfs *fs, int fd, const void *buf, size_t count, off_t off)
{
	return io_loop(fs, FS_WRITE, fd, (void *)(uintptr_t)buf, count, off, 1, NULL);
}

ssize_t
dvs_pwrite_stat(struct dvsfs *fs, int fd, const void *buf, size_t count, off_t off,
		struct dvs_write_stat *ws)
{
	return io_loop(fs, FS_WRITE, fd, (void *)(uintptr_t)buf, count, off, 1, ws);
}

off_t
dvs_lseek(struct dvsfs *fs, int fd, off_t off, int whence)
{
	struct dvsfs_call c;
	int32_t w;
	dvk_msg_t m;
	int rc;

	switch (whence) {
	case SEEK_SET:
		w = FS_SEEK_SET;
		break;
	case SEEK_CUR:
		w = FS_SEEK_CUR;
		break;
	case SEEK_END:
		w = FS_SEEK_END;
		break;
	default:
		return -EINVAL;
	}
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_lseek(&c, fd, off, w, &m);
	dvsfs_call_end(&c);
	if (rc < 0)
		return rc;
	return m.m_u.fs_rp_lseek.pos;
}

/* The stat in the reply m of a call that returned rc. */
static int
stat_reply(struct dvsfs *fs, int rc, const dvk_msg_t *m, struct dvs_stat *st)
{
	struct fs_wire_stat w;

	if (rc < 0)
		return rc;
	w = m->m_u.fs_wire_stat;
	dvsfs_stat_from_wire(fs, &w, st);
	return 0;
}

int
dvs_stat(struct dvsfs *fs, const char *path, struct dvs_stat *st)
{
	dvk_msg_t m;

	return stat_reply(fs, dvsfs_path_call(fs, FS_STAT, path, 0, &m), &m, st);
}

int
dvs_fstat(struct dvsfs *fs, int fd, struct dvs_stat *st)
{
	dvk_msg_t m;

	return stat_reply(fs, fd_call(fs, FS_FSTAT, fd, 0, &m), &m, st);
}

/* A change that replies with the stat after it (fsproto.h): into *st when
 * st is not NULL, st_ino 0 when the server could not give it. */
int
dvsfs_changed_stat(struct dvsfs *fs, int rc, const dvk_msg_t *m, struct dvs_stat *st)
{
	struct fs_wire_stat w;

	if (rc < 0 || st == NULL)
		return rc;
	w = m->m_u.fs_wire_stat;
	if (w.ino == 0) {
		memset(st, 0, sizeof(*st));
		return rc;
	}
	dvsfs_stat_from_wire(fs, &w, st);
	return rc;
}

int
dvs_mkdir_stat(struct dvsfs *fs, const char *path, mode_t mode, struct dvs_stat *st)
{
	dvk_msg_t m;

	return dvsfs_changed_stat(fs, dvsfs_path_call(fs, FS_MKDIR, path, (uint32_t)mode, &m), &m, st);
}

int
dvs_mkdir(struct dvsfs *fs, const char *path, mode_t mode)
{
	return dvs_mkdir_stat(fs, path, mode, NULL);
}

int
dvs_rmdir(struct dvsfs *fs, const char *path)
{
	dvk_msg_t m;

	return dvsfs_path_call(fs, FS_RMDIR, path, 0, &m);
}

int
dvs_unlink_stat(struct dvsfs *fs, const char *path, struct dvs_write_stat *dir)
{
	struct fs_rp_unlink rp;
	dvk_msg_t m;
	int rc;

	memset(dir, 0, sizeof(*dir));
	rc = dvsfs_path_call(fs, FS_UNLINK, path, 0, &m);
	if (rc < 0)
		return rc;
	rp = m.m_u.fs_rp_unlink;
	if (rp.dir_ino == 0)
		return rc;
	dir->st_ino = rp.dir_ino;
	dir->st_size = rp.size;
	dir->st_blocks = rp.blocks;
	dvsfs_ts_from_ns(rp.mtime_ns, &dir->st_mtim);
	dvsfs_ts_from_ns(rp.ctime_ns, &dir->st_ctim);
	return rc;
}

int
dvs_unlink(struct dvsfs *fs, const char *path)
{
	dvk_msg_t m;

	return dvsfs_path_call(fs, FS_UNLINK, path, 0, &m);
}

int
dvs_chmod_stat(struct dvsfs *fs, const char *path, mode_t mode, struct dvs_stat *st)
{
	dvk_msg_t m;

	return dvsfs_changed_stat(fs, dvsfs_path_call(fs, FS_CHMOD, path, (uint32_t)mode, &m), &m, st);
}

int
dvs_chmod(struct dvsfs *fs, const char *path, mode_t mode)
{
	return dvs_chmod_stat(fs, path, mode, NULL);
}

int
dvs_rename2(struct dvsfs *fs, const char *from, const char *to, unsigned flags)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	if (flags & ~1u)
		return -EINVAL;
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_rename(&c, FS_RENAME, from, to,
			      (flags & 1u) ? FS_RENAME_NOREPLACE : 0, &m);
	dvsfs_call_end(&c);
	return rc;
}

int
dvs_rename(struct dvsfs *fs, const char *from, const char *to)
{
	return dvs_rename2(fs, from, to, 0);
}

/* truncate (path, fd -1) and ftruncate (path NULL). */
static int
truncate_call(struct dvsfs *fs, const char *path, int fd, off_t len, uint32_t flags,
	      dvk_msg_t *m)
{
	struct dvsfs_call c;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_truncate(&c, path, fd, len, flags, m);
	dvsfs_call_end(&c);
	return rc;
}

int
dvs_truncate_stat(struct dvsfs *fs, const char *path, off_t len, struct dvs_stat *st)
{
	dvk_msg_t m;

	if (len < 0)
		return -EINVAL;
	return dvsfs_changed_stat(fs, truncate_call(fs, path, -1, len, fs->access_checked, &m),
				  &m, st);
}

int
dvs_truncate(struct dvsfs *fs, const char *path, off_t len)
{
	return dvs_truncate_stat(fs, path, len, NULL);
}

int
dvs_ftruncate_stat(struct dvsfs *fs, int fd, off_t len, struct dvs_stat *st)
{
	dvk_msg_t m;

	if (len < 0)
		return -EINVAL;
	return dvsfs_changed_stat(fs, truncate_call(fs, NULL, fd, len, 0, &m), &m, st);
}

int
dvs_ftruncate(struct dvsfs *fs, int fd, off_t len)
{
	return dvs_ftruncate_stat(fs, fd, len, NULL);
}

int
dvs_fallocate(struct dvsfs *fs, int fd, int mode, off_t off, off_t len)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_falloc(&c, fd, (uint32_t)mode, off, len, &m);
	dvsfs_call_end(&c);
	return rc;
}

static int64_t
time_arg(const struct timespec *ts)
{
	if (ts == NULL || ts->tv_nsec == UTIME_NOW)
		return FS_UTIME_NOW;
	if (ts->tv_nsec == UTIME_OMIT)
		return FS_UTIME_OMIT;
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int
dvs_utimens_stat(struct dvsfs *fs, const char *path, const struct timespec ts[2],
		 struct dvs_stat *st)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	if (ts != NULL) {
		for (int i = 0; i < 2; i++) {
			if (ts[i].tv_nsec == UTIME_NOW || ts[i].tv_nsec == UTIME_OMIT)
				continue;
			if (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000)
				return -EINVAL;
		}
	}
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_utimens(&c, path, time_arg(ts != NULL ? &ts[0] : NULL),
			       time_arg(ts != NULL ? &ts[1] : NULL), &m);
	dvsfs_call_end(&c);
	return dvsfs_changed_stat(fs, rc, &m, st);
}

int
dvs_utimens(struct dvsfs *fs, const char *path, const struct timespec ts[2])
{
	return dvs_utimens_stat(fs, path, ts, NULL);
}

static int
close_call(struct dvsfs *fs, int fd, uint32_t flags, int64_t at, int64_t mt)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_close(&c, fd, flags, at, mt, &m);
	dvsfs_call_end(&c);
	return rc;
}

int
dvs_close_times(struct dvsfs *fs, int fd, const struct timespec ts[2])
{
	if (ts != NULL) {
		for (int i = 0; i < 2; i++) {
			if (ts[i].tv_nsec == UTIME_NOW || ts[i].tv_nsec == UTIME_OMIT)
				continue;
			if (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000) {
				(void)dvs_close(fs, fd);
				return -EINVAL;
			}
		}
	}
	return close_call(fs, fd, FS_CLOSE_TIMES, time_arg(ts != NULL ? &ts[0] : NULL),
			  time_arg(ts != NULL ? &ts[1] : NULL));
}

int
dvsfs_close_times(struct dvsfs *fs)
{
	return close_call(fs, -1, FS_CLOSE_PROBE, 0, 0) == 0;
}

int
dvs_fsync(struct dvsfs *fs, int fd)
{
	dvk_msg_t m;

	return fd_call(fs, FS_FSYNC, fd, 0, &m);
}

int
dvs_fdatasync(struct dvsfs *fs, int fd)
{
	dvk_msg_t m;

	return fd_call(fs, FS_FSYNC, fd, 1, &m);
}

int
dvs_sync(struct dvsfs *fs)
{
	dvk_msg_t m;

	return dvsfs_simple(fs, FS_SYNC, &m);
}

int
dvs_statvfs(struct dvsfs *fs, struct statvfs *out)
{
	struct fs_rp_statvfs rp;
	dvk_msg_t m;
	int rc;

	rc = dvsfs_simple(fs, FS_STATVFS, &m);
	if (rc < 0)
		return rc;
	rp = m.m_u.fs_rp_statvfs;
	memset(out, 0, sizeof(*out));
	out->f_bsize = rp.bsize;
	out->f_frsize = rp.bsize;
	out->f_blocks = rp.blocks;
	out->f_bfree = rp.bfree;
	out->f_bavail = rp.bavail;
	out->f_files = rp.files;
	out->f_ffree = rp.ffree;
	out->f_favail = rp.ffree;
	out->f_namemax = rp.namemax;
	out->f_fsid = fs->session;
	if (rp.flags & FS_VOL_RDONLY)
		out->f_flag |= ST_RDONLY;
	out->f_flag |= ST_NOSUID | ST_NODEV;
	return 0;
}

int
dvsfs_stats(struct dvsfs *fs, struct dvsfs_server_stats *st,
	    struct dvsfs_session_stats *sessions, size_t max, size_t *nsessions)
{
	struct fs_wire_session *recs = NULL;
	struct fs_rp_stats rp;
	struct dvsfs_call c;
	size_t len = 0, i;
	dvk_msg_t m;
	int rc;

	if (nsessions != NULL)
		*nsessions = 0;
	if (sessions != NULL && max > 0) {
		if (max > FS_LIST_MAX / sizeof(*recs))
			max = FS_LIST_MAX / sizeof(*recs);
		len = max * sizeof(*recs);
		recs = calloc(max, sizeof(*recs));
		if (recs == NULL)
			return -ENOMEM;
	}
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		goto out_free;
	rc = dvsfs_req_stats(&c, recs, len, &m);
	if (rc < 0)
		goto out;
	rp = m.m_u.fs_rp_stats;
	if (st != NULL) {
		st->requests = rp.requests;
		st->errors = rp.errors;
		st->sessions = rp.sessions;
		st->bindings = rp.bindings;
		st->fds = rp.fds;
		st->workers = rp.workers;
	}
	if (recs != NULL) {
		size_t n = rp.nrec < max ? rp.nrec : max;

		for (i = 0; i < n; i++) {
			sessions[i].requests = recs[i].requests;
			sessions[i].session = recs[i].session;
			sessions[i].first_ep = recs[i].first_ep;
			sessions[i].bindings = recs[i].bindings;
			sessions[i].fds = recs[i].fds;
		}
		if (nsessions != NULL)
			*nsessions = n;
	}
	rc = 0;
out:
	dvsfs_call_end(&c);
out_free:
	free(recs);
	return rc;
}
