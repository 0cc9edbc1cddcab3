/*
 * ext_link.c - FS_LINK, FS_SYMLINK, FS_READLINK and FS_MKNOD: what an ext
 * volume holds and FAT could not.
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

static int
link_locked(struct fs_req *r, struct ext_vol *xv, const char *from, const char *to) DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large in;
	const char *name;
	uint32_t ino, dir, old;
	struct timespec now;
	int rc;

	rc = ext_lookup(xv, from, &ino);
	if (rc == 0)
		rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (LINUX_S_ISDIR(in.i_mode))
		return -EPERM;
	if (in.i_links_count >= EXT2_LINK_MAX)
		return -EMLINK;
	rc = ext_parent(xv, to, &dir, &name);
	if (rc < 0)
		return rc;
	if (ext2fs_lookup(xv->fs, dir, name, (int)strlen(name), NULL, &old) == 0)
		return -EEXIST;
	rc = ext_add_link(xv, dir, name, ino, ext_ftype(in.i_mode));
	if (rc < 0)
		return rc;
	in.i_links_count++;
	clock_gettime(CLOCK_REALTIME, &now);
	ext_set_time(xv, &in, 'c', &now);
	return ext_put_named(r, xv, dir, ino, &in);
}

int
ext_do_link(struct fs_req *r)
{
	const struct fs_rq_rename *rq = &r->in->m_u.fs_rq_rename;
	struct ext_vol *xv = xvol(r);
	int rc;

	if (rq->flags != 0)
		return -EINVAL;
	rc = fs_get_path(r, &rq->from, FS_RQ_END(fs_rq_rename), r->w->path1);
	if (rc < 0)
		return rc;
	rc = fs_get_path(r, &rq->to, FS_RQ_END(fs_rq_rename), r->w->path2);
	if (rc < 0)
		return rc;
	rc = ext_writable(r);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = link_locked(r, xv, r->w->path1, r->w->path2);
	ext_unlock(xv);
	return rc;
}

static int
symlink_locked(struct fs_req *r, struct ext_vol *xv, const char *target, const char *path) DVS_REQUIRES(xv->lock)
{
	const char *name;
	ext2_ino_t ino;
	uint32_t dir;
	errcode_t e;
	int rc;

	rc = ext_parent(xv, path, &dir, &name);
	if (rc < 0)
		return rc;
	if (ext2fs_lookup(xv->fs, dir, name, (int)strlen(name), NULL, &ino) == 0)
		return -EEXIST;
	e = ext2fs_symlink(xv->fs, dir, 0, name, target);
	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(xv->fs, dir);
		if (e == 0)
			e = ext2fs_symlink(xv->fs, dir, 0, name, target);
	}
	if (e != 0)
		return ext_err(e, "making a symbolic link");
	return ext_finish_made(r, xv, dir, name, 0, "finding a new link");
}

int
ext_do_symlink(struct fs_req *r)
{
	const struct fs_rq_rename *rq = &r->in->m_u.fs_rq_rename;
	struct ext_vol *xv = xvol(r);
	int rc;

	if (rq->flags != 0)
		return -EINVAL;
	/* The target first: it is the first inline argument. */
	rc = fs_get_bytes(r, &rq->from, FS_RQ_END(fs_rq_rename), r->w->path1, FS_PATH_MAX);
	if (rc < 0)
		return rc;
	if (strlen(r->w->path1) >= xv->fs->blocksize)
		return -ENAMETOOLONG;
	rc = fs_get_path(r, &rq->to, FS_RQ_END(fs_rq_rename), r->w->path2);
	if (rc < 0)
		return rc;
	rc = ext_writable(r);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = symlink_locked(r, xv, r->w->path1, r->w->path2);
	ext_unlock(xv);
	return rc;
}

/* The target of link ino into buf (FS_PATH_MAX bytes); its length. */
static int
readlink_locked(struct ext_vol *xv, uint32_t ino, char *buf) DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large in;
	uint64_t size;
	size_t got = 0;
	unsigned int n = 0;
	ext2_file_t ef;
	errcode_t e;
	int rc;

	rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (!LINUX_S_ISLNK(in.i_mode))
		return -EINVAL;
	size = EXT2_I_SIZE(&in);
	if (size == 0 || size >= FS_PATH_MAX)
		return -EIO; /* no link of ours or mke2fs's is so long */
	if (ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
		if (size > sizeof(in.i_block))
			return -EIO;
		memcpy(buf, in.i_block, size);
		return (int)size;
	}
	if (in.i_flags & EXT4_INLINE_DATA_FL) {
		e = ext2fs_inline_data_get(xv->fs, ino, (struct ext2_inode *)&in, buf, &got);
		if (e != 0)
			return ext_err(e, "reading a link");
		return (int)(got < size ? got : size);
	}
	e = ext2fs_file_open2(xv->fs, ino, (struct ext2_inode *)&in, 0, &ef);
	if (e != 0)
		return ext_err(e, "reading a link");
	e = ext2fs_file_read(ef, buf, (unsigned int)size, &n);
	(void)ext2fs_file_close(ef);
	if (e != 0)
		return ext_err(e, "reading a link");
	return (int)n;
}

int
ext_do_readlink(struct fs_req *r)
{
	const struct fs_rq_readlink *rq = &r->in->m_u.fs_rq_readlink;
	struct ext_vol *xv = xvol(r);
	char *buf = r->w->path2;
	uint32_t ino;
	int rc, n;

	if (rq->len > FS_PATH_MAX)
		return -EINVAL;
	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_readlink), r->w->path1);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = ext_lookup(xv, r->w->path1, &ino);
	n = rc == 0 ? readlink_locked(xv, ino, buf) : rc;
	ext_unlock(xv);
	if (n < 0)
		return n;
	if ((uint32_t)n > rq->len)
		n = (int)rq->len;
	if (n > 0) {
		rc = dvk_vcopy_to(r->w->h, r->src, rq->grant, 0, buf, (size_t)n);
		if (rc < 0)
			return fs_client_err(rc);
	}
	return n;
}

int
ext_do_mknod(struct fs_req *r)
{
	const struct fs_rq_path_mode *rq = &r->in->m_u.fs_rq_path_mode;
	struct ext_vol *xv = xvol(r);
	uint32_t ino;
	int rc;

	if ((rq->mode & ~(uint32_t)(S_IFMT | 07777)) != 0)
		return -EINVAL;
	switch (rq->mode & S_IFMT) {
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFREG:
	case 0:
		return -EINVAL; /* a regular file comes from FS_OPEN */
	default:
		return -EPERM; /* no device numbers travel */
	}
	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path_mode), r->w->path1);
	if (rc < 0)
		return rc;
	rc = ext_writable(r);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = ext_new_node(r, xv, r->w->path1, rq->mode, &ino);
	if (rc == 0)
		ext_reply_stat(r, xv, ino);
	ext_unlock(xv);
	return rc;
}
