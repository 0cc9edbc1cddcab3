/* test_ops.c - the FAT engine's operations on FAT12/16/32 volumes of
 * several sector sizes, each checked with fsck.fat -n at the end. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fat_test_util.h"

static char *tmpdir;

struct vol_case {
	int type;
	size_t size;
	uint32_t ss, cs;
};

static struct fat_vol *
mkvol(struct memdev **mp, int type, size_t size, uint32_t ss, uint32_t cs)
{
	struct fat_format_opts fo = {.fat_type = type, .sector_size = ss,
				     .cluster_size = cs, .label = "TEST"};
	struct fat_vol *vol;
	*mp = memdev_new(size, 512);
	assert_int_equal(fat_format(&(*mp)->dev, &fo), 0);
	assert_int_equal(fat_mount(&(*mp)->dev, NULL, &vol), 0);
	return vol;
}

static void
fsck_clean(struct memdev *m)
{
	char *path = memdev_save(m, tmpdir), *out = NULL;
	int rc = run_fsck(path, &out);
	if (rc != 0)
		fprintf(stderr, "fsck.fat on %s said:\n%s\n", path, out);
	assert_int_equal(rc, 0);
	unlink(path);
	free(path);
	free(out);
}

static void
write_file(struct fat_vol *vol, const char *path, const void *data, size_t len)
{
	struct fat_file *f;
	assert_int_equal(fat_open(vol, path, O_WRONLY | O_CREAT | O_TRUNC, &f), 0);
	if (len)
		assert_int_equal(fat_pwrite(f, data, len, 0), (ssize_t)len);
	assert_int_equal(fat_close(f), 0);
}

static void
check_file(struct fat_vol *vol, const char *path, const void *data, size_t len)
{
	struct fat_file *f;
	uint8_t *buf = malloc(len + 16);
	assert_int_equal(fat_open(vol, path, O_RDONLY, &f), 0);
	assert_int_equal(fat_pread(f, buf, len + 16, 0), (ssize_t)len);
	assert_memory_equal(buf, data, len);
	fat_close(f);
	free(buf);
}

static int
count_cb(void *arg, const struct fat_dirent *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void
exercise(const struct vol_case *c)
{
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, c->type, c->size, c->ss, c->cs);
	struct fat_statfs sf;
	struct fat_stat st, st2;
	struct fat_file *f, *g;
	size_t big = 300 * 1024 + 123;
	uint8_t *data = malloc(big);

	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(fat_statfs(vol, &sf), 0);
	assert_int_equal(sf.fat_type, c->type);
	assert_int_equal(sf.sector_size, c->ss);
	assert_string_equal(sf.label, "TEST");

	assert_int_equal(fat_mkdir(vol, "/dir"), 0);
	assert_int_equal(fat_mkdir(vol, "/dir"), -EEXIST);
	assert_int_equal(fat_mkdir(vol, "/dir/Sub Directory"), 0);
	assert_int_equal(fat_mkdir(vol, "/nope/x"), -ENOENT);
	write_file(vol, "/dir/Sub Directory/big.bin", data, big);
	write_file(vol, "/small.txt", "hello", 5);
	write_file(vol, "/empty", "", 0);
	check_file(vol, "/dir/sub directory/BIG.BIN", data, big);
	assert_int_equal(fat_mkdir(vol, "/small.txt/x"), -ENOTDIR);

	/* O_EXCL, O_APPEND, sparse-free extension, truncate */
	assert_int_equal(fat_open(vol, "/small.txt", O_RDWR | O_CREAT | O_EXCL, &f), -EEXIST);
	assert_int_equal(fat_open(vol, "/small.txt", O_WRONLY | O_APPEND, &f), 0);
	assert_int_equal(fat_pwrite(f, " world", 6, 0), 6);
	fat_close(f);
	check_file(vol, "/small.txt", "hello world", 11);
	assert_int_equal(fat_open(vol, "/gap", O_RDWR | O_CREAT, &f), 0);
	assert_int_equal(fat_pwrite(f, "x", 1, 70000), 1);
	uint8_t *gap = calloc(1, 70001);
	gap[70000] = 'x';
	assert_int_equal(fat_ftruncate(f, 70001), 0);
	fat_close(f);
	check_file(vol, "/gap", gap, 70001);
	assert_int_equal(fat_open(vol, "/gap", O_RDWR, &f), 0);
	assert_int_equal(fat_ftruncate(f, 10), 0);
	assert_int_equal(fat_ftruncate(f, 5000), 0);
	fat_close(f);
	memset(gap, 0, 70001);
	check_file(vol, "/gap", gap, 5000);
	free(gap);

	/* node ids: stable across writes, new after rename; handles follow */
	assert_int_equal(fat_stat(vol, "/small.txt", &st), 0);
	assert_int_equal(st.size, 11);
	assert_true(st.ino > 1);
	assert_int_equal(fat_open(vol, "/small.txt", O_RDWR, &f), 0);
	assert_int_equal(fat_pwrite(f, "H", 1, 0), 1);
	assert_int_equal(fat_stat(vol, "/small.txt", &st2), 0);
	assert_int_equal(st.ino, st2.ino);
	assert_int_equal(fat_rename(vol, "/small.txt", "/dir/moved.txt"), 0);
	assert_int_equal(fat_stat(vol, "/small.txt", &st2), -ENOENT);
	assert_int_equal(fat_pwrite(f, "!", 1, 11), 1);
	fat_close(f);
	check_file(vol, "/dir/moved.txt", "Hello world!", 12);
	assert_int_equal(fat_fstat(NULL, &st), -EINVAL);

	/* rename rules */
	assert_int_equal(fat_rename(vol, "/dir", "/dir/Sub Directory/x"), -EINVAL);
	assert_int_equal(fat_rename(vol, "/dir", "/dir/moved.txt"), -EINVAL);
	assert_int_equal(fat_rename(vol, "/dir", "/empty"), -ENOTDIR);
	assert_int_equal(fat_rename(vol, "/dir/moved.txt", "/dir"), -EISDIR);
	write_file(vol, "/victim", "old", 3);
	assert_int_equal(fat_rename(vol, "/dir/moved.txt", "/victim"), 0);
	check_file(vol, "/victim", "Hello world!", 12);
	assert_int_equal(fat_rename(vol, "/victim", "/VICTIM"), 0);	/* case */
	int n = 0;
	assert_int_equal(fat_readdir(vol, "/", count_cb, &n), 0);
	assert_int_equal(n, 4);	/* dir, empty, gap, VICTIM */
	assert_int_equal(fat_mkdir(vol, "/d2"), 0);
	assert_int_equal(fat_rename(vol, "/dir/Sub Directory", "/d2/moved sub"), 0);
	check_file(vol, "/d2/moved sub/big.bin", data, big);
	assert_int_equal(fat_rmdir(vol, "/d2"), -ENOTEMPTY);

	/* unlink while open: the data stays readable until close */
	assert_int_equal(fat_open(vol, "/d2/moved sub/big.bin", O_RDONLY, &g), 0);
	assert_int_equal(fat_unlink(vol, "/d2/moved sub/big.bin"), 0);
	uint8_t buf[100];
	assert_int_equal(fat_pread(g, buf, 100, 1000), 100);
	assert_memory_equal(buf, data + 1000, 100);
	fat_close(g);
	assert_int_equal(fat_rmdir(vol, "/d2/moved sub"), 0);
	assert_int_equal(fat_rmdir(vol, "/d2"), 0);
	assert_int_equal(fat_unlink(vol, "/dir"), -EISDIR);
	assert_int_equal(fat_rmdir(vol, "/"), -EBUSY);

	/* read-only attribute */
	assert_int_equal(fat_setattr(vol, "/VICTIM", FAT_ATTR_RDONLY, FAT_ATTR_RDONLY), 0);
	assert_int_equal(fat_open(vol, "/VICTIM", O_WRONLY, &f), -EACCES);
	/* ... unless the caller's permission was checked already (root) */
	assert_int_equal(fat_open(vol, "/VICTIM", O_WRONLY | FAT_O_OVERRIDE_RO, &f), 0);
	fat_close(f);
	assert_int_equal(fat_stat(vol, "/VICTIM", &st), 0);
	assert_true(st.attr & FAT_ATTR_RDONLY);
	/* NOREPLACE: decided with the rename; a case variant of itself is
	 * no collision */
	assert_int_equal(fat_open(vol, "/NR A", O_WRONLY | O_CREAT, &f), 0);
	fat_close(f);
	assert_int_equal(fat_rename2(vol, "/NR A", "/VICTIM", FAT_RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(fat_stat(vol, "/NR A", &st), 0);
	assert_int_equal(fat_rename2(vol, "/NR A", "/nr a", FAT_RENAME_NOREPLACE), 0);
	assert_int_equal(fat_rename2(vol, "/nr a", "/NR B", FAT_RENAME_NOREPLACE), 0);
	assert_int_equal(fat_rename2(vol, "/NR B", "/NR C", 0x4), -EINVAL);
	assert_int_equal(fat_unlink(vol, "/NR B"), 0);
	/* unlink depends on the directory, not the file (as vfat) */
	assert_int_equal(fat_open(vol, "/RO GONE", O_WRONLY | O_CREAT, &f), 0);
	fat_close(f);
	assert_int_equal(fat_setattr(vol, "/RO GONE", FAT_ATTR_RDONLY, FAT_ATTR_RDONLY), 0);
	assert_int_equal(fat_unlink(vol, "/RO GONE"), 0);
	assert_int_equal(fat_stat(vol, "/RO GONE", &st), -ENOENT);
	assert_int_equal(fat_setattr(vol, "/VICTIM", 0, FAT_ATTR_DIR), -EINVAL);
	assert_int_equal(fat_setattr(vol, "/VICTIM", 0, FAT_ATTR_RDONLY), 0);

	/* times at FAT resolution */
	struct timespec t = {.tv_sec = 1000000000 + 1, .tv_nsec = 5};
	assert_int_equal(fat_utimens(vol, "/VICTIM", &t, &t), 0);
	assert_int_equal(fat_stat(vol, "/VICTIM", &st), 0);
	assert_int_equal(st.mtime.tv_sec, 1000000000);
	assert_int_equal(st.atime.tv_sec, 1000000000 - 1000000000 % 86400);

	/* many files in one directory (index and growth) */
	char name[64];
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "/dir/A fairly long file name %04d.data", i);
		write_file(vol, name, name, strlen(name));
	}
	for (int i = 0; i < 300; i += 37) {
		snprintf(name, sizeof name, "/dir/a FAIRLY long file name %04d.DATA", i);
		char real[64];
		snprintf(real, sizeof real, "/dir/A fairly long file name %04d.data", i);
		check_file(vol, name, real, strlen(real));
	}
	assert_int_equal(fat_set_label(vol, "NEW LABEL"), 0);
	assert_int_equal(fat_set_label(vol, "bad*label"), -EINVAL);
	assert_int_equal(fat_statfs(vol, &sf), 0);
	assert_string_equal(sf.label, "NEW LABEL");

	/* the dirty flag is set while mounted and gone after unmount */
	assert_int_equal(fat_sync(vol), 0);
	uint32_t fo = c->type == 32 ? 65 : 37;
	assert_true(m->data[fo] & 1);
	assert_int_equal(fat_unmount(vol), 0);
	assert_false(m->data[fo] & 1);
	fsck_clean(m);

	/* and it all reads back after a fresh mount */
	assert_int_equal(fat_mount(&m->dev, &(struct fat_mount_opts){.read_only = 1}, &vol), 0);
	check_file(vol, "/victim", "Hello world!", 12);
	assert_int_equal(fat_mkdir(vol, "/x"), -EROFS);
	assert_int_equal(fat_open(vol, "/victim", O_RDWR, &f), -EROFS);
	assert_int_equal(fat_unmount(vol), 0);
	memdev_free(m);
	free(data);
}

static void
test_fat12(void **s)
{
	(void)s;
	exercise(&(struct vol_case){12, 1440 * 1024, 512, 0});
	exercise(&(struct vol_case){12, 4 << 20, 512, 2048});
}

static void
test_fat16(void **s)
{
	(void)s;
	exercise(&(struct vol_case){16, 20 << 20, 512, 2048});
	exercise(&(struct vol_case){16, 64 << 20, 4096, 8192});
	exercise(&(struct vol_case){16, 32 << 20, 1024, 4096});
}

static void
test_fat32(void **s)
{
	(void)s;
	exercise(&(struct vol_case){32, 40 << 20, 512, 512});
	exercise(&(struct vol_case){32, 72 << 20, 1024, 1024});
}

static void
test_names(void **s)
{
	(void)s;
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, 16, 20 << 20, 512, 2048);
	struct fat_dir *d;
	struct fat_dirent e;
	char longn[300];

	write_file(vol, "/readme.txt", "1", 1);
	write_file(vol, "/MixedCase.Txt", "2", 1);
	write_file(vol, "/Документ.txt", "3", 1);
	write_file(vol, "/emoji 😀.txt", "4", 1);
	for (int i = 0; i < 7; i++) {
		char n[64];
		snprintf(n, sizeof n, "/Long name with tail %d.text", i);
		write_file(vol, n, "x", 1);
	}
	assert_int_equal(fat_dir_open(vol, "/", &d), 0);
	int seen = 0;
	while (fat_dir_read(d, &e) == 1) {
		if (!strcmp(e.name, "readme.txt")) {
			assert_string_equal(e.short_name, "README.TXT");
			seen |= 1;
		} else if (!strcmp(e.name, "MixedCase.Txt")) {
			assert_string_equal(e.short_name, "MIXEDC~1.TXT");
			seen |= 2;
		} else if (!strcmp(e.name, "Long name with tail 0.text")) {
			assert_string_equal(e.short_name, "LONGNA~1.TEX");
			seen |= 4;
		} else if (!strcmp(e.name, "Long name with tail 5.text")) {
			assert_int_equal(strlen(e.short_name), 12);
			assert_memory_equal(e.short_name + 6, "~1.TEX", 6);
			seen |= 8;
		} else if (!strcmp(e.name, "Документ.txt") || !strcmp(e.name, "emoji 😀.txt")) {
			seen |= 16;
		}
	}
	fat_dir_close(d);
	assert_int_equal(seen, 31);
	/* case-insensitive, alias and Unicode lookup */
	check_file(vol, "/README.TXT", "1", 1);
	check_file(vol, "/mixedc~1.txt", "2", 1);
	check_file(vol, "/документ.TXT", "3", 1);
	/* invalid names */
	struct fat_file *f;
	const char *bad[] = {"/a:b", "/a*", "/q?", "/x.", "/sp ", "/a\\b", "/<>", "/.", "/.."};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(fat_open(vol, bad[i], O_RDWR | O_CREAT, &f), -EINVAL);
	memset(longn, 'n', sizeof longn);
	longn[0] = '/';
	longn[257] = 0;
	assert_int_equal(fat_open(vol, longn, O_RDWR | O_CREAT, &f), -ENAMETOOLONG);
	longn[256] = 0;	/* 255 characters */
	assert_int_equal(fat_open(vol, longn, O_RDWR | O_CREAT, &f), 0);
	fat_close(f);
	assert_int_equal(fat_open(vol, "/bad\xff", O_RDWR | O_CREAT, &f), -EINVAL);
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	memdev_free(m);
}

static void
test_enospc(void **s)
{
	(void)s;
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, 12, 1440 * 1024, 512, 0);
	struct fat_file *f;
	uint8_t *chunk = malloc(65536);
	ssize_t r = 0;
	uint64_t off = 0;

	memset(chunk, 0xAB, 65536);
	write_file(vol, "/keep.txt", "keep me", 7);
	assert_int_equal(fat_open(vol, "/fill", O_WRONLY | O_CREAT, &f), 0);
	while ((r = fat_pwrite(f, chunk, 65536, off)) > 0)
		off += (uint64_t)r;
	assert_int_equal(r, -ENOSPC);
	assert_true(off > 1300000);
	/* a write past the end that cannot fit leaves no clusters behind */
	assert_int_equal(fat_pwrite(f, chunk, 100, off + 100000), -ENOSPC);
	assert_int_equal(fat_ftruncate(f, off + 200000), -ENOSPC);
	fat_close(f);
	assert_int_equal(fat_mkdir(vol, "/nodir"), -ENOSPC);
	struct fat_stat st;
	assert_int_equal(fat_stat(vol, "/fill", &st), 0);
	assert_int_equal(st.size, off);
	/* filling the fixed root directory: ENOSPC too */
	int i, err = 0;
	for (i = 0; i < 300 && !err; i++) {
		char n[32];
		snprintf(n, sizeof n, "/f%d", i);
		err = fat_open(vol, n, O_WRONLY | O_CREAT, &f);
		if (!err)
			fat_close(f);
	}
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	check_file(vol, "/keep.txt", "keep me", 7);
	assert_int_equal(fat_unlink(vol, "/fill"), 0);
	assert_int_equal(fat_sync(vol), 0);
	struct fat_statfs sf;
	assert_int_equal(fat_statfs(vol, &sf), 0);
	assert_true(sf.free_clusters > 2700);
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	memdev_free(m);
	free(chunk);
}

/* Churn in one directory: thousands of creates and removals, then the
 * listing and every lookup match what is left (exercises the name index
 * and its compaction). */
static void
test_churn(void **s)
{
	(void)s;
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, 32, 40 << 20, 512, 512);
	static char alive[4000];
	char p[80];
	struct fat_stat st;

	assert_int_equal(fat_mkdir(vol, "/c"), 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4000; i++) {
			if (alive[i] || (i + round) % 3 == 0)
				continue;
			snprintf(p, sizeof p, "/c/Churning file name %d.txt", i);
			write_file(vol, p, p, strlen(p));
			alive[i] = 1;
		}
		for (int i = 0; i < 4000; i++) {
			if (!alive[i] || (i * 7 + round) % 5 < 3)
				continue;
			snprintf(p, sizeof p, "/c/churning FILE name %d.TXT", i);
			assert_int_equal(fat_unlink(vol, p), 0);
			alive[i] = 0;
		}
	}
	int want = 0, n = 0;
	for (int i = 0; i < 4000; i++) {
		snprintf(p, sizeof p, "/c/Churning file name %d.txt", i);
		assert_int_equal(fat_stat(vol, p, &st), alive[i] ? 0 : -ENOENT);
		want += alive[i];
	}
	assert_int_equal(fat_readdir(vol, "/c", count_cb, &n), 0);
	assert_int_equal(n, want);
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	memdev_free(m);
}

/* A node keeps its number across renames for the life of the mount; a
 * new file in the old slot gets another one; numbers are unique. */
static void
test_stable_ino(void **s)
{
	(void)s;
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, 32, 64 << 20, 512, 4096);
	struct fat_file *f;
	struct fat_stat st;
	uint64_t a, d, x, n;

	assert_int_equal(fat_mkdir(vol, "/d"), 0);
	assert_int_equal(fat_open(vol, "/a", O_WRONLY | O_CREAT, &f), 0);
	fat_close(f);
	assert_int_equal(fat_open(vol, "/d/x", O_WRONLY | O_CREAT, &f), 0);
	fat_close(f);
	assert_int_equal(fat_stat(vol, "/a", &st), 0);
	a = st.ino;
	assert_int_equal(fat_stat(vol, "/d", &st), 0);
	d = st.ino;
	assert_int_equal(fat_stat(vol, "/d/x", &st), 0);
	x = st.ino;
	/* a long name, across directories, back again, by case */
	assert_int_equal(fat_rename(vol, "/a", "/a long name to move the entry"), 0);
	assert_int_equal(fat_stat(vol, "/a long name to move the entry", &st), 0);
	assert_int_equal(st.ino, a);
	assert_int_equal(fat_rename(vol, "/a long name to move the entry", "/d/b"), 0);
	assert_int_equal(fat_stat(vol, "/d/b", &st), 0);
	assert_int_equal(st.ino, a);
	/* a new file where a was: its own number while a lives */
	assert_int_equal(fat_open(vol, "/n", O_WRONLY | O_CREAT, &f), 0);
	assert_int_equal(fat_fstat(f, &st), 0);
	fat_close(f);
	n = st.ino;
	assert_true(n != a && n != d && n != x);
	assert_int_equal(fat_stat(vol, "/n", &st), 0);
	assert_int_equal(st.ino, n);
	/* a directory keeps its number; what is inside keeps its own */
	assert_int_equal(fat_rename(vol, "/d", "/D2"), 0);
	assert_int_equal(fat_stat(vol, "/D2", &st), 0);
	assert_int_equal(st.ino, d);
	assert_int_equal(fat_stat(vol, "/D2/x", &st), 0);
	assert_int_equal(st.ino, x);
	assert_int_equal(fat_stat(vol, "/D2/b", &st), 0);
	assert_int_equal(st.ino, a);
	/* an open handle reports the same number */
	assert_int_equal(fat_open(vol, "/D2/b", O_RDONLY, &f), 0);
	assert_int_equal(fat_rename(vol, "/D2/b", "/B"), 0);
	assert_int_equal(fat_fstat(f, &st), 0);
	assert_int_equal(st.ino, a);
	fat_close(f);
	/* replaced by a rename: the survivor keeps its number */
	assert_int_equal(fat_rename(vol, "/n", "/B"), 0);
	assert_int_equal(fat_stat(vol, "/B", &st), 0);
	assert_int_equal(st.ino, n);
	assert_int_equal(fat_unlink(vol, "/B"), 0);
	/* files made now all differ from each other */
	uint64_t seen[8];
	for (int i = 0; i < 8; i++) {
		char p[16];
		snprintf(p, sizeof(p), "/f%d", i);
		assert_int_equal(fat_open(vol, p, O_WRONLY | O_CREAT, &f), 0);
		fat_close(f);
		assert_int_equal(fat_stat(vol, p, &st), 0);
		seen[i] = st.ino;
		assert_true(st.ino != d && st.ino != x);
		for (int j = 0; j < i; j++)
			assert_true(seen[j] != seen[i]);
	}
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	memdev_free(m);
}

/* fallocate: mode 0 grows with zeros, KEEP_SIZE allocates past the size
 * until a writer closes (as vfat), other modes are refused. */
static void
test_fallocate(void **s)
{
	(void)s;
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, 32, 64 << 20, 512, 4096);
	struct fat_file *f, *r;
	struct fat_stat st;
	uint8_t buf[4096], zero[4096] = {0};

	assert_int_equal(fat_open(vol, "/pre", O_RDWR | O_CREAT, &f), 0);
	assert_int_equal(fat_pwrite(f, "abc", 3, 0), 3);
	assert_int_equal(fat_fallocate(f, 0, 0, 10000), 0);
	assert_int_equal(fat_fstat(f, &st), 0);
	assert_int_equal(st.size, 10000);
	assert_int_equal(st.blocks, 3 * 8);
	assert_int_equal(fat_pread(f, buf, 4096, 4096), 4096);
	assert_memory_equal(buf, zero, 4096);
	assert_int_equal(fat_fallocate(f, 0, 0, 100), 0); /* inside: nothing */
	assert_int_equal(fat_fstat(f, &st), 0);
	assert_int_equal(st.size, 10000);
	/* KEEP_SIZE: 1 MiB of clusters, the size stays */
	assert_int_equal(fat_fallocate(f, FAT_FALLOC_KEEP_SIZE, 0, 1 << 20), 0);
	assert_int_equal(fat_fstat(f, &st), 0);
	assert_int_equal(st.size, 10000);
	assert_int_equal(st.blocks, (1 << 20) / 512);
	assert_int_equal(fat_pread(f, buf, 4096, 10000), 0);
	/* growing past the old size reads zeros, not the clusters' past */
	assert_int_equal(fat_ftruncate(f, 20000), 0);
	assert_int_equal(fat_pread(f, buf, 4096, 12288), 4096);
	assert_memory_equal(buf, zero, 4096);
	assert_int_equal(fat_fallocate(f, 0x2 | FAT_FALLOC_KEEP_SIZE, 0, 4096),
			 -EOPNOTSUPP); /* punch hole */
	assert_int_equal(fat_fallocate(f, 0x10, 0, 4096), -EOPNOTSUPP); /* zero range */
	assert_int_equal(fat_fallocate(f, 0, 0, 0), -EINVAL);
	/* a reader's close keeps them, the writer's close frees them */
	assert_int_equal(fat_open(vol, "/pre", O_RDONLY, &r), 0);
	assert_int_equal(fat_fallocate(r, 0, 0, 1), -EBADF);
	assert_int_equal(fat_close(r), 0);
	assert_int_equal(fat_stat(vol, "/pre", &st), 0);
	assert_int_equal(fat_close(f), 0);
	assert_int_equal(fat_open(vol, "/pre", O_RDONLY, &r), 0);
	assert_int_equal(fat_fstat(r, &st), 0);
	assert_int_equal(st.size, 20000);
	assert_int_equal(st.blocks, 5 * 8);
	assert_int_equal(fat_close(r), 0);
	/* a full volume: -ENOSPC and nothing kept */
	assert_int_equal(fat_open(vol, "/big", O_RDWR | O_CREAT, &f), 0);
	assert_int_equal(fat_fallocate(f, FAT_FALLOC_KEEP_SIZE, 0, 1ull << 31), -ENOSPC);
	assert_int_equal(fat_fstat(f, &st), 0);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(fat_close(f), 0);
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	memdev_free(m);
}

/* Small appends are coalesced by the write-behind buffer (far fewer
 * device writes than calls) and every read, through any handle, sees
 * what was written; fsync and close put it on the device. */
static void
test_small_writes(void **s)
{
	(void)s;
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, 16, 20 << 20, 512, 2048);
	struct fat_file *w, *r;
	size_t total = 0, cap = 1 << 20;
	uint8_t *model = malloc(cap), buf[300];
	uint64_t x = 12345;

	assert_int_equal(fat_open(vol, "/log.txt", O_WRONLY | O_CREAT | O_APPEND, &w), 0);
	assert_int_equal(fat_open(vol, "/log.txt", O_RDONLY, &r), 0);
	long before = m->writes;
	for (int i = 0; i < 5000; i++) {
		size_t n = 1 + i % 211;
		for (size_t k = 0; k < n; k++)
			model[total + k] = (uint8_t)(i + k);
		assert_int_equal(fat_pwrite(w, model + total, n, 0), (ssize_t)n);
		total += n;
		if (i % 97 == 0) {	/* read somewhere, maybe in the buffered tail */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t off = x % total, want = total - off < sizeof buf ? total - off : sizeof buf;
			assert_int_equal(fat_pread(r, buf, sizeof buf, off), (ssize_t)want);
			assert_memory_equal(buf, model + off, want);
		}
	}
	long writes = m->writes - before;
	/* 5000 calls; unbuffered each would write at least one sector */
	assert_true(writes < 2000);
	assert_int_equal(fat_fsync(w), 0);
	fat_close(r);
	assert_int_equal(fat_close(w), 0);
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	check_file(vol, "/log.txt", model, total);
	assert_int_equal(fat_unmount(vol), 0);
	memdev_free(m);
	free(model);
}

/* Small files written and closed one after another leave in a few large
 * device writes (the stage), and nothing reads stale bytes meanwhile:
 * reads through new handles, a rewrite, a partial overwrite (a
 * read-modify-write of a staged sector), then a remount. */
static void
fill_file(uint8_t *b, size_t n, int k)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(k * 7 + i / 3);
}

static void
test_staged_files(void **s)
{
	(void)s;
	struct memdev *m;
	struct fat_vol *vol = mkvol(&m, 32, 40 << 20, 512, 4096);
	struct fat_file *f;
	uint8_t data[4096];
	char p[64];
	enum { N = 300 };

	assert_int_equal(fat_mkdir(vol, "/many"), 0);
	assert_int_equal(fat_sync(vol), 0);
	long before = m->requests;
	for (int k = 0; k < N; k++) {
		snprintf(p, sizeof p, "/many/file %03d.dat", k);
		fill_file(data, sizeof data, k);
		write_file(vol, p, data, sizeof data);
	}
	/* 300 files unstaged would be 300 data writes (plus the directory's
	 * new clusters, zeroed as they are added) */
	long reqs = m->requests - before;
	assert_true(reqs < 40);
	for (int k = N - 1; k >= 0; k -= 37) {
		snprintf(p, sizeof p, "/many/file %03d.dat", k);
		fill_file(data, sizeof data, k);
		check_file(vol, p, data, sizeof data);
	}
	/* rewrite one, then change 100 bytes in the middle of another */
	fill_file(data, sizeof data, 1000);
	write_file(vol, "/many/file 005.dat", data, sizeof data);
	check_file(vol, "/many/file 005.dat", data, sizeof data);
	fill_file(data, sizeof data, N - 2);
	write_file(vol, "/many/file 299.dat", data, sizeof data);
	assert_int_equal(fat_open(vol, "/many/file 298.dat", O_RDWR, &f), 0);
	assert_int_equal(fat_pwrite(f, "x", 1, 0), 1);	/* buffered, then a new run */
	assert_int_equal(fat_pwrite(f, data + 10, 100, 1010), 100);
	assert_int_equal(fat_close(f), 0);
	fill_file(data, sizeof data, N - 2);
	memcpy(data + 1010, data + 10, 100);
	data[0] = 'x';
	check_file(vol, "/many/file 298.dat", data, sizeof data);
	assert_int_equal(fat_unmount(vol), 0);
	fsck_clean(m);
	assert_int_equal(fat_mount(&m->dev, NULL, &vol), 0);
	check_file(vol, "/many/file 298.dat", data, sizeof data);
	for (int k = 0; k < N; k++) {
		if (k == 5 || k == 298)
			continue;
		snprintf(p, sizeof p, "/many/file %03d.dat", k);
		fill_file(data, sizeof data, k == 299 ? N - 2 : k);
		check_file(vol, p, data, sizeof data);
	}
	fill_file(data, sizeof data, 1000);
	check_file(vol, "/many/file 005.dat", data, sizeof data);
	assert_int_equal(fat_unmount(vol), 0);
	memdev_free(m);
}

/* Every cluster size mkfs.fat can make (1 to 128 sectors, up to 64 KiB),
 * for each FAT type, on sparse image files: format, write, fsck. */
static void
test_cluster_sizes(void **s)
{
	(void)s;
	static uint8_t data[200000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13);
	for (int type = 12; type <= 32; type += type == 12 ? 4 : 16) {
		for (uint32_t cs = 512; cs <= 65536; cs *= 2) {
			uint64_t nclus = type == 12 ? 3000 : type == 16 ? 20000 : 70000;
			char path[512];
			struct fat_blkdev *dev;
			struct fat_vol *vol;
			struct fat_format_opts fo = {.fat_type = type, .cluster_size = cs};
			struct fat_image_opts io = {.create_size = nclus * cs + nclus * 8 + 65536};
			snprintf(path, sizeof path, "%s/cs-%d-%u.img", tmpdir, type, cs);
			assert_int_equal(fat_image_open(path, &io, &dev), 0);
			int err = fat_format(dev, &fo);
			if (err)
				fail_msg("FAT%d with %u-byte clusters: %d", type, cs, err);
			assert_int_equal(fat_mount(dev, NULL, &vol), 0);
			struct fat_statfs sf;
			assert_int_equal(fat_statfs(vol, &sf), 0);
			assert_int_equal(sf.fat_type, type);
			assert_int_equal(sf.cluster_size, cs);
			assert_int_equal(fat_mkdir(vol, "/a directory"), 0);
			write_file(vol, "/a directory/data.bin", data, sizeof data);
			check_file(vol, "/a directory/data.bin", data, sizeof data);
			assert_int_equal(fat_unmount(vol), 0);
			fat_blkdev_free(dev);
			char *out = NULL;
			if (run_fsck(path, &out) != 0)
				fail_msg("FAT%d, %u-byte clusters: fsck.fat -n:\n%s", type, cs, out);
			free(out);
			unlink(path);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fat12),
		cmocka_unit_test(test_fat16),
		cmocka_unit_test(test_fat32),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_cluster_sizes),
		cmocka_unit_test(test_small_writes),
		cmocka_unit_test(test_fallocate),
		cmocka_unit_test(test_stable_ino),
		cmocka_unit_test(test_staged_files),
		cmocka_unit_test(test_churn),
	};
	tmpdir = make_tmpdir();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rm_rf(tmpdir);
	free(tmpdir);
	return rc;
}
