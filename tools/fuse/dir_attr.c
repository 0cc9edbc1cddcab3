/*
 * dir_attr.c - the attributes of directories, kept by dvs-fuse on an
 * exclusive mount so that GETATTR of a directory needs no round trip.
 *
 * Why: the kernel forgets a directory's attributes whenever a name in it
 * changes (create, unlink, rename), and with default_permissions it asks
 * for them again (GETATTR) before the next lookup in that directory: one
 * round trip to dvs-fs per file created or removed.  On FAT a directory's
 * attributes do not depend on its contents (size 0, one cluster of blocks,
 * times of its own entry, which the engine sets only at mkdir and
 * utimens), so what dvs-fuse last got from the server stays true until the
 * directory itself is changed: setattr (chmod, utimens), rename or rmdir,
 * all of which go through this mount, which drops the copy.  Only an
 * exclusive mount keeps the cache (no other client changes the volume).
 *
 * A fixed table indexed by inode number (a collision replaces the older
 * entry), one lock held only to copy an entry in or out.  Every drop moves
 * an epoch on, and attributes asked of the server are kept only if no drop
 * happened since the request began: a GETATTR racing with a chmod of the
 * same directory must not put back what the chmod changed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dfuse.h"

#define DIR_ATTR_SLOTS 4096 /* power of two */

struct dir_attr_slot {
	uint64_t ino; /* 0: empty */
	struct dvs_stat st;
};

struct dir_attr {
	pthread_mutex_t lock; /* protects slot[] and epoch */
	uint64_t epoch;	      /* + 1 at every drop and clear */
	struct dir_attr_slot slot[DIR_ATTR_SLOTS];
};

static struct dir_attr_slot *
slot_of(struct dir_attr *c, uint64_t ino)
{
	return &c->slot[(ino * 0x9e3779b97f4a7c15ull) >> 52 & (DIR_ATTR_SLOTS - 1)];
}

int
dir_attr_new(struct dir_attr **out)
{
	struct dir_attr *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void
dir_attr_free(struct dir_attr *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t
dir_attr_epoch(struct dir_attr *c)
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
dir_attr_put(struct dir_attr *c, uint64_t ino, const struct dvs_stat *st, uint64_t since)
{
	struct dir_attr_slot *s;

	if (c == NULL || ino == 0)
		return;
	s = slot_of(c, ino);
	pthread_mutex_lock(&c->lock);
	if (c->epoch != since) {
		/* Something changed while the server was asked: the stat may
		 * predate it.  Keep nothing (and no older copy either). */
		if (s->ino == ino)
			s->ino = 0;
	} else if (S_ISDIR(st->st_mode)) {
		s->ino = ino;
		s->st = *st;
	} else if (s->ino == ino) {
		/* The number now names a file (a node id reused). */
		s->ino = 0;
	}
	pthread_mutex_unlock(&c->lock);
}

int
dir_attr_get(struct dir_attr *c, uint64_t ino, struct dvs_stat *st)
{
	struct dir_attr_slot *s;
	int r = -ENOENT;

	if (c == NULL || ino == 0)
		return -ENOENT;
	s = slot_of(c, ino);
	pthread_mutex_lock(&c->lock);
	if (s->ino == ino) {
		*st = s->st;
		r = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

void
dir_attr_drop(struct dir_attr *c, uint64_t ino)
{
	struct dir_attr_slot *s;

	if (c == NULL)
		return;
	s = slot_of(c, ino);
	pthread_mutex_lock(&c->lock);
	if (s->ino == ino)
		s->ino = 0;
	c->epoch++;
	pthread_mutex_unlock(&c->lock);
}

void
dir_attr_clear(struct dir_attr *c)
{
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < DIR_ATTR_SLOTS; i++)
		c->slot[i].ino = 0;
	c->epoch++;
	pthread_mutex_unlock(&c->lock);
}
