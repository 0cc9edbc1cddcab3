/* table.c - the FAT kept in memory as its raw on-disk bytes, with one
 * dirty byte per FAT sector; extent maps built from chains; contiguous
 * allocation; frees deferred until the directory entries that pointed at
 * the clusters are on disk (so a crash cannot cross-link). */
#include <stdlib.h>

#include "fat_int.h"

/* A FAT12 entry is 12 bits at byte c + c/2: the low 12 bits of the
 * (unaligned) little-endian 16-bit word there for an even c, the high 12
 * for an odd one.  FAT16 and FAT32 are arrays of little-endian words
 * (vol->fat is malloc'd, so aligned). */
static uint16_t
fat12_word(const uint8_t *f, uint32_t o)
{
	uint16_t w;
	memcpy(&w, f + o, sizeof w);
	return le16toh(w);
}

static void
fat12_set_word(uint8_t *f, uint32_t o, uint16_t v)
{
	v = htole16(v);
	memcpy(f + o, &v, sizeof v);
}

uint32_t
fat_get(const struct fat_vol *vol, uint32_t c)
{
	switch (vol->type) {
	case 12: {
		uint16_t v = fat12_word(vol->fat, c + c / 2);
		return (c & 1) ? (uint32_t)(v >> 4) : (uint32_t)(v & 0xFFF);
	}
	case 16:
		return le16toh(((const uint16_t *)(void *)vol->fat)[c]);
	default:
		return le32toh(((const uint32_t *)(void *)vol->fat)[c]) & FAT32_ENTRY_MASK;
	}
}

static void
mark(struct fat_vol *vol, uint32_t byte)
{
	vol->fat_dirty[byte >> vol->ss_shift] = 1;
	vol->fat_any_dirty = 1;
}

void
fat_set(struct fat_vol *vol, uint32_t c, uint32_t v)
{
	switch (vol->type) {
	case 12: {
		uint32_t o = c + c / 2;
		uint16_t old = fat12_word(vol->fat, o);
		if (c & 1)
			old = (uint16_t)((old & 0x000F) | ((v & 0xFFF) << 4));
		else
			old = (uint16_t)((old & 0xF000) | (v & 0xFFF));
		fat12_set_word(vol->fat, o, old);
		mark(vol, o);
		mark(vol, o + 1);
		break;
	}
	case 16:
		((uint16_t *)(void *)vol->fat)[c] = htole16((uint16_t)v);
		mark(vol, 2 * c);
		break;
	default: {
		uint32_t *f32 = (uint32_t *)(void *)vol->fat;
		f32[c] = htole32((le32toh(f32[c]) & ~FAT32_ENTRY_MASK) |
				 (v & FAT32_ENTRY_MASK));
		mark(vol, 4 * c);
		break;
	}
	}
}

uint32_t
fat_eoc(const struct fat_vol *vol)
{
	return vol->type == 12 ? 0xFFF : vol->type == 16 ? 0xFFFF : FAT32_ENTRY_MASK;
}

int
fat_is_eoc(const struct fat_vol *vol, uint32_t v)
{
	return v >= (vol->type == 12 ? 0xFF8u : vol->type == 16 ? 0xFFF8u
								: 0x0FFFFFF8u);
}

int
fat_valid_clus(const struct fat_vol *vol, uint32_t c)
{
	return c >= 2 && c <= vol->nclusters + 1;
}

void
fat_emap_free(struct fat_emap *m)
{
	free(m->v);
	memset(m, 0, sizeof *m);
}

int
fat_emap_add(struct fat_emap *m, uint32_t dcl)
{
	if (m->n > 0) {
		struct fat_extent *l = &m->v[m->n - 1];
		if (l->dcl + l->len == dcl) {
			l->len++;
			m->nclusters++;
			return 0;
		}
	}
	if (m->n == m->cap) {
		uint32_t nc = m->cap ? m->cap * 2 : 4;
		struct fat_extent *nv = realloc(m->v, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		m->v = nv;
		m->cap = nc;
	}
	m->v[m->n].fcl = m->nclusters;
	m->v[m->n].dcl = dcl;
	m->v[m->n].len = 1;
	m->n++;
	m->nclusters++;
	return 0;
}

int
fat_emap_lookup(const struct fat_emap *m, uint32_t fcl, uint32_t *dcl,
		uint32_t *run)
{
	uint32_t lo = 0, hi = m->n;

	if (fcl >= m->nclusters)
		return -ENOENT;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		if (m->v[mid].fcl <= fcl)
			lo = mid;
		else
			hi = mid;
	}
	*dcl = m->v[lo].dcl + (fcl - m->v[lo].fcl);
	*run = m->v[lo].len - (fcl - m->v[lo].fcl);
	return 0;
}

int
fat_chain_load(struct fat_vol *vol, uint32_t first, struct fat_emap *m)
{
	uint32_t c = first, count = 0;
	int err;

	memset(m, 0, sizeof *m);
	if (first == 0)
		return 0;
	while (1) {
		if (!fat_valid_clus(vol, c) || ++count > vol->nclusters) {
			fat_emap_free(m);
			return -EUCLEAN;	/* out of range or a loop */
		}
		err = fat_emap_add(m, c);
		if (err) {
			fat_emap_free(m);
			return err;
		}
		uint32_t nx = fat_get(vol, c);
		if (fat_is_eoc(vol, nx))
			return 0;
		c = nx;
	}
}

uint32_t
fat_count_free(struct fat_vol *vol)
{
	uint32_t n = 0;
	for (uint32_t c = 2; c <= vol->nclusters + 1; c++)
		if (fat_get(vol, c) == 0)
			n++;
	return n;
}

/* Next free cluster at or after c (wrapping), or 0. */
static uint32_t
find_free(struct fat_vol *vol, uint32_t c)
{
	uint32_t maxc = vol->nclusters + 1;

	if (c < 2 || c > maxc)
		c = 2;
	for (uint32_t i = 0; i < vol->nclusters; i++) {
		if (fat_get(vol, c) == 0)
			return c;
		if (++c > maxc)
			c = 2;
	}
	return 0;
}

/* Remembers a chain end that is given a next cluster; the old end may be
 * on disk already (fat_flush_fat_ordered). */
static int
link_add(struct fat_vol *vol, uint32_t c)
{
	if (vol->nlinks && vol->links[vol->nlinks - 1] == c)
		return 0;
	if (vol->nlinks == vol->caplinks) {
		uint32_t nc = vol->caplinks ? vol->caplinks * 2 : 64;
		uint32_t *nv = realloc(vol->links, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		vol->links = nv;
		vol->caplinks = nc;
	}
	vol->links[vol->nlinks++] = c;
	return 0;
}

int
fat_alloc(struct fat_vol *vol, struct fat_emap *m, uint32_t want,
	  uint32_t *got, int zero)
{
	uint32_t last = 0, c, n = 0;
	int err = 0;

	*got = 0;
	if (m->n > 0)
		last = m->v[m->n - 1].dcl + m->v[m->n - 1].len - 1;
	while (n < want) {
		if (vol->free_count == 0 && vol->npend > 0) {
			/* clusters freed since the last flush become usable once
			 * the entries that held them are on disk: flush now
			 * rather than fail with ENOSPC */
			err = fat_flush_all(vol);
			if (err)
				break;
		}
		if (vol->free_count == 0)
			break;
		/* grow in place when the next cluster is free; else the
		 * next free run from the rolling hint */
		if (last && last + 1 <= vol->nclusters + 1 &&
		    fat_get(vol, last + 1) == 0)
			c = last + 1;
		else
			c = find_free(vol, vol->next_free);
		if (c == 0)
			break;
		if (last && n == 0)
			err = link_add(vol, last);
		if (!err)
			err = fat_emap_add(m, c);
		if (err)
			break;
		fat_set(vol, c, fat_eoc(vol));
		if (last)
			fat_set(vol, last, c);
		vol->free_count--;
		vol->next_free = c + 1;
		if (zero) {
			err = fat_io_zero_bytes(vol, fat_clus_off(vol, c), vol->cs);
			if (err) {
				n++;
				break;
			}
		}
		last = c;
		n++;
	}
	*got = n;
	return err;
}

static int
pend_add(struct fat_vol *vol, uint32_t c)
{
	if (vol->npend == vol->cappend) {
		uint32_t nc = vol->cappend ? vol->cappend * 2 : 256;
		uint32_t *nv = realloc(vol->pend, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		vol->pend = nv;
		vol->cappend = nc;
	}
	vol->pend[vol->npend++] = c;
	return 0;
}

int
fat_chain_cut(struct fat_vol *vol, struct fat_emap *m, uint32_t keep)
{
	int err = 0;

	if (keep >= m->nclusters)
		return 0;
	/* The surviving chain's new end is written now (it is ordered
	 * with the new size in the entry: a crash leaves a chain shorter
	 * than nothing it was ever said to hold); the cut clusters stay
	 * allocated on disk until the entries are flushed. */
	for (uint32_t i = 0; i < m->n; i++) {
		struct fat_extent *e = &m->v[i];
		for (uint32_t j = 0; j < e->len; j++) {
			if (e->fcl + j < keep)
				continue;
			int r = pend_add(vol, e->dcl + j);
			if (r && !err)
				err = r;
		}
	}
	/* shrink the map */
	while (m->n > 0 && m->v[m->n - 1].fcl >= keep)
		m->n--;
	if (m->n > 0) {
		struct fat_extent *l = &m->v[m->n - 1];
		if (l->fcl + l->len > keep)
			l->len = keep - l->fcl;
		fat_set(vol, l->dcl + l->len - 1, fat_eoc(vol));
	}
	m->nclusters = keep;
	return err;
}

void
fat_release_pending(struct fat_vol *vol)
{
	for (uint32_t i = 0; i < vol->npend; i++) {
		uint32_t c = vol->pend[i];
		if (fat_valid_clus(vol, c) && fat_get(vol, c) != 0) {
			fat_set(vol, c, 0);
			vol->free_count++;
		}
	}
	vol->npend = 0;
}

int
fat_flush_fat(struct fat_vol *vol)
{
	int err;

	if (!vol->fat_any_dirty)
		return 0;
	for (uint32_t s = 0; s < vol->fatsz; s++) {
		if (!vol->fat_dirty[s])
			continue;
		uint32_t run = 1;
		while (s + run < vol->fatsz && vol->fat_dirty[s + run])
			run++;
		for (uint32_t k = 0; k < vol->nfats; k++) {
			err = fat_io_write_secs(vol,
						vol->rsvd + k * vol->fatsz + s,
						run,
						vol->fat + ((size_t)s << vol->ss_shift));
			if (err)
				return err;
		}
		memset(vol->fat_dirty + s, 0, run);
		s += run - 1;
	}
	vol->fat_any_dirty = 0;
	return 0;
}

int
fat_flush_fat_ordered(struct fat_vol *vol)
{
	uint32_t eoc = fat_eoc(vol), *next = NULL, n = vol->nlinks;
	int err;

	if (n == 0)
		return fat_flush_fat(vol);
	next = malloc(n * sizeof *next);
	if (!next)
		return -ENOMEM;
	/* phase one: the new clusters, with each old end still an end */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = vol->links[i];
		next[i] = 0;
		if (!fat_valid_clus(vol, c) || !fat_valid_clus(vol, fat_get(vol, c)))
			continue;	/* cut or freed since: nothing to order */
		next[i] = fat_get(vol, c);
		fat_set(vol, c, eoc);
	}
	err = fat_flush_fat(vol);
	for (uint32_t i = 0; i < n; i++)
		if (next[i])
			fat_set(vol, vol->links[i], next[i]);
	free(next);
	vol->nlinks = 0;
	if (err)
		return err;
	/* phase two: the links, once the clusters they name are on disk */
	err = fat_io_flush(vol);
	if (!err)
		err = fat_flush_fat(vol);
	return err;
}
