/* test_threads.c - several threads at once on one volume: each writes
 * and re-reads its own file while others read a shared file, create and
 * list entries; the data must be right and the volume fsck-clean. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fat_test_util.h"

#define NT 4
#define FSZ (512 * 1024)

static struct fat_vol *vol;
static struct fat_file *shared;
static int errors;

static void *
worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	char p[64];
	uint8_t *buf = malloc(FSZ), *rd = malloc(FSZ);
	struct fat_file *f;

	for (int i = 0; i < FSZ; i++)
		buf[i] = (uint8_t)(i * (id + 3));
	snprintf(p, sizeof p, "/t%d/own file.bin", id);
	if (fat_open(vol, p, O_RDWR | O_CREAT, &f)) {
		__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
		goto out;
	}
	for (int off = 0; off < FSZ; off += 8192) {
		if (fat_pwrite(f, buf + off, 8192, (uint64_t)off) != 8192)
			__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
		/* the shared file, read in parallel by everybody */
		uint8_t s[4096];
		if (fat_pread(shared, s, sizeof s, (uint64_t)(off % 65536)) != 4096 ||
		    s[0] != (uint8_t)(off % 65536 / 7))
			__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
		if (off % 65536 == 0) {
			char q[64];
			struct fat_stat st;
			snprintf(q, sizeof q, "/t%d/small %d", id, off);
			struct fat_file *g;
			if (fat_open(vol, q, O_RDWR | O_CREAT | O_EXCL, &g) == 0) {
				fat_pwrite(g, q, strlen(q), 0);
				fat_close(g);
			} else
				__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
			if (fat_stat(vol, q, &st) || st.size != strlen(q))
				__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
			fat_sync(vol);
		}
	}
	if (fat_pread(f, rd, FSZ, 0) != FSZ || memcmp(rd, buf, FSZ))
		__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
	fat_close(f);
out:
	free(buf);
	free(rd);
	return NULL;
}

/* The end of each test: a clean unmount, fsck.fat -n clean. */
static void
unmount_fsck_free(struct memdev *m)
{
	char *out = NULL;

	assert_int_equal(fat_unmount(vol), 0);
	if (memdev_fsck(m, &out))
		fail_msg("fsck.fat -n: %s", out);
	free(out);
	memdev_free(m);
}

static void
test_threads(void **s)
{
	(void)s;
	struct memdev *m = memdev_mounted(32 << 20, 16, NULL, &vol);
	pthread_t th[NT];
	uint8_t sh[65536 + 4096];

	assert_non_null(m);
	for (size_t i = 0; i < sizeof sh; i++)
		sh[i] = (uint8_t)(i / 7);
	assert_int_equal(fat_open(vol, "/shared", O_RDWR | O_CREAT, &shared), 0);
	assert_int_equal(fat_pwrite(shared, sh, sizeof sh, 0), (ssize_t)sizeof sh);
	for (int i = 0; i < NT; i++) {
		char p[16];
		snprintf(p, sizeof p, "/t%d", i);
		assert_int_equal(fat_mkdir(vol, p), 0);
	}
	for (int i = 0; i < NT; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(errors, 0);
	fat_close(shared);
	unmount_fsck_free(m);
}

/* Metadata races: renames and unlinks of files other threads are
 * writing through open handles, creates and listings in the same
 * directory, syncs. */
static struct fat_file *moving;

static void *
renamer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 300; i++) {
		if (fat_rename(vol, "/d/moving A", "/e/moving B") ||
		    fat_rename(vol, "/e/moving B", "/d/moving A"))
			__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void *
writer(void *arg)
{
	(void)arg;
	uint8_t b[3000];
	memset(b, 0x42, sizeof b);
	for (int i = 0; i < 300; i++)
		if (fat_pwrite(moving, b, sizeof b, (uint64_t)i * sizeof b) != (ssize_t)sizeof b)
			__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int
nop_cb(void *arg, const struct fat_dirent *e)
{
	(void)arg;
	(void)e;
	return 0;
}

static void *
churner(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < 200; i++) {
		char p[64];
		struct fat_file *f;
		snprintf(p, sizeof p, "/%c/churn %d %d", i % 2 ? 'd' : 'e', id, i);
		if (fat_open(vol, p, O_RDWR | O_CREAT, &f) == 0) {
			fat_pwrite(f, p, strlen(p), 0);
			if (i % 3 == 0)
				fat_unlink(vol, p);	/* while open */
			fat_close(f);
		} else
			__atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
		if (i % 3 == 1)
			fat_unlink(vol, p);
		fat_readdir(vol, "/d", nop_cb, NULL);
		if (i % 50 == 0)
			fat_sync(vol);
	}
	return NULL;
}

static void
test_races(void **s)
{
	(void)s;
	struct fat_mount_opts mo = {.cache_bytes = 8192};	/* trims too */
	struct memdev *m;
	pthread_t th[5];

	errors = 0;
	m = memdev_mounted(32 << 20, 32, &mo, &vol);
	assert_non_null(m);
	assert_int_equal(fat_mkdir(vol, "/d"), 0);
	assert_int_equal(fat_mkdir(vol, "/e"), 0);
	assert_int_equal(fat_open(vol, "/d/moving A", O_RDWR | O_CREAT, &moving), 0);
	pthread_create(&th[0], NULL, renamer, NULL);
	pthread_create(&th[1], NULL, writer, NULL);
	pthread_create(&th[2], NULL, churner, (void *)1);
	pthread_create(&th[3], NULL, churner, (void *)2);
	pthread_create(&th[4], NULL, churner, (void *)3);
	for (int i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(errors, 0);
	struct fat_stat st;
	assert_int_equal(fat_fstat(moving, &st), 0);
	assert_int_equal(st.size, 300 * 3000);
	fat_close(moving);
	assert_int_equal(fat_stat(vol, "/d/moving A", &st), 0);
	assert_int_equal(st.size, 300 * 3000);
	unmount_fsck_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_threads),
					   cmocka_unit_test(test_races)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
