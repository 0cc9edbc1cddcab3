/*
 * attr.c - attributes and entries as the kernel wants them.
 */
#include <errno.h>
#include <string.h>

#include "dfuse.h"

void
dfuse_fill_stat(const struct dfuse *d, const struct dvs_stat *ds, fuse_ino_t ino,
		struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = ds->st_mode;
	st->st_nlink = ds->st_nlink ? ds->st_nlink : 1;
	st->st_uid = d->posix ? ds->st_uid : d->uid;
	st->st_gid = d->posix ? ds->st_gid : d->gid;
	st->st_size = (off_t)ds->st_size;
	st->st_blocks = (blkcnt_t)ds->st_blocks;
	/* The kernel splits I/O at max_write anyway; a big st_blksize makes
	 * cp and friends use big buffers. */
	st->st_blksize = DFUSE_IO_MAX;
	st->st_atim = ds->st_atim;
	st->st_mtim = ds->st_mtim;
	st->st_ctim = ds->st_ctim;
}

/* Set once before the session starts (main.c): POSIX volumes take names
 * of up to 255 bytes, as ext does. */
int dfuse_posix_names;

int
dfuse_check_name(const char *name)
{
	const unsigned char *p;
	size_t units = 0;

	if (dfuse_posix_names)
		return strlen(name) > 255 ? -ENAMETOOLONG : 0;
	if (strlen(name) > DVS_NAME_MAX)
		return -ENAMETOOLONG;
	/* UTF-16 units: one per UTF-8 sequence, two for 4-byte ones. */
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		units += *p >= 0xf0 ? 2 : 1;
	}
	return units > 255 ? -ENAMETOOLONG : 0;
}

/* The directory table's epoch (attr_cache.c) when the calling thread's
 * request began: an older value (a handler that did not call
 * dfuse_req_start) only keeps less. */
static __thread uint64_t req_epoch;
/* ... and the file table's. */
static __thread uint64_t req_file_epoch;

void
dfuse_req_start(struct dfuse *d)
{
	req_epoch = attr_cache_epoch(d->dattr);
	req_file_epoch = attr_cache_epoch(d->fattr);
}

int
dfuse_make_entry(struct dfuse *d, fuse_ino_t parent, const char *name,
		 const struct dvs_stat *ds, struct fuse_entry_param *e)
{
	uint64_t ino;
	int r;

	r = ino_table_add(d->itab, parent, name, ds->st_ino, &ino);
	if (r < 0)
		return r;
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->generation = 1;
	dfuse_fill_stat(d, ds, ino, &e->attr);
	e->attr_timeout = d->attr_timeout;
	e->entry_timeout = d->entry_timeout;
	if (d->posix && !S_ISDIR(ds->st_mode) && ds->st_nlink > 1) {
		/* One of several hard links: the inode table keeps one path
		 * per inode, which goes with that name's unlink; the kernel
		 * looks each name up again instead of trusting the dentry. */
		e->entry_timeout = 0;
	}
	if (dfuse_is_alias(d, ino, &(fuse_ino_t){0})) {
		attr_cache_drop(d->dattr, ino);
		attr_cache_drop(d->fattr, ino);
		/* Looked up again each time: a rename or a change through
		 * the main name must not leave the kernel a stale copy. */
		e->attr_timeout = 0;
		e->entry_timeout = 0;
	} else {
		struct dvs_stat shown = *ds;

		/* Times kept back for a release: what the file will have. */
		if (times_defer_apply(d->tdefer, ino, &shown)) {
			e->attr.st_atim = shown.st_atim;
			e->attr.st_mtim = shown.st_mtim;
		}
		attr_cache_put(d->dattr, ino, ds, req_epoch, 0);
		attr_cache_put(d->fattr, ino, &shown, req_file_epoch, d->posix);
	}
	return 0;
}

void
dfuse_dir_changed(struct dfuse *d, fuse_ino_t dir)
{
	if (d->posix)
		attr_cache_drop(d->dattr, dir);
}

int
dfuse_is_alias(struct dfuse *d, fuse_ino_t ino, fuse_ino_t *primary)
{
	uint64_t p = 0;
	int r;

	r = ino_table_alias_of(d->itab, ino, &p);
	*primary = (fuse_ino_t)p;
	return r;
}

void
dfuse_alias_changed(struct dfuse *d, fuse_ino_t ino)
{
	fuse_ino_t primary;

	/* Only the writeback cache keeps pages past a change of size or
	 * mtime (keep_cache); otherwise the kernel re-checks them itself. */
	if (!d->exclusive || d->se == NULL || !dfuse_is_alias(d, ino, &primary) ||
	    primary == 0)
		return;
	attr_cache_drop(d->fattr, primary);
	(void)fuse_lowlevel_notify_inval_inode(d->se, primary, 0, 0);
}

void
dfuse_reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
		  const struct dvs_stat *ds)
{
	struct fuse_entry_param e;
	int r;

	r = dfuse_make_entry(dfuse_of(req), parent, name, ds, &e);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0) {
		/* The kernel did not take the count (interrupted request). */
		ino_table_forget(dfuse_of(req)->itab, e.ino, 1);
	}
}

void
dfuse_set_owner(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	if (dfuse_of(req)->posix && ctx != NULL)
		dvs_set_owner(ctx->uid, ctx->gid);
}

int
dfuse_err(int r)
{
	if (r >= 0)
		return 0;
	/* Codes of our own must not reach the kernel. */
	if (-r >= 1000)
		return EIO;
	return -r;
}

int
dfuse_flush_for_space(struct dfuse *d)
{
	return dvs_sync(d->fs) == 0;
}
