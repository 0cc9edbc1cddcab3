/*
 * open.c - FS_OPEN and FS_CLOSE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/log.h"
#include "fs.h"

static int
linux_flags(uint32_t f)
{
	int o;

	switch (f & FS_O_ACCMODE) {
	case FS_O_RDONLY:
		o = O_RDONLY;
		break;
	case FS_O_WRONLY:
		o = O_WRONLY;
		break;
	case FS_O_RDWR:
		o = O_RDWR;
		break;
	default:
		return -EINVAL;
	}
	if (f & FS_O_CREAT)
		o |= O_CREAT;
	if (f & FS_O_EXCL)
		o |= O_EXCL;
	if (f & FS_O_TRUNC)
		o |= O_TRUNC;
	if (f & FS_O_APPEND)
		o |= O_APPEND;
	if (f & FS_O_ACCESS_CHECKED)
		o |= FAT_O_OVERRIDE_RO;
	return o;
}

int
do_open(struct fs_req *r)
{
	const struct fs_rq_open *rq = &r->in->m_u.fs_rq_open;
	struct fs_rp_open *rp = &r->out->m_u.fs_rp_open;
	struct fs_volume *v = r->s->vol;
	struct fs_wire_stat w;
	struct fat_stat st;
	struct fs_fd *f = NULL;
	int oflags, rc, created = 0;
	char *path = r->w->path1;

	if (rq->flags & ~(uint32_t)FS_O_ALL)
		return -EINVAL;
	oflags = linux_flags(rq->flags);
	if (oflags < 0)
		return oflags;
	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_open), path);
	if (rc < 0)
		return rc;
	if (rq->flags & FS_O_DIRECTORY) {
		rc = fat_stat(v->vol, path, &st);
		if (rc < 0)
			return rc;
		if (!(st.attr & FAT_ATTR_DIR))
			return -ENOTDIR;
		if ((rq->flags & FS_O_ACCMODE) != FS_O_RDONLY)
			return -EISDIR;
	}
	if ((rq->flags & FS_O_CREAT) && !(rq->mode & 0222))
		created = fat_stat(v->vol, path, &st) == -ENOENT;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	atomic_init(&f->refs, 1);
	f->flags = rq->flags;
	rc = fat_open(v->vol, path, oflags, &f->file);
	if (rc < 0)
		goto fail;
	rc = fat_fstat(f->file, &st);
	if (rc < 0)
		goto fail;
	if (st.attr & FAT_ATTR_DIR) {
		f->is_dir = 1;
		rc = fat_dir_open(v->vol, path, &f->dir);
		if (rc < 0)
			goto fail;
	}
	if (created) {
		/* A mode with no write bit makes a read-only file; the handle
		 * that created it may still write (as with open(2)). */
		rc = fat_setattr(v->vol, path, FAT_ATTR_RDONLY, FAT_ATTR_RDONLY);
		if (rc < 0)
			goto fail;
		st.attr |= FAT_ATTR_RDONLY;
	}
	rc = fs_session_add_fd(r->s, f);
	if (rc < 0)
		goto fail;
	fs_stat_to_wire(v, &st, &w);
	if (rq->flags & FS_O_STAT) {
		/* The caller wants the whole stat (dvs-fuse's create):
		 * no FS_FSTAT round trip after this one. */
		r->out->m_u.fs_wire_stat = w;
		return rc;
	}
	rp->ino = w.ino;
	rp->size = w.size;
	rp->mode = w.mode;
	return rc;
fail:
	fs_fd_put(f);
	return rc;
}

int
do_close(struct fs_req *r)
{
	const struct fs_rq_fd *rq = &r->in->m_u.fs_rq_fd;
	struct fs_fd *f;

	if (rq->flags & ~(uint32_t)(FS_CLOSE_TIMES | FS_CLOSE_PROBE))
		return -EINVAL;
	/* FAT's engine sets times by path only: the times are refused
	 * (ext volumes: ext_do_close). */
	if (rq->flags & FS_CLOSE_PROBE)
		return -EOPNOTSUPP;
	f = fs_session_take_fd(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	fs_fd_put(f);
	return (rq->flags & FS_CLOSE_TIMES) ? -EOPNOTSUPP : 0;
}
