/*
 * attr_cache.c - attributes kept by dvs-fuse on an exclusive mount, one
 * table for regular files and one for directories (a table keeps one
 * type), so that GETATTR, and a SETATTR that would change nothing on the
 * volume, need no round trip to dvs-fs.
 *
 * Why, for files: the kernel asks for a file's attributes again although
 * it was given them a moment before: a chown (tar as root restores every
 * file's owner) makes it fetch the mode afresh to clear set-user-ID bits,
 * and it forgets them at every release of a written file.  Untarring
 * /usr/include through a `dvs mount` cost two GETATTRs of files per file.
 * For directories: the kernel forgets a directory's attributes whenever
 * a name in it changes, and with default_permissions it asks for them
 * again before the next lookup there: one round trip per file created or
 * removed.  On FAT a directory's attributes do not depend on its contents
 * (size 0, one cluster of blocks, times of its own entry, which the engine
 * sets only at mkdir and utimens); on ext they do: a create patches the
 * kept copy with what dvs-fs says the create did to the directory
 * (attr_cache_patch), every other change of a name in it drops the copy
 * (dfuse_dir_changed).
 *
 * What keeps a copy true: on an exclusive mount only this dvs-fuse changes
 * the volume, so attributes change only through a request that passes
 * here.  The handlers put what dvs-fs replied (create, lookup,
 * readdirplus, getattr, setattr) and mark a file stale after anything
 * else that changes it on the server (write, fallocate, a writer's
 * release, open for writing); unlink, link and rename clear the file table
 * (nlink, ctime, node ids that FAT's rename may change), a directory's
 * setattr, rename or rmdir drops it, forget drops the number.  A stale
 * copy is never an answer to GETATTR; it only gives a kept-back SETATTR of
 * the times (times_defer.c) the fields a write does not change (type,
 * mode, owner, links), with the kernel told that it expires at once.  A
 * file with more than one link (POSIX volumes) is not kept: another inode
 * number may name it.
 *
 * A fixed table indexed by inode number (a collision replaces the older
 * entry), one lock held only to copy an entry in or out.  Every drop
 * moves an epoch on, and attributes asked of the server are kept only if
 * nothing was dropped since the request began: a GETATTR racing with a
 * WRITE to the same file must not put back the size from before the
 * write.  A change whose result the server told (a write's size, blocks
 * and times; a create's in its directory) patches the copy instead of
 * voiding it, but only a fresh copy that nothing put, patched or dropped
 * since the change was sent: the server made the change on the state the
 * copy shows, so the patched copy is the file as the server has it.  In
 * any other case the copy goes stale, as after any other change.  A drop therefore comes after the change has reached the server.
 * Each slot notes the epoch of its own last drop, so only a drop of a
 * number of the same slot (or a clear) voids a put: tar's next file
 * overlaps the release of the file before, whose drop must not void the
 * new file's attributes.  A clear bumps a generation instead of touching
 * every slot, so unlink stays O(1).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dfuse.h"

#define ATTR_CACHE_SLOTS 8192 /* power of two; about 1 MiB a table */

struct attr_cache_slot {
	uint64_t ino;	  /* 0: empty */
	uint64_t gen;	  /* valid only while equal to attr_cache.gen */
	uint64_t changed; /* the epoch of the last drop of a number here */
	uint64_t stamp;	  /* the epoch at which st was last put or patched */
	int fresh;	  /* 0: st is what the file had before a change */
	struct dvs_stat st;
};

struct attr_cache {
	uint32_t type;	      /* S_IFREG or S_IFDIR: what this table keeps */
	pthread_mutex_t lock; /* protects slot[], epoch, gen and cleared */
	uint64_t epoch;	      /* + 1 at every drop and clear */
	uint64_t gen;	      /* + 1 at every clear */
	uint64_t cleared;     /* the epoch of the last clear */
	struct attr_cache_slot slot[ATTR_CACHE_SLOTS];
};

static struct attr_cache_slot *
slot_of(struct attr_cache *c, uint64_t ino)
{
	return &c->slot[(ino * 0x9e3779b97f4a7c15ull) >> 51 & (ATTR_CACHE_SLOTS - 1)];
}

/* Under c->lock. */
static int
holds(const struct attr_cache *c, const struct attr_cache_slot *s, uint64_t ino)
{
	return s->ino == ino && s->gen == c->gen;
}

int
attr_cache_new(uint32_t type, struct attr_cache **out)
{
	struct attr_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->type = type;
	pthread_mutex_init(&c->lock, NULL);
	c->gen = 1; /* calloc's slots (gen 0) hold nothing */
	*out = c;
	return 0;
}

void
attr_cache_free(struct attr_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t
attr_cache_epoch(struct attr_cache *c)
{
	uint64_t e;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	e = c->epoch;
	pthread_mutex_unlock(&c->lock);
	return e;
}

void
attr_cache_put(struct attr_cache *c, uint64_t ino, const struct dvs_stat *st, uint64_t since,
	      int posix)
{
	struct attr_cache_slot *s;

	if (c == NULL || ino == 0)
		return;
	s = slot_of(c, ino);
	pthread_mutex_lock(&c->lock);
	if (s->changed <= since && c->cleared <= since &&
	    (st->st_mode & S_IFMT) == c->type &&
	    !(c->type == S_IFREG && posix && st->st_nlink > 1)) {
		s->ino = ino;
		s->gen = c->gen;
		s->fresh = 1;
		s->st = *st;
		s->stamp = ++c->epoch;
	} else if (s->ino == ino) {
		/* Something changed while the server was asked, or the
		 * number names what is not kept: no older copy either. */
		s->ino = 0;
	}
	pthread_mutex_unlock(&c->lock);
}

int
attr_cache_get(struct attr_cache *c, uint64_t ino, struct dvs_stat *st)
{
	struct dvs_stat kept;
	int fresh;

	if (attr_cache_get_last(c, ino, &kept, &fresh) < 0 || !fresh)
		return -ENOENT;
	*st = kept;
	return 0;
}

int
attr_cache_get_last(struct attr_cache *c, uint64_t ino, struct dvs_stat *st, int *fresh)
{
	struct attr_cache_slot *s;
	int r = -ENOENT;

	if (c == NULL || ino == 0)
		return -ENOENT;
	s = slot_of(c, ino);
	pthread_mutex_lock(&c->lock);
	if (holds(c, s, ino)) {
		*st = s->st;
		*fresh = s->fresh;
		r = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* A change of ino on the server: its copy goes stale (drop 0) or goes
 * (drop 1), and puts of its slot begun before now are void. */
static void
changed(struct attr_cache *c, uint64_t ino, int drop)
{
	struct attr_cache_slot *s;

	if (c == NULL)
		return;
	s = slot_of(c, ino);
	pthread_mutex_lock(&c->lock);
	if (s->ino == ino && drop)
		s->ino = 0;
	else if (s->ino == ino)
		s->fresh = 0;
	s->changed = ++c->epoch;
	pthread_mutex_unlock(&c->lock);
}

void
attr_cache_stale(struct attr_cache *c, uint64_t ino)
{
	changed(c, ino, 0);
}

void
attr_cache_drop(struct attr_cache *c, uint64_t ino)
{
	changed(c, ino, 1);
}

int
attr_cache_patch(struct attr_cache *c, uint64_t ino, uint64_t since, const struct attr_patch *p)
{
	struct attr_cache_slot *s;
	int r = 0;

	if (c == NULL || ino == 0)
		return 0;
	s = slot_of(c, ino);
	pthread_mutex_lock(&c->lock);
	/* Only a copy that nothing touched since the change was asked for:
	 * the change then came right after what the copy shows. */
	if (holds(c, s, ino) && s->fresh && s->changed <= since && s->stamp <= since &&
	    c->cleared <= since && s->st.st_ino == p->server_ino) {
		s->st.st_size = p->size;
		s->st.st_blocks = p->blocks;
		s->st.st_mtim = p->mtime;
		s->st.st_ctim = p->ctime;
		r = 1;
	} else if (s->ino == ino) {
		s->fresh = 0; /* as attr_cache_stale */
	}
	s->changed = ++c->epoch;
	if (r)
		s->stamp = s->changed;
	pthread_mutex_unlock(&c->lock);
	return r;
}

void
attr_cache_clear(struct attr_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->gen++;
	c->cleared = ++c->epoch;
	pthread_mutex_unlock(&c->lock);
}
