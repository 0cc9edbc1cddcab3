/*
 * smallio_work.c - the workloads of `dvs-bench smallio` (see smallio.h).
 * They are plain system calls, identical for every contender, timed here
 * in the process so no program start-up counts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "smallio.h"

#define SMALL 4096

static double
per_s(unsigned n, uint64_t t0)
{
	double s = (double)(dvs_now_ns() - t0) / 1e9;

	return s > 0 ? (double)n / s : NAN;
}

static void
fail(const char *what, const char *path)
{
	fprintf(stderr, "dvs-bench: smallio: %s %s: %s\n", what, path, strerror(errno));
}

static void
file_path(char *buf, size_t len, const char *dir, unsigned i, unsigned ndirs)
{
	snprintf(buf, len, "%s/d%02u/f%05u", dir, i % ndirs, i);
}

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY), r;

	if (fd < 0)
		return -1;
	r = syncfs(fd);
	close(fd);
	return r;
}

double
sio_create(const char *dir, unsigned nfiles, unsigned ndirs)
{
	char path[4096], data[SMALL];
	uint64_t t0;
	unsigned i;
	int fd;

	memset(data, 'x', sizeof(data));
	t0 = dvs_now_ns();
	for (i = 0; i < ndirs; i++) {
		snprintf(path, sizeof(path), "%s/d%02u", dir, i);
		if (mkdir(path, 0755) != 0) {
			fail("cannot make", path);
			return NAN;
		}
	}
	for (i = 0; i < nfiles; i++) {
		file_path(path, sizeof(path), dir, i, ndirs);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			fail("cannot create", path);
			return NAN;
		}
		if (write(fd, data, sizeof(data)) != (ssize_t)sizeof(data)) {
			fail("cannot write", path);
			close(fd);
			return NAN;
		}
		if (close(fd) != 0) {
			fail("cannot close", path);
			return NAN;
		}
	}
	if (sync_dir(dir) != 0) {
		fail("cannot sync", dir);
		return NAN;
	}
	return per_s(nfiles, t0);
}

/* Calls fn for every regular file of DIR/dNN, in readdir order. */
static int
walk(const char *dir, unsigned ndirs, int (*fn)(int dfd, const char *name, void *arg),
     void *arg, unsigned *count)
{
	char path[4096];
	struct dirent *de;
	unsigned i, n = 0;
	DIR *d;

	for (i = 0; i < ndirs; i++) {
		snprintf(path, sizeof(path), "%s/d%02u", dir, i);
		d = opendir(path);
		if (d == NULL) {
			fail("cannot list", path);
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (fn(dirfd(d), de->d_name, arg) != 0) {
				fail("failed on", de->d_name);
				closedir(d);
				return -1;
			}
			n++;
		}
		closedir(d);
	}
	*count = n;
	return 0;
}

static int
stat_one(int dfd, const char *name, void *arg)
{
	struct stat st;

	(void)arg;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	return st.st_size == SMALL ? 0 : (errno = EIO, -1);
}

double
sio_stat_walk(const char *dir, unsigned ndirs, unsigned *count)
{
	uint64_t t0 = dvs_now_ns();

	if (walk(dir, ndirs, stat_one, NULL, count) != 0)
		return NAN;
	return per_s(*count, t0);
}

double
sio_stat_named(const char *dir, unsigned nfiles, unsigned ndirs)
{
	char path[4096];
	struct stat st;
	uint64_t t0 = dvs_now_ns();
	unsigned i;

	for (i = 0; i < nfiles; i++) {
		file_path(path, sizeof(path), dir, i, ndirs);
		if (stat(path, &st) != 0 || st.st_size != SMALL) {
			fail("cannot stat", path);
			return NAN;
		}
	}
	return per_s(nfiles, t0);
}

static int
read_one(int dfd, const char *name, void *arg)
{
	char buf[2 * SMALL];
	ssize_t n;
	int fd;

	(void)arg;
	fd = openat(dfd, name, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != SMALL || buf[0] != 'x' || buf[SMALL - 1] != 'x') {
		errno = EIO;
		return -1;
	}
	return 0;
}

double
sio_read_walk(const char *dir, unsigned ndirs)
{
	uint64_t t0 = dvs_now_ns();
	unsigned n;

	if (walk(dir, ndirs, read_one, NULL, &n) != 0)
		return NAN;
	return per_s(n, t0);
}

int
sio_make_big(const char *path, unsigned mib)
{
	size_t blk = 1u << 20, i;
	char *buf = malloc(blk);
	unsigned m;
	int fd, r = -1;

	if (buf == NULL)
		return -1;
	for (i = 0; i < blk; i++)
		buf[i] = (char)(i * 131 + 7);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fail("cannot create", path);
		goto out;
	}
	for (m = 0; m < mib; m++) {
		buf[0] = (char)m;
		if (write(fd, buf, blk) != (ssize_t)blk) {
			fail("cannot write", path);
			goto out;
		}
	}
	if (fsync(fd) != 0) {
		fail("cannot fsync", path);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

struct rr_thread {
	pthread_t tid;
	int fd;
	uint64_t blocks, deadline, seed, done;
	int err;
};

static void *
rr_run(void *arg)
{
	struct rr_thread *t = arg;
	char buf[SMALL] __attribute__((aligned(64)));
	uint64_t x = t->seed | 1;

	while (dvs_now_ns() < t->deadline) {
		for (int k = 0; k < 64; k++) {
			/* xorshift64: cheap and good enough to spread reads */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (pread(t->fd, buf, SMALL, (off_t)((x % t->blocks) * SMALL)) !=
			    SMALL) {
				t->err = errno ? errno : EIO;
				return NULL;
			}
			t->done++;
		}
	}
	return NULL;
}

double
sio_randread(const char *path, unsigned nthreads, double secs)
{
	struct rr_thread t[16];
	struct stat st;
	uint64_t t0, total = 0;
	unsigned i, started = 0;
	int fd, err = 0;

	if (nthreads == 0 || nthreads > 16)
		return NAN;
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < SMALL) {
		fail("cannot open", path);
		if (fd >= 0)
			close(fd);
		return NAN;
	}
	t0 = dvs_now_ns();
	for (i = 0; i < nthreads; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].fd = fd;
		t[i].blocks = (uint64_t)st.st_size / SMALL;
		t[i].deadline = t0 + (uint64_t)(secs * 1e9);
		t[i].seed = 0x9e3779b97f4a7c15ull * (i + 1) ^ t0;
		if (pthread_create(&t[i].tid, NULL, rr_run, &t[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i].tid, NULL);
		total += t[i].done;
		if (t[i].err)
			err = t[i].err;
	}
	close(fd);
	if (err || started < nthreads) {
		errno = err ? err : EAGAIN;
		fail("random reads failed on", path);
		return NAN;
	}
	return (double)total / ((double)(dvs_now_ns() - t0) / 1e9);
}

/* --- the built-in PostMark ------------------------------------------------ */

struct pm {
	const char *dir;
	char *alive; /* slot i holds a file */
	unsigned slots, nalive, next;
	uint64_t x;
	char buf[10000];
};

static unsigned
pm_rand(struct pm *p, unsigned n)
{
	p->x ^= p->x << 13;
	p->x ^= p->x >> 7;
	p->x ^= p->x << 17;
	return (unsigned)(p->x % n);
}

static void
pm_path(const struct pm *p, unsigned slot, char *buf, size_t len)
{
	snprintf(buf, len, "%s/s%u/pm%06u", p->dir, slot % 10, slot);
}

static int
pm_create(struct pm *p)
{
	char path[4096];
	unsigned slot = p->next++, size;
	int fd;

	if (slot >= p->slots)
		return 0; /* out of slots: postmark would reuse; skip */
	pm_path(p, slot, path, sizeof(path));
	size = 500 + pm_rand(p, 9500);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, p->buf, size) != (ssize_t)size) {
		fail("cannot create", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	p->alive[slot] = 1;
	p->nalive++;
	return 0;
}

/* A random live file, or -1 when there is none. */
static int
pm_pick(struct pm *p)
{
	unsigned i, s;

	if (p->nalive == 0)
		return -1;
	for (i = 0; i < 64; i++) {
		s = pm_rand(p, p->next);
		if (p->alive[s])
			return (int)s;
	}
	for (s = 0; s < p->next; s++)
		if (p->alive[s])
			return (int)s;
	return -1;
}

static int
pm_delete(struct pm *p, unsigned slot)
{
	char path[4096];

	pm_path(p, slot, path, sizeof(path));
	if (unlink(path) != 0) {
		fail("cannot delete", path);
		return -1;
	}
	p->alive[slot] = 0;
	p->nalive--;
	return 0;
}

static int
pm_read_or_append(struct pm *p)
{
	char path[4096];
	int s = pm_pick(p), fd;
	ssize_t n;

	if (s < 0)
		return 0;
	pm_path(p, (unsigned)s, path, sizeof(path));
	if (pm_rand(p, 2)) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			goto bad;
		while ((n = read(fd, p->buf, sizeof(p->buf))) > 0)
			;
	} else {
		unsigned len = 500 + pm_rand(p, 9500);

		fd = open(path, O_WRONLY | O_APPEND);
		if (fd < 0)
			goto bad;
		n = write(fd, p->buf, len) == (ssize_t)len ? 0 : -1;
	}
	close(fd);
	if (n < 0)
		goto bad;
	return 0;
bad:
	fail("cannot read or append", path);
	return -1;
}

double
sio_postmark(const char *dir, unsigned nfiles, unsigned ntx, unsigned seed)
{
	struct pm *p = calloc(1, sizeof(*p));
	char path[4096];
	double tps = NAN;
	uint64_t t0;
	unsigned i;
	int s;

	if (p == NULL)
		return NAN;
	p->dir = dir;
	p->slots = nfiles + ntx;
	p->x = 0x2545f4914f6cdd1dull ^ seed;
	p->alive = calloc(p->slots, 1);
	if (p->alive == NULL)
		goto out;
	memset(p->buf, 'p', sizeof(p->buf));
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/s%u", dir, i);
		if (mkdir(path, 0755) != 0) {
			fail("cannot make", path);
			goto out;
		}
	}
	for (i = 0; i < nfiles; i++)
		if (pm_create(p) != 0)
			goto out;
	t0 = dvs_now_ns();
	for (i = 0; i < ntx; i++) {
		if (pm_read_or_append(p) != 0)
			goto out;
		if (pm_rand(p, 2)) {
			if (pm_create(p) != 0)
				goto out;
		} else if ((s = pm_pick(p)) >= 0 && pm_delete(p, (unsigned)s) != 0) {
			goto out;
		}
	}
	tps = per_s(ntx, t0);
	for (i = 0; i < p->next; i++)
		if (p->alive[i] && pm_delete(p, i) != 0)
			tps = NAN;
out:
	free(p->alive);
	free(p);
	return tps;
}
