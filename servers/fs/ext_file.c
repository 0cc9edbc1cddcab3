/*
 * ext_file.c - FS_OPEN, FS_READ, FS_WRITE, FS_LSEEK, FS_TRUNCATE,
 * FS_FTRUNCATE, FS_FSTAT and FS_FSYNC on an ext volume.
 *
 * FS_READ and FS_WRITE go through io.c as on FAT: a read fills the
 * worker's buffer under the volume lock and io.c copies it to the client
 * after unlocking; a write copies from the client first, then takes the
 * lock.  The descriptor's position has its own lock (fd.lock), taken
 * before the volume's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ext.h"

static struct ext_vol *
xvol(struct fs_req *r)
{
	return r->s->vol->ext;
}

/* Creates path as a regular file when it is missing and the flags say so;
 * *ino the file either way, *made the directory it was made in (0: none
 * made). */
static int
open_or_create(struct fs_req *r, struct ext_vol *xv, const char *path, uint32_t flags,
	       uint32_t mode, uint32_t *ino, uint32_t *made) DVS_REQUIRES(xv->lock)
{
	const char *name;
	uint32_t dir;
	ext2_ino_t i;
	errcode_t e;
	int rc;

	*made = 0;
	if (!(flags & FS_O_CREAT) || strcmp(path, "/") == 0) {
		rc = ext_lookup(xv, path, ino);
		return rc == 0 && (flags & FS_O_CREAT) && (flags & FS_O_EXCL) ? -EEXIST : rc;
	}
	/* One walk of the path and one scan of the directory, whose
	 * answer both the open and the create use (the lock is held). */
	rc = ext_parent(xv, path, &dir, &name);
	if (rc == -ENOTDIR) {
		/* The parent may be a symbolic link, which ext_parent does not
		 * follow and ext_lookup follows inside a path: as before. */
		rc = ext_lookup(xv, path, ino);
		return rc == 0 && (flags & FS_O_EXCL) ? -EEXIST : rc == -ENOENT ? -ENOTDIR : rc;
	}
	if (rc < 0)
		return rc;
	e = ext2fs_lookup(xv->fs, dir, name, (int)strlen(name), NULL, &i);
	if (e == 0) {
		*ino = i;
		return (flags & FS_O_EXCL) ? -EEXIST : 0;
	}
	rc = ext_err(e, "looking a name up");
	if (rc != -ENOENT)
		return rc;
	if (xv->read_only)
		return -EROFS;
	rc = ext_new_node_at(r, xv, dir, name, S_IFREG | (mode & 07777), ino);
	if (rc == 0) {
		ext_names_put(xv, path, *ino); /* its setattr and stat come next */
		*made = dir;
	}
	return rc;
}

/*
 * FS_O_DIRSTAT's reply (fsproto.h) from the new file's stat w and its
 * directory dir, read back from the inodes: the directory's times are
 * promised only when they are the file's instant as stored.
 */
static void
create_reply(struct ext_vol *xv, const struct fs_wire_pstat *w, uint32_t dir,
	     struct fs_rp_create *rp) DVS_REQUIRES(xv->lock)
{
	struct fs_wire_pstat dw;

	memset(rp, 0, sizeof(*rp));
	rp->ino = w->ino;
	rp->uid = w->uid;
	rp->gid = w->gid;
	rp->mode = w->mode;
	rp->nlink = w->nlink;
	rp->blocks = w->blocks;
	rp->time_ns = w->mtime_ns;
	rp->dir_ino = dir;
	if (w->size != 0 || w->atime_ns != w->mtime_ns || w->ctime_ns != w->mtime_ns ||
	    ext_stat_ino(xv, dir, &dw) < 0)
		return;
	if (dw.mtime_ns != w->mtime_ns || dw.ctime_ns != w->mtime_ns)
		return;
	rp->dir_flags = FS_CREATE_DIR_TIMES;
	rp->dir_size = dw.size;
	rp->dir_blocks = dw.blocks;
}

static int
truncate_ino(struct ext_vol *xv, uint32_t ino, uint64_t len) DVS_REQUIRES(xv->lock)
{
	ext2_file_t ef;
	errcode_t e, e2;

	e = ext2fs_file_open2(xv->fs, ino, NULL, EXT2_FILE_WRITE, &ef);
	if (e != 0)
		return ext_err(e, "opening a file");
	e = ext2fs_file_set_size2(ef, len);
	e2 = ext2fs_file_close(ef);
	if (e == 0)
		e = e2;
	if (e == 0)
		ext_touch(xv, ino, 1);
	return ext_err(e, "truncating");
}

int
ext_do_open(struct fs_req *r)
{
	const struct fs_rq_open *rq = &r->in->m_u.fs_rq_open;
	struct fs_rp_open *rp = &r->out->m_u.fs_rp_open;
	struct ext_vol *xv = xvol(r);
	struct ext2_inode_large in;
	const uint32_t dirstat = FS_O_CREAT | FS_O_EXCL | FS_O_STAT | FS_O_DIRSTAT;
	struct fs_wire_pstat w;
	struct fs_rp_create crp;
	uint32_t acc = rq->flags & FS_O_ACCMODE, ino = 0, made = 0;
	struct fs_fd *f = NULL;
	char *path = r->w->path1;
	int rc, writes;

	if (rq->flags & ~(uint32_t)FS_O_ALL_POSIX)
		return -EINVAL;
	if (acc == 3)
		return -EINVAL;
	/* The reply describes a file this call made: only with O_EXCL. */
	if ((rq->flags & FS_O_DIRSTAT) && (rq->flags & dirstat) != dirstat)
		return -EINVAL;
	writes = acc != FS_O_RDONLY || (rq->flags & FS_O_TRUNC);
	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_open), path);
	if (rc < 0)
		return rc;
	if (writes && xv->read_only)
		return -EROFS;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	atomic_init(&f->refs, 1);
	f->flags = rq->flags;
	ext_lock(xv);
	rc = open_or_create(r, xv, path, rq->flags, rq->mode, &ino, &made);
	if (rc == 0)
		rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		goto unlock;
	if (LINUX_S_ISDIR(in.i_mode)) {
		if (acc != FS_O_RDONLY)
			rc = -EISDIR;
		f->is_dir = 1;
	} else if (rq->flags & FS_O_DIRECTORY) {
		rc = -ENOTDIR;
	} else if (LINUX_S_ISLNK(in.i_mode)) {
		rc = -ELOOP; /* the client resolves links (O_NOFOLLOW) */
	} else if (!LINUX_S_ISREG(in.i_mode) && acc != FS_O_RDONLY) {
		rc = -EOPNOTSUPP; /* FIFOs and sockets are the client's */
	}
	if (rc == 0 && (rq->flags & FS_O_TRUNC) && LINUX_S_ISREG(in.i_mode) &&
	    EXT2_I_SIZE(&in) > 0) {
		rc = truncate_ino(xv, ino, 0);
		if (rc == 0)
			rc = ext_iget(xv, ino, &in);
	}
	if (rc == 0)
		rc = ext_open_ref(xv, ino);
	if (rc == 0) {
		f->xv = xv;
		f->xino = ino;
		ext_stat_to_wire(xv, ino, &in, &w);
		if (rq->flags & FS_O_DIRSTAT)
			create_reply(xv, &w, made, &crp);
	}
unlock:
	ext_unlock(xv);
	if (rc < 0)
		goto fail;
	rc = fs_session_add_fd(r->s, f);
	if (rc < 0)
		goto fail;
	if (rq->flags & FS_O_DIRSTAT) {
		r->out->m_u.fs_rp_create = crp;
		return rc;
	}
	if (rq->flags & FS_O_STAT) {
		r->out->m_u.fs_wire_pstat = w;
		return rc;
	}
	rp->ino = w.ino;
	rp->size = w.size;
	rp->mode = w.mode;
	return rc;
fail:
	fs_fd_put(f); /* releases the open count if it was taken */
	return rc;
}

/* ext's read (fs_pread_fn): ext_data.c under the volume lock. */
static ssize_t
ext_read(struct fs_req *r, struct fs_fd *f, void *buf, size_t len, int64_t off)
{
	struct ext_vol *xv = xvol(r);
	ssize_t n;

	ext_lock(xv);
	n = ext_data_read(xv, f->xino, buf, len, (uint64_t)off);
	ext_unlock(xv);
	return n;
}

int
ext_do_read(struct fs_req *r)
{
	return fs_io_read(r, ext_read);
}

/* Writes len bytes of buf at off of ino (at its end when append); the
 * count; *end: the offset after them. */
static ssize_t
write_locked(struct ext_vol *xv, uint32_t ino, const unsigned char *buf, size_t len,
	     uint64_t off, int append, int64_t *end) DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large in;
	ssize_t n;
	int rc;

	if (append) {
		rc = ext_iget(xv, ino, &in);
		if (rc < 0)
			return rc;
		off = EXT2_I_SIZE(&in);
	}
	if (off + len < off || off + len > (uint64_t)INT64_MAX)
		return -EFBIG;
	n = ext_data_write(xv, ino, buf, len, off);
	*end = (int64_t)(off + (n > 0 ? (uint64_t)n : 0));
	if (n > 0)
		ext_touch(xv, ino, 1);
	return n;
}

/* The file's attributes after a write into the reply (fsproto.h, struct
 * fs_rp_io); left zero (nothing said) when the inode cannot be read. */
static void
write_reply(struct fs_req *r, struct ext_vol *xv, uint32_t ino) DVS_REQUIRES(xv->lock)
{
	struct fs_rp_io *rp = &r->out->m_u.fs_rp_io;
	struct fs_wire_pstat w;

	if (ext_stat_ino(xv, ino, &w) < 0)
		return;
	rp->size = w.size;
	rp->blocks = w.blocks;
	rp->mtime_ns = w.mtime_ns;
	rp->ctime_ns = w.ctime_ns;
	rp->ino = w.ino;
}

/* ext's write (fs_pwrite_fn). */
static ssize_t
ext_write(struct fs_req *r, struct fs_fd *f, const void *buf, size_t len, int64_t off,
	  int append, int64_t *end)
{
	struct ext_vol *xv = xvol(r);
	ssize_t n;

	ext_lock(xv);
	n = write_locked(xv, f->xino, buf, len, (uint64_t)off, append, end);
	if (n > 0)
		write_reply(r, xv, f->xino);
	ext_unlock(xv);
	return n;
}

int
ext_do_write(struct fs_req *r)
{
	return fs_io_write(r, ext_write);
}

/* ext's size of f (fs_size_fn). */
static int
ext_size(struct fs_req *r, struct fs_fd *f, int64_t *size)
{
	struct ext_vol *xv = xvol(r);
	struct ext2_inode_large in;
	int rc;

	ext_lock(xv);
	rc = ext_iget(xv, f->xino, &in);
	ext_unlock(xv);
	*size = rc == 0 ? (int64_t)EXT2_I_SIZE(&in) : 0;
	return rc;
}

int
ext_do_lseek(struct fs_req *r)
{
	return fs_io_lseek(r, ext_size);
}

static int
truncate_checked(struct fs_req *r, struct ext_vol *xv, uint32_t ino, int64_t len) DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large in;
	int rc;

	rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (LINUX_S_ISDIR(in.i_mode))
		return -EISDIR;
	if (!LINUX_S_ISREG(in.i_mode))
		return -EINVAL;
	rc = truncate_ino(xv, ino, (uint64_t)len);
	if (rc == 0)
		ext_reply_stat(r, xv, ino);
	return rc;
}

int
ext_do_truncate(struct fs_req *r)
{
	const struct fs_rq_truncate *rq = &r->in->m_u.fs_rq_truncate;
	struct ext_vol *xv = xvol(r);
	uint32_t ino;
	int rc;

	if (rq->len < 0 || (rq->flags & ~(uint32_t)FS_O_ACCESS_CHECKED))
		return -EINVAL;
	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_truncate), r->w->path1);
	if (rc < 0)
		return rc;
	if (xv->read_only)
		return -EROFS;
	ext_lock(xv);
	rc = ext_lookup(xv, r->w->path1, &ino);
	if (rc == 0)
		rc = truncate_checked(r, xv, ino, rq->len);
	ext_unlock(xv);
	return rc;
}

int
ext_do_ftruncate(struct fs_req *r)
{
	const struct fs_rq_truncate *rq = &r->in->m_u.fs_rq_truncate;
	struct ext_vol *xv = xvol(r);
	struct fs_fd *f;
	int rc;

	if (rq->len < 0)
		return -EINVAL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	if (f->is_dir) {
		rc = -EISDIR;
	} else if ((f->flags & FS_O_ACCMODE) == FS_O_RDONLY) {
		rc = -EINVAL;
	} else {
		ext_lock(xv);
		rc = truncate_checked(r, xv, f->xino, rq->len);
		ext_unlock(xv);
	}
	fs_fd_put(f);
	return rc;
}

int
ext_do_fstat(struct fs_req *r)
{
	const struct fs_rq_fd *rq = &r->in->m_u.fs_rq_fd;
	struct ext_vol *xv = xvol(r);
	struct ext2_inode_large in;
	struct fs_fd *f;
	int rc;

	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	ext_lock(xv);
	rc = ext_iget(xv, f->xino, &in);
	if (rc == 0)
		ext_stat_to_wire(xv, f->xino, &in, &r->out->m_u.fs_wire_pstat);
	ext_unlock(xv);
	fs_fd_put(f);
	return rc;
}

int
ext_do_fsync(struct fs_req *r)
{
	const struct fs_rq_fd *rq = &r->in->m_u.fs_rq_fd;
	struct fs_fd *f;
	int rc;

	if (rq->flags > 1)
		return -EINVAL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	/* Data and inode are already in the image (no cache of ours above
	 * the device); the allocation state is what must follow. */
	rc = ext_volume_sync(xvol(r));
	fs_fd_put(f);
	return rc;
}
