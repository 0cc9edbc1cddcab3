/*
 * ext_dir.c - FS_MKDIR, FS_RMDIR, FS_UNLINK, FS_RENAME and FS_READDIR on
 * an ext volume.
 *
 * Readdir cookies are positions in the directory, (block << 32 | offset)
 * + 1 of the entry last sent: removing or adding other names leaves them
 * valid (libext2fs merges a removed entry into the one before it and adds
 * names in free space), so a program that deletes while it lists sees
 * every name once.  An indexed directory (dir_index) whose leaf block
 * splits moves names: a listing that runs across such a split may see
 * some twice or miss some, as on Linux's ext4 with 32-bit cookies.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ext.h"

static struct ext_vol *
xvol(struct fs_req *r)
{
	return r->s->vol->ext;
}

/* Adds delta to directory ino's link count (subdirectories). */
static void
dir_nlink(struct ext_vol *xv, uint32_t ino, int delta) DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large in;

	if (ext_iget(xv, ino, &in) < 0)
		return;
	if (delta < 0 && in.i_links_count > 2)
		in.i_links_count--;
	else if (delta > 0 && in.i_links_count > 1 && in.i_links_count < EXT2_LINK_MAX)
		in.i_links_count++;
	else if (delta > 0)
		in.i_links_count = 1; /* dir_nlink: too many to count */
	(void)ext_iput(xv, ino, &in);
}

static int
mkdir_locked(struct fs_req *r, struct ext_vol *xv, const char *path, uint32_t mode) DVS_REQUIRES(xv->lock)
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
	e = ext2fs_mkdir(xv->fs, dir, 0, name);
	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(xv->fs, dir);
		if (e == 0)
			e = ext2fs_mkdir(xv->fs, dir, 0, name);
	}
	if (e != 0)
		return ext_err(e, "making a directory");
	return ext_finish_made(r, xv, dir, name, LINUX_S_IFDIR | (mode & 07777),
			       "finding a new directory");
}

int
ext_do_mkdir(struct fs_req *r)
{
	const struct fs_rq_path_mode *rq = &r->in->m_u.fs_rq_path_mode;
	struct ext_vol *xv = xvol(r);
	int rc;

	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path_mode), r->w->path1);
	if (rc < 0)
		return rc;
	if (strcmp(r->w->path1, "/") == 0)
		return -EEXIST;
	rc = ext_writable(r);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = mkdir_locked(r, xv, r->w->path1, rq->mode);
	ext_unlock(xv);
	return rc;
}

/* Removes name from dir, and the link it held of ino. */
static int
remove_name(struct ext_vol *xv, uint32_t dir, const char *name, uint32_t ino, int is_dir) DVS_REQUIRES(xv->lock)
{
	errcode_t e;
	int rc;

	ext_names_forget(xv);
	e = ext2fs_unlink(xv->fs, dir, name, ino, 0);
	if (e != 0)
		return ext_err(e, "removing a name");
	rc = ext_drop_link(xv, ino);
	if (is_dir)
		dir_nlink(xv, dir, -1);
	ext_touch(xv, dir, 1);
	return rc;
}

/* Removes path (a directory only if want_dir, and then only if empty);
 * *dirp the directory it was in. */
static int
remove_locked(struct ext_vol *xv, const char *path, int want_dir, uint32_t *dirp)
	DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large in;
	const char *name;
	uint32_t dir, ino;
	int rc;

	if (strcmp(path, "/") == 0)
		return want_dir ? -EBUSY : -EISDIR;
	rc = ext_parent(xv, path, &dir, &name);
	if (rc == 0)
		rc = ext_lookup(xv, path, &ino);
	if (rc == 0)
		rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (want_dir && !LINUX_S_ISDIR(in.i_mode))
		return -ENOTDIR;
	if (!want_dir && LINUX_S_ISDIR(in.i_mode))
		return -EISDIR;
	if (want_dir) {
		rc = ext_dir_empty(xv, ino);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -ENOTEMPTY;
	}
	*dirp = dir;
	return remove_name(xv, dir, name, ino, want_dir);
}

/* FS_UNLINK's reply (fsproto.h, struct fs_rp_unlink): directory dir as
 * it is after the unlink, read back from its inode; left zero (nothing
 * said) when it cannot be read. */
static void
unlink_reply(struct fs_req *r, struct ext_vol *xv, uint32_t dir) DVS_REQUIRES(xv->lock)
{
	struct fs_rp_unlink *rp = &r->out->m_u.fs_rp_unlink;
	struct fs_wire_pstat w;

	if (ext_stat_ino(xv, dir, &w) < 0)
		return;
	rp->size = w.size;
	rp->blocks = w.blocks;
	rp->mtime_ns = w.mtime_ns;
	rp->ctime_ns = w.ctime_ns;
	rp->dir_ino = dir;
}

static int
remove_call(struct fs_req *r, int want_dir)
{
	const struct fs_rq_path *rq = &r->in->m_u.fs_rq_path;
	struct ext_vol *xv = xvol(r);
	uint32_t dir = 0;
	int rc;

	rc = fs_get_path(r, &rq->path, FS_RQ_END(fs_rq_path), r->w->path1);
	if (rc < 0)
		return rc;
	rc = ext_writable(r);
	if (rc < 0)
		return rc;
	ext_lock(xv);
	rc = remove_locked(xv, r->w->path1, want_dir, &dir);
	if (rc == 0 && !want_dir)
		unlink_reply(r, xv, dir);
	ext_unlock(xv);
	return rc;
}

int
ext_do_rmdir(struct fs_req *r)
{
	return remove_call(r, 1);
}

int
ext_do_unlink(struct fs_req *r)
{
	return remove_call(r, 0);
}

struct dotdot_ctx {
	uint32_t parent;
	int done;
};

static int
dotdot_cb(struct ext2_dir_entry *d, int offset, int blocksize, char *buf, void *priv)
{
	struct dotdot_ctx *c = priv;

	if (ext2fs_dirent_name_len(d) == 2 && d->name[0] == '.' && d->name[1] == '.') {
		d->inode = c->parent;
		c->done = 1;
		return DIRENT_CHANGED | DIRENT_ABORT;
	}
	return 0;
}

static int
set_dotdot(struct ext_vol *xv, uint32_t dir, uint32_t parent)
{
	struct dotdot_ctx c = {parent, 0};
	errcode_t e;

	e = ext2fs_dir_iterate(xv->fs, dir, DIRENT_FLAG_INCLUDE_EMPTY, NULL, dotdot_cb, &c);
	if (e != 0)
		return ext_err(e, "moving a directory");
	return c.done ? 0 : -EIO;
}

/* 1 when "to" lies inside directory "from" (a move into itself). */
static int
inside(const char *from, const char *to)
{
	size_t n = strlen(from);

	return strncmp(from, to, n) == 0 && to[n] == '/';
}

static int
rename_locked(struct ext_vol *xv, char *from, char *to, uint32_t flags) DVS_REQUIRES(xv->lock)
{
	struct ext2_inode_large sin, din;
	const char *sname, *dname;
	uint32_t sdir, ddir, sino, dino = 0;
	int rc, sisdir;

	if (strcmp(from, "/") == 0 || strcmp(to, "/") == 0)
		return -EBUSY;
	rc = ext_parent(xv, from, &sdir, &sname);
	if (rc == 0)
		rc = ext_lookup(xv, from, &sino);
	if (rc == 0)
		rc = ext_iget(xv, sino, &sin);
	if (rc < 0)
		return rc;
	rc = ext_parent(xv, to, &ddir, &dname);
	if (rc < 0)
		return rc;
	sisdir = LINUX_S_ISDIR(sin.i_mode);
	if (sisdir && inside(from, to))
		return -EINVAL;
	rc = ext_lookup(xv, to, &dino);
	if (rc == 0) {
		if (flags & FS_RENAME_NOREPLACE)
			return -EEXIST;
		if (dino == sino)
			return 0; /* two names of one file: nothing to do */
		rc = ext_iget(xv, dino, &din);
		if (rc < 0)
			return rc;
		if (sisdir && !LINUX_S_ISDIR(din.i_mode))
			return -ENOTDIR;
		if (!sisdir && LINUX_S_ISDIR(din.i_mode))
			return -EISDIR;
		if (LINUX_S_ISDIR(din.i_mode)) {
			rc = ext_dir_empty(xv, dino);
			if (rc <= 0)
				return rc < 0 ? rc : -ENOTEMPTY;
		}
		/* The old file goes first: its name is the slot we take. */
		rc = remove_name(xv, ddir, dname, dino, LINUX_S_ISDIR(din.i_mode));
		if (rc < 0)
			return rc;
	} else if (rc != -ENOENT) {
		return rc;
	}
	/* New name before the old one goes: a crash between leaves two
	 * names (e2fsck fixes the count), never none. */
	ext_names_forget(xv); /* every path under a moved directory too */
	rc = ext_add_link(xv, ddir, dname, sino, ext_ftype(sin.i_mode));
	if (rc < 0)
		return rc;
	rc = ext_err(ext2fs_unlink(xv->fs, sdir, sname, sino, 0), "renaming");
	if (rc < 0)
		return rc;
	if (sisdir && sdir != ddir) {
		rc = set_dotdot(xv, sino, ddir);
		dir_nlink(xv, sdir, -1);
		dir_nlink(xv, ddir, +1);
	}
	ext_touch(xv, sino, 0);
	ext_touch(xv, sdir, 1);
	if (ddir != sdir)
		ext_touch(xv, ddir, 1);
	return rc;
}

int
ext_do_rename(struct fs_req *r)
{
	const struct fs_rq_rename *rq = &r->in->m_u.fs_rq_rename;
	struct ext_vol *xv = xvol(r);
	int rc;

	if (rq->flags & ~(uint32_t)FS_RENAME_NOREPLACE)
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
	rc = rename_locked(xv, r->w->path1, r->w->path2, rq->flags);
	ext_unlock(xv);
	return rc;
}

struct list_ctx {
	struct ext_vol *xv;
	unsigned char *buf;
	size_t len, pos;
	uint64_t cookie, next;
	uint32_t max, n;
	int64_t blk; /* block of the directory being read */
	int full, err;
};

static int
list_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset, int blocksize,
	char *buf, void *priv)
{
	struct list_ctx *c = priv;
	struct ext2_inode_large in;
	struct fs_wire_dirent rec;
	struct fs_wire_pstat st;
	int nlen = ext2fs_dirent_name_len(d);
	uint64_t pos;
	size_t rlen;

	if (offset == 0)
		c->blk++;
	pos = ((uint64_t)c->blk << 32 | (uint32_t)offset) + 1;
	if (pos <= c->cookie || d->inode == 0 || nlen == 0)
		return 0;
	if ((nlen == 1 && d->name[0] == '.') ||
	    (nlen == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	if (c->n >= c->max) {
		c->full = 1;
		return DIRENT_ABORT;
	}
	rlen = FS_DIRENT_RECLEN((size_t)nlen);
	if (c->pos + rlen > c->len) {
		c->full = 1;
		if (c->n == 0)
			c->err = -EINVAL; /* the buffer holds no record */
		return DIRENT_ABORT;
	}
	ext_held(c->xv); /* ext_do_readdir iterates with it held */
	if (ext_iget(c->xv, d->inode, &in) < 0) {
		c->err = -EIO;
		return DIRENT_ABORT;
	}
	ext_stat_to_wire(c->xv, d->inode, &in, &st);
	memset(&rec, 0, sizeof(rec));
	memcpy(&rec.st, &st, sizeof(st));
	rec.next = pos;
	rec.name_len = (uint16_t)nlen;
	rec.rec_len = (uint16_t)rlen;
	memcpy(c->buf + c->pos, &rec, sizeof(rec));
	memcpy(c->buf + c->pos + sizeof(rec), d->name, (size_t)nlen);
	memset(c->buf + c->pos + sizeof(rec) + nlen, 0, rlen - sizeof(rec) - (size_t)nlen);
	c->pos += rlen;
	c->next = pos;
	c->n++;
	return 0;
}

int
ext_do_readdir(struct fs_req *r)
{
	const struct fs_rq_readdir *rq = &r->in->m_u.fs_rq_readdir;
	struct fs_rp_readdir *rp = &r->out->m_u.fs_rp_readdir;
	struct ext_vol *xv = xvol(r);
	struct list_ctx c;
	struct fs_fd *f;
	errcode_t e;
	int rc;

	if (rq->len > FS_LIST_MAX)
		return -EINVAL;
	f = fs_fd_get(r->s, rq->fd);
	if (f == NULL)
		return -EBADF;
	if (!f->is_dir) {
		fs_fd_put(f);
		return -ENOTDIR;
	}
	memset(&c, 0, sizeof(c));
	c.xv = xv;
	c.buf = r->w->iobuf;
	c.len = rq->len;
	c.cookie = rq->cookie;
	c.next = rq->cookie;
	c.max = rq->max == 0 ? UINT32_MAX : rq->max;
	c.blk = -1;
	ext_lock(xv);
	e = ext2fs_dir_iterate2(xv->fs, f->xino, DIRENT_FLAG_INCLUDE_EMPTY, NULL, list_cb,
				&c);
	ext_unlock(xv);
	fs_fd_put(f);
	if (e != 0)
		return ext_err(e, "reading a directory");
	if (c.err < 0)
		return c.err;
	if (c.pos > 0) {
		rc = dvk_vcopy_to(r->w->h, r->src, rq->grant, 0, r->w->iobuf, c.pos);
		if (rc < 0)
			return fs_client_err(rc);
	}
	rp->next = c.next;
	rp->bytes = (uint32_t)c.pos;
	rp->eof = !c.full;
	return (int)c.n;
}
