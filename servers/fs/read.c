/*
 * read.c - FS_READ, FS_WRITE, FS_LSEEK, FS_TRUNCATE, FS_FTRUNCATE and
 * FS_FSYNC: the calls that move file data.
 *
 * Data goes through the worker's own buffer, which is shared with dvkd
 * (dvs/srv.h): the engine reads the image straight into it by extent and
 * the DVK copies it into the client's grant in ONE kernel copy (or the
 * other way round for a write).  A1 read: image -> buffer -> client.  A
 * call that uses the descriptor's position holds fd.lock for the whole
 * call, so concurrent read()s of one descriptor each get their own bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fs.h"

static int
io_check(const struct fs_rq_io *rq, struct fs_fd *f)
{
	if (rq->flags & ~(uint32_t)FS_IO_AT)
		return -EINVAL;
	if (rq->len > FS_IO_MAX)
		return -EINVAL;
	if ((rq->flags & FS_IO_AT) && rq->off < 0)
		return -EINVAL;
	if (f->is_dir)
		return -EISDIR;
	return 0;
}

/* The checked descriptor of a read or write (a reference in *out), or an
 * error; deny: the access mode the call is refused on (EBADF). */
static int
io_fd(struct fs_req *r, const struct fs_rq_io *rq, uint32_t deny, struct fs_fd **out)
{
	struct fs_fd *f;
	int rc;

	*out = NULL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	rc = io_check(rq, f);
	if (rc == 0 && (f->flags & FS_O_ACCMODE) == deny)
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
read_to_client(struct fs_req *r, const struct fs_rq_io *rq, struct fs_fd *f, int64_t off)
{
	ssize_t n;
	int rc;

	n = rq->len > 0 ? fat_pread(f->file, r->w->iobuf, rq->len, (uint64_t)off) : 0;
	if (n > 0) {
		rc = dvk_vcopy_to(r->w->h, r->src, rq->grant, 0, r->w->iobuf, (size_t)n);
		if (rc < 0)
			n = fs_client_err(rc);
	}
	return n;
}

int
do_read(struct fs_req *r)
{
	const struct fs_rq_io *rq = &r->in->m_u.fs_rq_io;
	struct fs_rp_io *rp = &r->out->m_u.fs_rp_io;
	int at = (rq->flags & FS_IO_AT) != 0;
	struct fs_fd *f;
	ssize_t n;
	int rc;

	rc = io_fd(r, rq, FS_O_WRONLY, &f);
	if (rc < 0)
		return rc;
	if (at) {
		n = read_to_client(r, rq, f, rq->off);
		rp->pos = -1; /* pread: the position is not ours to report */
	} else {
		dvs_mutex_lock(&f->lock);
		n = read_to_client(r, rq, f, f->pos);
		if (n > 0)
			f->pos += n;
		rp->pos = f->pos;
		dvs_mutex_unlock(&f->lock);
	}
	rc = (int)n;
	fs_fd_put(f);
	return rc;
}

/*
 * The engine releases clusters freed by truncation or unlink only at its
 * next flush, so a full-looking volume may have room after one: on
 * ENOSPC (or a short write) flush once and write the rest.
 */
static ssize_t
write_all(struct fs_volume *v, struct fs_fd *f, const unsigned char *buf, size_t len,
	  int64_t off)
{
	ssize_t n, m;

	n = fat_pwrite(f->file, buf, len, (uint64_t)off);
	if (n == -ENOSPC || (n >= 0 && (size_t)n < len)) {
		size_t done = n > 0 ? (size_t)n : 0;

		if (fat_sync(v->vol) < 0)
			return n;
		m = fat_pwrite(f->file, buf + done, len - done, (uint64_t)off + done);
		if (m < 0)
			return done > 0 ? (ssize_t)done : m;
		n = (ssize_t)(done + (size_t)m);
	}
	return n;
}

int
do_write(struct fs_req *r)
{
	const struct fs_rq_io *rq = &r->in->m_u.fs_rq_io;
	struct fs_rp_io *rp = &r->out->m_u.fs_rp_io;
	int at = (rq->flags & FS_IO_AT) != 0;
	struct fat_stat st;
	struct fs_fd *f;
	int64_t off;
	ssize_t n = 0;
	int rc;

	rc = io_fd(r, rq, FS_O_RDONLY, &f);
	if (rc < 0)
		return rc;
	/* Copy before taking the position: the copy is the slow part. */
	if (rq->len > 0) {
		rc = dvk_vcopy_from(r->w->h, r->src, rq->grant, 0, r->w->iobuf, rq->len);
		if (rc < 0) {
			rc = fs_client_err(rc);
			goto out;
		}
	}
	if (at) {
		if (rq->len > 0)
			n = write_all(r->s->vol, f, r->w->iobuf, rq->len, rq->off);
		rp->pos = -1;
	} else {
		dvs_mutex_lock(&f->lock);
		off = f->pos;
		if (rq->len > 0)
			n = write_all(r->s->vol, f, r->w->iobuf, rq->len, off);
		if (n > 0) {
			if ((f->flags & FS_O_APPEND) && fat_fstat(f->file, &st) == 0)
				f->pos = (int64_t)st.size;
			else
				f->pos = off + n;
		}
		rp->pos = f->pos;
		dvs_mutex_unlock(&f->lock);
	}
	rc = (int)n;
out:
	fs_fd_put(f);
	return rc;
}

int
do_lseek(struct fs_req *r)
{
	const struct fs_rq_lseek *rq = &r->in->m_u.fs_rq_lseek;
	struct fs_rp_lseek *rp = &r->out->m_u.fs_rp_lseek;
	struct fat_stat st;
	struct fs_fd *f;
	int64_t base = 0, pos;
	int rc = 0;

	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	dvs_mutex_lock(&f->lock);
	switch (rq->whence) {
	case FS_SEEK_SET:
		base = 0;
		break;
	case FS_SEEK_CUR:
		base = f->pos;
		break;
	case FS_SEEK_END:
		rc = fat_fstat(f->file, &st);
		base = (int64_t)st.size;
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

int
do_truncate(struct fs_req *r)
{
	const struct fs_rq_truncate *rq = &r->in->m_u.fs_rq_truncate;
	struct fat_file *file = NULL;
	char *path = r->w->path1;
	int rc;

	if (rq->len < 0 || (rq->flags & ~(uint32_t)FS_O_ACCESS_CHECKED))
		return -EINVAL;
	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_truncate), path);
	if (rc < 0)
		return rc;
	rc = fat_open(r->s->vol->vol, path,
		      O_WRONLY | (rq->flags ? FAT_O_OVERRIDE_RO : 0), &file);
	if (rc < 0)
		return rc;
	rc = fat_ftruncate(file, (uint64_t)rq->len);
	rc = fs_reply_stat(r, rc, NULL, file);
	int rc2 = fat_close(file);
	return rc < 0 ? rc : rc2;
}

int
do_ftruncate(struct fs_req *r)
{
	const struct fs_rq_truncate *rq = &r->in->m_u.fs_rq_truncate;
	struct fs_fd *f;
	int rc;

	if (rq->len < 0)
		return -EINVAL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	if (f->is_dir)
		rc = -EISDIR;
	else if ((f->flags & FS_O_ACCMODE) == FS_O_RDONLY)
		rc = -EINVAL; /* what Linux gives for a read-only fd */
	else
		rc = fs_reply_stat(r, fat_ftruncate(f->file, (uint64_t)rq->len), NULL,
				   f->file);
	fs_fd_put(f);
	return rc;
}

int
do_fallocate(struct fs_req *r)
{
	const struct fs_rq_falloc *rq = &r->in->m_u.fs_rq_falloc;
	struct fs_fd *f;
	int rc;

	if (rq->off < 0 || rq->len <= 0)
		return -EINVAL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	if (f->is_dir)
		rc = -EISDIR;
	else if ((f->flags & FS_O_ACCMODE) == FS_O_RDONLY)
		rc = -EBADF; /* what Linux gives for a read-only fd */
	else
		rc = fat_fallocate(f->file, (int)rq->mode, (uint64_t)rq->off,
				   (uint64_t)rq->len);
	fs_fd_put(f);
	return rc;
}

int
do_fsync(struct fs_req *r)
{
	const struct fs_rq_fd *rq = &r->in->m_u.fs_rq_fd;
	struct fs_fd *f;
	int rc;

	if (rq->flags > 1)
		return -EINVAL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	rc = fat_fsync(f->file);
	fs_fd_put(f);
	return rc;
}
