/* dir.c - directories held whole in memory with a hash index on the long
 * (display) name and on the 8.3 alias, dirty per sector.  A FAT directory
 * is at most 65536 entries (2 MiB), so loading it whole is bounded; the
 * index makes a lookup O(1) however big the directory. */
#include <stdlib.h>
#include <time.h>

#include "fat_int.h"

uint32_t
fat_ent_cluster(const struct fat_vol *vol, const struct fat_sfn *e)
{
	uint32_t c = le16toh(e->fst_clus_lo);
	if (vol->type == 32)
		c |= (uint32_t)le16toh(e->fst_clus_hi) << 16;
	return c;
}

void
fat_ent_set_cluster(const struct fat_vol *vol, struct fat_sfn *e, uint32_t c)
{
	e->fst_clus_lo = htole16((uint16_t)c);
	e->fst_clus_hi = htole16(vol->type == 32 ? (uint16_t)(c >> 16) : 0);
}

void
fat_ent_stat(struct fat_vol *vol, const struct fat_sfn *e, uint64_t ino,
	     struct fat_stat *st)
{
	memset(st, 0, sizeof *st);
	st->ino = ino;
	st->attr = e->attr;
	st->size = (e->attr & FAT_ATTR_DIR) ? 0 : le32toh(e->file_size);
	st->nlink = 1;
	st->mtime = fat_time_from_dos(vol, le16toh(e->wrt_date),
				      le16toh(e->wrt_time), 0);
	st->ctime = st->mtime;
	st->btime = fat_time_from_dos(vol, le16toh(e->crt_date),
				      le16toh(e->crt_time), e->crt_time_tenth);
	st->atime = fat_time_from_dos(vol, le16toh(e->lst_acc_date), 0, 0);
	st->blksize = vol->cs;
	st->first_cluster = fat_ent_cluster(vol, e);
	if (st->first_cluster && !(e->attr & FAT_ATTR_DIR))
		st->blocks = ((st->size + vol->cs - 1) / vol->cs) * (vol->cs / 512);
	else if (st->first_cluster)
		st->blocks = vol->cs / 512;
}

struct fat_sfn *
fat_dir_slot(struct fat_node *dn, uint32_t slot)
{
	return fat_dd_ent(dn->dd, slot);
}

void
fat_dir_mark(struct fat_vol *vol, struct fat_node *dn, uint32_t slot)
{
	dn->dd->dirty[((size_t)slot * FAT_DIRENT_SIZE) >> vol->ss_shift] = 1;
	dn->dd->any_dirty = 1;
}

/* Device byte offset of a slot. */
static int
slot_off(struct fat_vol *vol, struct fat_node *dn, uint32_t slot, uint64_t *off)
{
	uint64_t b = (uint64_t)slot * FAT_DIRENT_SIZE;
	uint32_t dcl, run;

	if (dn == vol->root && vol->type != 32) {
		*off = ((uint64_t)vol->root_start << vol->ss_shift) + b;
		return 0;
	}
	if (fat_emap_lookup(&dn->map, (uint32_t)(b >> vol->cs_shift), &dcl, &run))
		return -EUCLEAN;
	*off = fat_clus_off(vol, dcl) + (b & (vol->cs - 1));
	return 0;
}

uint64_t
fat_dir_slot_loc(struct fat_vol *vol, struct fat_node *dn, uint32_t slot)
{
	uint64_t off = 0;
	slot_off(vol, dn, slot, &off);
	return off / FAT_DIRENT_SIZE + 2;
}

uint64_t
fat_dir_slot_ino(struct fat_vol *vol, struct fat_node *dn, uint32_t slot)
{
	return fat_inomap_get(vol->inomap, fat_dir_slot_loc(vol, dn, slot));
}

int
fat_dir_next(struct fat_dirdata *dd, uint32_t *pos, struct fat_parsed *p)
{
	uint16_t lfn[FAT_LFN_MAX_ENTS * FAT_LFN_UNITS];
	int nlfn = 0, expect = 0;
	uint8_t chk = 0;
	uint32_t lstart = 0;

	for (uint32_t i = *pos; i < dd->nslots; i++) {
		struct fat_sfn *e = fat_dd_ent(dd, i);
		if (e->name[0] == FAT_DIRENT_END)
			break;
		if (e->name[0] == FAT_DIRENT_FREE) {
			expect = 0;
			continue;
		}
		if (e->attr == FAT_ATTR_LFN) {
			const struct fat_lfn *l = fat_ent_lfn(e);
			int seq = l->ord & FAT_LFN_ORD_MASK;
			if (l->ord & FAT_LFN_LAST) {
				if (seq < 1 || seq > FAT_LFN_MAX_ENTS) {
					expect = 0;
					continue;
				}
				nlfn = seq;
				expect = seq;
				chk = l->chksum;
				lstart = i;
			} else if (!expect || seq != expect || l->chksum != chk) {
				expect = 0;
				continue;
			}
			uint16_t *d = lfn + (seq - 1) * FAT_LFN_UNITS;
			for (int k = 0; k < 5; k++)
				d[k] = le16toh(l->name1[k]);
			for (int k = 0; k < 6; k++)
				d[5 + k] = le16toh(l->name2[k]);
			for (int k = 0; k < 2; k++)
				d[11 + k] = le16toh(l->name3[k]);
			expect--;
			/* expect == 0 now means "complete" only if we got here
			 * through seq 1; remember with a negative marker */
			if (expect == 0)
				expect = -1;
			continue;
		}
		if (e->attr & FAT_ATTR_VOLID) {
			expect = 0;
			continue;
		}
		if (e->name[0] == '.' &&
		    (e->name[1] == ' ' || (e->name[1] == '.' && e->name[2] == ' '))) {
			expect = 0;
			continue;
		}
		p->short_slot = i;
		p->ulen = 0;
		if (expect == -1 && fat_lfn_checksum(e->name) == chk) {
			int n = 0;
			while (n < nlfn * FAT_LFN_UNITS && lfn[n] != 0 && n < FAT_LFN_MAX)
				n++;
			memcpy(p->uname, lfn, (size_t)n * 2);
			p->ulen = n;
			p->first_slot = lstart;
		}
		if (p->ulen == 0) {
			p->ulen = fat_short_display(e->name, e->nt_res, p->uname);
			p->first_slot = i;
		}
		*pos = i + 1;
		return 1;
	}
	*pos = dd->nslots;
	return 0;
}

static void
index_insert(struct fat_dirdata *dd, int r)
{
	struct fat_rec *rec = &dd->recs[r];
	uint32_t b = rec->hash & (dd->hsize - 1);
	rec->next = dd->htab[b];
	dd->htab[b] = r;
	b = rec->shash & (dd->hsize - 1);
	rec->snext = dd->shtab[b];
	dd->shtab[b] = r;
}

static int
index_grow(struct fat_dirdata *dd)
{
	uint32_t ns = dd->hsize ? dd->hsize * 2 : 64;
	int32_t *h = malloc(ns * sizeof *h), *sh = malloc(ns * sizeof *sh);

	if (!h || !sh) {
		free(h);
		free(sh);
		return -ENOMEM;
	}
	memset(h, 0xFF, ns * sizeof *h);
	memset(sh, 0xFF, ns * sizeof *sh);
	free(dd->htab);
	free(dd->shtab);
	dd->htab = h;
	dd->shtab = sh;
	dd->hsize = ns;
	for (uint32_t r = 0; r < dd->nrecs; r++)
		if (dd->recs[r].live)
			index_insert(dd, (int)r);
	return 0;
}

/* Drops removed records, so a long-lived directory with churn does not
 * grow; record indices change, so this runs only inside fat_dir_add,
 * whose callers hold no other index across the call. */
static void
rec_compact(struct fat_dirdata *dd)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < dd->nrecs; i++) {
		if (dd->recs[i].live)
			dd->recs[j++] = dd->recs[i];
		else
			free(dd->recs[i].uname);
	}
	dd->nrecs = j;
	dd->ndead = 0;
	memset(dd->htab, 0xFF, dd->hsize * sizeof *dd->htab);
	memset(dd->shtab, 0xFF, dd->hsize * sizeof *dd->shtab);
	for (uint32_t r = 0; r < dd->nrecs; r++)
		index_insert(dd, (int)r);
}

static int
rec_add(struct fat_dirdata *dd, const struct fat_parsed *p)
{
	struct fat_rec *r;
	int err;

	if (dd->ndead > 64 && dd->ndead > dd->nrecs / 2)
		rec_compact(dd);

	if (dd->nrecs == dd->caprecs) {
		uint32_t nc = dd->caprecs ? dd->caprecs * 2 : 16;
		struct fat_rec *nv = realloc(dd->recs, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		dd->recs = nv;
		dd->caprecs = nc;
	}
	if (dd->nrecs + 1 > dd->hsize / 2) {
		err = index_grow(dd);
		if (err)
			return err;
	}
	r = &dd->recs[dd->nrecs];
	memset(r, 0, sizeof *r);
	r->uname = malloc((size_t)(p->ulen ? p->ulen : 1) * 2);
	if (!r->uname)
		return -ENOMEM;
	memcpy(r->uname, p->uname, (size_t)p->ulen * 2);
	r->ulen = (uint16_t)p->ulen;
	r->first_slot = p->first_slot;
	r->short_slot = p->short_slot;
	r->hash = fat_name_hash(p->uname, p->ulen);
	r->shash = fat_short_hash(fat_dd_ent(dd, p->short_slot)->name);
	r->live = 1;
	index_insert(dd, (int)dd->nrecs);
	dd->nrecs++;
	return (int)dd->nrecs - 1;
}

static void
dd_free(struct fat_dirdata *dd)
{
	if (!dd)
		return;
	for (uint32_t i = 0; i < dd->nrecs; i++)
		free(dd->recs[i].uname);
	free(dd->recs);
	free(dd->htab);
	free(dd->shtab);
	free(dd->buf);
	free(dd->dirty);
	free(dd);
}

int
fat_dir_load(struct fat_vol *vol, struct fat_node *dn)
{
	struct fat_dirdata *dd;
	struct fat_parsed *p = NULL;
	uint64_t bytes;
	int err = 0;

	if (dn->dd)
		return 0;
	if (dn == vol->root && vol->type != 32)
		bytes = (uint64_t)vol->root_secs << vol->ss_shift;
	else
		bytes = (uint64_t)dn->map.nclusters << vol->cs_shift;
	if (bytes > (uint64_t)FAT_MAX_DIR_SLOTS * FAT_DIRENT_SIZE + vol->cs)
		return -EUCLEAN;
	dd = calloc(1, sizeof *dd);
	if (!dd)
		return -ENOMEM;
	dd->nslots = (uint32_t)(bytes / FAT_DIRENT_SIZE);
	dd->nsect = (uint32_t)(bytes >> vol->ss_shift);
	dd->buf = malloc(bytes ? bytes : 1);
	dd->dirty = calloc(dd->nsect + 1, 1);
	p = malloc(sizeof *p);
	if (!dd->buf || !dd->dirty || !p) {
		err = -ENOMEM;
		goto fail;
	}
	if (dn == vol->root && vol->type != 32) {
		err = fat_io_read_secs(vol, vol->root_start, vol->root_secs, dd->buf);
	} else {
		for (uint32_t i = 0; i < dn->map.n && !err; i++) {
			struct fat_extent *x = &dn->map.v[i];
			err = fat_io_read_bytes(vol, fat_clus_off(vol, x->dcl),
						(uint64_t)x->len << vol->cs_shift,
						dd->buf + ((size_t)x->fcl << vol->cs_shift));
		}
	}
	if (err)
		goto fail;
	err = index_grow(dd);
	if (err)
		goto fail;
	uint32_t pos = 0;
	while (fat_dir_next(dd, &pos, p) == 1) {
		err = rec_add(dd, p);
		if (err < 0)
			goto fail;
		err = 0;
	}
	dd->end_slot = dd->nslots;
	for (uint32_t i = 0; i < dd->nslots; i++)
		if (fat_dd_ent(dd, i)->name[0] == FAT_DIRENT_END) {
			dd->end_slot = i;
			break;
		}
	dn->dd = dd;
	vol->cache_bytes += bytes;
	free(p);
	return 0;
fail:
	free(p);
	dd_free(dd);
	return err;
}

void
fat_dir_unload(struct fat_vol *vol, struct fat_node *dn)
{
	if (!dn->dd)
		return;
	vol->cache_bytes -= (size_t)dn->dd->nslots * FAT_DIRENT_SIZE;
	dd_free(dn->dd);
	dn->dd = NULL;
}

int
fat_dir_find(struct fat_vol *vol, struct fat_node *dn, const uint16_t *n,
	     int len)
{
	struct fat_dirdata *dd = dn->dd;
	uint32_t h = fat_name_hash(n, len);
	uint16_t up[13];
	uint8_t sn[11], nt;

	for (int32_t r = dd->htab[h & (dd->hsize - 1)]; r >= 0;
	     r = dd->recs[r].next) {
		struct fat_rec *x = &dd->recs[r];
		if (x->live && x->hash == h && fat_name_eq(x->uname, x->ulen, n, len))
			return r;
	}
	/* the 8.3 alias also names the file */
	if (len > 12)
		return -ENOENT;
	for (int i = 0; i < len; i++)
		up[i] = fat_upcase16(n[i]);
	if (!fat_name_is_short(up, len, sn, &nt))
		return -ENOENT;
	h = fat_short_hash(sn);
	for (int32_t r = dd->shtab[h & (dd->hsize - 1)]; r >= 0;
	     r = dd->recs[r].snext) {
		struct fat_rec *x = &dd->recs[r];
		if (x->live && x->shash == h &&
		    memcmp(fat_dir_slot(dn, x->short_slot)->name, sn, 11) == 0)
			return r;
	}
	return -ENOENT;
}

static int
short_exists(struct fat_node *dn, const uint8_t *sn)
{
	struct fat_dirdata *dd = dn->dd;
	uint32_t h = fat_short_hash(sn);

	for (int32_t r = dd->shtab[h & (dd->hsize - 1)]; r >= 0;
	     r = dd->recs[r].snext) {
		struct fat_rec *x = &dd->recs[r];
		if (x->live && x->shash == h &&
		    memcmp(fat_dir_slot(dn, x->short_slot)->name, sn, 11) == 0)
			return 1;
	}
	/* the volume label lives among the root's entries, unindexed */
	if (memcmp(sn, ".          ", 11) == 0 || memcmp(sn, "..         ", 11) == 0)
		return 1;
	return 0;
}

/* Grows a directory by one zeroed cluster. */
static int
dir_grow(struct fat_vol *vol, struct fat_node *dn) DVS_REQUIRES(vol->lock)
{
	struct fat_dirdata *dd = dn->dd;
	uint32_t got, add = vol->cs / FAT_DIRENT_SIZE;
	uint8_t *nb, *nd;
	int err;

	if (dn == vol->root && vol->type != 32)
		return -ENOSPC;
	if (dd->nslots + add > FAT_MAX_DIR_SLOTS)
		return -ENOSPC;
	err = fat_alloc(vol, &dn->map, 1, &got, 1);
	if (err)
		return err;
	if (got == 0)
		return -ENOSPC;
	nb = realloc(dd->buf, ((size_t)dd->nslots + add) * FAT_DIRENT_SIZE);
	if (!nb)
		return -ENOMEM;
	dd->buf = nb;
	nd = realloc(dd->dirty, dd->nsect + (vol->cs >> vol->ss_shift) + 1);
	if (!nd)
		return -ENOMEM;
	dd->dirty = nd;
	memset(dd->buf + (size_t)dd->nslots * FAT_DIRENT_SIZE, 0,
	       (size_t)add * FAT_DIRENT_SIZE);
	memset(dd->dirty + dd->nsect, 0, (vol->cs >> vol->ss_shift) + 1);
	if (dd->end_slot == dd->nslots)
		dd->end_slot = dd->nslots;
	dd->nslots += add;
	dd->nsect += vol->cs >> vol->ss_shift;
	vol->cache_bytes += vol->cs;
	return 0;
}

/* Scans for count consecutive free slots.  With align, a run never
 * crosses a logical-sector boundary: a sector write is atomic, so an
 * entry (long-name slots and 8.3 entry) that lies in one sector appears
 * and disappears whole, and a cut write can never leave an orphaned
 * long-name part (see docs/FAT.md, "Crash consistency"). */
static int
scan_slots(struct fat_vol *vol, struct fat_dirdata *dd, uint32_t count,
	   int align, uint32_t *first)
{
	uint32_t sps = vol->ss / FAT_DIRENT_SIZE, run = 0;
	/* the hint is kept for each size's usual mode only (aligned when it
	 * fits in a sector), not for the unaligned fallback */
	int hinted = count <= FAT_MAX_ENT_SLOTS && align == (count <= sps);
	uint32_t start = hinted ? dd->hint[count] : 0;

	for (uint32_t i = start; i < dd->nslots; i++) {
		if (align && (i & (sps - 1)) == 0)
			run = 0;
		if (i >= dd->end_slot) {
			uint32_t f = i - run;
			if (align && (f & (sps - 1)) + count > sps)
				f = (f | (sps - 1)) + 1;
			if (f <= dd->nslots && dd->nslots - f >= count) {
				*first = f;
				if (hinted)
					dd->hint[count] = f;
				return 0;
			}
			if (hinted)
				dd->hint[count] = i - run;
			return -ENOSPC;
		}
		uint8_t b = fat_dd_ent(dd, i)->name[0];
		if (b == FAT_DIRENT_FREE || b == FAT_DIRENT_END) {
			if (++run == count) {
				*first = i + 1 - count;
				if (hinted)
					dd->hint[count] = *first;
				return 0;
			}
		} else {
			run = 0;
		}
	}
	if (hinted)
		dd->hint[count] = dd->nslots - run;
	return -ENOSPC;
}

void
fat_dir_freed(struct fat_dirdata *dd, uint32_t s)
{
	for (int n = 0; n <= FAT_MAX_ENT_SLOTS; n++)
		if (dd->hint[n] > s)
			dd->hint[n] = s;
}

/* Finds count consecutive free slots, growing the directory if needed;
 * runs that fit in one sector are kept inside one (scan_slots). */
static int
find_slots(struct fat_vol *vol, struct fat_node *dn, uint32_t count,
	   uint32_t *first) DVS_REQUIRES(vol->lock)
{
	int align = count <= vol->ss / FAT_DIRENT_SIZE, err;

	for (;;) {
		if (scan_slots(vol, dn->dd, count, align, first) == 0)
			return 0;
		err = dir_grow(vol, dn);
		if (err) {
			/* a full fixed root (or a directory at its limit)
			 * still takes a name that only fits unaligned */
			if (align && scan_slots(vol, dn->dd, count, 0, first) == 0)
				return 0;
			return err;
		}
	}
}

int
fat_dir_add(struct fat_vol *vol, struct fat_node *dn, const uint16_t *n,
	    int len, const struct fat_sfn *ent_tmpl)
{
	struct fat_dirdata *dd;
	struct fat_parsed *p;
	uint8_t sn[11], nt = 0;
	int nlfn = 0, lossy = 0, r;
	uint32_t first;

	if (fat_name_is_short(n, len, sn, &nt) && !short_exists(dn, sn)) {
		nlfn = 0;
	} else {
		nt = 0;
		nlfn = (len + FAT_LFN_UNITS - 1) / FAT_LFN_UNITS;
		fat_short_basis(n, len, sn, &lossy);
		if (lossy || short_exists(dn, sn)) {
			uint8_t base[11];
			uint32_t num;
			memcpy(base, sn, 11);
			for (num = 1; num < 1000000; num++) {
				memcpy(sn, base, 11);
				fat_short_tail(sn, num, n, len);
				if (!short_exists(dn, sn))
					break;
			}
			if (num == 1000000)
				return -ENOSPC;
		}
	}
	r = find_slots(vol, dn, (uint32_t)nlfn + 1, &first);
	if (r)
		return r;
	dd = dn->dd;
	/* slots skipped to keep the entry in one sector must not read as
	 * the end of the directory before it */
	for (uint32_t s = dd->end_slot; s < first; s++) {
		fat_dd_ent(dd, s)->name[0] = FAT_DIRENT_FREE;
		fat_dir_mark(vol, dn, s);
	}
	uint8_t chk = fat_lfn_checksum(sn);
	for (int k = 0; k < nlfn; k++) {
		int seq = nlfn - k;	/* highest sequence first on disk */
		struct fat_lfn *l = fat_ent_lfn(fat_dd_ent(dd, first + (uint32_t)k));
		memset(l, 0, sizeof *l);
		l->ord = (uint8_t)(seq | (k == 0 ? FAT_LFN_LAST : 0));
		l->attr = FAT_ATTR_LFN;
		l->chksum = chk;
		for (int j = 0; j < FAT_LFN_UNITS; j++) {
			int ci = (seq - 1) * FAT_LFN_UNITS + j;
			/* the name ends with a 0 unit, then 0xFFFF padding */
			uint16_t c = htole16(ci < len ? n[ci] : ci == len ? 0 : 0xFFFF);
			if (j < 5)
				l->name1[j] = c;
			else if (j < 11)
				l->name2[j - 5] = c;
			else
				l->name3[j - 11] = c;
		}
		fat_dir_mark(vol, dn, first + (uint32_t)k);
	}
	uint32_t ss = first + (uint32_t)nlfn;
	struct fat_sfn *e = fat_dd_ent(dd, ss);
	*e = *ent_tmpl;
	memcpy(e->name, sn, sizeof e->name);
	e->nt_res = nt;
	fat_dir_mark(vol, dn, ss);
	if (ss >= dd->end_slot) {
		dd->end_slot = ss + 1;
		/* keep an end marker after the last entry */
		if (dd->end_slot < dd->nslots &&
		    fat_dd_ent(dd, dd->end_slot)->name[0] != FAT_DIRENT_END) {
			memset(fat_dd_ent(dd, dd->end_slot), 0, FAT_DIRENT_SIZE);
			fat_dir_mark(vol, dn, dd->end_slot);
		}
	}
	p = malloc(sizeof *p);
	if (!p)
		return -ENOMEM;
	p->first_slot = first;
	p->short_slot = ss;
	memcpy(p->uname, n, (size_t)len * 2);
	p->ulen = len;
	if (nlfn == 0)	/* the stored display form keeps the NT case */
		p->ulen = fat_short_display(sn, nt, p->uname);
	r = rec_add(dd, p);
	free(p);
	return r;
}

void
fat_dir_remove(struct fat_vol *vol, struct fat_node *dn, int r)
{
	struct fat_dirdata *dd = dn->dd;
	struct fat_rec *x = &dd->recs[r];

	/* the number it kept through renames is free again */
	fat_inomap_removed(vol->inomap, fat_dir_slot_loc(vol, dn, x->short_slot));
	for (uint32_t s = x->first_slot; s <= x->short_slot; s++) {
		fat_dd_ent(dd, s)->name[0] = FAT_DIRENT_FREE;
		fat_dir_mark(vol, dn, s);
	}
	fat_dir_freed(dd, x->first_slot);
	x->live = 0;
	free(x->uname);
	x->uname = NULL;
	dd->ndead++;
}

int
fat_dir_flush(struct fat_vol *vol, struct fat_node *dn)
{
	struct fat_dirdata *dd = dn->dd;
	uint32_t sps = vol->ss / FAT_DIRENT_SIZE;
	int err;

	if (!dd || !dd->any_dirty)
		return 0;
	/* runs of dirty sectors that are contiguous on the device go as one
	 * request, in slot order (the order docs/FAT.md relies on) */
	for (uint32_t s = 0; s < dd->nsect; s++) {
		if (!dd->dirty[s])
			continue;
		uint64_t off, next;
		uint32_t run = 1;
		err = slot_off(vol, dn, s * sps, &off);
		if (err)
			return err;
		while (s + run < dd->nsect && dd->dirty[s + run] &&
		       slot_off(vol, dn, (s + run) * sps, &next) == 0 &&
		       next == off + ((uint64_t)run << vol->ss_shift))
			run++;
		err = fat_io_write_secs(vol, off >> vol->ss_shift, run,
					dd->buf + ((size_t)s << vol->ss_shift));
		if (err)
			return err;
		memset(dd->dirty + s, 0, run);
		s += run - 1;
	}
	dd->any_dirty = 0;
	return 0;
}

int
fat_dir_is_empty(struct fat_node *dn)
{
	for (uint32_t r = 0; r < dn->dd->nrecs; r++)
		if (dn->dd->recs[r].live)
			return 0;
	return 1;
}
