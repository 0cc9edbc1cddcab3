/*
 * read.c - FS_READ, FS_WRITE, FS_LSEEK, FS_TRUNCATE, FS_FTRUNCATE and
 * FS_FSYNC on a FAT volume: the calls that move file data.
 *
 * FS_READ, FS_WRITE and FS_LSEEK are io.c's, for every back end; here is
 * what moves FAT's bytes: the engine reads the image straight into the worker's
 * buffer by extent (A1 read: image -> buffer -> client).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fs.h"

/* FAT's read of len bytes of f at off (fs_pread_fn). */
static ssize_t
fat_read(struct fs_req *r, struct fs_fd *f, void *buf, size_t len, int64_t off)
{
	(void)r;
	return fat_pread(f->file, buf, len, (uint64_t)off);
}

int
do_read(struct fs_req *r)
{
	return fs_io_read(r, fat_read);
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

/* FAT's write (fs_pwrite_fn): the engine puts an O_APPEND file's bytes at
 * its end itself; the end is then the file's size. */
static ssize_t
fat_write(struct fs_req *r, struct fs_fd *f, const void *buf, size_t len, int64_t off,
	  int append, int64_t *end)
{
	struct fat_stat st;
	ssize_t n;

	n = write_all(r->s->vol, f, buf, len, off);
	if (n > 0)
		*end = append && fat_fstat(f->file, &st) == 0 ? (int64_t)st.size : off + n;
	return n;
}

int
do_write(struct fs_req *r)
{
	return fs_io_write(r, fat_write);
}

/* FAT's size of f (fs_size_fn). */
static int
fat_size(struct fs_req *r, struct fs_fd *f, int64_t *size)
{
	struct fat_stat st;
	int rc;

	(void)r;
	rc = fat_fstat(f->file, &st);
	*size = rc == 0 ? (int64_t)st.size : 0;
	return rc;
}

int
do_lseek(struct fs_req *r)
{
	return fs_io_lseek(r, fat_size);
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
