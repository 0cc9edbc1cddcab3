/* test_corrupt.c - damaged volumes give a clear error (-EUCLEAN), never a
 * crash, a hang, or a write outside the volume: bad boot sectors, a
 * truncated image, chain loops, clusters out of range, a directory that
 * points into itself or at an ancestor, a file larger than its chain. */
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

static struct memdev *
fresh(int type, size_t size)
{
	struct memdev *m = memdev_new(size, 512);
	struct fat_format_opts fo = {.fat_type = type};
	struct fat_vol *vol;
	struct fat_file *f;
	static uint8_t buf[20000];

	memset(buf, 0x5A, sizeof buf);
	assert_int_equal(fat_format(&m->dev, &fo), 0);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	assert_int_equal(fat_mkdir(vol, "/a"), 0);
	assert_int_equal(fat_mkdir(vol, "/a/b"), 0);
	assert_int_equal(fat_open(vol, "/a/file.bin", O_RDWR | O_CREAT, &f), 0);
	assert_int_equal(fat_pwrite(f, buf, sizeof buf, 0), (ssize_t)sizeof buf);
	fat_close(f);
	assert_int_equal(fat_unmount(vol), 0);
	return m;
}

static void
geometry(struct memdev *m, uint32_t *fat_off, int *type)
{
	uint8_t *b = m->data;
	*fat_off = (uint32_t)(b[14] | b[15] << 8) * (uint32_t)(b[11] | b[12] << 8);
	*type = (b[22] | b[23] << 8) == 0 ? 32 : 16;
}

static void
set_fat(struct memdev *m, uint32_t c, uint32_t v)
{
	uint32_t off;
	int type;
	geometry(m, &off, &type);
	if (type == 32) {
		uint8_t *p = m->data + off + 4 * c;
		p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
		p[3] = (uint8_t)(v >> 24);
	} else {
		uint8_t *p = m->data + off + 2 * c;
		p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
	}
}

static void
stat_ro(struct memdev *m, const char *path, struct fat_stat *st)
{
	struct fat_vol *vol;
	assert_int_equal(fat_mount(&m->dev, &(struct fat_mount_opts){.read_only = 1}, &vol), 0);
	assert_int_equal(fat_stat(vol, path, st), 0);
	fat_unmount(vol);
}

/* The dirent of a node: its ino is offset / 32 + 2. */
static uint8_t *
dirent_of(struct memdev *m, const struct fat_stat *st)
{
	return m->data + (st->ino - 2) * 32;
}

static void
test_bad_boot(void **s)
{
	(void)s;
	struct memdev *m = memdev_new(4 << 20, 512);
	struct fat_vol *vol;
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), -EUCLEAN);	/* zeros */
	memdev_free(m);

	const struct {
		int off;
		uint8_t val;
	} patches[] = {
		{12, 0}, {12, 0x03}, {13, 3}, {13, 0}, {14, 0}, {16, 0}, {16, 9},
		{18, 0}, {22, 0}, {19, 0}, {510, 0},
	};
	for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
		m = fresh(16, 16 << 20);
		m->data[patches[i].off] = patches[i].val;
		if (patches[i].off == 19) {	/* no size at all */
			m->data[20] = 0;
			memset(m->data + 32, 0, 4);
		}
		if (patches[i].off == 510)
			m->data[0] = 0;	/* neither signature nor jump */
		int err = fat_mount(&m->dev, NULL, &vol);
		if (err == 0) {
			fat_unmount(vol);
			fail_msg("patch %zu mounted", i);
		}
		assert_int_equal(err, -EUCLEAN);
		memdev_free(m);
	}
}

static void
test_truncated(void **s)
{
	(void)s;
	struct memdev *m = fresh(16, 16 << 20), *t = memdev_new(8 << 20, 512);
	struct fat_vol *vol;
	memcpy(t->data, m->data, 8 << 20);
	assert_int_equal(fat_mount(&t->dev, NULL, &vol), -EUCLEAN);
	memdev_free(t);
	memdev_free(m);
}

static void
chain_cases(int type, size_t size)
{
	struct memdev *m = fresh(type, size);
	struct fat_vol *vol;
	struct fat_stat st;
	struct fat_file *f;
	uint8_t buf[100];

	stat_ro(m, "/a/file.bin", &st);
	uint32_t c0 = st.first_cluster;
	uint8_t *copy = malloc(m->size);
	memcpy(copy, m->data, m->size);

	/* a loop: the last cluster points back to the first */
	uint32_t n = (uint32_t)((20000 + st.blksize - 1) / st.blksize);
	set_fat(m, c0 + n - 1, c0);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	assert_int_equal(fat_open(vol, "/a/file.bin", O_RDONLY, &f), -EUCLEAN);
	assert_int_equal(fat_unlink(vol, "/a/file.bin"), 0);	/* leaves lost clusters */
	assert_int_equal(fat_unmount(vol), 0);

	/* a cluster number past the end */
	memcpy(m->data, copy, m->size);
	set_fat(m, c0, 0x0FFFFF0);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	assert_int_equal(fat_open(vol, "/a/file.bin", O_RDONLY, &f), -EUCLEAN);
	assert_int_equal(fat_unmount(vol), 0);

	/* an entry that points at cluster 1 / past the end */
	memcpy(m->data, copy, m->size);
	uint8_t *e = dirent_of(m, &st);
	e[26] = 1, e[27] = 0;
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	assert_int_equal(fat_open(vol, "/a/file.bin", O_RDONLY, &f), -EUCLEAN);
	assert_int_equal(fat_unmount(vol), 0);

	/* a size larger than the chain */
	memcpy(m->data, copy, m->size);
	e = dirent_of(m, &st);
	e[30] = 0x10;
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	assert_int_equal(fat_open(vol, "/a/file.bin", O_RDONLY, &f), -EUCLEAN);
	assert_int_equal(fat_unmount(vol), 0);

	/* /a/b points at /a's own cluster, then at the root (FAT32) */
	struct fat_stat sa, sb;
	memcpy(m->data, copy, m->size);
	stat_ro(m, "/a", &sa);
	stat_ro(m, "/a/b", &sb);
	e = dirent_of(m, &sb);
	e[26] = (uint8_t)sa.first_cluster, e[27] = (uint8_t)(sa.first_cluster >> 8);
	e[20] = (uint8_t)(sa.first_cluster >> 16), e[21] = (uint8_t)(sa.first_cluster >> 24);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	assert_int_equal(fat_stat(vol, "/a/b/x", &st), -EUCLEAN);
	struct fat_dir *d;
	assert_int_equal(fat_dir_open(vol, "/a/b", &d), -EUCLEAN);
	assert_int_equal(fat_mkdir(vol, "/a/b/c"), -EUCLEAN);
	assert_int_equal(fat_unmount(vol), 0);
	if (type == 32) {
		e[26] = 2, e[27] = 0, e[20] = 0, e[21] = 0;	/* the root cluster */
		assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
		assert_int_equal(fat_dir_open(vol, "/a/b", &d), -EUCLEAN);
		assert_int_equal(fat_unmount(vol), 0);
	}
	/* a directory whose chain loops */
	memcpy(m->data, copy, m->size);
	set_fat(m, sb.first_cluster, sb.first_cluster);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	assert_int_equal(fat_dir_open(vol, "/a/b", &d), -EUCLEAN);
	assert_int_equal(fat_unmount(vol), 0);
	(void)buf;
	free(copy);
	memdev_free(m);
}

static void
test_chains16(void **s)
{
	(void)s;
	chain_cases(16, 16 << 20);
}

static void
test_chains32(void **s)
{
	(void)s;
	chain_cases(32, 40 << 20);
}

/* Random garbage in the metadata area: whatever happens, no crash, and
 * nothing written beyond the device (the memdev would fault). */
static int
walk(struct fat_vol *vol, const char *path, int depth)
{
	struct fat_dir *d;
	struct fat_dirent e;
	int n = 0;
	if (depth > 20 || fat_dir_open(vol, path, &d))
		return 0;
	while (fat_dir_read(d, &e) == 1 && n < 1000) {
		char sub[2048];
		snprintf(sub, sizeof sub, "%s/%s", strcmp(path, "/") ? path : "", e.name);
		n++;
		if (e.st.attr & FAT_ATTR_DIR)
			n += walk(vol, sub, depth + 1);
		else {
			struct fat_file *f;
			char buf[4096];
			if (fat_open(vol, sub, O_RDWR, &f) == 0) {
				fat_pread(f, buf, sizeof buf, 0);
				fat_pwrite(f, buf, 100, 5000);
				fat_close(f);
			}
		}
	}
	fat_dir_close(d);
	return n;
}

static void
test_garbage(void **s)
{
	(void)s;
	uint64_t r = 88172645463325252ull;
	for (int round = 0; round < 40; round++) {
		struct memdev *m = fresh(round % 2 ? 32 : 16, round % 2 ? 40 << 20 : 16 << 20);
		uint32_t fat_off;
		int type;
		geometry(m, &fat_off, &type);
		for (int k = 0; k < 40; k++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			/* the boot sector, the FAT and the first directories */
			size_t where = (size_t)(r % (fat_off + 300000));
			m->data[where] = (uint8_t)(r >> 40);
		}
		struct fat_vol *vol;
		if (fat_mount(&m->dev, NULL, &vol) == 0) {
			walk(vol, "/", 0);
			fat_mkdir(vol, "/newdir");
			fat_rename(vol, "/a", "/newdir/a");
			fat_unmount(vol);
		}
		memdev_free(m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_boot),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_chains16),
		cmocka_unit_test(test_chains32),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
