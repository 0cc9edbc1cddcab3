/*
 * seen.h - sets of files by (device, inode) for dvs-cp: what this copy
 * created (so it never replaces its own work when two source names differ
 * only in case, which FAT does not tell apart) and the directories being
 * copied (so -L stops at a symbolic link that leads back into them).
 */
#ifndef DVS_CP_SEEN_H
#define DVS_CP_SEEN_H

#include <stddef.h>
#include <stdint.h>

struct seen_ent {
	uint64_t dev, ino;
	char *from;	/* owned: the source that made it */
	int used;
};

struct seen {
	struct seen_ent *v;
	size_t cap, n;
};

/* Adds (dev, ino), remembering from (copied).  0 or -ENOMEM.  Adding an
 * entry that is there replaces its from. */
int seen_add(struct seen *s, uint64_t dev, uint64_t ino, const char *from);
/* The from of (dev, ino), borrowed until the set changes, or NULL. */
const char *seen_find(const struct seen *s, uint64_t dev, uint64_t ino);
/* Removes (dev, ino) if present. */
void seen_del(struct seen *s, uint64_t dev, uint64_t ino);
/* Frees the entries; the set is empty and usable again.  NULL is fine. */
void seen_free(struct seen *s);

#endif
