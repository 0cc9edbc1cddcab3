/* test_model.c - seeded random sequences of operations against an
 * in-memory reference model; contents checked after every step, the tree
 * compared now and then, remounts in between, fsck.fat -n at the end.
 * A failure prints the seed and step: DVS_FAT_SEED=<seed> replays it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fat_test_util.h"

#define MAXN 96

struct mfile {
	int used, is_dir, parent;	/* parent: index of a dir, -1 root */
	char name[64];
	uint8_t *data;
	size_t len;
};

static struct mfile mod[MAXN];
static char *tmpdir;
static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void
path_of(int i, char *out, size_t n)
{
	if (i < 0) {
		out[0] = 0;
		return;
	}
	char tmp[1024];
	path_of(mod[i].parent, tmp, sizeof tmp);
	snprintf(out, n, "%s/%s", tmp, mod[i].name);
}

static int
free_slot(void)
{
	for (int i = 0; i < MAXN; i++)
		if (!mod[i].used)
			return i;
	return -1;
}

static int
rand_dir(void)
{
	int c[MAXN + 1], n = 0;
	c[n++] = -1;
	for (int i = 0; i < MAXN; i++)
		if (mod[i].used && mod[i].is_dir)
			c[n++] = i;
	return c[rnd((uint32_t)n)];
}

static int
rand_used(int want_dir)
{
	int c[MAXN], n = 0;
	for (int i = 0; i < MAXN; i++)
		if (mod[i].used && mod[i].is_dir == want_dir)
			c[n++] = i;
	return n ? c[rnd((uint32_t)n)] : -1;
}

static void
make_name(char *out, size_t n, int k)
{
	switch (k % 5) {
	case 0: snprintf(out, n, "f%d.txt", k); break;
	case 1: snprintf(out, n, "File number %d with a long name.data", k); break;
	case 2: snprintf(out, n, "Ünïcödé %d ☺", k); break;
	case 3: snprintf(out, n, "MIXED%dCase.Bin", k); break;
	default: snprintf(out, n, "%d", k); break;
	}
}

static void
check_content(struct fat_vol *vol, int i, uint64_t seed, int step)
{
	char p[1024];
	struct fat_file *f;
	uint8_t *buf = malloc(mod[i].len + 10);

	path_of(i, p, sizeof p);
	int err = fat_open(vol, p, O_RDONLY, &f);
	if (err)
		fail_msg("seed %llu step %d: open %s: %d", (unsigned long long)seed, step, p, err);
	ssize_t r = fat_pread(f, buf, mod[i].len + 10, 0);
	if (r != (ssize_t)mod[i].len || memcmp(buf, mod[i].data, mod[i].len))
		fail_msg("seed %llu step %d: %s reads %zd bytes, want %zu (or differs)",
			 (unsigned long long)seed, step, p, r, mod[i].len);
	fat_close(f);
	free(buf);
}

struct count {
	int n;
};

static int
count_cb(void *arg, const struct fat_dirent *e)
{
	(void)e;
	((struct count *)arg)->n++;
	return 0;
}

static void
check_tree(struct fat_vol *vol, uint64_t seed, int step)
{
	for (int d = -1; d < MAXN; d++) {
		if (d >= 0 && (!mod[d].used || !mod[d].is_dir))
			continue;
		char p[1024];
		struct count c = {0};
		int want = 0;
		path_of(d, p, sizeof p);
		if (d < 0)
			strcpy(p, "/");
		assert_int_equal(fat_readdir(vol, p, count_cb, &c), 0);
		for (int i = 0; i < MAXN; i++)
			if (mod[i].used && mod[i].parent == d)
				want++;
		if (c.n != want)
			fail_msg("seed %llu step %d: %s lists %d entries, want %d",
				 (unsigned long long)seed, step, p, c.n, want);
	}
	for (int i = 0; i < MAXN; i++)
		if (mod[i].used && !mod[i].is_dir)
			check_content(vol, i, seed, step);
}

static int
is_ancestor(int a, int d)
{
	for (; d >= 0; d = mod[d].parent)
		if (d == a)
			return 1;
	return 0;
}

/* A fresh name for model slot i in a random directory; its path in p. */
static void
new_path(int i, int *next_name, char *p, size_t n)
{
	int d = rand_dir();

	make_name(mod[i].name, sizeof mod[i].name, (*next_name)++);
	mod[i].parent = d;
	path_of(i, p, n);
}

/* len random bytes (and one spare, so len 0 still allocates). */
static uint8_t *
rand_bytes(size_t len)
{
	uint8_t *b = malloc(len + 1);

	for (size_t k = 0; k < len; k++)
		b[k] = (uint8_t)rnd(256);
	return b;
}

static void
run(uint64_t seed, int type, size_t size, int steps)
{
	struct memdev *m = memdev_new(size, 512);
	struct fat_format_opts fo = {.fat_type = type};
	struct fat_vol *vol;
	char p[1024], q[1100];
	int next_name = 0;

	memset(mod, 0, sizeof mod);
	rng = seed * 2654435761u + 1;
	/* odd seeds run with a tiny cache bound, so directories are dropped
	 * and reloaded all the time */
	struct fat_mount_opts mo = {.cache_bytes = (seed & 1) ? 4096 : 0};
	assert_int_equal(fat_format(&m->dev, &fo), 0);
	assert_int_equal(fat_mount(&m->dev, &mo, &vol), 0);
	for (int step = 0; step < steps; step++) {
		int op = (int)rnd(100), i, d, err;
		struct fat_file *f;
		if (op < 25) {	/* create + write */
			i = free_slot();
			if (i < 0)
				continue;
			new_path(i, &next_name, p, sizeof p);
			assert_int_equal(fat_open(vol, p, O_RDWR | O_CREAT | O_EXCL, &f), 0);
			size_t len = rnd(4) == 0 ? rnd(200000) : rnd(3000);
			mod[i].data = rand_bytes(len);
			mod[i].len = len;
			mod[i].used = 1;
			mod[i].is_dir = 0;
			if (len)
				assert_int_equal(fat_pwrite(f, mod[i].data, len, 0), (ssize_t)len);
			fat_close(f);
			check_content(vol, i, seed, step);
		} else if (op < 45) {	/* overwrite / extend at an offset */
			i = rand_used(0);
			if (i < 0)
				continue;
			path_of(i, p, sizeof p);
			size_t off = rnd((uint32_t)mod[i].len + 5000), len = rnd(20000) + 1;
			uint8_t *buf = rand_bytes(len);
			assert_int_equal(fat_open(vol, p, O_RDWR, &f), 0);
			assert_int_equal(fat_pwrite(f, buf, len, off), (ssize_t)len);
			fat_close(f);
			if (off + len > mod[i].len) {
				mod[i].data = realloc(mod[i].data, off + len);
				if (off > mod[i].len)
					memset(mod[i].data + mod[i].len, 0, off - mod[i].len);
				mod[i].len = off + len;
			}
			memcpy(mod[i].data + off, buf, len);
			free(buf);
			check_content(vol, i, seed, step);
		} else if (op < 55) {	/* truncate */
			i = rand_used(0);
			if (i < 0)
				continue;
			path_of(i, p, sizeof p);
			size_t nl = rnd((uint32_t)mod[i].len * 2 + 100);
			assert_int_equal(fat_open(vol, p, O_RDWR, &f), 0);
			assert_int_equal(fat_ftruncate(f, nl), 0);
			fat_close(f);
			mod[i].data = realloc(mod[i].data, nl + 1);
			if (nl > mod[i].len)
				memset(mod[i].data + mod[i].len, 0, nl - mod[i].len);
			mod[i].len = nl;
			check_content(vol, i, seed, step);
		} else if (op < 65) {	/* unlink */
			i = rand_used(0);
			if (i < 0)
				continue;
			path_of(i, p, sizeof p);
			assert_int_equal(fat_unlink(vol, p), 0);
			free(mod[i].data);
			memset(&mod[i], 0, sizeof mod[i]);
			assert_int_equal(fat_open(vol, p, O_RDONLY, &f), -ENOENT);
		} else if (op < 73) {	/* mkdir */
			i = free_slot();
			if (i < 0)
				continue;
			new_path(i, &next_name, p, sizeof p);
			if (strlen(p) > 900)
				continue;
			assert_int_equal(fat_mkdir(vol, p), 0);
			mod[i].used = 1;
			mod[i].is_dir = 1;
		} else if (op < 78) {	/* rmdir */
			i = rand_used(1);
			if (i < 0)
				continue;
			int empty = 1;
			for (int k = 0; k < MAXN; k++)
				if (mod[k].used && mod[k].parent == i)
					empty = 0;
			path_of(i, p, sizeof p);
			err = fat_rmdir(vol, p);
			assert_int_equal(err, empty ? 0 : -ENOTEMPTY);
			if (empty)
				memset(&mod[i], 0, sizeof mod[i]);
		} else if (op < 90) {	/* rename, maybe across directories */
			int dir = rnd(4) == 0;
			i = rand_used(dir);
			if (i < 0)
				continue;
			d = rand_dir();
			path_of(i, p, sizeof p);
			char nn[64];
			make_name(nn, sizeof nn, next_name++);
			char dp[1024];
			path_of(d, dp, sizeof dp);
			snprintf(q, sizeof q, "%s/%s", dp, nn);
			err = fat_rename(vol, p, q);
			if (dir && is_ancestor(i, d)) {
				assert_int_equal(err, -EINVAL);
				continue;
			}
			if (err)
				fail_msg("seed %llu step %d: rename %s -> %s: %d",
					 (unsigned long long)seed, step, p, q, err);
			mod[i].parent = d;
			strcpy(mod[i].name, nn);
			if (!dir)
				check_content(vol, i, seed, step);
		} else if (op < 95) {
			assert_int_equal(fat_sync(vol), 0);
		} else {	/* remount */
			assert_int_equal(fat_unmount(vol), 0);
			assert_int_equal(fat_mount(&m->dev, &mo, &vol), 0);
			check_tree(vol, seed, step);
		}
		if (step % 50 == 49)
			check_tree(vol, seed, step);
	}
	check_tree(vol, seed, steps);
	assert_int_equal(fat_unmount(vol), 0);
	char *img = memdev_save(m, tmpdir), *out = NULL;
	int rc = run_fsck(img, &out);
	if (rc != 0)
		fail_msg("seed %llu: fsck.fat -n:\n%s", (unsigned long long)seed, out);
	unlink(img);
	free(img);
	free(out);
	for (int k = 0; k < MAXN; k++)
		free(mod[k].data);
	memdev_free(m);
}

static void
test_model(void **s)
{
	(void)s;
	const char *env = getenv("DVS_FAT_SEED");
	if (env) {
		run(strtoull(env, NULL, 0), 16, 24 << 20, 600);
		return;
	}
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run(seed, 12, 8 << 20, 1500);
		run(seed + 100, 16, 24 << 20, 2000);
		run(seed + 200, 32, 40 << 20, 2000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_model)};
	tmpdir = make_tmpdir();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rm_rf(tmpdir);
	free(tmpdir);
	return rc;
}
