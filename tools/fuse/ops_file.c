/*
 * ops_file.c - open files: create, open, read, write, flush, release, fsync.
 *
 * fi->fh is the server's descriptor.  Descriptors belong to the libdvsfs
 * session, not to a thread, so any worker thread may serve any request on
 * any open file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dfuse.h"

/* One read buffer per worker thread, made on its first read and freed
 * when the thread ends: no allocation on the read path.  It is the grant
 * dvs-fs copies into, so it sits in one transparent huge page: dvkd pins
 * the granted pages for each copy, one huge page instead of 256 small. */
#define DFUSE_BUF_ALIGN ((size_t)2 << 20) /* a huge page, >= DFUSE_IO_MAX */
_Static_assert(DFUSE_IO_MAX <= DFUSE_BUF_ALIGN, "the read buffer holds one request");
static pthread_key_t buf_key;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;

static void
make_buf_key(void)
{
	(void)pthread_key_create(&buf_key, free);
}

static char *
thread_buf(void)
{
	char *buf;

	pthread_once(&buf_once, make_buf_key);
	buf = pthread_getspecific(buf_key);
	if (buf == NULL) {
		buf = aligned_alloc(DFUSE_BUF_ALIGN, DFUSE_BUF_ALIGN);
		if (buf != NULL)
			(void)madvise(buf, DFUSE_BUF_ALIGN, MADV_HUGEPAGE);
		if (buf != NULL && pthread_setspecific(buf_key, buf) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	return buf;
}

/*
 * Flags for the server.  With the writeback cache the kernel reads pages
 * of files opened write-only (to fill partial pages) and works out the
 * end of file for O_APPEND itself, so the server must allow reading and
 * must honour the offsets the kernel sends.
 */
static int
server_flags(const struct dfuse *d, int flags)
{
	flags &= O_ACCMODE | O_TRUNC | O_APPEND | O_CREAT | O_EXCL;
	if (d->exclusive && !d->ro) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags;
}

/* Only this mount changes the volume: cached pages stay valid (keep_cache),
 * except through a case alias, which must not have pages of its own (the
 * main inode's would not see its changes). */
static void
set_caching(struct dfuse *d, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_ino_t primary;

	fi->keep_cache = d->exclusive;
	if (dfuse_is_alias(d, ino, &primary)) {
		fi->keep_cache = 0;
		fi->direct_io = 1;
	}
}

/*
 * The server's create of path, one round trip whose reply carries the new
 * file's attributes.  Where dvs-fuse keeps an ext directory's attributes
 * (exclusive POSIX mounts) the reply also tells what the create did to
 * the directory (*cd): the kernel asks for them again before its next
 * lookup there.  That reply describes a file made by the call, so the
 * create is exclusive; the kernel sends CREATE only for a name it found
 * missing, and should the name exist after all, a caller without O_EXCL
 * opens it as before (the directory did not change, cd->known 0).
 */
static int
create_call(struct dfuse *d, const char *path, int flags, mode_t mode, struct dvs_stat *ds,
	    struct dvs_create_dir *cd)
{
	int fd;

	memset(cd, 0, sizeof(*cd));
	if (!d->posix || d->dattr == NULL)
		return dvs_open_stat(d->fs, path, flags, mode, ds);
	fd = dvs_create_stat(d->fs, path, flags | O_EXCL, mode, ds, cd);
	if (fd == -EEXIST && !(flags & O_EXCL))
		fd = dvs_open_stat(d->fs, path, flags, mode, ds);
	return fd;
}

static void
do_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	  struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	struct fuse_entry_param e;
	char path[FS_WIRE_PATH_MAX];
	struct dvs_create_dir cd;
	struct dvs_stat ds;
	uint64_t dsince;
	int r, fd, flags;

	dfuse_req_start(d);
	dfuse_set_owner(req);
	r = dfuse_check_name(name);
	if (r >= 0)
		r = ino_table_child_path(d->itab, parent, name, path, sizeof(path));
	if (r < 0)
		goto fail;
	flags = server_flags(d, fi->flags) | O_CREAT;
	dsince = attr_cache_epoch(d->dattr);
	fd = create_call(d, path, flags, mode, &ds, &cd);
	if (fd == -ENOSPC && dfuse_flush_for_space(d))
		fd = create_call(d, path, flags, mode, &ds, &cd);
	if (cd.known) {
		struct attr_patch p = {cd.ino, cd.size, cd.blocks, cd.time, cd.time};

		(void)attr_cache_patch(d->dattr, parent, dsince, &p);
	} else {
		dfuse_dir_changed(d, parent);
	}
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	dir_names_add(d->dnames, parent, name);
	r = dfuse_make_entry(d, parent, name, &ds, &e);
	if (r < 0) {
		dvs_close(d->fs, fd);
		goto fail;
	}
	fi->fh = (uint64_t)fd;
	set_caching(d, e.ino, fi);
	(void)ino_table_opened(d->itab, e.ino, fd);
	if (fuse_reply_create(req, &e, fi) != 0) {
		/* Interrupted: the kernel has neither the entry nor the file. */
		ino_table_closed(d->itab, e.ino, fd);
		ino_table_forget(d->itab, e.ino, 1);
		dvs_close(d->fs, fd);
	}
	return;
fail:
	fuse_reply_err(req, dfuse_err(r));
}

static void
do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	char path[FS_WIRE_PATH_MAX];
	int r;

	/* A truncation sets the times on the server: kept ones go first. */
	r = (fi->flags & O_TRUNC) ? dfuse_times_flush(d, ino) : 0;
	if (r >= 0)
		r = ino_table_path(d->itab, ino, path, sizeof(path));
	if (r >= 0)
		r = dvs_open(d->fs, path, server_flags(d, fi->flags), 0);
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	/* O_TRUNC changed the size; a writer's release will change more. */
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
		attr_cache_stale(d->fattr, ino);
	fi->fh = (uint64_t)r;
	set_caching(d, ino, fi);
	(void)ino_table_opened(d->itab, ino, r);
	if (fuse_reply_open(req, fi) != 0) {
		ino_table_closed(d->itab, ino, r);
		dvs_close(d->fs, r);
	}
}

static void
do_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	char *buf = thread_buf();
	ssize_t n;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (size > DFUSE_IO_MAX)
		size = DFUSE_IO_MAX;
	n = dvs_pread(d->fs, (int)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, dfuse_err((int)n));
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void
do_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	 struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	struct dvs_write_stat ws;
	uint64_t since;
	ssize_t n;

	/* Times kept back were set before this write (times_defer.c). */
	n = dfuse_times_flush(d, ino);
	if (n < 0) {
		fuse_reply_err(req, dfuse_err((int)n));
		return;
	}
	/* buf is libfuse's receive buffer: it is granted to the server as
	 * is, no copy of ours. */
	since = attr_cache_epoch(d->fattr);
	n = dvs_pwrite_stat(d->fs, (int)fi->fh, buf, size, off, &ws);
	if (n == -ENOSPC && dfuse_flush_for_space(d))
		n = dvs_pwrite_stat(d->fs, (int)fi->fh, buf, size, off, &ws);
	if (n > 0 && ws.st_ino != 0) {
		/* The server told the size, blocks and times after the write
		 * (ext): the kept copy stays true, and the GETATTR the
		 * kernel sends after a written file's close needs no trip. */
		struct attr_patch p = {ws.st_ino, ws.st_size, ws.st_blocks, ws.st_mtim,
				       ws.st_ctim};

		(void)attr_cache_patch(d->fattr, ino, since, &p);
	} else {
		attr_cache_stale(d->fattr, ino); /* size, blocks, times */
	}
	if (n < 0)
		fuse_reply_err(req, dfuse_err((int)n));
	else
		fuse_reply_write(req, (size_t)n);
}

static void
do_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	struct timespec ts[2];
	int r, carried;

	/* Closed in the table first: a SETATTR that keeps times back after
	 * this take finds no descriptor open and sends them itself. */
	ino_table_closed(d->itab, ino, (int)fi->fh);
	carried = times_defer_take(d->tdefer, ino, ts);
	if (carried)
		r = dvs_close_times(d->fs, (int)fi->fh, ts);
	else
		r = dvs_close(d->fs, (int)fi->fh);
	if (carried)
		attr_cache_stale(d->fattr, ino); /* the server's ctime */
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		attr_cache_stale(d->fattr, ino);
		dfuse_alias_changed(d, ino);
		/* The server frees clusters preallocated past the size when
		 * a writer closes (fallocate KEEP_SIZE): st_blocks changed. */
		if (d->exclusive && d->se != NULL)
			(void)fuse_lowlevel_notify_inval_inode(d->se, ino, -1, 0);
	}
	fuse_reply_err(req, dfuse_err(r));
}

static void
do_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	int r;

	r = datasync ? 0 : dfuse_times_flush(d, ino);
	if (r == 0)
		r = datasync ? dvs_fdatasync(d->fs, (int)fi->fh)
			     : dvs_fsync(d->fs, (int)fi->fh);
	fuse_reply_err(req, dfuse_err(r));
}

static void
do_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
	     struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	int r;

	r = dfuse_times_flush(d, ino);
	if (r == 0)
		r = dvs_fallocate(d->fs, (int)fi->fh, mode, off, len);
	if (r == -ENOSPC && dfuse_flush_for_space(d))
		r = dvs_fallocate(d->fs, (int)fi->fh, mode, off, len);
	attr_cache_stale(d->fattr, ino);
	dfuse_alias_changed(d, ino);
	/* The kernel updates the size itself but keeps st_blocks: drop the
	 * cached attributes (only them: offset -1), so stat shows the
	 * clusters, as on vfat. */
	if (r == 0 && d->se != NULL)
		(void)fuse_lowlevel_notify_inval_inode(d->se, ino, -1, 0);
	fuse_reply_err(req, dfuse_err(r));
}

void
dfuse_file_ops(struct fuse_lowlevel_ops *ops)
{
	ops->create = do_create;
	ops->open = do_open;
	ops->read = do_read;
	ops->write = do_write;
	/* No flush: there is nothing to do at close(2) that release does not
	 * do (the kernel writes dirty pages back before it would send FLUSH,
	 * the directory entry is updated when the last descriptor closes), and
	 * without a handler libfuse answers ENOSYS once, after which the
	 * kernel never sends FLUSH again: one request less per close. */
	ops->release = do_release;
	ops->fsync = do_fsync;
	ops->fallocate = do_fallocate;
}
