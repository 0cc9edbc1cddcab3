/*
 * test_srv_util.c - the helpers dvs-fs and dvs-vdd share (lib/srv, dvs/srv.h):
 * number and endpoint parsing, and the bulk I/O buffer, which must come
 * from dvk_buf_alloc (one-copy vcopy) and fall back to ordinary memory
 * when dvkd refuses one.  libdvk's buffer calls are stubbed here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dvs/srv.h"

static int buf_alloc_rc;     /* what the stub dvk_buf_alloc returns */
static void *buf_given;	     /* the memory it handed out */
static int buf_frees;	     /* dvk_buf_free calls with that memory */
static struct dvk *buf_owner; /* the binding it was asked for */

int
dvk_buf_alloc(struct dvk *h, size_t len, void **out)
{
	buf_owner = h;
	if (buf_alloc_rc < 0)
		return buf_alloc_rc;
	buf_given = calloc(1, len);
	*out = buf_given;
	return buf_given != NULL ? 0 : -ENOMEM;
}

int
dvk_buf_free(struct dvk *h, void *p)
{
	assert_ptr_equal(h, buf_owner);
	if (p == buf_given) {
		buf_frees++;
		free(p);
		buf_given = NULL;
	}
	return 0;
}

const char *
dvk_strerror(int err)
{
	(void)err;
	return "stub error";
}

static void
test_parse_long(void **state)
{
	static const struct {
		const char *s;
		long min, max;
		int rc;
		long v;
	} cases[] = {
	    {"0", 0, 10, 0, 0},	     {"10", 0, 10, 0, 10},   {"11", 0, 10, -1, 0},
	    {"-1", 0, 10, -1, 0},    {"-1", -5, 10, 0, -1},  {"", 0, 10, -1, 0},
	    {"1x", 0, 10, -1, 0},    {" 1", 0, 10, -1, 0},   {"1 ", 0, 10, -1, 0},
	    {"+1", 0, 10, -1, 0}, /* dvs_parse_long: no blank, no sign */
	    {"0x1", 0, 10, -1, 0},
	    {"99999999999999999999", 0, 10, -1, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long v = 12345;
		int rc = srv_parse_long(cases[i].s, cases[i].min, cases[i].max, &v);

		assert_int_equal(rc, cases[i].rc);
		assert_int_equal(v, cases[i].rc == 0 ? cases[i].v : 12345);
	}
}

static void
test_env_ep(void **state)
{
	long ep = 7;

	(void)state;
	unsetenv("SRV_TEST_EP");
	assert_int_equal(srv_env_ep("t", "SRV_TEST_EP", &ep), 0);
	assert_int_equal(ep, 7); /* unset: the default stays */
	setenv("SRV_TEST_EP", "", 1);
	assert_int_equal(srv_env_ep("t", "SRV_TEST_EP", &ep), 0);
	assert_int_equal(ep, 7);
	setenv("SRV_TEST_EP", "42", 1);
	assert_int_equal(srv_env_ep("t", "SRV_TEST_EP", &ep), 0);
	assert_int_equal(ep, 42);
	setenv("SRV_TEST_EP", "forty", 1);
	assert_int_equal(srv_env_ep("t", "SRV_TEST_EP", &ep), -1);
	setenv("SRV_TEST_EP", "-3", 1);
	assert_int_equal(srv_env_ep("t", "SRV_TEST_EP", &ep), -1);
	assert_int_equal(ep, 42);
	unsetenv("SRV_TEST_EP");
}

/* dvkd gives a copy buffer: it is used, and given back to dvkd. */
static void
test_iobuf_shared(void **state)
{
	struct dvk *h = (struct dvk *)(uintptr_t)0x1000; /* never dereferenced */
	struct srv_iobuf b;

	(void)state;
	buf_alloc_rc = 0;
	buf_frees = 0;
	assert_int_equal(srv_iobuf_alloc(h, 1 << 20, &b), 0);
	assert_ptr_equal(b.p, buf_given);
	assert_ptr_equal(b.h, h);
	assert_ptr_equal(buf_owner, h);
	assert_int_equal(b.len, 1 << 20);
	srv_iobuf_free(&b);
	assert_int_equal(buf_frees, 1);
	assert_null(b.p);
	srv_iobuf_free(&b); /* twice is harmless */
	assert_int_equal(buf_frees, 1);
}

/* dvkd refuses (its per-binding limit, an old dvkd): the server still
 * gets a usable buffer, in ordinary memory aligned for a huge page. */
static void
test_iobuf_fallback(void **state)
{
	struct dvk *h = (struct dvk *)(uintptr_t)0x1000;
	struct srv_iobuf b;

	(void)state;
	buf_alloc_rc = -EDVS_LIMIT;
	buf_frees = 0;
	assert_int_equal(srv_iobuf_alloc(h, 1 << 20, &b), 0);
	assert_non_null(b.p);
	assert_null(b.h);
	assert_int_equal((uintptr_t)b.p % (2u << 20), 0);
	memset(b.p, 0xa5, b.len); /* all of it is ours */
	assert_int_equal(b.p[b.len - 1], 0xa5);
	srv_iobuf_free(&b);
	assert_int_equal(buf_frees, 0);
	assert_null(b.p);
	/* No binding at all: the same. */
	assert_int_equal(srv_iobuf_alloc(NULL, 4096, &b), 0);
	assert_non_null(b.p);
	srv_iobuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_long),
	    cmocka_unit_test(test_env_ep),
	    cmocka_unit_test(test_iobuf_shared),
	    cmocka_unit_test(test_iobuf_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
