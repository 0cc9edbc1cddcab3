/*
 * dir_names.c - every name of the directories made through an exclusive
 * mount, so that looking up a name that is not there needs no round trip.
 *
 * Why: before creating a file the kernel always looks its name up
 * (LOOKUP, answered "no such name"): one round trip to dvs-fs per file
 * created, in tar -x, cp -r, a build.  A directory made through this mount
 * starts empty, and on an exclusive mount every later change of its names
 * comes through here too, so dvs-fuse knows all of them and can say "not
 * there" itself.
 *
 * What keeps it true:
 *   - only directories made by mkdir through this mount are tracked;
 *   - names compare as FAT compares them: ASCII letters without case.  A
 *     name FAT could treat as another name (non-ASCII letters, a trailing
 *     dot or space, a '~' that may be a short-name alias such as
 *     LONGNA~1.TXT) is never answered here, and adding such a name stops
 *     tracking its directory;
 *   - create, mknod, mkdir and unlink update the set after the server
 *     said yes; rmdir and rename forget everything (a moved directory may
 *     change its node id and with it the number it is looked up by);
 *   - past DIR_NAMES_MAX names everything is forgotten (memory bound).
 *
 * One lock, held only inside these calls.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dfuse.h"

#define DIR_NAMES_BUCKETS 65536 /* power of two */
#define DIR_NAMES_MAX	  262144

struct dn_ent {
	struct dn_ent *next;
	uint64_t dir;
	uint32_t hash;
	char name[]; /* folded to lower case */
};

struct dir_names {
	pthread_mutex_t lock; /* protects everything below */
	struct dn_ent **names; /* (dir, name) of tracked directories */
	struct dn_ent **dirs;  /* tracked directories (name "") */
	size_t count;
};

/* 1 if name is made of what FAT compares plainly (see above). */
static int
plain_name(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || name[n - 1] == '.' || name[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x80 || c == '~')
			return 0;
	}
	return 1;
}

static uint32_t
hash_of(uint64_t dir, const char *folded)
{
	uint64_t h = 1469598103934665603ull ^ dir;

	for (; *folded; folded++)
		h = (h ^ (unsigned char)*folded) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32));
}

static void
fold(char *dst, const char *src)
{
	for (; *src; src++, dst++)
		*dst = (*src >= 'A' && *src <= 'Z') ? (char)(*src - 'A' + 'a') : *src;
	*dst = '\0';
}

static struct dn_ent **
find(struct dn_ent **tab, uint64_t dir, const char *folded, uint32_t h)
{
	struct dn_ent **p = &tab[h & (DIR_NAMES_BUCKETS - 1)];

	for (; *p != NULL; p = &(*p)->next)
		if ((*p)->hash == h && (*p)->dir == dir && strcmp((*p)->name, folded) == 0)
			return p;
	return p;
}

static void
free_all(struct dir_names *c)
{
	struct dn_ent *e, *next;
	size_t i;

	for (i = 0; i < DIR_NAMES_BUCKETS; i++) {
		for (e = c->names[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		for (e = c->dirs[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		c->names[i] = c->dirs[i] = NULL;
	}
	c->count = 0;
}

/* Adds (dir, folded) to tab unless there; 0 or -ENOMEM. */
static int
insert(struct dir_names *c, struct dn_ent **tab, uint64_t dir, const char *folded)
{
	uint32_t h = hash_of(dir, folded);
	struct dn_ent **p = find(tab, dir, folded, h), *e;
	size_t len = strlen(folded);

	if (*p != NULL)
		return 0;
	e = malloc(sizeof(*e) + len + 1);
	if (e == NULL)
		return -ENOMEM;
	e->next = NULL;
	e->dir = dir;
	e->hash = h;
	memcpy(e->name, folded, len + 1);
	*p = e;
	c->count++;
	return 0;
}

static void
erase(struct dir_names *c, struct dn_ent **tab, uint64_t dir, const char *folded)
{
	uint32_t h = hash_of(dir, folded);
	struct dn_ent **p = find(tab, dir, folded, h), *e = *p;

	if (e == NULL)
		return;
	*p = e->next;
	free(e);
	c->count--;
}

static int
tracked(struct dir_names *c, uint64_t dir)
{
	return *find(c->dirs, dir, "", hash_of(dir, "")) != NULL;
}

int
dir_names_new(struct dir_names **out)
{
	struct dir_names *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->names = calloc(DIR_NAMES_BUCKETS, sizeof(*c->names));
	c->dirs = calloc(DIR_NAMES_BUCKETS, sizeof(*c->dirs));
	if (c->names == NULL || c->dirs == NULL) {
		free(c->names);
		free(c->dirs);
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void
dir_names_free(struct dir_names *c)
{
	if (c == NULL)
		return;
	free_all(c);
	free(c->names);
	free(c->dirs);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void
dir_names_track(struct dir_names *c, uint64_t dir)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->count >= DIR_NAMES_MAX)
		free_all(c);
	(void)insert(c, c->dirs, dir, "");
	pthread_mutex_unlock(&c->lock);
}

void
dir_names_add(struct dir_names *c, uint64_t dir, const char *name)
{
	char folded[FS_NAME_MAX + 1];

	if (c == NULL || strlen(name) > FS_NAME_MAX)
		return;
	pthread_mutex_lock(&c->lock);
	if (tracked(c, dir)) {
		fold(folded, name);
		/* A name we cannot compare as FAT does, or no memory: this
		 * directory's names are no longer all known. */
		if (!plain_name(name) || c->count >= DIR_NAMES_MAX ||
		    insert(c, c->names, dir, folded) < 0)
			erase(c, c->dirs, dir, "");
	}
	pthread_mutex_unlock(&c->lock);
}

void
dir_names_remove(struct dir_names *c, uint64_t dir, const char *name)
{
	char folded[FS_NAME_MAX + 1];

	if (c == NULL || strlen(name) > FS_NAME_MAX)
		return;
	fold(folded, name);
	pthread_mutex_lock(&c->lock);
	erase(c, c->names, dir, folded);
	pthread_mutex_unlock(&c->lock);
}

int
dir_names_absent(struct dir_names *c, uint64_t dir, const char *name)
{
	char folded[FS_NAME_MAX + 1];
	int r = 0;

	if (c == NULL || strlen(name) > FS_NAME_MAX || !plain_name(name))
		return 0;
	fold(folded, name);
	pthread_mutex_lock(&c->lock);
	if (tracked(c, dir))
		r = *find(c->names, dir, folded, hash_of(dir, folded)) == NULL;
	pthread_mutex_unlock(&c->lock);
	return r;
}

void
dir_names_clear(struct dir_names *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	free_all(c);
	pthread_mutex_unlock(&c->lock);
}
