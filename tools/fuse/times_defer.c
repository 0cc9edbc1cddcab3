/*
 * times_defer.c - times of open files that a SETATTR set, kept back by
 * dvs-fuse until the file's release carries them to dvs-fs in the same
 * round trip (FS_CLOSE_TIMES, fsproto.h).  Exclusive mounts of POSIX
 * volumes whose server takes them (dvsfs_close_times).
 *
 * Why: with the writeback cache the kernel keeps a written file's mtime
 * itself and sends it (SETATTR) when the file is closed, just before the
 * release; tar sets each file's times (futimens) before closing it too.
 * Each was a round trip of its own, on the path of close(2): for a small
 * file one of five.
 *
 * What keeps it correct: only this mount changes the volume, and while
 * times are kept back every answer about the file shows them (GETATTR from
 * attr_cache.c, entries and server stats through times_defer_apply), so no
 * one sees the difference; a request that would make the server change
 * the file's times itself (write, truncate, fallocate) or needs them on
 * the volume (fsync) sends them first (dfuse_times_flush).  A SETATTR is
 * kept back only while a descriptor of the file is open, so a release is
 * still to come; the caller checks that after putting (a release racing
 * with the SETATTR either takes the times or leaves them to the caller).
 * Lost if dvs-fuse dies before the release, as the file's data in the
 * kernel's writeback cache would be.
 *
 * A fixed table indexed by inode number; a file whose slot holds another
 * file's times is not kept back (-EBUSY: the caller sends its SETATTR).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dfuse.h"

#define TIMES_DEFER_SLOTS 1024 /* power of two */

struct times_defer_slot {
	uint64_t ino; /* 0: empty */
	struct timespec ts[2]; /* atime, mtime; UTIME_OMIT: not set */
};

struct times_defer {
	pthread_mutex_t lock; /* protects slot[] */
	struct times_defer_slot slot[TIMES_DEFER_SLOTS];
};

static struct times_defer_slot *
slot_of(struct times_defer *t, uint64_t ino)
{
	return &t->slot[(ino * 0x9e3779b97f4a7c15ull) >> 54 & (TIMES_DEFER_SLOTS - 1)];
}

int
times_defer_new(struct times_defer **out)
{
	struct times_defer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void
times_defer_free(struct times_defer *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int
times_defer_put(struct times_defer *t, uint64_t ino, const struct timespec ts[2])
{
	struct times_defer_slot *s;
	int r = 0;

	if (t == NULL || ino == 0)
		return -EBUSY;
	s = slot_of(t, ino);
	pthread_mutex_lock(&t->lock);
	if (s->ino != 0 && s->ino != ino) {
		r = -EBUSY;
	} else {
		if (s->ino == 0) {
			s->ino = ino;
			s->ts[0].tv_nsec = s->ts[1].tv_nsec = UTIME_OMIT;
		}
		/* The later SETATTR wins, time by time. */
		for (int i = 0; i < 2; i++)
			if (ts[i].tv_nsec != UTIME_OMIT)
				s->ts[i] = ts[i];
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
times_defer_take(struct times_defer *t, uint64_t ino, struct timespec ts[2])
{
	struct times_defer_slot *s;
	int r = 0;

	if (t == NULL || ino == 0)
		return 0;
	s = slot_of(t, ino);
	pthread_mutex_lock(&t->lock);
	if (s->ino == ino) {
		ts[0] = s->ts[0];
		ts[1] = s->ts[1];
		s->ino = 0;
		r = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
times_defer_apply(struct times_defer *t, uint64_t ino, struct dvs_stat *st)
{
	struct times_defer_slot *s;
	int r = 0;

	if (t == NULL || ino == 0)
		return 0;
	s = slot_of(t, ino);
	pthread_mutex_lock(&t->lock);
	if (s->ino == ino) {
		if (s->ts[0].tv_nsec != UTIME_OMIT)
			st->st_atim = s->ts[0];
		if (s->ts[1].tv_nsec != UTIME_OMIT)
			st->st_mtim = s->ts[1];
		r = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
dfuse_times_flush(struct dfuse *d, fuse_ino_t ino)
{
	char path[FS_WIRE_PATH_MAX];
	struct timespec ts[2];
	int r;

	if (!times_defer_take(d->tdefer, ino, ts))
		return 0;
	r = ino_table_path(d->itab, ino, path, sizeof(path));
	if (r < 0) {
		/* Unlinked: no path to send them by; its release will. */
		(void)times_defer_put(d->tdefer, ino, ts);
		return 0;
	}
	return dvs_utimens(d->fs, path, ts);
}
