/*
 * stat.c - FS_STAT, FS_FSTAT, FS_UTIMENS, FS_CHMOD, FS_STATVFS, FS_SYNC.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fs.h"

int
do_stat(struct fs_req *r)
{
	const struct fs_rq_path *rq = &r->in->m_u.fs_rq_path;
	struct fat_stat st;
	int rc;

	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path), r->w->path1);
	if (rc < 0)
		return rc;
	rc = fat_stat(r->s->vol->vol, r->w->path1, &st);
	if (rc < 0)
		return rc;
	fs_stat_to_wire(r->s->vol, &st, &r->out->m_u.fs_wire_stat);
	return 0;
}

int
do_fstat(struct fs_req *r)
{
	const struct fs_rq_fd *rq = &r->in->m_u.fs_rq_fd;
	struct fat_stat st;
	struct fs_fd *f;
	int rc;

	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	rc = fat_fstat(f->file, &st);
	if (rc == 0)
		fs_stat_to_wire(r->s->vol, &st, &r->out->m_u.fs_wire_stat);
	fs_fd_put(f);
	return rc;
}

static int
time_arg(int64_t ns, const struct timespec *now, struct timespec *out,
	 const struct timespec **p)
{
	if (ns == FS_UTIME_OMIT) {
		*p = NULL;
		return 0;
	}
	if (ns == FS_UTIME_NOW) {
		*out = *now;
	} else {
		out->tv_sec = ns / 1000000000;
		out->tv_nsec = ns % 1000000000;
		if (out->tv_nsec < 0) {
			out->tv_nsec += 1000000000;
			out->tv_sec--;
		}
	}
	*p = out;
	return 0;
}

int
do_utimens(struct fs_req *r)
{
	const struct fs_rq_utimens *rq = &r->in->m_u.fs_rq_utimens;
	struct timespec now, at, mt;
	const struct timespec *pa, *pm;
	int rc;

	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_utimens), r->w->path1);
	if (rc < 0)
		return rc;
	clock_gettime(CLOCK_REALTIME, &now);
	time_arg(rq->atime_ns, &now, &at, &pa);
	time_arg(rq->mtime_ns, &now, &mt, &pm);
	if (pa == NULL && pm == NULL)
		rc = 0; /* only checks that the path exists: the stat does */
	else
		rc = fat_utimens(r->s->vol->vol, r->w->path1, pa, pm);
	rc = fs_reply_stat(r, rc, r->w->path1, NULL);
	if (rc == 0 && r->out->m_u.fs_wire_stat.ino == 0)
		return fat_stat(r->s->vol->vol, r->w->path1, &(struct fat_stat){0});
	return rc;
}

int
do_chmod(struct fs_req *r)
{
	const struct fs_rq_path_mode *rq = &r->in->m_u.fs_rq_path_mode;
	int rc;

	if (rq->mode & ~07777u)
		return -EINVAL;
	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path_mode), r->w->path1);
	if (rc < 0)
		return rc;
	rc = fat_setattr(r->s->vol->vol, r->w->path1, (rq->mode & 0222) ? 0 : FAT_ATTR_RDONLY,
			 FAT_ATTR_RDONLY);
	return fs_reply_stat(r, rc, r->w->path1, NULL);
}

int
do_statvfs(struct fs_req *r)
{
	struct fs_rp_statvfs *rp = &r->out->m_u.fs_rp_statvfs;
	struct fat_statfs st;
	int rc;

	rc = fat_statfs(r->s->vol->vol, &st);
	if (rc < 0)
		return rc;
	rp->bsize = st.cluster_size;
	rp->blocks = st.total_clusters;
	rp->bfree = st.free_clusters;
	rp->bavail = st.free_clusters;
	/* FAT has no inode table: a file costs a directory entry and, when
	 * not empty, a cluster; report clusters as the file limit. */
	rp->files = st.total_clusters;
	rp->ffree = st.free_clusters;
	rp->namemax = st.name_max;
	rp->flags = (st.read_only || r->s->vol->read_only) ? FS_VOL_RDONLY : 0;
	return 0;
}

int
do_sync(struct fs_req *r)
{
	return fat_sync(r->s->vol->vol);
}
