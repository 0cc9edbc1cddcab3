/* test_crash.c - writes cut off after N sector writes (the machine
 * "dies"), for many N: fsck.fat -n must find nothing but the dirty bit,
 * or only lost clusters (the exact list is at allowed_prefix), and files
 * that were fsynced before the cut must read back intact. */
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

/*
 * What issue 3 promises after a crash: fsck.fat -n finds nothing, or
 * only lost clusters.  The lines below are every finding that may appear;
 * anything else (an orphaned long-name part, a wrong free count, a size
 * the chain cannot hold, cross-links, bad chains, damaged directories)
 * fails the test.  The allowed findings, and why each is unavoidable:
 *  - the dirty bit (set while mounted, exactly so that fsck says this;
 *    on FAT32 the backup boot sector differs from the primary by that
 *    bit alone, offset 65, as after any Linux crash);
 *  - FSInfo's free count is "uninitialized" (0xFFFFFFFF): it says
 *    "unknown" while mounted; fsck.fat -n exits 0 on this alone;
 *  - lost clusters ("Reclaimed N unused clusters");
 *  - clusters past a file's size ("cluster chain length is > N"): lost
 *    clusters at the end of a chain, from a growth or truncation whose
 *    new size had (not) yet reached the entry; nothing the entry holds
 *    is lost;
 *  - "FATs differ but appear to be intact": the cut fell between the
 *    two copies of a FAT sector; the first copy is whole.
 */
static const char *const allowed_prefix[] = {
	"fsck.fat ", "Dirty bit is set.", " Automatically removing dirty bit.",
	"Leaving filesystem unchanged.", "Reclaimed ",
	"Free cluster summary uninitialized",
	"FATs differ but appear to be intact.", "  Using first FAT.",
	"There are differences between boot sector and its backup.",
	"This is mostly harmless. Differences: (offset:original/backup)",
	"  65:01/00", "  Not automatically fixing this.",
	"  Truncating file to ", "/",
};

static int g_type = 16;

/* Classes of findings counted over the whole series, for the log. */
enum { F_CLEAN, F_LOST, F_TAIL, F_FATDIFF, F_N };
static long g_found[F_N];

static int
line_ok(const char *l, const char *img)
{
	size_t n = strlen(l);

	if (n == 0 || strstr(l, " files, ") || strcmp(l, img) == 0)
		return 1;
	if (strstr(l, "File size is ") && strstr(l, "cluster chain length is > "))
		return 1;
	for (size_t i = 0; i < sizeof allowed_prefix / sizeof allowed_prefix[0]; i++)
		if (strncmp(l, allowed_prefix[i], strlen(allowed_prefix[i])) == 0)
			return 1;
	return 0;
}

/* fsck.fat -n once more with the dirty bit cleared: it must exit 0
 * unless it found lost clusters (or their kin above). */
static void
check_exit_code(struct memdev *m, const char *out, long cut)
{
	size_t off = g_type == 32 ? 65 : 37;
	uint8_t was = m->data[off];
	char *img, *out2 = NULL;
	int loss = 0;

	if (strstr(out, "Reclaimed ")) {
		g_found[F_LOST]++;
		loss = 1;
	}
	if (strstr(out, "cluster chain length is > ")) {
		g_found[F_TAIL]++;
		loss = 1;
	}
	if (strstr(out, "FATs differ")) {
		g_found[F_FATDIFF]++;
		loss = 1;
	}
	m->data[off] = (uint8_t)(was & ~1);
	img = memdev_save(m, tmpdir);
	m->data[off] = was;
	int rc = run_fsck(img, &out2);
	if (!loss) {
		g_found[F_CLEAN]++;
		if (rc != 0)
			fail_msg("FAT%d, cut after %ld writes: no loss reported, but "
				 "fsck.fat -n exits %d without the dirty bit:\n%s",
				 g_type, cut, rc, out2);
	}
	unlink(img);
	free(img);
	free(out2);
}

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
	int rc = run_fsck(img, &out);
	if (getenv("DVS_FAT_CRASH_VERBOSE"))
		printf("=== FAT%d cut %ld: fsck.fat -n exits %d\n%s", g_type, cut, rc, out);
	if (cut < 0 && rc != 0)
		fail_msg("FAT%d, no cut: fsck.fat -n exits %d:\n%s", g_type, rc, out);
	char *copy = strdup(out), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!line_ok(l, img))
			fail_msg("FAT%d, cut after %ld writes: fsck.fat -n says: %s\n"
				 "(all of it:\n%s)", g_type, cut, l, out);
	free(copy);
	if (cut >= 0)
		check_exit_code(m, out, cut);
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
	long step = total / 100 + 1;
	for (long cut = 0; cut <= total; cut += step)
		one(cut, NULL);
	/* and the last few writes one by one */
	for (long cut = total - 6; cut < total; cut++)
		if (cut >= 0)
			one(cut, NULL);
	printf("FAT%d: %ld writes; cuts with no finding but the dirty bit %ld, "
	       "with lost clusters %ld, clusters past a size %ld, FAT copies "
	       "differing %ld\n", g_type, total, g_found[F_CLEAN], g_found[F_LOST],
	       g_found[F_TAIL], g_found[F_FATDIFF]);
	memset(g_found, 0, sizeof g_found);
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
