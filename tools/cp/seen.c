/* seen.c - an open-addressing hash set of (device, inode); see seen.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seen.h"

static size_t
slot_of(const struct seen *s, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino ^ (dev * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;

	return (size_t)(h >> 17) & (s->cap - 1);
}

static struct seen_ent *
lookup(const struct seen *s, uint64_t dev, uint64_t ino)
{
	size_t i;

	if (s->cap == 0)
		return NULL;
	for (i = slot_of(s, dev, ino);; i = (i + 1) & (s->cap - 1)) {
		struct seen_ent *e = &s->v[i];

		if (!e->used)
			return e;
		if (e->dev == dev && e->ino == ino)
			return e;
	}
}

static int
grow(struct seen *s)
{
	struct seen old = *s;
	size_t i;

	s->cap = old.cap ? old.cap * 2 : 64;
	s->v = calloc(s->cap, sizeof(*s->v));
	if (s->v == NULL) {
		*s = old;
		return -ENOMEM;
	}
	s->n = 0;
	for (i = 0; i < old.cap; i++) {
		if (old.v[i].used) {
			*lookup(s, old.v[i].dev, old.v[i].ino) = old.v[i];
			s->n++;
		}
	}
	free(old.v);
	return 0;
}

int
seen_add(struct seen *s, uint64_t dev, uint64_t ino, const char *from)
{
	struct seen_ent *e;
	char *copy;

	/* At most half full, so a probe always meets a free slot soon. */
	if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
		return -ENOMEM;
	copy = strdup(from != NULL ? from : "");
	if (copy == NULL)
		return -ENOMEM;
	e = lookup(s, dev, ino);
	if (e->used) {
		free(e->from);
	} else {
		e->used = 1;
		e->dev = dev;
		e->ino = ino;
		s->n++;
	}
	e->from = copy;
	return 0;
}

const char *
seen_find(const struct seen *s, uint64_t dev, uint64_t ino)
{
	const struct seen_ent *e = lookup(s, dev, ino);

	return e != NULL && e->used ? e->from : NULL;
}

void
seen_del(struct seen *s, uint64_t dev, uint64_t ino)
{
	struct seen_ent *e = lookup(s, dev, ino);
	size_t i, j;

	if (e == NULL || !e->used)
		return;
	free(e->from);
	memset(e, 0, sizeof(*e));
	s->n--;
	/* Re-place the entries of the probe run after the hole. */
	i = (size_t)(e - s->v);
	for (j = (i + 1) & (s->cap - 1); s->v[j].used; j = (j + 1) & (s->cap - 1)) {
		struct seen_ent moved = s->v[j];

		memset(&s->v[j], 0, sizeof(s->v[j]));
		*lookup(s, moved.dev, moved.ino) = moved;
	}
}

void
seen_free(struct seen *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->cap; i++)
		free(s->v[i].from);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
