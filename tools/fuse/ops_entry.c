/*
 * ops_entry.c - names and attributes: lookup, forget, getattr, setattr,
 * mknod, mkdir, unlink, rmdir, rename, statfs, and extended attributes
 * (none).  Links are in ops_link.c.
 *
 * Each handler replies exactly once, on every path.  Paths are built from
 * the inode table (under its lock) and then used without any lock.
 */
#include <errno.h>
#include <linux/fs.h>
#include <string.h>

#include "dfuse.h"

/* Path of name inside parent, after the FAT name check. */
static int
child_path(struct dfuse *d, fuse_ino_t parent, const char *name, char *buf, size_t len)
{
	int r = dfuse_check_name(name);

	if (r < 0)
		return r;
	return ino_table_child_path(d->itab, parent, name, buf, len);
}

static void
do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct dfuse *d = dfuse_of(req);
	struct fuse_entry_param e;
	char path[FS_WIRE_PATH_MAX];
	struct dvs_stat ds;
	int r;

	dfuse_req_start(d);
	r = child_path(d, parent, name, path, sizeof(path));
	if (r >= 0)
		r = dir_names_absent(d->dnames, parent, name) ? -ENOENT
							      : dvs_stat(d->fs, path, &ds);
	if (r == -ENOENT && d->negative_timeout > 0) {
		/* Inode 0: the kernel caches "no such name"; it drops that
		 * itself when it creates the name through this mount. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = d->negative_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	dfuse_reply_entry(req, parent, name, &ds);
}

/* A forgotten number may come back for another file: its attributes go
 * with it (attr_cache.c). */
static void
do_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct dfuse *d = dfuse_of(req);

	attr_cache_drop(d->fattr, ino);
	ino_table_forget(d->itab, ino, nlookup);
	fuse_reply_none(req);
}

static void
do_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct dfuse *d = dfuse_of(req);
	size_t i;

	for (i = 0; i < count; i++) {
		attr_cache_drop(d->fattr, forgets[i].ino);
		ino_table_forget(d->itab, forgets[i].ino, forgets[i].nlookup);
	}
	fuse_reply_none(req);
}

/* Attributes of ino, through the open descriptor when there is one (it
 * also works for an open file that was unlinked). */
static int
get_stat(struct dfuse *d, fuse_ino_t ino, struct fuse_file_info *fi, struct dvs_stat *ds)
{
	char path[FS_WIRE_PATH_MAX];
	int r;

	if (fi != NULL)
		return dvs_fstat(d->fs, (int)fi->fh, ds);
	r = ino_table_path(d->itab, ino, path, sizeof(path));
	if (r >= 0)
		r = dvs_stat(d->fs, path, ds);
	if (r == -ENOENT) {
		/* fstat of an unlinked open file comes without a handle. */
		int fd = ino_table_open_fd(d->itab, ino);

		if (fd >= 0)
			r = dvs_fstat(d->fs, fd, ds);
	}
	return r;
}

static void
reply_attr(fuse_req_t req, fuse_ino_t ino, const struct dvs_stat *ds)
{
	struct dfuse *d = dfuse_of(req);
	struct stat st;

	dfuse_fill_stat(d, ds, ino, &st);
	fuse_reply_attr(req, &st,
			dfuse_is_alias(d, ino, &(fuse_ino_t){0}) ? 0 : d->attr_timeout);
}

static void
do_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	struct dvs_stat ds;
	uint64_t since, fsince;
	int r;

	/* The kernel asks for a directory's attributes again after every
	 * change of a name in it; on FAT they did not change.  A file's
	 * change only through this mount (attr_cache.c). */
	if (attr_cache_get(d->dattr, ino, &ds) == 0 || attr_cache_get(d->fattr, ino, &ds) == 0) {
		reply_attr(req, ino, &ds);
		return;
	}
	since = attr_cache_epoch(d->dattr);
	fsince = attr_cache_epoch(d->fattr);
	r = get_stat(d, ino, fi, &ds);
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	(void)times_defer_apply(d->tdefer, ino, &ds);
	if (!dfuse_is_alias(d, ino, &(fuse_ino_t){0})) {
		attr_cache_put(d->dattr, ino, &ds, since, 0);
		attr_cache_put(d->fattr, ino, &ds, fsince, d->posix);
	}
	reply_attr(req, ino, &ds);
}

static struct timespec
set_time(int to_set, int bit, int now_bit, struct timespec t)
{
	struct timespec ts = {0, UTIME_OMIT};

	if (to_set & now_bit)
		ts.tv_nsec = UTIME_NOW;
	else if (to_set & bit)
		ts = t;
	return ts;
}

/*
 * A SETATTR that would leave a FAT file as it is, answered from the
 * attributes kept of it (attr_cache.c, exclusive mounts): tar restores each
 * file's owner (the one every file already shows; others were refused
 * above) and its mode, of which FAT keeps only the read-only bit.  The
 * change time the kernel sends beside them has nowhere to go on FAT.  On
 * a POSIX volume chmod and chown set the change time even when nothing
 * else changes, so they always go to the server.  Fills *ds and returns 1
 * when nothing needs doing.
 */
static int
setattr_is_noop(struct dfuse *d, fuse_ino_t ino, const struct stat *attr, int to_set,
		struct dvs_stat *ds)
{
	const int fat_only = FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | FUSE_SET_ATTR_MODE |
			     FUSE_SET_ATTR_CTIME;

	if (d->posix || (to_set & ~fat_only) != 0 || attr_cache_get(d->fattr, ino, ds) < 0)
		return 0;
	if (dfuse_is_alias(d, ino, &(fuse_ino_t){0}))
		return 0;
	if ((to_set & FUSE_SET_ATTR_MODE) &&
	    ((ds->st_mode & 0222) != 0) != ((attr->st_mode & 0222) != 0))
		return 0; /* the read-only bit changes */
	return 1;
}

/*
 * Times were kept back for ino while its last descriptor was released
 * (ino_table_open_fd found none after the put): sends what the release did
 * not take now and replies to req with the file's attributes from dvs-fs.
 */
static void
reply_after_flush(fuse_req_t req, struct dfuse *d, fuse_ino_t ino)
{
	struct dvs_stat ds;
	uint64_t since;
	int r;

	r = dfuse_times_flush(d, ino);
	attr_cache_drop(d->fattr, ino);
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	since = attr_cache_epoch(d->fattr);
	r = get_stat(d, ino, NULL, &ds);
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	attr_cache_put(d->fattr, ino, &ds, since, d->posix);
	reply_attr(req, ino, &ds);
}

/*
 * A chown or chmod that leaves the owner and mode of a file open through
 * an exclusive POSIX mount as they are (tar as root restores both for
 * every file it makes): on the server it would set only the change time,
 * which the file's release sets anyway when it carries times kept back
 * (FS_CLOSE_TIMES; with none kept it sets only the change time).  So it
 * is kept back as a change of no time (times_defer.c) and answered from
 * the kept attributes with the change time now, as a kept-back SETATTR
 * of the times is.  A file with a set-ID bit goes to the server (a chown
 * clears it there).  Returns 1 when it replied to req.
 */
static int
setattr_defer_same(fuse_req_t req, struct dfuse *d, fuse_ino_t ino, const struct stat *attr,
		   int to_set)
{
	const int ids = FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | FUSE_SET_ATTR_MODE;
	const struct timespec none[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	struct timespec now;
	struct dvs_stat ds;
	uint64_t since;

	if (d->tdefer == NULL || (to_set & ~(ids | FUSE_SET_ATTR_CTIME)) != 0 ||
	    (to_set & ids) == 0 || ino_table_open_fd(d->itab, ino) < 0)
		return 0;
	since = attr_cache_epoch(d->fattr);
	if (attr_cache_get(d->fattr, ino, &ds) < 0 || dfuse_is_alias(d, ino, &(fuse_ino_t){0}))
		return 0;
	if ((ds.st_mode & (S_ISUID | S_ISGID)) != 0 ||
	    ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != ds.st_uid) ||
	    ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != ds.st_gid) ||
	    ((to_set & FUSE_SET_ATTR_MODE) && (attr->st_mode & 07777) != (ds.st_mode & 07777)))
		return 0;
	if (times_defer_put(d->tdefer, ino, none) < 0)
		return 0;
	if (ino_table_open_fd(d->itab, ino) < 0) {
		reply_after_flush(req, d, ino);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	(void)times_defer_apply(d->tdefer, ino, &ds);
	ds.st_ctim = now;
	attr_cache_put(d->fattr, ino, &ds, since, d->posix);
	reply_attr(req, ino, &ds);
	return 1;
}

/*
 * A SETATTR of only the times of a file open through this mount (the
 * kernel's write-back of a written file's mtime at close, tar's futimens)
 * on an exclusive POSIX mount: kept back for the file's release, which
 * carries them in its round trip (times_defer.c), and answered from the
 * attributes kept of the file.  Returns 1 when it replied to req.
 */
static int
setattr_defer_times(fuse_req_t req, struct dfuse *d, fuse_ino_t ino,
		    const struct stat *attr, int to_set)
{
	const int times = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			  FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW;
	struct timespec ts[2], now;
	struct dvs_stat ds;
	uint64_t since;
	int fresh;
	struct stat st;

	if (d->tdefer == NULL || (to_set & ~(times | FUSE_SET_ATTR_CTIME)) != 0 ||
	    (to_set & times) == 0 || ino_table_open_fd(d->itab, ino) < 0)
		return 0;
	since = attr_cache_epoch(d->fattr);
	if (attr_cache_get_last(d->fattr, ino, &ds, &fresh) < 0 ||
	    dfuse_is_alias(d, ino, &(fuse_ino_t){0}))
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	ts[0] = set_time(to_set, FUSE_SET_ATTR_ATIME, FUSE_SET_ATTR_ATIME_NOW, attr->st_atim);
	ts[1] = set_time(to_set, FUSE_SET_ATTR_MTIME, FUSE_SET_ATTR_MTIME_NOW, attr->st_mtim);
	for (int i = 0; i < 2; i++)
		if (ts[i].tv_nsec == UTIME_NOW)
			ts[i] = now;
	if (times_defer_put(d->tdefer, ino, ts) < 0)
		return 0;
	if (ino_table_open_fd(d->itab, ino) < 0) {
		/* Its last release went meanwhile: send what it did not
		 * take (and anything kept before) now. */
		reply_after_flush(req, d, ino);
		return 1;
	}
	(void)times_defer_apply(d->tdefer, ino, &ds);
	ds.st_ctim = now;
	if (fresh) {
		attr_cache_put(d->fattr, ino, &ds, since, d->posix);
		reply_attr(req, ino, &ds);
		return 1;
	}
	/* A write came after the copy: its size, blocks and times are
	 * gone by.  With the writeback cache the kernel keeps its own size
	 * and times; the rest expires at once, so a stat asks again. */
	dfuse_fill_stat(d, &ds, ino, &st);
	fuse_reply_attr(req, &st, 0);
	return 1;
}

static void
do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
	   struct fuse_file_info *fi)
{
	const int times = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			  FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW;
	struct dfuse *d = dfuse_of(req);
	char path[FS_WIRE_PATH_MAX];
	struct timespec ts[2];
	struct fuse_file_info tmp;
	struct dvs_stat ds;
	int r = 0, have_path, fd, have_ds = 0;
	uint64_t fsince;

	/* FAT has no owners: only the owner every file already shows. */
	if (!d->posix && (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != d->uid) ||
			  ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != d->gid))) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (setattr_is_noop(d, ino, attr, to_set, &ds)) {
		reply_attr(req, ino, &ds);
		return;
	}
	if (setattr_defer_times(req, d, ino, attr, to_set) ||
	    setattr_defer_same(req, d, ino, attr, to_set))
		return;
	/* Times kept back go first when this change sets times too (the
	 * later wins) or makes the server set them (truncate); a chmod or
	 * chown leaves them to the release. */
	r = (to_set & (times | FUSE_SET_ATTR_SIZE)) ? dfuse_times_flush(d, ino) : 0;
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	fsince = attr_cache_epoch(d->fattr);
	attr_cache_drop(d->dattr, ino);
	have_path = ino_table_path(d->itab, ino, path, sizeof(path)) >= 0;
	/* An open file that was unlinked has no path: what needs one is
	 * skipped for it (its attributes die with it). */
	if (!have_path && fi == NULL) {
		fd = ino_table_open_fd(d->itab, ino);
		if (fd < 0 && (to_set & ~(times | FUSE_SET_ATTR_CTIME)) == 0) {
			/* A removed file that nothing holds open: only the
			 * kernel itself sends this, writing back the times it
			 * kept (writeback cache) as it drops the inode.  There
			 * is nothing left to store them in; an error here would
			 * come back from the next syncfs(2) of the mount. */
			struct stat st;

			memset(&st, 0, sizeof(st));
			st.st_ino = ino;
			st.st_mode = S_IFREG | 0644;
			st.st_nlink = 0;
			fuse_reply_attr(req, &st, 0);
			return;
		}
		if (fd < 0) {
			fuse_reply_err(req, ENOENT);
			return;
		}
		fi = &tmp;
		memset(&tmp, 0, sizeof(tmp));
		tmp.fh = (uint64_t)fd;
	}
	/* Each change replies with the attributes after it: the last one
	 * answers the kernel, no stat of its own (ds.st_ino 0: ask). */
	ds.st_ino = 0;
	if (d->posix && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) && have_path)
		r = dvs_chown_stat(d->fs, path,
				   (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
				   (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1, &ds);
	if (r == 0 && (to_set & FUSE_SET_ATTR_MODE) && have_path)
		r = dvs_chmod_stat(d->fs, path, attr->st_mode & 07777, &ds);
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		for (int again = 1;; again = 0) {
			if (fi != NULL)
				r = dvs_ftruncate_stat(d->fs, (int)fi->fh, attr->st_size, &ds);
			else
				r = dvs_truncate_stat(d->fs, path, attr->st_size, &ds);
			if (r != -ENOSPC || !again || !dfuse_flush_for_space(d))
				break;
		}
	}
	if (r == 0 && (to_set & times) && have_path) {
		ts[0] = set_time(to_set, FUSE_SET_ATTR_ATIME, FUSE_SET_ATTR_ATIME_NOW,
				 attr->st_atim);
		ts[1] = set_time(to_set, FUSE_SET_ATTR_MTIME, FUSE_SET_ATTR_MTIME_NOW,
				 attr->st_mtim);
		r = dvs_utimens_stat(d->fs, path, ts, &ds);
	}
	have_ds = r == 0 && to_set != 0 && ds.st_ino != 0;
	if (r == 0 && !have_ds)
		r = get_stat(d, ino, have_path ? NULL : fi, &ds);
	if (to_set != 0)
		dfuse_alias_changed(d, ino);
	/* ext: the directory changed on the server; drop what a lookup put
	 * back meanwhile (FAT's puts are voided by the drop above). */
	if (d->posix)
		attr_cache_drop(d->dattr, ino);
	if (r == 0) /* times the release will set: what the file will show */
		(void)times_defer_apply(d->tdefer, ino, &ds);
	if (r == 0 && !dfuse_is_alias(d, ino, &(fuse_ino_t){0}))
		attr_cache_put(d->fattr, ino, &ds, fsince, d->posix);
	else
		attr_cache_drop(d->fattr, ino); /* a part may have been done */
	if (r < 0)
		fuse_reply_err(req, dfuse_err(r));
	else
		reply_attr(req, ino, &ds);
}

static void
do_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct dfuse *d = dfuse_of(req);
	char path[FS_WIRE_PATH_MAX];
	struct dvs_stat ds;
	int r, fd;

	if (d->posix && !S_ISREG(mode)) {
		dfuse_mknod_special(req, parent, name, mode);
		return;
	}
	/* FAT holds regular files and directories only (vfat: EPERM). */
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	dfuse_req_start(d);
	dfuse_set_owner(req);
	r = child_path(d, parent, name, path, sizeof(path));
	if (r < 0)
		goto fail;
	fd = dvs_open_stat(d->fs, path, O_WRONLY | O_CREAT | O_EXCL, mode, &ds);
	dfuse_dir_changed(d, parent);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	dir_names_add(d->dnames, parent, name);
	r = dvs_close(d->fs, fd);
	if (r < 0)
		goto fail;
	dfuse_reply_entry(req, parent, name, &ds);
	return;
fail:
	fuse_reply_err(req, dfuse_err(r));
}

static void
do_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct dfuse *d = dfuse_of(req);
	struct fuse_entry_param e;
	char path[FS_WIRE_PATH_MAX];
	struct dvs_stat ds;
	int r;

	dfuse_req_start(d);
	dfuse_set_owner(req);
	r = child_path(d, parent, name, path, sizeof(path));
	ds.st_ino = 0;
	if (r >= 0)
		r = dvs_mkdir_stat(d->fs, path, mode, &ds);
	if (r == -ENOSPC && dfuse_flush_for_space(d))
		r = dvs_mkdir_stat(d->fs, path, mode, &ds);
	dfuse_dir_changed(d, parent); /* its links, times and size */
	if (r >= 0) {
		dir_names_add(d->dnames, parent, name);
		if (ds.st_ino == 0)
			r = dvs_stat(d->fs, path, &ds);
	}
	if (r >= 0)
		r = dfuse_make_entry(d, parent, name, &ds, &e);
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	/* Empty, and only this mount will change it. */
	dir_names_track(d->dnames, e.ino);
	if (fuse_reply_entry(req, &e) != 0)
		ino_table_forget(d->itab, e.ino, 1);
}

static void
remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, int dir)
{
	struct dfuse *d = dfuse_of(req);
	uint64_t dsince = attr_cache_epoch(d->dattr);
	char path[FS_WIRE_PATH_MAX];
	struct dvs_write_stat ds = {0};
	int r;

	r = child_path(d, parent, name, path, sizeof(path));
	if (r >= 0)
		r = dir ? dvs_rmdir(d->fs, path) : dvs_unlink_stat(d->fs, path, &ds);
	if (r >= 0) {
		ino_table_unlinked(d->itab, parent, name);
		dir_names_remove(d->dnames, parent, name);
	}
	/* nlink and ctime of the file (and of its other names) changed. */
	attr_cache_clear(d->fattr);
	if (d->posix && ds.st_ino != 0) {
		/* What the unlink did to the directory, as dvs-fs says (ext). */
		struct attr_patch p = {ds.st_ino, ds.st_size, ds.st_blocks, ds.st_mtim,
				       ds.st_ctim};

		(void)attr_cache_patch(d->dattr, parent, dsince, &p);
	} else {
		dfuse_dir_changed(d, parent);
	}
	if (dir) {
		/* Its number may come back as another file's. */
		attr_cache_clear(d->dattr);
		dir_names_clear(d->dnames);
	}
	fuse_reply_err(req, dfuse_err(r));
}

static void
do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 0);
}

static void
do_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 1);
}

static void
do_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	  const char *newname, unsigned int flags)
{
	struct dfuse *d = dfuse_of(req);
	char from[FS_WIRE_PATH_MAX], to[FS_WIRE_PATH_MAX];
	struct dvs_stat ds;
	int r;

	/* FAT cannot swap two entries atomically. */
	if (flags & ~(unsigned)RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* A directory that moves may change its node id (and a replaced
	 * one goes): rare enough to forget every directory's attributes. */
	attr_cache_clear(d->dattr);
	dir_names_clear(d->dnames);
	r = child_path(d, parent, name, from, sizeof(from));
	if (r >= 0)
		r = child_path(d, newparent, newname, to, sizeof(to));
	if (r >= 0)
		r = dvs_rename2(d->fs, from, to, flags & RENAME_NOREPLACE);
	dir_names_clear(d->dnames); /* again: nothing tracked meanwhile */
	/* ext: both directories' times (and links, sizes) changed, and a
	 * lookup may have put them back meanwhile. */
	if (d->posix)
		attr_cache_clear(d->dattr);
	/* Node ids follow entries on FAT, ctime changes on ext, and a
	 * replaced file goes. */
	attr_cache_clear(d->fattr);
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	/* The node id follows the directory entry: learn the new one so the
	 * old id can be reused without aliasing. */
	if (dvs_stat(d->fs, to, &ds) == 0 &&
	    ino_table_renamed(d->itab, parent, name, newparent, newname, ds.st_ino) ==
		0) {
		fuse_reply_err(req, 0);
		return;
	}
	ino_table_unlinked(d->itab, parent, name);
	ino_table_unlinked(d->itab, newparent, newname);
	fuse_reply_err(req, 0);
}

static void
do_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	int r;

	r = dvs_statvfs(dfuse_of(req)->fs, &sv);
	if (r < 0)
		fuse_reply_err(req, dfuse_err(r));
	else
		fuse_reply_statfs(req, &sv);
}

/*
 * FAT has no extended attributes.  ENOSYS (not ENOTSUP) makes the kernel
 * remember that and never ask again: otherwise it asks for
 * security.capability before every write.
 */
static void
do_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	fuse_reply_err(req, ENOSYS);
}

static void
do_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	fuse_reply_err(req, ENOSYS);
}

static void
do_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
	    size_t size, int flags)
{
	fuse_reply_err(req, ENOSYS);
}

static void
do_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, ENOSYS);
}

void
dfuse_entry_ops(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = do_lookup;
	ops->forget = do_forget;
	ops->forget_multi = do_forget_multi;
	ops->getattr = do_getattr;
	ops->setattr = do_setattr;
	ops->mknod = do_mknod;
	ops->mkdir = do_mkdir;
	ops->unlink = do_unlink;
	ops->rmdir = do_rmdir;
	ops->rename = do_rename;
	ops->statfs = do_statfs;
	ops->getxattr = do_getxattr;
	ops->listxattr = do_listxattr;
	ops->setxattr = do_setxattr;
	ops->removexattr = do_removexattr;
}
