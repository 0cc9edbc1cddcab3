/* ops.c - operations by path: stat, mkdir, rmdir, unlink, rename, times,
 * attributes, and directory iterators. */
#include <stdlib.h>
#include <time.h>

#include "fat_int.h"

#define CHECK_VOL(vol)                                                  \
	do {                                                            \
		if (!(vol) || (vol)->magic != FAT_VOL_MAGIC)            \
			return -EINVAL;                                 \
	} while (0)

/* A fresh short entry with the times set to now. */
static void
make_ent(struct fat_vol *vol, struct fat_sfn *e, uint8_t attr, uint32_t clus)
{
	struct timespec now;
	uint16_t d, t;
	uint8_t c10;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(e, 0, sizeof *e);
	e->attr = attr;
	fat_time_to_dos(vol, now.tv_sec, &d, &t, &c10);
	c10 = (uint8_t)(c10 + now.tv_nsec / 10000000);
	e->crt_time = htole16(t);
	e->crt_date = htole16(d);
	e->crt_time_tenth = c10;
	e->lst_acc_date = htole16(d);
	e->wrt_time = htole16(t);
	e->wrt_date = htole16(d);
	fat_ent_set_cluster(vol, e, clus);
}

/* Resolves path to (parent, record).  For "/" gives parent NULL. */
static int
lookup(struct fat_vol *vol, const char *path, struct fat_node **parent,
       int *rec, uint16_t *name, int *nlen) DVS_REQUIRES(vol->lock)
{
	int err;

	*rec = -1;
	err = fat_walk(vol, path, parent, name, nlen);
	if (err || !*parent)
		return err;
	err = fat_dir_load(vol, *parent);
	if (err)
		goto fail;
	*rec = fat_dir_find(vol, *parent, name, *nlen);
	return 0;
fail:
	fat_node_put(vol, *parent);
	*parent = NULL;
	return err;
}

/* The start of an update of an existing entry: write access, the volume
 * locked (the caller unlocks it), the cache trimmed, path found.  Gives
 * root_err for the root (it has no entry) and -ENOENT & co. for a name
 * that is not there; *parent may be set (referenced) even on error. */
static int
lookup_entry(struct fat_vol *vol, const char *path, int root_err,
	     struct fat_node **parent, int *rec, uint16_t *name, int *nlen) DVS_ACQUIRE(vol->lock)
{
	int err;

	*parent = NULL;
	dvs_mutex_lock(&vol->lock);
	fat_cache_trim(vol);
	err = lookup(vol, path, parent, rec, name, nlen);
	if (err)
		return err;
	if (!*parent)
		return root_err;
	return *rec < 0 ? *rec : 0;
}

static void
root_stat(struct fat_vol *vol, struct fat_stat *st)
{
	memset(st, 0, sizeof *st);
	st->ino = 1;
	st->attr = FAT_ATTR_DIR;
	st->nlink = 1;
	st->blksize = vol->cs;
	st->first_cluster = vol->type == 32 ? vol->root_clus : 0;
	st->mtime = st->atime = st->ctime = st->btime =
		fat_time_from_dos(vol, (0 << 9) | (1 << 5) | 1, 0, 0);
}

int
fat_stat(struct fat_vol *vol, const char *path, struct fat_stat *st)
{
	struct fat_node *p;
	uint16_t name[FAT_LFN_MAX + 1];
	int nlen, rec, err;

	CHECK_VOL(vol);
	dvs_mutex_lock(&vol->lock);
	fat_cache_trim(vol);
	err = lookup(vol, path, &p, &rec, name, &nlen);
	if (err)
		goto out;
	if (!p) {
		root_stat(vol, st);
		goto out;
	}
	if (rec < 0)
		err = rec;
	else {
		uint32_t s = p->dd->recs[rec].short_slot;
		fat_ent_stat(vol, fat_dir_slot(p, s), fat_dir_slot_ino(vol, p, s), st);
		/* An open file may hold clusters past its size (fallocate
		 * KEEP_SIZE): count what it has, as fat_fstat does (its map
		 * changes only under vol->lock, held here). */
		struct fat_node *n = fat_node_find(vol, st->ino);
		if (n && !n->is_dir)
			st->blocks = (uint64_t)n->map.nclusters * (vol->cs / 512);
	}
	fat_node_put(vol, p);
out:
	dvs_mutex_unlock(&vol->lock);
	return err;
}

int
fat_mkdir(struct fat_vol *vol, const char *path)
{
	struct fat_node *p = NULL;
	struct fat_emap m = {0};
	uint16_t name[FAT_LFN_MAX + 1];
	struct fat_sfn e, dots[2];	/* "." and ".." */
	uint32_t got;
	int nlen, rec, err;

	CHECK_VOL(vol);
	if (vol->read_only)
		return -EROFS;
	dvs_mutex_lock(&vol->lock);
	fat_cache_trim(vol);
	err = lookup(vol, path, &p, &rec, name, &nlen);
	if (err)
		goto out;
	if (!p || rec >= 0) {
		err = -EEXIST;
		goto out;
	}
	err = fat_alloc(vol, &m, 1, &got, 1);
	if (!err && got == 0)
		err = -ENOSPC;
	if (err)
		goto undo;
	uint32_t c = m.v[0].dcl;
	make_ent(vol, &dots[0], FAT_ATTR_DIR, c);
	memcpy(dots[0].name, ".          ", sizeof dots[0].name);
	make_ent(vol, &dots[1], FAT_ATTR_DIR, p == vol->root ? 0 : p->first_cluster);
	memcpy(dots[1].name, "..         ", sizeof dots[1].name);
	err = fat_io_write_bytes(vol, fat_clus_off(vol, c), sizeof dots, dots);
	if (err)
		goto undo;
	make_ent(vol, &e, FAT_ATTR_DIR, c);
	rec = fat_dir_add(vol, p, name, nlen, &e);
	if (rec < 0) {
		err = rec;
		goto undo;
	}
	err = 0;
	goto out;
undo:
	if (m.nclusters)
		fat_chain_cut(vol, &m, 0);
out:
	fat_emap_free(&m);
	if (p)
		fat_node_put(vol, p);
	dvs_mutex_unlock(&vol->lock);
	return err;
}

/* Removes the entry rec of p and frees what it owned (now, or when the
 * last handle on an open file closes). */
static int
drop_entry(struct fat_vol *vol, struct fat_node *p, int rec) DVS_REQUIRES(vol->lock)
{
	uint32_t s = p->dd->recs[rec].short_slot;
	uint64_t ino = fat_dir_slot_ino(vol, p, s);
	struct fat_node *n = fat_node_find(vol, ino);
	uint32_t first = fat_ent_cluster(vol, fat_dir_slot(p, s));

	fat_dir_remove(vol, p, rec);
	if (n) {
		/* open (or a cached directory): its clusters go when the
		 * last reference does */
		n->unlinked = 1;
		fat_node_unhash(vol, n);
		n->refs++;
		fat_node_put(vol, n);	/* destroys it if nobody holds it */
		return 0;
	}
	if (first) {
		struct fat_emap m;
		if (fat_chain_load(vol, first, &m) == 0) {
			fat_chain_cut(vol, &m, 0);
			fat_emap_free(&m);
		}
		/* a broken chain stays allocated: fsck.fat reclaims it */
	}
	return 0;
}

int
fat_rmdir(struct fat_vol *vol, const char *path)
{
	struct fat_node *p = NULL, *n = NULL;
	uint16_t name[FAT_LFN_MAX + 1];
	int nlen, rec, err;

	CHECK_VOL(vol);
	if (vol->read_only)
		return -EROFS;
	err = lookup_entry(vol, path, -EBUSY, &p, &rec, name, &nlen);
	if (err)
		goto out;
	if (!(fat_dir_slot(p, p->dd->recs[rec].short_slot)->attr & FAT_ATTR_DIR)) {
		err = -ENOTDIR;
		goto out;
	}
	n = fat_node_get(vol, p, rec, &err);
	if (!n)
		goto out;
	err = fat_dir_load(vol, n);
	if (err)
		goto out;
	if (!fat_dir_is_empty(n)) {
		err = -ENOTEMPTY;
		goto out;
	}
	fat_dir_remove(vol, p, rec);
	n->unlinked = 1;
	fat_node_unhash(vol, n);
out:
	if (n)
		fat_node_put(vol, n);
	if (p)
		fat_node_put(vol, p);
	dvs_mutex_unlock(&vol->lock);
	return err;
}

int
fat_unlink(struct fat_vol *vol, const char *path)
{
	struct fat_node *p = NULL;
	uint16_t name[FAT_LFN_MAX + 1];
	int nlen, rec, err;

	CHECK_VOL(vol);
	if (vol->read_only)
		return -EROFS;
	err = lookup_entry(vol, path, -EISDIR, &p, &rec, name, &nlen);
	if (err)
		goto out;
	uint8_t attr = fat_dir_slot(p, p->dd->recs[rec].short_slot)->attr;
	/* The read-only bit protects the file's data, not its name: removing
	 * a name is a change of the directory (Linux's vfat and POSIX). */
	if (attr & FAT_ATTR_DIR)
		err = -EISDIR;
	else
		err = drop_entry(vol, p, rec);
out:
	if (p)
		fat_node_put(vol, p);
	dvs_mutex_unlock(&vol->lock);
	return err;
}

int
fat_rename(struct fat_vol *vol, const char *from, const char *to)
{
	return fat_rename2(vol, from, to, 0);
}

int
fat_rename2(struct fat_vol *vol, const char *from, const char *to, unsigned flags)
{
	struct fat_node *fp = NULL, *tp = NULL, *moved = NULL;
	uint16_t fname[FAT_LFN_MAX + 1], tname[FAT_LFN_MAX + 1];
	struct fat_sfn ent;
	int fl, tl, fr, tr, err;

	if (flags & ~(unsigned)FAT_RENAME_NOREPLACE)
		return -EINVAL;
	CHECK_VOL(vol);
	if (vol->read_only)
		return -EROFS;
	err = lookup_entry(vol, from, -EBUSY, &fp, &fr, fname, &fl);
	if (err)
		goto out;
	err = lookup(vol, to, &tp, &tr, tname, &tl);
	if (err)
		goto out;
	if (!tp) {
		err = -EBUSY;
		goto out;
	}
	/* the lookup of to may have loaded directories; fp stays valid
	 * because we hold a reference on it */
	uint32_t fslot = fp->dd->recs[fr].short_slot;
	ent = *fat_dir_slot(fp, fslot);
	int is_dir = (ent.attr & FAT_ATTR_DIR) != 0;
	uint64_t old_ino = fat_dir_slot_ino(vol, fp, fslot);
	if (is_dir) {
		for (struct fat_node *a = tp; a; a = a->parent)
			if (a->ino == old_ino) {
				err = -EINVAL;
				goto out;
			}
	}
	/* Checked under the same lock as the rename: nothing can take the
	 * name in between.  A case-only rename of itself is no collision. */
	if ((flags & FAT_RENAME_NOREPLACE) && tr >= 0 && !(tp == fp && tr == fr)) {
		err = -EEXIST;
		goto out;
	}
	if (tr >= 0 && !(tp == fp && tr == fr)) {
		const struct fat_sfn *te = fat_dir_slot(tp, tp->dd->recs[tr].short_slot);
		int t_dir = (te->attr & FAT_ATTR_DIR) != 0;
		if (t_dir && !is_dir) {
			err = -EISDIR;
			goto out;
		}
		if (!t_dir && is_dir) {
			err = -ENOTDIR;
			goto out;
		}
		if (t_dir) {
			struct fat_node *tn = fat_node_get(vol, tp, tr, &err);
			if (!tn)
				goto out;
			err = fat_dir_load(vol, tn);
			if (!err && !fat_dir_is_empty(tn))
				err = -ENOTEMPTY;
			if (!err) {
				fat_dir_remove(vol, tp, tr);
				tn->unlinked = 1;
				fat_node_unhash(vol, tn);
			}
			fat_node_put(vol, tn);
			if (err)
				goto out;
		} else {
			err = drop_entry(vol, tp, tr);
			if (err)
				goto out;
		}
	}
	moved = fat_node_find(vol, old_ino);
	if (moved)
		moved->refs++;
	fat_dir_remove(vol, fp, fr);
	/* the old name (and a replaced target) leave the disk before the
	 * new name appears: a crash in between loses a name, it never
	 * leaves two entries sharing one chain */
	err = fat_flush_all(vol);
	if (err)
		goto restore;
	int nr = fat_dir_add(vol, tp, tname, tl, &ent);
	if (nr < 0) {
		err = nr;
		goto restore;
	}
	uint32_t nslot = tp->dd->recs[nr].short_slot;
	/* The node keeps its number where its entry went. */
	fat_inomap_moved(vol->inomap, fat_dir_slot_loc(vol, tp, nslot), old_ino);
	if (moved) {
		fat_node_rekey(vol, moved, fat_dir_slot_ino(vol, tp, nslot));
		if (moved->parent != tp) {
			tp->refs++;
			struct fat_node *op = moved->parent;
			moved->parent = tp;
			fat_node_put(vol, op);
		}
		moved->first_slot = tp->dd->recs[nr].first_slot;
		moved->short_slot = nslot;
		moved->rec = nr;
	}
	if (is_dir && tp != fp) {
		/* ".." now names the new parent (through the moved node if
		 * it is loaded: one node per directory, always) */
		struct fat_node *dn = fat_node_get(vol, tp, nr, &err);
		if (dn) {
			if (!fat_dir_load(vol, dn) && dn->dd->nslots > 1) {
				struct fat_sfn *dd = fat_dir_slot(dn, 1);
				if (dd->name[0] == '.' && dd->name[1] == '.') {
					fat_ent_set_cluster(vol, dd, tp == vol->root ? 0 : tp->first_cluster);
					fat_dir_mark(vol, dn, 1);
				}
			}
			fat_node_put(vol, dn);
		}
	}
	err = 0;
	goto out;
restore:
	/* put the old name back where it can be (best effort) */
	{
		int rr = fat_dir_add(vol, fp, fname, fl, &ent);
		if (rr >= 0)
			fat_inomap_moved(vol->inomap,
					 fat_dir_slot_loc(vol, fp, fp->dd->recs[rr].short_slot),
					 old_ino);
		else if (moved)
			moved->unlinked = 1;
	}
out:
	if (moved)
		fat_node_put(vol, moved);
	if (tp)
		fat_node_put(vol, tp);
	if (fp)
		fat_node_put(vol, fp);
	dvs_mutex_unlock(&vol->lock);
	return err;
}

/* Runs fn on the entry of path (not the root). */
static int
with_entry(struct fat_vol *vol, const char *path,
	   int (*fn)(struct fat_vol *, struct fat_sfn *, const void *),
	   const void *arg)
{
	struct fat_node *p = NULL;
	uint16_t name[FAT_LFN_MAX + 1];
	int nlen, rec, err;

	if (vol->read_only)
		return -EROFS;
	/* the root has no entry to hold times */
	err = lookup_entry(vol, path, -EPERM, &p, &rec, name, &nlen);
	if (err)
		goto out;
	uint32_t s = p->dd->recs[rec].short_slot;
	err = fn(vol, fat_dir_slot(p, s), arg);
	if (!err)
		fat_dir_mark(vol, p, s);
out:
	if (p)
		fat_node_put(vol, p);
	dvs_mutex_unlock(&vol->lock);
	return err;
}

struct times_arg {
	const struct timespec *a, *m;
};

static int
set_times(struct fat_vol *vol, struct fat_sfn *e, const void *arg)
{
	const struct times_arg *t = arg;
	uint16_t d, tm;

	if (t->m) {
		fat_time_to_dos(vol, t->m->tv_sec, &d, &tm, NULL);
		e->wrt_time = htole16(tm);
		e->wrt_date = htole16(d);
	}
	if (t->a) {
		fat_time_to_dos(vol, t->a->tv_sec, &d, &tm, NULL);
		e->lst_acc_date = htole16(d);
	}
	return 0;
}

int
fat_utimens(struct fat_vol *vol, const char *path, const struct timespec *atime,
	    const struct timespec *mtime)
{
	struct times_arg t = {atime, mtime};

	CHECK_VOL(vol);
	return with_entry(vol, path, set_times, &t);
}

struct attr_arg {
	uint32_t attr, mask;
};

static int
set_attr(struct fat_vol *vol, struct fat_sfn *e, const void *arg)
{
	const struct attr_arg *a = arg;
	e->attr = (uint8_t)((e->attr & ~a->mask) | (a->attr & a->mask));
	return 0;
}

int
fat_setattr(struct fat_vol *vol, const char *path, uint32_t attr, uint32_t mask)
{
	struct attr_arg a = {attr, mask};
	const uint32_t ok = FAT_ATTR_RDONLY | FAT_ATTR_HIDDEN | FAT_ATTR_SYSTEM |
			    FAT_ATTR_ARCHIVE;

	CHECK_VOL(vol);
	if (mask & ~ok)
		return -EINVAL;
	return with_entry(vol, path, set_attr, &a);
}

int
fat_dir_open(struct fat_vol *vol, const char *path, struct fat_dir **out)
{
	struct fat_node *n;
	struct fat_dir *d;
	int err;

	CHECK_VOL(vol);
	*out = NULL;
	d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	dvs_mutex_lock(&vol->lock);
	fat_cache_trim(vol);
	err = fat_walk_dir(vol, path, &n);
	dvs_mutex_unlock(&vol->lock);
	if (err) {
		free(d);
		return err;
	}
	d->magic = FAT_DIR_MAGIC;
	d->vol = vol;
	d->node = n;
	*out = d;
	return 0;
}

int
fat_dir_read(struct fat_dir *d, struct fat_dirent *ent)
{
	struct fat_vol *vol;
	struct fat_parsed *p;
	int r;

	if (!d || d->magic != FAT_DIR_MAGIC)
		return -EINVAL;
	vol = d->vol;
	p = malloc(sizeof *p);
	if (!p)
		return -ENOMEM;
	dvs_mutex_lock(&vol->lock);
	if (d->node->unlinked || !d->node->dd) {
		r = 0;
		goto out;
	}
	r = fat_dir_next(d->node->dd, &d->pos, p);
	if (r == 1) {
		const struct fat_sfn *e = fat_dir_slot(d->node, p->short_slot);
		if (fat_utf16_to_8(p->uname, (size_t)p->ulen, ent->name,
				   sizeof ent->name) < 0)
			strcpy(ent->name, "?");
		fat_short_text(e->name, ent->short_name);
		fat_ent_stat(vol, e, fat_dir_slot_ino(vol, d->node, p->short_slot),
			     &ent->st);
		ent->off = d->pos;
	}
out:
	dvs_mutex_unlock(&vol->lock);
	free(p);
	return r;
}

int
fat_dir_seek(struct fat_dir *d, uint64_t off)
{
	if (!d || d->magic != FAT_DIR_MAGIC)
		return -EINVAL;
	if (off > FAT_MAX_DIR_SLOTS)
		return -EINVAL;
	dvs_mutex_lock(&d->vol->lock);
	d->pos = (uint32_t)off;
	dvs_mutex_unlock(&d->vol->lock);
	return 0;
}

void
fat_dir_close(struct fat_dir *d)
{
	if (!d || d->magic != FAT_DIR_MAGIC)
		return;
	dvs_mutex_lock(&d->vol->lock);
	fat_node_put(d->vol, d->node);
	dvs_mutex_unlock(&d->vol->lock);
	d->magic = 0;
	free(d);
}

int
fat_readdir(struct fat_vol *vol, const char *path, fat_readdir_cb cb, void *arg)
{
	struct fat_dir *d;
	struct fat_dirent *ent;
	int err, r;

	ent = malloc(sizeof *ent);
	if (!ent)
		return -ENOMEM;
	err = fat_dir_open(vol, path, &d);
	if (err) {
		free(ent);
		return err;
	}
	while ((r = fat_dir_read(d, ent)) == 1) {
		err = cb(arg, ent);
		if (err)
			break;
	}
	if (r < 0)
		err = r;
	fat_dir_close(d);
	free(ent);
	return err;
}
