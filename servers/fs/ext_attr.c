/*
 * ext_attr.c - FS_STAT, FS_CHMOD, FS_CHOWN, FS_UTIMENS, FS_STATVFS,
 * FS_SYNC and FS_OWNER on an ext volume.
 *
 * Who may change what: dvs-fs learns from the DVK only the endpoint and
 * binding generation of a caller, never a Unix identity, so it checks no
 * owner or mode itself: every binding of the DC is trusted as the image's
 * owner is (docs/EXT.md, "Who the caller is").  A FUSE mount checks each
 * user's rights in the kernel (default_permissions) against the owners
 * and modes this server reports.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ext.h"

static struct ext_vol *
xvol(struct fs_req *r)
{
	return r->s->vol->ext;
}

int
ext_writable(struct fs_req *r)
{
	return r->s->vol->ext->read_only ? -EROFS : 0;
}

int
ext_do_stat(struct fs_req *r)
{
	const struct fs_rq_path *rq = &r->in->m_u.fs_rq_path;
	struct ext_vol *xv = xvol(r);
	struct ext2_inode_large in;
	uint32_t ino;
	int rc;

	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path), r->w->path1);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = ext_lookup(xv, r->w->path1, &ino);
	if (rc == 0)
		rc = ext_iget(xv, ino, &in);
	if (rc == 0)
		ext_stat_to_wire(xv, ino, &in, &r->out->m_u.fs_wire_pstat);
	ext_unlock(xv);
	return rc;
}

/* Looks path up, lets change() edit its inode, writes it with a new
 * ctime and replies with the stat. */
static int
edit_inode(struct fs_req *r, const struct fs_path_arg *a, size_t rq_size,
	   void (*change)(struct ext_vol *, struct ext2_inode_large *, const void *),
	   const void *arg)
{
	struct ext_vol *xv = xvol(r);
	struct ext2_inode_large in;
	struct timespec now;
	uint32_t ino;
	int rc;

	rc = fs_get_path(r, a, rq_size, r->w->path1);
	if (rc < 0)
		return rc;
	rc = ext_writable(r);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = ext_lookup(xv, r->w->path1, &ino);
	if (rc == 0)
		rc = ext_iget(xv, ino, &in);
	if (rc == 0) {
		change(xv, &in, arg);
		clock_gettime(CLOCK_REALTIME, &now);
		ext_set_time(xv, &in, 'c', &now);
		rc = ext_iput(xv, ino, &in);
	}
	if (rc == 0)
		ext_stat_to_wire(xv, ino, &in, &r->out->m_u.fs_wire_pstat);
	ext_unlock(xv);
	return rc;
}

static void
set_mode(struct ext_vol *xv, struct ext2_inode_large *in, const void *arg)
{
	uint32_t mode = *(const uint32_t *)arg;

	in->i_mode = (uint16_t)((in->i_mode & S_IFMT) | (mode & 07777));
}

int
ext_do_chmod(struct fs_req *r)
{
	const struct fs_rq_path_mode *rq = &r->in->m_u.fs_rq_path_mode;
	uint32_t mode = rq->mode;

	if (mode & ~07777u)
		return -EINVAL;
	return edit_inode(r, &rq->path, FS_RQ_END(fs_rq_path_mode), set_mode, &mode);
}

static void
set_owner(struct ext_vol *xv, struct ext2_inode_large *in, const void *arg)
{
	const struct fs_rq_chown *rq = arg;

	if (rq->uid != FS_ID_KEEP) {
		in->i_uid = (uint16_t)rq->uid;
		ext2fs_set_i_uid_high(*in, rq->uid >> 16);
	}
	if (rq->gid != FS_ID_KEEP) {
		in->i_gid = (uint16_t)rq->gid;
		ext2fs_set_i_gid_high(*in, rq->gid >> 16);
	}
	/* As Linux: a new owner of a file loses the set-id bits (a
	 * group-executable setgid bit only; a directory keeps them). */
	if (!LINUX_S_ISDIR(in->i_mode) && (rq->uid != FS_ID_KEEP || rq->gid != FS_ID_KEEP)) {
		in->i_mode &= (uint16_t)~S_ISUID;
		if (in->i_mode & S_IXGRP)
			in->i_mode &= (uint16_t)~S_ISGID;
	}
}

int
ext_do_chown(struct fs_req *r)
{
	const struct fs_rq_chown *rq = &r->in->m_u.fs_rq_chown;
	struct fs_rq_chown copy = *rq;

	return edit_inode(r, &rq->path, FS_RQ_END(fs_rq_chown), set_owner, &copy);
}

struct times_arg {
	int64_t at, mt;
};

static void
ns_to_ts(int64_t ns, struct timespec *t)
{
	t->tv_sec = ns / 1000000000;
	t->tv_nsec = ns % 1000000000;
	if (t->tv_nsec < 0) {
		t->tv_nsec += 1000000000;
		t->tv_sec--;
	}
}

static void
set_times(struct ext_vol *xv, struct ext2_inode_large *in, const void *arg) DVS_REQUIRES(xv->lock)
{
	const struct times_arg *a = arg;
	struct timespec now, t;

	clock_gettime(CLOCK_REALTIME, &now);
	if (a->at != FS_UTIME_OMIT) {
		if (a->at == FS_UTIME_NOW)
			t = now;
		else
			ns_to_ts(a->at, &t);
		ext_set_time(xv, in, 'a', &t);
	}
	if (a->mt != FS_UTIME_OMIT) {
		if (a->mt == FS_UTIME_NOW)
			t = now;
		else
			ns_to_ts(a->mt, &t);
		ext_set_time(xv, in, 'm', &t);
	}
}

int
ext_do_utimens(struct fs_req *r)
{
	const struct fs_rq_utimens *rq = &r->in->m_u.fs_rq_utimens;
	struct times_arg a = {rq->atime_ns, rq->mtime_ns};

	return edit_inode(r, &rq->path, FS_RQ_END(fs_rq_utimens), set_times, &a);
}

/*
 * FS_CLOSE: with FS_CLOSE_TIMES the times a client kept back go to the
 * inode first (fsproto.h; both FS_UTIME_OMIT: the change time only, for
 * a chown or chmod that changed nothing else), and FS_CLOSE_PROBE says
 * that they can.  The descriptor closes in any case; an unlinked file's
 * inode goes with its last descriptor, so the times are set before.
 */
int
ext_do_close(struct fs_req *r)
{
	const struct fs_rq_fd *rq = &r->in->m_u.fs_rq_fd;
	struct times_arg a = {rq->atime_ns, rq->mtime_ns};
	struct ext2_inode_large in;
	struct timespec now;
	struct fs_fd *f;
	int rc = 0;

	if (rq->flags & ~(uint32_t)(FS_CLOSE_TIMES | FS_CLOSE_PROBE))
		return -EINVAL;
	if (rq->flags & FS_CLOSE_PROBE)
		return 0;
	f = fs_session_take_fd(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	if (rq->flags & FS_CLOSE_TIMES) {
		rc = ext_writable(r);
		if (rc == 0 && f->xv != NULL) {
			ext_lock(f->xv);
			rc = ext_iget(f->xv, f->xino, &in);
			if (rc == 0) {
				set_times(f->xv, &in, &a);
				clock_gettime(CLOCK_REALTIME, &now);
				ext_set_time(f->xv, &in, 'c', &now);
				rc = ext_iput(f->xv, f->xino, &in);
			}
			ext_unlock(f->xv);
		}
	}
	fs_fd_put(f);
	return rc;
}

int
ext_do_statvfs(struct fs_req *r)
{
	struct fs_rp_statvfs *rp = &r->out->m_u.fs_rp_statvfs;
	struct ext_vol *xv = xvol(r);
	struct ext2_super_block *sb;
	uint64_t free, resv;

	ext_lock(xv);
	sb = xv->fs->super;
	free = ext2fs_free_blocks_count(sb);
	resv = ext2fs_r_blocks_count(sb);
	rp->bsize = xv->fs->blocksize;
	rp->blocks = ext2fs_blocks_count(sb);
	rp->bfree = free;
	rp->bavail = free > resv ? free - resv : 0;
	rp->files = sb->s_inodes_count;
	rp->ffree = sb->s_free_inodes_count;
	rp->namemax = EXT2_NAME_LEN;
	rp->flags = xv->read_only ? FS_VOL_RDONLY : 0;
	ext_unlock(xv);
	return 0;
}

int
ext_do_sync(struct fs_req *r)
{
	return ext_volume_sync(xvol(r));
}

int
ext_do_owner(struct fs_req *r)
{
	const struct fs_rq_owner *rq = &r->in->m_u.fs_rq_owner;
	struct fs_binding *b;

	dvs_mutex_lock(&r->w->lock);
	b = fs_binding_find(r->w, r->src);
	if (b != NULL) {
		b->uid = rq->uid;
		b->gid = rq->gid;
	}
	dvs_mutex_unlock(&r->w->lock);
	return b != NULL ? 0 : -ENOTCONN;
}
