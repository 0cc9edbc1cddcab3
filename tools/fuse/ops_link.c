/*
 * ops_link.c - symbolic links, hard links, readlink and the mknod of FIFOs
 * and sockets: what a POSIX volume (ext2/3/4) holds.  On a FAT volume
 * they answer EPERM, as vfat does.  Each handler replies exactly once.
 */
#include <errno.h>
#include <string.h>

#include "dfuse.h"

/* (parent, name) as a path after the name check. */
static int
child(struct dfuse *d, fuse_ino_t parent, const char *name, char *buf, size_t len)
{
	int r = dfuse_check_name(name);

	return r < 0 ? r : ino_table_child_path(d->itab, parent, name, buf, len);
}

/* The reply of a call that made (parent, name) -> ds, or its error. */
static void
made(fuse_req_t req, fuse_ino_t parent, const char *name, int r, struct dvs_stat *ds,
     const char *path)
{
	struct dfuse *d = dfuse_of(req);

	dfuse_dir_changed(d, parent);
	if (r >= 0) {
		dir_names_add(d->dnames, parent, name);
		if (ds->st_ino == 0)
			r = dvs_stat(d->fs, path, ds);
	}
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	dfuse_reply_entry(req, parent, name, ds);
}

static void
do_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct dfuse *d = dfuse_of(req);
	char path[FS_WIRE_PATH_MAX];
	struct dvs_stat ds;
	int r;

	if (!d->posix) {
		fuse_reply_err(req, EPERM); /* as vfat: FAT has no links */
		return;
	}
	dfuse_req_start(d);
	dfuse_set_owner(req);
	ds.st_ino = 0;
	r = child(d, parent, name, path, sizeof(path));
	if (r >= 0)
		r = dvs_symlink_stat(d->fs, link, path, &ds);
	made(req, parent, name, r, &ds, path);
}

static void
do_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct dfuse *d = dfuse_of(req);
	char from[FS_WIRE_PATH_MAX], to[FS_WIRE_PATH_MAX];
	struct dvs_stat ds;
	int r;

	if (!d->posix) {
		fuse_reply_err(req, EPERM);
		return;
	}
	dfuse_req_start(d);
	ds.st_ino = 0;
	r = ino_table_path(d->itab, ino, from, sizeof(from));
	if (r >= 0)
		r = child(d, newparent, newname, to, sizeof(to));
	if (r >= 0)
		r = dvs_link_stat(d->fs, from, to, &ds);
	/* The first name's attributes (nlink) changed too. */
	attr_cache_drop(d->dattr, ino);
	attr_cache_clear(d->fattr);
	made(req, newparent, newname, r, &ds, to);
}

static void
do_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct dfuse *d = dfuse_of(req);
	char path[FS_WIRE_PATH_MAX], buf[FS_PATH_MAX + 1];
	ssize_t n;

	if (!d->posix) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	n = ino_table_path(d->itab, ino, path, sizeof(path));
	if (n >= 0)
		n = dvs_readlink(d->fs, path, buf, FS_PATH_MAX);
	if (n < 0) {
		fuse_reply_err(req, dfuse_err((int)n));
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

void
dfuse_mknod_special(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct dfuse *d = dfuse_of(req);
	char path[FS_WIRE_PATH_MAX];
	struct dvs_stat ds;
	int r;

	if (!S_ISFIFO(mode) && !S_ISSOCK(mode)) {
		fuse_reply_err(req, EPERM); /* no device numbers travel */
		return;
	}
	dfuse_req_start(d);
	dfuse_set_owner(req);
	ds.st_ino = 0;
	r = child(d, parent, name, path, sizeof(path));
	if (r >= 0)
		r = dvs_mknod_stat(d->fs, path, mode & (S_IFMT | 07777), &ds);
	made(req, parent, name, r, &ds, path);
}

void
dfuse_link_ops(struct fuse_lowlevel_ops *ops)
{
	ops->symlink = do_symlink;
	ops->link = do_link;
	ops->readlink = do_readlink;
}
