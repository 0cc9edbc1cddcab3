/*
 * test_util_units.c - lib/util: the number parser every program uses for
 * what a user types (table-driven), the JSON output (what parsers need:
 * escapes, U+FFFD for bytes that are not UTF-8, fixed-point numbers) and
 * the log levels of -v and -q.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dvs/json_out.h"
#include "dvs/log.h"
#include "dvs/parse.h"

static void
test_parse_long(void **state)
{
	static const struct {
		const char *s;
		long min, max;
		int rc;
		long want;
	} cases[] = {
	    {"0", 0, 10, 0, 0},
	    {"10", 0, 10, 0, 10},
	    {"11", 0, 10, -ERANGE, 0},
	    {"-1", 0, 10, -EINVAL, 0}, /* no sign where none is allowed */
	    {"-5", -10, 10, 0, -5},
	    {"-11", -10, 10, -ERANGE, 0},
	    {"", 0, 10, -EINVAL, 0},
	    {"abc", 0, 10, -EINVAL, 0},
	    {"5x", 0, 10, -EINVAL, 0},
	    {" 5", 0, 10, -EINVAL, 0},
	    {"+5", 0, 10, -EINVAL, 0},
	    {"5 ", 0, 10, -EINVAL, 0},
	    {"99999999999999999999999", 0, 10, -ERANGE, 0},
	    {"0x10", 0, 100, -EINVAL, 0},
	    {"-", -10, 10, -EINVAL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long v = 12345;
		int rc = dvs_parse_long(cases[i].s, cases[i].min, cases[i].max, &v);

		if (rc != cases[i].rc)
			fail_msg("'%s': %d, want %d", cases[i].s, rc, cases[i].rc);
		assert_int_equal(v, rc == 0 ? cases[i].want : 12345);
	}
}

static void
test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t max;
		int rc;
		uint64_t want;
	} cases[] = {
	    {"0", 100, 0, 0},
	    {"100", 100, 0, 100},
	    {"101", 100, -ERANGE, 0},
	    {"4k", UINT64_MAX, 0, 4096},
	    {"4K", UINT64_MAX, 0, 4096},
	    {"3M", UINT64_MAX, 0, 3u << 20},
	    {"2g", UINT64_MAX, 0, 2ull << 30},
	    {"1k", 1023, -ERANGE, 0},
	    {"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
	    {"18446744073709551616", UINT64_MAX, -ERANGE, 0},
	    {"17179869184G", UINT64_MAX, -ERANGE, 0}, /* 2^34 G overflows */
	    {"17179869183G", UINT64_MAX, 0, 17179869183ull << 30},
	    {"", 100, -EINVAL, 0},
	    {"-1", 100, -EINVAL, 0},
	    {"+1", 100, -EINVAL, 0},
	    {" 1", 100, -EINVAL, 0},
	    {"1 ", 100, -EINVAL, 0},
	    {"1kb", UINT64_MAX, -EINVAL, 0},
	    {"1T", UINT64_MAX, -EINVAL, 0},
	    {"0x10", UINT64_MAX, -EINVAL, 0},
	    {"k", UINT64_MAX, -EINVAL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int rc = dvs_parse_size(cases[i].s, cases[i].max, &v);

		if (rc != cases[i].rc)
			fail_msg("'%s': %d, want %d", cases[i].s, rc, cases[i].rc);
		assert_true(v == (rc == 0 ? cases[i].want : 12345));
	}
}

/* The text dvs_json_print writes for doc. */
static char *
printed(struct json_object *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(dvs_json_print(f, doc), 0);
	fclose(f);
	return buf;
}

static void
test_json_text(void **state)
{
	struct json_object *doc = json_object_new_object();
	char *text;

	(void)state;
	dvs_json_add_str(doc, "path", "/a\"b\\c\nd\te\001f\377g/\xc3\xa9");
	dvs_json_add_bool(doc, "ok", 1);
	dvs_json_add_uint(doc, "bytes", UINT64_MAX);
	dvs_json_add_int(doc, "neg", -3);
	dvs_json_add_fixed(doc, "seconds", 1.5, 3);
	dvs_json_add_fixed(doc, "nan", NAN, 3);
	text = printed(doc);
	assert_string_equal(
	    text, "{ \"path\": \"/a\\\"b\\\\c\\nd\\te\\u0001f\xef\xbf\xbdg/\xc3\xa9\", "
		  "\"ok\": true, \"bytes\": 18446744073709551615, \"neg\": -3, "
		  "\"seconds\": 1.500, \"nan\": null }\n");
	free(text);
}

static void
test_json_string_null(void **state)
{
	struct json_object *s = dvs_json_string(NULL);

	(void)state;
	assert_string_equal(json_object_get_string(s), "");
	json_object_put(s);
	/* A truncated UTF-8 sequence at the end is one U+FFFD. */
	s = dvs_json_string("x\xc3");
	assert_string_equal(json_object_get_string(s), "x\xef\xbf\xbd");
	json_object_put(s);
}

static void
test_log_levels(void **state)
{
	(void)state;
	unsetenv("DVS_LOG");
	dvs_log_init("test");
	assert_string_equal(dvs_log_level_name(), "warn");
	assert_false(dvs_log_enabled(DVS_LOG_INFO));
	dvs_log_more();
	assert_string_equal(dvs_log_level_name(), "info");
	dvs_log_more();
	dvs_log_more();
	assert_string_equal(dvs_log_level_name(), "debug");
	dvs_log_quiet();
	assert_string_equal(dvs_log_level_name(), "error");
	assert_false(dvs_log_enabled(DVS_LOG_WARN));
}

/* A message with a terminal escape, a carriage return and a newline in
 * it (a file name, a peer's text) is one line with none of them. */
static void
test_log_no_escapes(void **state)
{
	char path[] = "/tmp/dvs-log-XXXXXX", line[256];
	int fd = mkstemp(path), saved;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	dvs_log_init("test");
	dvs_log_set_level(DVS_LOG_WARN);
	dvs_err("name '%s'", "a\033[31mred\033[0m\rb\nc\td\x7f\xc3\xa9");
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "test: error: test_log_no_escapes: name "
				  "'a\\x1b[31mred\\x1b[0m\\x0db\\x0ac\\x09d\\x7f\xc3\xa9'\n");
	assert_null(fgets(line, sizeof(line), f)); /* one line */
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_long),
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_json_text),
	    cmocka_unit_test(test_json_string_null),
	    cmocka_unit_test(test_log_levels),
	    cmocka_unit_test(test_log_no_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
