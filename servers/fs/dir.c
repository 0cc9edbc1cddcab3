/*
 * dir.c - FS_MKDIR, FS_RMDIR, FS_UNLINK, FS_RENAME and FS_READDIR.
 */
#include <errno.h>
#include <string.h>

#include "fs.h"

static int
path_only(struct fs_req *r, int (*fn)(struct fat_vol *, const char *))
{
	const struct fs_rq_path *rq = &r->in->m_u.fs_rq_path;
	int rc;

	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path), r->w->path1);
	if (rc < 0)
		return rc;
	return fn(r->s->vol->vol, r->w->path1);
}

int
do_mkdir(struct fs_req *r)
{
	const struct fs_rq_path_mode *rq = &r->in->m_u.fs_rq_path_mode;
	int rc;

	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path_mode), r->w->path1);
	if (rc < 0)
		return rc;
	if (strcmp(r->w->path1, "/") == 0)
		return -EEXIST;
	rc = fat_mkdir(r->s->vol->vol, r->w->path1);
	return fs_reply_stat(r, rc, r->w->path1, NULL);
}

int
do_rmdir(struct fs_req *r)
{
	return path_only(r, fat_rmdir);
}

int
do_unlink(struct fs_req *r)
{
	return path_only(r, fat_unlink);
}

int
do_rename(struct fs_req *r)
{
	const struct fs_rq_rename *rq = &r->in->m_u.fs_rq_rename;
	int rc;

	if (rq->flags & ~(uint32_t)FS_RENAME_NOREPLACE)
		return -EINVAL;
	rc = fs_get_path(r, &rq->from, FS_RQ_END(fs_rq_rename), r->w->path1);
	if (rc < 0)
		return rc;
	rc = fs_get_path(r, &rq->to, FS_RQ_END(fs_rq_rename), r->w->path2);
	if (rc < 0)
		return rc;
	/* The engine checks NOREPLACE under the lock of the rename itself,
	 * so two clients cannot both take one name. */
	return fat_rename2(r->s->vol->vol, r->w->path1, r->w->path2,
			   (rq->flags & FS_RENAME_NOREPLACE) ? FAT_RENAME_NOREPLACE : 0);
}

int
do_readdir(struct fs_req *r)
{
	const struct fs_rq_readdir *rq = &r->in->m_u.fs_rq_readdir;
	struct fs_rp_readdir *rp = &r->out->m_u.fs_rp_readdir;
	static __thread struct fat_dirent ent;
	struct fs_wire_dirent rec;
	unsigned char *buf = r->w->iobuf;
	size_t pos = 0, nlen, rlen;
	uint32_t max = rq->max;
	struct fs_fd *f;
	int n = 0, rc;

	if (rq->len > FS_LIST_MAX)
		return -EINVAL;
	if (max == 0)
		max = UINT32_MAX;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	if (!f->is_dir) {
		fs_fd_put(f);
		return -ENOTDIR;
	}
	dvs_mutex_lock(&f->lock);
	rc = fat_dir_seek(f->dir, rq->cookie);
	rp->next = rq->cookie;
	while (rc == 0 && (uint32_t)n < max) {
		rc = fat_dir_read(f->dir, &ent);
		if (rc <= 0) {
			if (rc == 0)
				rp->eof = 1;
			break;
		}
		rc = 0;
		nlen = strlen(ent.name);
		if (nlen == 0 || nlen > FS_NAME_MAX)
			continue; /* cannot be sent; the engine caps at 765 */
		rlen = FS_DIRENT_RECLEN(nlen);
		if (pos + rlen > rq->len) {
			if (n == 0)
				rc = -EINVAL; /* the buffer holds no record */
			break;
		}
		memset(&rec, 0, sizeof(rec));
		fs_stat_to_wire(r->s->vol, &ent.st, &rec.st);
		rec.next = ent.off;
		rec.name_len = (uint16_t)nlen;
		rec.rec_len = (uint16_t)rlen;
		memcpy(buf + pos, &rec, sizeof(rec));
		memcpy(buf + pos + sizeof(rec), ent.name, nlen);
		memset(buf + pos + sizeof(rec) + nlen, 0, rlen - sizeof(rec) - nlen);
		pos += rlen;
		rp->next = ent.off;
		n++;
	}
	dvs_mutex_unlock(&f->lock);
	fs_fd_put(f);
	if (rc < 0)
		return rc;
	if (pos > 0) {
		rc = dvk_vcopy_to(r->w->h, r->src, rq->grant, 0, buf, pos);
		if (rc < 0)
			return fs_client_err(rc);
	}
	rp->bytes = (uint32_t)pos;
	return n;
}
