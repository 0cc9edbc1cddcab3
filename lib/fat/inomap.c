/*
 * inomap.c - node numbers that survive a rename for the life of a mount.
 *
 * A node's number is where its 8.3 entry lives (fat_dir_slot_ino), which
 * a rename moves.  Programs (tar, rsync -H, find, du, editors) expect the
 * number of a file to stay while it exists, as Linux's own file systems
 * keep it, so a rename records "the entry now at location L keeps number
 * N" here.  Only renamed entries are recorded, and each record goes when
 * its entry is removed, so the map holds at most one record per renamed
 * file still on the volume (40 bytes each) and nothing on a volume that
 * never saw a rename.  A new entry whose location equals a number still
 * held by a moved entry gets a fresh number from FAT_INO_FRESH up.
 *
 * Two chained hash indexes over one set of records: by location and by
 * number.  Everything runs under vol->lock.
 */
#include <stdlib.h>

#include "fat_int.h"

/* Fresh numbers: far above any location number (a location number is a
 * byte offset / 32, below 2^40 for any FAT volume) and below the private
 * range of dvs-fuse's inode table (2^62). */
#define FAT_INO_FRESH (UINT64_C(1) << 60)

struct fat_inorec {
	uint64_t loc; /* location number of the entry now */
	uint64_t ino; /* the number it keeps */
	struct fat_inorec *next_loc, *next_ino;
};

struct fat_inomap {
	struct fat_inorec **by_loc, **by_ino;
	size_t nbuckets; /* power of two */
	size_t count;
	uint64_t next_fresh;
};

static size_t
bucket(const struct fat_inomap *m, uint64_t key)
{
	key ^= key >> 31;
	key *= UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(key >> 32) & (m->nbuckets - 1);
}

static struct fat_inorec *
find_loc(const struct fat_inomap *m, uint64_t loc)
{
	struct fat_inorec *r = m->by_loc[bucket(m, loc)];

	while (r && r->loc != loc)
		r = r->next_loc;
	return r;
}

static struct fat_inorec *
find_ino(const struct fat_inomap *m, uint64_t ino)
{
	struct fat_inorec *r = m->by_ino[bucket(m, ino)];

	while (r && r->ino != ino)
		r = r->next_ino;
	return r;
}

static void
link_rec(struct fat_inomap *m, struct fat_inorec *r)
{
	size_t b = bucket(m, r->loc);

	r->next_loc = m->by_loc[b];
	m->by_loc[b] = r;
	b = bucket(m, r->ino);
	r->next_ino = m->by_ino[b];
	m->by_ino[b] = r;
}

static int
grow(struct fat_inomap *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 64, i;
	struct fat_inorec **a = calloc(n, sizeof(*a)), **b = calloc(n, sizeof(*b));
	struct fat_inorec **old = m->by_loc, *r, *next;
	size_t old_n = m->nbuckets;

	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	free(m->by_ino);
	m->by_loc = a;
	m->by_ino = b;
	m->nbuckets = n;
	for (i = 0; i < old_n; i++)
		for (r = old[i]; r; r = next) {
			next = r->next_loc;
			link_rec(m, r);
		}
	free(old);
	return 0;
}

static int
add(struct fat_inomap *m, uint64_t loc, uint64_t ino)
{
	struct fat_inorec *r;

	if (m->count >= m->nbuckets && grow(m) < 0 && m->nbuckets == 0)
		return -ENOMEM;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loc = loc;
	r->ino = ino;
	link_rec(m, r);
	m->count++;
	return 0;
}

static void
drop(struct fat_inomap *m, struct fat_inorec *r)
{
	struct fat_inorec **p = &m->by_loc[bucket(m, r->loc)];

	while (*p != r)
		p = &(*p)->next_loc;
	*p = r->next_loc;
	p = &m->by_ino[bucket(m, r->ino)];
	while (*p != r)
		p = &(*p)->next_ino;
	*p = r->next_ino;
	m->count--;
	free(r);
}

int
fat_inomap_new(struct fat_inomap **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->next_fresh = FAT_INO_FRESH;
	return 0;
}

void
fat_inomap_free(struct fat_inomap *m)
{
	struct fat_inorec *r, *next;

	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++)
		for (r = m->by_loc[i]; r; r = next) {
			next = r->next_loc;
			free(r);
		}
	free(m->by_loc);
	free(m->by_ino);
	free(m);
}

uint64_t
fat_inomap_get(struct fat_inomap *m, uint64_t loc)
{
	struct fat_inorec *r;

	if (m->count == 0)
		return loc; /* the usual case: no rename since the mount */
	r = find_loc(m, loc);
	if (r)
		return r->ino;
	if (!find_ino(m, loc))
		return loc;
	/* A moved entry keeps this number: the entry here needs another.
	 * Without memory for the record the number is shared for a while
	 * (as before this map existed), nothing worse. */
	while (find_ino(m, m->next_fresh))
		m->next_fresh++;
	if (add(m, loc, m->next_fresh) < 0)
		return loc;
	return m->next_fresh++;
}

void
fat_inomap_moved(struct fat_inomap *m, uint64_t new_loc, uint64_t ino)
{
	struct fat_inorec *r = m->count ? find_loc(m, new_loc) : NULL;

	if (r)
		drop(m, r); /* a stale record of a slot reused */
	if (ino != new_loc)
		(void)add(m, new_loc, ino); /* ENOMEM: the number changes */
}

void
fat_inomap_removed(struct fat_inomap *m, uint64_t loc)
{
	struct fat_inorec *r = m->count ? find_loc(m, loc) : NULL;

	if (r)
		drop(m, r);
}
