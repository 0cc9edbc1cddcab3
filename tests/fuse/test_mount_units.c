/*
 * test_mount_units.c - unit tests of dvs mount's parts: the mount table
 * reader (escaped paths, stacked mounts), the run directory's name (the
 * same as the tests' sha256sum), the state file, and libblkid's verdict on
 * images made here.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fstype.h"
#include "dvs/mountinfo.h"
#include "run_dir.h"
#include "state.h"

static const char table[] =
    "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
    "61 22 0:52 / /mnt/my\\040disk rw,nosuid,nodev shared:30 - fuse.dvs dvs "
    "rw,user_id=0\n"
    "62 22 0:53 / /mnt/stack rw - tmpfs tmpfs rw\n"
    "63 62 0:54 / /mnt/stack rw master:1 - fuse.dvs dvs rw\n"
    "64 22 0:55 / /mnt/tab\\011and\\134slash rw - vfat /dev/loop0 rw\n";

static int
find(const char *mnt, char *type, size_t len)
{
	FILE *f = fmemopen((void *)table, sizeof(table) - 1, "r");
	int rc;

	assert_non_null(f);
	rc = mountinfo_find(f, mnt, type, len);
	fclose(f);
	return rc;
}

static void
test_mountinfo_paths(void **state)
{
	char type[64];

	(void)state;
	assert_int_equal(find("/mnt/my disk", type, sizeof(type)), 1);
	assert_string_equal(type, "fuse.dvs");
	assert_int_equal(find("/mnt/tab\tand\\slash", type, sizeof(type)), 1);
	assert_string_equal(type, "vfat");
	/* The escaped spelling is not the path. */
	assert_int_equal(find("/mnt/my\\040disk", type, sizeof(type)), 0);
	assert_int_equal(find("/mnt", type, sizeof(type)), 0);
}

static void
test_mountinfo_stacked(void **state)
{
	char type[64];

	(void)state;
	/* The mount on top is what a user sees. */
	assert_int_equal(find("/mnt/stack", type, sizeof(type)), 1);
	assert_string_equal(type, "fuse.dvs");
}

static void
test_run_dir_name(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	setenv("DVS_RUN_DIR", "/run/x", 1);
	/* printf '%s' "/mnt/my disk" | sha256sum | cut -c1-16 */
	assert_int_equal(run_dir_of("/mnt/my disk", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/run/x/mount-55efa84817025e6a");
	assert_int_equal(run_dir_of("/tmp/a", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/run/x/mount-d9b741ea3d4d24a6");
	assert_int_equal(run_dir_of("/tmp/a", dir, 20), -ENAMETOOLONG);
}

static void
test_state_file(void **state)
{
	char dir[] = "/tmp/dvs-mount-unit.XXXXXX", path[PATH_MAX], v[256];
	long n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(state_get(path, "IMAGE", v, sizeof(v)), -ENOENT);
	assert_int_equal(state_put(dir, "IMAGE", "/img/it's \"x\".img"), 0);
	assert_int_equal(state_put_int(dir, "vdd_pid", -1), 0);
	assert_int_equal(state_put_int(dir, "fs_pid", 1234), 0);
	assert_int_equal(state_put_int(dir, "fs_pid", 5678), 0);
	assert_int_equal(state_get(path, "IMAGE", v, sizeof(v)), 1);
	assert_string_equal(v, "/img/it's \"x\".img");
	/* The last line of a key wins; an empty value is no number. */
	assert_int_equal(state_get_int(path, "fs_pid", &n), 1);
	assert_int_equal(n, 5678);
	assert_int_equal(state_get_int(path, "vdd_pid", &n), 0);
	assert_int_equal(state_get(path, "fs", v, sizeof(v)), 0);
	run_dir_remove(dir);
	assert_int_not_equal(access(dir, F_OK), 0);
}

/* Probes a 16 MiB image after the shell command cmd ran on it (the image
 * is its last argument). */
static enum fstype_kind
probe_made(const char *cmd, char *type, size_t len)
{
	char dir[] = "/tmp/dvs-mount-unit.XXXXXX", img[PATH_MAX], sh[PATH_MAX * 3];
	enum fstype_kind kind;

	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/i.img", dir);
	snprintf(sh, sizeof(sh), "truncate -s 16M '%s' && %s '%s' >/dev/null 2>&1", img, cmd,
		 img);
	assert_int_equal(system(sh), 0);
	assert_int_equal(fstype_probe(img, &kind, type, len), 0);
	run_dir_remove(dir);
	return kind;
}

static void
test_fstype(void **state)
{
	char type[64];
	enum fstype_kind kind;

	(void)state;
	assert_int_equal(probe_made("mkfs.fat -F 16", type, sizeof(type)),
			 FSTYPE_FAT);
	assert_string_equal(type, "vfat");
	assert_int_equal(probe_made("mkfs.fat -F 32", type, sizeof(type)),
			 FSTYPE_FAT);
	assert_int_equal(probe_made("mkfs.ext4 -q -F", type, sizeof(type)),
			 FSTYPE_EXT);
	assert_string_equal(type, "ext4");
	assert_int_equal(probe_made("mkfs.ext2 -q -F", type, sizeof(type)),
			 FSTYPE_EXT);
	assert_string_equal(type, "ext2");
	assert_int_equal(probe_made("mkswap", type, sizeof(type)), FSTYPE_OTHER);
	assert_string_equal(type, "swap");
	assert_int_equal(probe_made("true", type, sizeof(type)), FSTYPE_NONE);
	assert_string_equal(type, "");
	assert_int_equal(fstype_probe("/nonexistent/x.img", &kind, type, sizeof(type)),
			 -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mountinfo_paths),
	    cmocka_unit_test(test_mountinfo_stacked),
	    cmocka_unit_test(test_run_dir_name),
	    cmocka_unit_test(test_state_file),
	    cmocka_unit_test(test_fstype),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
