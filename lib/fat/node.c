/* node.c - in-memory nodes (open files, loaded directories) keyed by
 * their node number, path walking, cache trimming and ordered flushes. */
#include <stdlib.h>
#include <time.h>

#include "fat_int.h"

static uint32_t
ino_bucket(struct fat_vol *vol, uint64_t ino)
{
	return (uint32_t)((ino * 0x9E3779B97F4A7C15ull) >> 32) & (vol->ntab_size - 1);
}

struct fat_node *
fat_node_find(struct fat_vol *vol, uint64_t ino)
{
	for (struct fat_node *n = vol->ntab[ino_bucket(vol, ino)]; n; n = n->hnext)
		if (n->ino == ino)
			return n;
	return NULL;
}

static void
node_hash(struct fat_vol *vol, struct fat_node *n)
{
	uint32_t b = ino_bucket(vol, n->ino);
	n->hnext = vol->ntab[b];
	vol->ntab[b] = n;
	vol->nnodes++;
}

void
fat_node_unhash(struct fat_vol *vol, struct fat_node *n)
{
	struct fat_node **pp = &vol->ntab[ino_bucket(vol, n->ino)];
	while (*pp) {
		if (*pp == n) {
			*pp = n->hnext;
			n->hnext = NULL;
			vol->nnodes--;
			return;
		}
		pp = &(*pp)->hnext;
	}
}

void
fat_node_rekey(struct fat_vol *vol, struct fat_node *n, uint64_t ino)
{
	fat_node_unhash(vol, n);
	n->ino = ino;
	node_hash(vol, n);
}

struct fat_node *
fat_node_get(struct fat_vol *vol, struct fat_node *parent, int rec, int *err)
{
	struct fat_rec *r = &parent->dd->recs[rec];
	uint64_t ino = fat_dir_slot_ino(vol, parent, r->short_slot);
	struct fat_node *n = fat_node_find(vol, ino);
	const struct fat_sfn *e;

	*err = 0;
	if (n) {
		n->refs++;
		return n;
	}
	e = fat_dir_slot(parent, r->short_slot);
	n = calloc(1, sizeof *n);
	if (!n) {
		*err = -ENOMEM;
		return NULL;
	}
	n->ino = ino;
	n->is_dir = (e->attr & FAT_ATTR_DIR) != 0;
	n->first_cluster = fat_ent_cluster(vol, e);
	n->size = n->is_dir ? 0 : le32toh(e->file_size);
	n->first_slot = r->first_slot;
	n->short_slot = r->short_slot;
	n->rec = rec;
	n->depth = parent->depth + 1;
	if (n->is_dir) {
		/* a directory must own clusters, none of them shared with an
		 * ancestor (else a walk would never end) */
		if (n->first_cluster == 0 || n->depth > 2048) {
			*err = -EUCLEAN;
			goto fail;
		}
		for (struct fat_node *a = parent; a; a = a->parent)
			if (a->first_cluster == n->first_cluster ||
			    (a == vol->root && vol->type == 32 &&
			     n->first_cluster == vol->root_clus)) {
				*err = -EUCLEAN;
				goto fail;
			}
	}
	*err = fat_chain_load(vol, n->first_cluster, &n->map);
	if (*err)
		goto fail;
	if (!n->is_dir && (uint64_t)n->map.nclusters * vol->cs < n->size) {
		*err = -EUCLEAN;	/* chain shorter than the size */
		fat_emap_free(&n->map);
		goto fail;
	}
	pthread_rwlock_init(&n->rw, NULL);
	pthread_mutex_init(&n->wb_lock, NULL);
	n->refs = 1;
	n->parent = parent;
	parent->refs++;
	node_hash(vol, n);
	return n;
fail:
	free(n);
	return NULL;
}

static void
node_destroy(struct fat_vol *vol, struct fat_node *n) DVS_REQUIRES(vol->lock)
{
	struct fat_node *p = n->parent;

	fat_node_unhash(vol, n);
	fat_dir_unload(vol, n);
	/* fat_close flushed what a live file had buffered; an unlinked
	 * file's bytes are dropped with it */
	if (!n->unlinked)
		fat_wb_flush(vol, n);
	fat_wb_free(vol, n);
	if (n->unlinked && n->map.nclusters)
		fat_chain_cut(vol, &n->map, 0);
	fat_emap_free(&n->map);
	pthread_rwlock_destroy(&n->rw);
	pthread_mutex_destroy(&n->wb_lock);
	free(n);
	if (p)
		fat_node_put(vol, p);
}

void
fat_node_put(struct fat_vol *vol, struct fat_node *n)
{
	if (!n || --n->refs > 0)
		return;
	if (n == vol->root)
		return;
	/* directories stay cached (trimmed by fat_cache_trim) unless gone */
	if (n->is_dir && !n->unlinked && n->dd)
		return;
	node_destroy(vol, n);
}

void
fat_node_update_ent(struct fat_vol *vol, struct fat_node *n, int touch)
{
	struct fat_sfn *e;

	if (n->unlinked || !n->parent || !n->parent->dd)
		return;
	e = fat_dir_slot(n->parent, n->short_slot);
	fat_ent_set_cluster(vol, e, n->first_cluster);
	if (!n->is_dir)
		e->file_size = htole32((uint32_t)n->size);
	if (touch) {
		uint16_t d, t;
		fat_time_to_dos(vol, time(NULL), &d, &t, NULL);
		e->wrt_time = htole16(t);
		e->wrt_date = htole16(d);
		e->lst_acc_date = htole16(d);
		e->attr |= FAT_ATTR_ARCHIVE;
	}
	fat_dir_mark(vol, n->parent, n->short_slot);
}

int
fat_flush_all(struct fat_vol *vol)
{
	int err, any_dir = 0;

	if (vol->read_only)
		return 0;
	/* buffered file data goes to the device first; then it is made
	 * durable before the FAT points at it, and the FAT before the
	 * entries do */
	for (uint32_t b = 0; b < vol->ntab_size; b++)
		for (struct fat_node *n = vol->ntab[b]; n; n = n->hnext)
			/* a buffer appearing meanwhile belongs to a write
			 * still running: the next flush takes it */
			if (!n->is_dir && __atomic_load_n(&n->wb, __ATOMIC_ACQUIRE)) {
				err = fat_wb_flush(vol, n);
				if (err)
					return err;
			}
	err = fat_io_stage_flush(vol);
	if (!err)
		err = fat_io_flush(vol);
	if (err)
		return err;
	if (vol->fat_any_dirty) {
		err = fat_flush_fat_ordered(vol);
		if (!err)
			err = fat_io_flush(vol);
		if (err)
			return err;
	}
	for (uint32_t b = 0; b < vol->ntab_size; b++)
		for (struct fat_node *n = vol->ntab[b]; n; n = n->hnext)
			if (n->dd && n->dd->any_dirty) {
				err = fat_dir_flush(vol, n);
				if (err)
					return err;
				any_dir = 1;
			}
	if (vol->root->dd && vol->root->dd->any_dirty) {
		err = fat_dir_flush(vol, vol->root);
		if (err)
			return err;
		any_dir = 1;
	}
	if (any_dir) {
		err = fat_io_flush(vol);
		if (err)
			return err;
	}
	if (vol->npend) {
		/* no entry on disk points at these any more: free them */
		fat_release_pending(vol);
		err = fat_flush_fat(vol);
		if (!err)
			err = fat_io_flush(vol);
	}
	return err;
}

/* Drops loaded directories nobody uses while the cache is over bound:
 * clean ones first; only if that is not enough, flush and drop the rest. */
static int
trim_pass(struct fat_vol *vol) DVS_REQUIRES(vol->lock)
{
	int progress = 0;

	for (uint32_t b = 0; b < vol->ntab_size && vol->cache_bytes > vol->cache_bound;
	     b++) {
		struct fat_node *n = vol->ntab[b];
		while (n) {
			struct fat_node *nx = n->hnext;
			if (n->is_dir && n->refs == 0 && n != vol->root &&
			    !(n->dd && n->dd->any_dirty)) {
				node_destroy(vol, n);
				progress = 1;
				/* the parent may have gone too: restart the
				 * bucket */
				nx = vol->ntab[b];
			}
			n = nx;
		}
	}
	return progress;
}

void
fat_cache_trim(struct fat_vol *vol)
{
	if (vol->cache_bytes <= vol->cache_bound)
		return;
	while (vol->cache_bytes > vol->cache_bound && trim_pass(vol))
		;
	if (vol->cache_bytes <= vol->cache_bound || vol->read_only)
		return;
	if (fat_flush_all(vol))
		return;
	while (vol->cache_bytes > vol->cache_bound && trim_pass(vol))
		;
}

/* Splits the next component off *p; returns its length (0 at end). */
static size_t
next_comp(const char **p, const char **start)
{
	const char *s = *p;
	while (*s == '/')
		s++;
	*start = s;
	while (*s && *s != '/')
		s++;
	*p = s;
	return (size_t)(s - *start);
}

int
fat_walk(struct fat_vol *vol, const char *path, struct fat_node **parent,
	 uint16_t *name, int *nlen)
{
	struct fat_node *dn = vol->root;
	const char *p = path, *c;
	size_t len;
	int err;

	*parent = NULL;
	*nlen = 0;
	if (!path || path[0] != '/')
		return -EINVAL;
	if (strlen(path) > FAT_PATH_MAX)
		return -ENAMETOOLONG;
	dn->refs++;
	len = next_comp(&p, &c);
	if (len == 0) {
		fat_node_put(vol, dn);
		return 0;	/* the root itself */
	}
	for (;;) {
		int n = fat_utf8_to_16(c, len, name, FAT_LFN_MAX + 1);
		if (n < 0) {
			err = n;
			goto fail;
		}
		err = fat_name_check(name, n);
		if (err)
			goto fail;
		const char *c2;
		const char *save = p;
		size_t len2 = next_comp(&p, &c2);
		if (len2 == 0) {
			*parent = dn;
			*nlen = n;
			p = save;
			return 0;
		}
		err = fat_dir_load(vol, dn);
		if (err)
			goto fail;
		int r = fat_dir_find(vol, dn, name, n);
		if (r < 0) {
			err = r;
			goto fail;
		}
		if (!(fat_dir_slot(dn, dn->dd->recs[r].short_slot)->attr & FAT_ATTR_DIR)) {
			err = -ENOTDIR;
			goto fail;
		}
		struct fat_node *child = fat_node_get(vol, dn, r, &err);
		if (!child)
			goto fail;
		fat_node_put(vol, dn);
		dn = child;
		c = c2;
		len = len2;
	}
fail:
	fat_node_put(vol, dn);
	return err;
}

int
fat_walk_dir(struct fat_vol *vol, const char *path, struct fat_node **out)
{
	struct fat_node *parent, *n;
	uint16_t name[FAT_LFN_MAX + 1];
	int nlen, err, r;

	*out = NULL;
	err = fat_walk(vol, path, &parent, name, &nlen);
	if (err)
		return err;
	if (!parent) {
		vol->root->refs++;
		n = vol->root;
	} else {
		err = fat_dir_load(vol, parent);
		if (err)
			goto out;
		r = fat_dir_find(vol, parent, name, nlen);
		if (r < 0) {
			err = r;
			goto out;
		}
		if (!(fat_dir_slot(parent, parent->dd->recs[r].short_slot)->attr &
		      FAT_ATTR_DIR)) {
			err = -ENOTDIR;
			goto out;
		}
		n = fat_node_get(vol, parent, r, &err);
		if (!n)
			goto out;
	}
	err = fat_dir_load(vol, n);
	if (err) {
		fat_node_put(vol, n);
		goto out;
	}
	*out = n;
out:
	if (parent)
		fat_node_put(vol, parent);
	return err;
}
