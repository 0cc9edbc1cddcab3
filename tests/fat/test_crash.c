/* test_crash.c - writes cut off after N sector writes (the machine
 * "dies"), for many N: the volume must pass fsck.fat -n or show only lost
 * clusters and unfinished files (never cross-links, invalid chains or
 * damaged directories), and files that were fsynced before the cut must
 * read back intact. */
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

static char *tmpdir;

#define NSYNC 4

struct synced {
	char path[64];
	size_t len;
	uint8_t seed;
	int ok;
};

static void
fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed + i / 977);
}

/* The workload: errors after the cut are expected and ignored. */
static void
workload(struct fat_vol *vol, struct synced *sy)
{
	static uint8_t buf[200000];
	struct fat_file *f;
	char p[64];

	for (int k = 0; k < NSYNC; k++) {
		snprintf(sy[k].path, sizeof sy[k].path, "/dir%d/Synced file %d.bin", k % 2, k);
		sy[k].len = 5000 + (size_t)k * 40000;
		sy[k].seed = (uint8_t)(k + 1);
		sy[k].ok = 0;
	}
	fat_mkdir(vol, "/dir0");
	fat_mkdir(vol, "/dir1");
	for (int k = 0; k < NSYNC; k++) {
		/* some scratch work around each synced file */
		for (int j = 0; j < 5; j++) {
			snprintf(p, sizeof p, "/dir%d/scratch %d-%d.tmp", j % 2, k, j);
			if (fat_open(vol, p, O_RDWR | O_CREAT | O_TRUNC, &f) == 0) {
				fill(buf, 30000, (uint8_t)j);
				fat_pwrite(f, buf, 3000 + (size_t)j * 5000, 0);
				fat_close(f);
			}
		}
		snprintf(p, sizeof p, "/dir%d/scratch %d-1.tmp", k % 2, k);
		fat_unlink(vol, p);
		snprintf(p, sizeof p, "/dir%d/scratch %d-2.tmp", k % 2, k);
		char q[64];
		snprintf(q, sizeof q, "/dir%d/renamed %d.tmp", (k + 1) % 2, k);
		fat_rename(vol, p, q);
		fill(buf, sy[k].len, sy[k].seed);
		if (fat_open(vol, sy[k].path, O_RDWR | O_CREAT | O_TRUNC, &f) == 0) {
			ssize_t w = fat_pwrite(f, buf, sy[k].len, 0);
			if (w == (ssize_t)sy[k].len && fat_fsync(f) == 0)
				sy[k].ok = 1;
			fat_close(f);
		}
		snprintf(p, sizeof p, "/dir%d/scratch %d-3.tmp", k % 2, k);
		if (fat_open(vol, p, O_RDWR, &f) == 0) {
			fat_ftruncate(f, 100);
			fat_close(f);
		}
	}
}

static const char *const forbidden[] = {
	"cross-linked", "share clusters", "shares clusters", "invalid cluster",
	"Invalid cluster", "free cluster", "loop", "Bad", "bad", "has no",
	"Directory", "not allowed", "Duplicate", "duplicate", "starts with",
	"Contains a free",
};

/* fsck.fat lines that are fine after a crash. */
static int
line_ok(const char *l)
{
	for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++)
		if (strstr(l, forbidden[i]))
			return 0;
	return 1;
}

static int g_type = 16;

static void
one(long cut, long *total)
{
	struct memdev *m = memdev_new(g_type == 32 ? 40 << 20 : 16 << 20, 512);
	struct fat_format_opts fo = {.fat_type = g_type,
				     .cluster_size = g_type == 32 ? 512 : 2048};
	struct fat_vol *vol;
	struct synced sy[NSYNC];
	static uint8_t want[200000], got[200000];

	assert_int_equal(fat_format(&m->dev, &fo), 0);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	m->writes = 0;
	m->writes_left = cut;
	workload(vol, sy);
	fat_unmount(vol);	/* after the cut nothing reaches the "disk" */
	if (total)
		*total = m->writes;
	m->writes_left = -1;
	m->cut = 0;

	char *img = memdev_save(m, tmpdir), *out = NULL;
	run_fsck(img, &out);
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
		if (!line_ok(l))
			fail_msg("FAT%d, cut after %ld writes: fsck.fat -n says: %s\n(image %s)",
				 g_type, cut, l, img);
	unlink(img);
	free(img);
	free(out);

	assert_int_equal(fat_mount(&m->dev, &(struct fat_mount_opts){.read_only = 1}, &vol), 0);
	for (int k = 0; k < NSYNC; k++) {
		struct fat_file *f;
		if (!sy[k].ok)
			continue;
		if (fat_open(vol, sy[k].path, O_RDONLY, &f) != 0)
			fail_msg("cut after %ld: synced %s is gone", cut, sy[k].path);
		fill(want, sy[k].len, sy[k].seed);
		ssize_t r = fat_pread(f, got, sizeof got, 0);
		if (r != (ssize_t)sy[k].len || memcmp(got, want, sy[k].len))
			fail_msg("cut after %ld: synced %s reads %zd bytes, want %zu",
				 cut, sy[k].path, r, sy[k].len);
		fat_close(f);
	}
	fat_unmount(vol);
	memdev_free(m);
}

static void
crash_series(void)
{
	long total = 0;
	one(-1, &total);	/* no cut: how many writes the workload makes */
	assert_true(total > 20);
	long step = total / 60 + 1;
	for (long cut = 0; cut <= total; cut += step)
		one(cut, NULL);
	/* and the last few writes one by one */
	for (long cut = total - 6; cut < total; cut++)
		if (cut >= 0)
			one(cut, NULL);
}

static void
test_crash16(void **s)
{
	(void)s;
	g_type = 16;
	crash_series();
}

static void
test_crash32(void **s)
{
	(void)s;
	g_type = 32;
	crash_series();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_crash16),
					   cmocka_unit_test(test_crash32)};
	tmpdir = make_tmpdir();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rm_rf(tmpdir);
	free(tmpdir);
	return rc;
}
