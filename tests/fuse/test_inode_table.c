/* test_inode_table.c - unit tests of dvs-fuse's inode table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "inode_table.h"

static int
setup(void **state)
{
	struct ino_table *t;

	if (ino_table_new(7, &t) != 0)
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	ino_table_free(*state);
	return 0;
}

static void
test_root_path(void **state)
{
	char buf[64];

	assert_int_equal(ino_table_path(*state, INO_ROOT, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");
	assert_int_equal(ino_table_child_path(*state, INO_ROOT, "a", buf, sizeof(buf)),
			 2);
	assert_string_equal(buf, "/a");
}

static void
test_node_id_is_ino(void **state)
{
	struct ino_table *t = *state;
	uint64_t a, b, again;
	char buf[64];

	assert_int_equal(ino_table_add(t, INO_ROOT, "dir", 100, &a), 0);
	assert_int_equal(a, 100);
	assert_int_equal(ino_table_add(t, a, "file", 200, &b), 0);
	assert_int_equal(b, 200);
	assert_int_equal(ino_table_path(t, b, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "/dir/file");
	/* A second lookup gives the same number and one more count. */
	assert_int_equal(ino_table_add(t, a, "file", 200, &again), 0);
	assert_int_equal(again, b);
	ino_table_forget(t, b, 1);
	assert_int_equal(ino_table_path(t, b, buf, sizeof(buf)), 9);
	ino_table_forget(t, b, 1);
	assert_int_equal(ino_table_path(t, b, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ino_table_count(t), 2);
}

static void
test_reserved_and_reused_node(void **state)
{
	struct ino_table *t = *state;
	uint64_t a, b, c;

	/* Node id 1 is the FUSE root's number: never handed out. */
	assert_int_equal(ino_table_add(t, INO_ROOT, "one", 1, &a), 0);
	assert_true(a > INO_ROOT);
	assert_true(a != 1);
	/* Deleted-but-open file keeps its number; the new file on the same
	 * slot (same node id) must get another one. */
	assert_int_equal(ino_table_add(t, INO_ROOT, "old", 300, &b), 0);
	ino_table_unlinked(t, INO_ROOT, "old");
	assert_int_equal(ino_table_add(t, INO_ROOT, "new", 300, &c), 0);
	assert_true(c != b);
	assert_int_equal(ino_table_node(t, c, &(uint64_t){0}), 0);
}

static void
test_case_and_alias(void **state)
{
	struct ino_table *t = *state;
	uint64_t a, b, c;
	char buf[64];

	uint64_t p, again;

	assert_int_equal(ino_table_add(t, INO_ROOT, "Readme.txt", 40, &a), 0);
	/* Another spelling: a number of its own, an alias of a (else the
	 * kernel would make rename("Readme.txt", "README.TXT") a no-op). */
	assert_int_equal(ino_table_add(t, INO_ROOT, "README.TXT", 40, &b), 0);
	assert_true(a != b);
	assert_int_equal(ino_table_alias_of(t, b, &p), 1);
	assert_int_equal(p, a);
	assert_int_equal(ino_table_alias_of(t, a, &p), 0);
	assert_int_equal(ino_table_add(t, INO_ROOT, "README.TXT", 40, &again), 0);
	assert_int_equal(again, b);
	assert_int_equal(ino_table_add(t, INO_ROOT, "Readme.txt", 40, &again), 0);
	assert_int_equal(again, a);
	/* The 8.3 name is another name of the node: the same inode. */
	assert_int_equal(ino_table_add(t, INO_ROOT, "READ~1.TXT", 40, &c), 0);
	assert_int_equal(a, c);
	assert_int_equal(ino_table_path(t, a, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "/Readme.txt");
	assert_int_equal(ino_table_path(t, b, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "/README.TXT");
	ino_table_unlinked(t, INO_ROOT, "readme.TXT");
	assert_int_equal(ino_table_path(t, a, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ino_table_path(t, b, buf, sizeof(buf)), -ENOENT);
}

static void
test_case_only_rename(void **state)
{
	struct ino_table *t = *state;
	uint64_t a, b, p;
	char buf[64];

	assert_int_equal(ino_table_add(t, INO_ROOT, "Foo", 50, &a), 0);
	assert_int_equal(ino_table_add(t, INO_ROOT, "fOO", 50, &b), 0);
	/* rename Foo -> fOO: a takes the new spelling, the alias goes. */
	assert_int_equal(ino_table_renamed(t, INO_ROOT, "Foo", INO_ROOT, "fOO", 51), 0);
	assert_int_equal(ino_table_path(t, a, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "/fOO");
	assert_int_equal(ino_table_path(t, b, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ino_table_alias_of(t, a, &p), 0);
	assert_int_equal(ino_table_add(t, INO_ROOT, "fOO", 51, &p), 0);
	assert_int_equal(p, a);
}

static void
test_rename_moves_subtree(void **state)
{
	struct ino_table *t = *state;
	uint64_t d, f, d2, v;
	char buf[64];

	assert_int_equal(ino_table_add(t, INO_ROOT, "d", 10, &d), 0);
	assert_int_equal(ino_table_add(t, d, "f", 11, &f), 0);
	assert_int_equal(ino_table_add(t, INO_ROOT, "e", 12, &d2), 0);
	assert_int_equal(ino_table_add(t, d2, "victim", 13, &v), 0);
	assert_int_equal(ino_table_renamed(t, INO_ROOT, "d", d2, "victim", 99), 0);
	assert_int_equal(ino_table_path(t, f, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "/e/victim/f");
	/* The overwritten target has no path any more. */
	assert_int_equal(ino_table_path(t, v, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ino_table_node(t, d, &(uint64_t){0}), 0);
	/* Path too long for the buffer. */
	assert_int_equal(ino_table_path(t, f, buf, 5), -ENAMETOOLONG);
}

static void
test_unknown_parent_and_many(void **state)
{
	struct ino_table *t = *state;
	char name[32];
	uint64_t ino;
	int i;

	assert_int_equal(ino_table_add(t, 12345, "x", 5, &ino), -ENOENT);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(
		    ino_table_add(t, INO_ROOT, name, 1000 + (uint64_t)i, &ino), 0);
		assert_int_equal(ino, 1000 + (uint64_t)i);
	}
	assert_int_equal(ino_table_count(t), 5001);
	for (i = 0; i < 5000; i++)
		ino_table_forget(t, 1000 + (uint64_t)i, 1);
	assert_int_equal(ino_table_count(t), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_root_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node_id_is_ino, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reserved_and_reused_node, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_case_and_alias, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_case_only_rename, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename_moves_subtree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_parent_and_many, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
