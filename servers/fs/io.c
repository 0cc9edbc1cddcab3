/*
 * io.c - FS_READ, FS_WRITE and FS_LSEEK for every back end: the checks
 * of the request and of the descriptor, the copy between the client's
 * grant and the worker's buffer, and the descriptor's position.  A back
 * end only moves bytes between that buffer and the file and tells a
 * file's size (fs_pread_fn, fs_pwrite_fn, fs_size_fn: read.c for FAT,
 * ext_file.c for ext).
 *
 * Data goes through the worker's own buffer, which is shared with dvkd
 * (dvs/srv.h): the engine reads the image straight into it and the DVK
 * copies it into the client's grant in ONE kernel copy (or the other way
 * round for a write).  A call that uses the descriptor's position holds
 * fd.lock for the whole call, so concurrent read()s of one descriptor
 * each get their own bytes; a write copies from the client before taking
 * it (the copy is the slow part).
 */
#include <errno.h>

#include "fs.h"

/* The checked descriptor of a read or write (a reference in *out), or an
 * error; deny: the access mode the call is refused on (EBADF). */
static int
io_fd(struct fs_req *r, const struct fs_rq_io *rq, uint32_t deny, struct fs_fd **out)
{
	struct fs_fd *f;
	int rc = 0;

	*out = NULL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	if ((rq->flags & ~(uint32_t)FS_IO_AT) || rq->len > FS_IO_MAX ||
	    ((rq->flags & FS_IO_AT) && rq->off < 0))
		rc = -EINVAL;
	else if (f->is_dir)
		rc = -EISDIR;
	else if ((f->flags & FS_O_ACCMODE) == deny)
		rc = -EBADF;
	if (rc < 0) {
		fs_fd_put(f);
		return rc;
	}
	*out = f;
	return 0;
}

/* Reads rq->len bytes of f at off into the client's grant: the bytes
 * read, or -errno. */
static ssize_t
read_to_client(struct fs_req *r, const struct fs_rq_io *rq, struct fs_fd *f, int64_t off,
	       fs_pread_fn pread_fn)
{
	ssize_t n;
	int rc;

	n = rq->len > 0 ? pread_fn(r, f, r->w->iobuf, rq->len, off) : 0;
	if (n > 0) {
		rc = dvk_vcopy_to(r->w->h, r->src, rq->grant, 0, r->w->iobuf, (size_t)n);
		if (rc < 0)
			n = fs_client_err(rc);
	}
	return n;
}

int
fs_io_read(struct fs_req *r, fs_pread_fn pread_fn)
{
	const struct fs_rq_io *rq = &r->in->m_u.fs_rq_io;
	struct fs_rp_io *rp = &r->out->m_u.fs_rp_io;
	struct fs_fd *f;
	ssize_t n;
	int rc;

	rc = io_fd(r, rq, FS_O_WRONLY, &f);
	if (rc < 0)
		return rc;
	if (rq->flags & FS_IO_AT) {
		n = read_to_client(r, rq, f, rq->off, pread_fn);
		rp->pos = -1; /* pread: the position is not ours to report */
	} else {
		dvs_mutex_lock(&f->lock);
		n = read_to_client(r, rq, f, f->pos, pread_fn);
		if (n > 0)
			f->pos += n;
		rp->pos = f->pos;
		dvs_mutex_unlock(&f->lock);
	}
	fs_fd_put(f);
	return (int)n;
}

int
fs_io_write(struct fs_req *r, fs_pwrite_fn pwrite_fn)
{
	const struct fs_rq_io *rq = &r->in->m_u.fs_rq_io;
	struct fs_rp_io *rp = &r->out->m_u.fs_rp_io;
	struct fs_fd *f;
	int64_t end = 0;
	ssize_t n = 0;
	int rc;

	rc = io_fd(r, rq, FS_O_RDONLY, &f);
	if (rc < 0)
		return rc;
	if (rq->len > 0) {
		rc = dvk_vcopy_from(r->w->h, r->src, rq->grant, 0, r->w->iobuf, rq->len);
		if (rc < 0) {
			fs_fd_put(f);
			return fs_client_err(rc);
		}
	}
	if (rq->flags & FS_IO_AT) {
		if (rq->len > 0)
			n = pwrite_fn(r, f, r->w->iobuf, rq->len, rq->off, 0, &end);
		rp->pos = -1;
	} else {
		dvs_mutex_lock(&f->lock);
		if (rq->len > 0)
			n = pwrite_fn(r, f, r->w->iobuf, rq->len, f->pos,
				      (f->flags & FS_O_APPEND) != 0, &end);
		if (n > 0)
			f->pos = end;
		rp->pos = f->pos;
		dvs_mutex_unlock(&f->lock);
	}
	fs_fd_put(f);
	return (int)n;
}

int
fs_io_lseek(struct fs_req *r, fs_size_fn size_fn)
{
	const struct fs_rq_lseek *rq = &r->in->m_u.fs_rq_lseek;
	struct fs_rp_lseek *rp = &r->out->m_u.fs_rp_lseek;
	struct fs_fd *f;
	int64_t base = 0, pos;
	int rc = 0;

	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	dvs_mutex_lock(&f->lock);
	switch (rq->whence) {
	case FS_SEEK_SET:
		break;
	case FS_SEEK_CUR:
		base = f->pos;
		break;
	case FS_SEEK_END:
		rc = size_fn(r, f, &base);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (rc == 0) {
		if (__builtin_add_overflow(base, rq->off, &pos) || pos < 0) {
			rc = -EINVAL;
		} else {
			f->pos = pos;
			rp->pos = pos;
		}
	}
	dvs_mutex_unlock(&f->lock);
	fs_fd_put(f);
	return rc;
}
