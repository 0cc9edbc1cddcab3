/*
 * ext_names.c - a small memo of paths already looked up on an ext volume
 * (path -> inode number), so that the requests that name one file again
 * and again (FS_STAT of a directory, FS_UTIMENS of a file just written)
 * do not walk the path and scan each directory block again: libext2fs has
 * no directory index for lookups, and every scan reads and checksums each
 * block of the directory.
 *
 * Only positive answers are kept.  A name that exists keeps pointing at
 * its inode until a name is removed or renamed (a link holds the inode),
 * so every removal and rename (ext_dir.c) forgets the whole memo: a new
 * generation, which also covers a renamed directory and all the paths
 * under it.  Creations only add names and forget nothing.  Direct-mapped
 * by a hash of the path; paths longer than EXT_NAMES_PATH are not kept.
 * The caller holds xv->lock (ext.h), which protects all of it.
 */
#include <stdlib.h>
#include <string.h>

#include "ext.h"

#define EXT_NAMES_SLOTS 512 /* power of two */
#define EXT_NAMES_PATH 120  /* longest path kept, bytes */

struct ext_names_slot {
	uint64_t gen; /* xv's names generation when stored; 0 empty */
	uint32_t ino;
	uint16_t len;
	char path[EXT_NAMES_PATH];
};

struct ext_names {
	uint64_t gen; /* >= 1; + 1 at every forget */
	uint64_t hits, misses;
	struct ext_names_slot slot[EXT_NAMES_SLOTS];
};

static uint64_t
path_hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

static struct ext_names_slot *
slot_of(struct ext_names *n, const char *path, size_t len)
{
	return &n->slot[path_hash(path, len) & (EXT_NAMES_SLOTS - 1)];
}

int
ext_names_new(struct ext_vol *xv)
{
	xv->names = calloc(1, sizeof(*xv->names));
	if (xv->names == NULL)
		return -1; /* runs without: slower, not wrong */
	xv->names->gen = 1;
	return 0;
}

void
ext_names_free(struct ext_vol *xv)
{
	free(xv->names);
	xv->names = NULL;
}

int
ext_names_get(struct ext_vol *xv, const char *path, uint32_t *ino)
{
	struct ext_names *n = xv->names;
	size_t len = strlen(path);
	struct ext_names_slot *s;

	if (n == NULL || len > EXT_NAMES_PATH)
		return 0;
	s = slot_of(n, path, len);
	if (s->gen != n->gen || s->len != len || memcmp(s->path, path, len) != 0) {
		n->misses++;
		return 0;
	}
	n->hits++;
	*ino = s->ino;
	return 1;
}

void
ext_names_put(struct ext_vol *xv, const char *path, uint32_t ino)
{
	struct ext_names *n = xv->names;
	size_t len = strlen(path);
	struct ext_names_slot *s;

	if (n == NULL || len > EXT_NAMES_PATH)
		return;
	s = slot_of(n, path, len);
	s->gen = n->gen;
	s->ino = ino;
	s->len = (uint16_t)len;
	memcpy(s->path, path, len);
}

void
ext_names_forget(struct ext_vol *xv)
{
	if (xv->names != NULL)
		xv->names->gen++;
}
