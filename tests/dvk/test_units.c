/* test_units.c - unit tests of the checks that face untrusted bytes: packet
 * framing, ring indices, the grant check, and the error names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dvk_int.h"
#include "dvkd.h"

static size_t
mk(uint8_t *buf, uint32_t magic, uint16_t type, uint16_t len)
{
	struct dvkd_hdr h = { magic, type, len, 1, 0 };

	memset(buf, 0, 256);
	memcpy(buf, &h, sizeof(h));
	return len;
}

static void
test_msg_check(void **state)
{
	static const struct {
		uint32_t magic;
		uint16_t type;
		int body;  /* body bytes claimed in len; -1: the type's */
		int extra; /* received bytes beyond len */
		int ok;
	} cases[] = {
		{ DVKD_MAGIC, DVKD_PING, -1, 0, 1 },
		{ DVKD_MAGIC, DVKD_VCOPY, -1, 0, 1 },
		{ DVKD_MAGIC, DVKD_REPLY, -1, 0, 1 },
		{ 0xdeadbeef, DVKD_PING, -1, 0, 0 },
		{ DVKD_MAGIC, 0, 0, 0, 0 },
		{ DVKD_MAGIC, DVKD_TYPE_MAX, 0, 0, 0 },
		{ DVKD_MAGIC, 999, 0, 0, 0 },
		{ DVKD_MAGIC, DVKD_PING, 8, 0, 0 },
		{ DVKD_MAGIC, DVKD_VCOPY, 4, 0, 0 },
		{ DVKD_MAGIC, DVKD_PING, -1, 4, 0 },
		{ DVKD_MAGIC, DVKD_BIND, -1, -2, 0 },
	};
	uint8_t buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int bs = dvkd_body_size(cases[i].type);
		int body = cases[i].body >= 0 ? cases[i].body : bs;
		size_t len = mk(buf, cases[i].magic, cases[i].type,
				(uint16_t)(sizeof(struct dvkd_hdr) + (size_t)(body < 0 ? 0 : body)));

		assert_int_equal(dvkd_msg_check(buf, len + (size_t)(long)cases[i].extra),
				 cases[i].ok ? 0 : -EDVS_PROTO);
	}
	/* shorter than a header */
	assert_int_equal(dvkd_msg_check(buf, 3), -EDVS_PROTO);
	assert_int_equal(dvkd_body_size(0), -1);
	assert_int_equal(dvkd_body_size(12345), -1);
}

static void
test_ring_indices(void **state)
{
	(void)state;
	assert_int_equal(dvk_ring_check_tail(0, 0, 128), 0);
	assert_int_equal(dvk_ring_check_tail(5, 133, 128), 0);
	assert_int_equal(dvk_ring_check_tail(5, 134, 128), -EDVS_PROTO);
	assert_int_equal(dvk_ring_check_tail(5, 4, 128), -EDVS_PROTO);
	assert_int_equal(dvk_ring_check_tail(UINT64_MAX - 1, 3, 128), -EDVS_PROTO);
}

static struct dvk_grant_ent table[DVK_GRANTS];

/* The grantee binding's generation the owner recorded. */
#define GGEN 77u

static int32_t
grant(unsigned idx, unsigned gen, int grantee, unsigned access, uint64_t addr,
      uint64_t len, unsigned st)
{
	table[idx].state = st;
	table[idx].gen = gen;
	table[idx].grantee = grantee;
	table[idx].grantee_gen = GGEN;
	table[idx].access = access;
	table[idx].addr = addr;
	table[idx].len = len;
	return (int32_t)((gen << DVK_GRANT_IDX_BITS) | idx);
}

static void
test_grant_check(void **state)
{
	int32_t g = grant(7, 3, 5, DVK_GRANT_READ, 0x10000, 4096, DVK_GSTATE_ACTIVE);
	int32_t w = grant(8, 1, 5, DVK_GRANT_WRITE, 0x20000, 100, DVK_GSTATE_ACTIVE);
	int32_t r = grant(9, 2, 5, DVK_GRANT_READ, 0x30000, 100, DVK_GSTATE_REVOKED);
	int32_t f = grant(10, 2, 5, DVK_GRANT_READ, 0x30000, 100, DVK_GSTATE_FREE);
	int32_t o = grant(11, 1, 5, DVK_GRANT_READ, UINT64_MAX - 10, 100, DVK_GSTATE_ACTIVE);
	uint64_t a = 0;

	(void)state;
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_FROM, 0, 4096, &a), 0);
	assert_true(a == 0x10000);
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_FROM, 96, 4000, &a), 0);
	assert_true(a == 0x10000 + 96);
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_FROM, 97, 4000, &a), -EDVS_GRANTRANGE);
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_FROM, 4097, 0, &a), -EDVS_GRANTRANGE);
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_FROM, UINT64_MAX, 2, &a), -EDVS_GRANTRANGE);
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_FROM, 1, UINT64_MAX, &a), -EDVS_GRANTRANGE);
	assert_int_equal(dvkd_grant_check(table, g, 6, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_GRANTPEER);
	/* the right endpoint, a later binding of it */
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN + 1, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_GRANTPEER);
	/* made while the endpoint was free: only bindings made after it */
	table[7].grantee_gen = 0;
	table[7].grantee_after = GGEN;
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_GRANTPEER);
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN - 1, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_GRANTPEER);
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN + 1, DVKD_VCOPY_FROM, 0, 1, &a), 0);
	table[7].grantee_gen = GGEN;
	assert_int_equal(dvkd_grant_check(table, g, 5, GGEN, DVKD_VCOPY_TO, 0, 1, &a), -EDVS_GRANTACCESS);
	assert_int_equal(dvkd_grant_check(table, w, 5, GGEN, DVKD_VCOPY_TO, 0, 100, &a), 0);
	assert_int_equal(dvkd_grant_check(table, w, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_GRANTACCESS);
	assert_int_equal(dvkd_grant_check(table, r, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_REVOKED);
	assert_int_equal(dvkd_grant_check(table, f, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_BADGRANT);
	assert_int_equal(dvkd_grant_check(table, o, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_GRANTRANGE);
	/* stale generation, bad ids */
	assert_int_equal(dvkd_grant_check(table, g + (1 << DVK_GRANT_IDX_BITS), 5, GGEN,
					  DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_BADGRANT);
	assert_int_equal(dvkd_grant_check(table, -1, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_BADGRANT);
	assert_int_equal(dvkd_grant_check(table, 7, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_BADGRANT);
	assert_int_equal(dvkd_grant_check(table, INT32_MAX, 5, GGEN, DVKD_VCOPY_FROM, 0, 1, &a), -EDVS_BADGRANT);
}

static void
test_strerror(void **state)
{
	int e, k;

	(void)state;
	for (e = EDVS_BASE + 1; e < EDVS_MAX; e++) {
		const char *s = dvk_strerror(-e);

		assert_non_null(s);
		assert_string_not_equal(s, "unknown DVS error");
		for (k = EDVS_BASE + 1; k < e; k++)
			assert_string_not_equal(s, dvk_strerror(-k));
	}
	assert_string_equal(dvk_strerror(0), "success");
	assert_string_equal(dvk_strerror(-EDVS_MAX), "unknown DVS error");
	assert_non_null(dvk_strerror(-EINVAL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_check),
		cmocka_unit_test(test_ring_indices),
		cmocka_unit_test(test_grant_check),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
