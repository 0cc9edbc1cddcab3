/*
 * test_units.c - the cluster file parser and the proxy frame checks,
 * table-driven, without sockets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "proxy_wire.h"

static void
file_good(void **state)
{
	static const char text[] =
		"# a comment\n"
		"cluster prod-1   # trailing comment\n"
		"key /etc/dvs/cluster.key\n"
		"\n"
		"  port 7500\n"
		"node 0 10.1.0.1\n"
		"node 5\t10.1.0.6\r\n";
	struct cl_file f;
	char err[200];

	(void)state;
	assert_int_equal(cl_file_parse(text, sizeof(text) - 1, &f, err, sizeof(err)), 0);
	assert_string_equal(f.name, "prod-1");
	assert_string_equal(f.key_path, "/etc/dvs/cluster.key");
	assert_int_equal(f.port, 7500);
	assert_int_equal(f.nnodes, 2);
	assert_int_equal(f.nodes[1].id, 5);
	assert_int_equal(f.nodes[1].addr.s_addr, htonl(0x0a010006));
}

static void
file_default_port(void **state)
{
	static const char text[] = "cluster a\nkey /k\nnode 0 127.0.0.1";
	struct cl_file f;
	char err[200];

	(void)state;
	assert_int_equal(cl_file_parse(text, sizeof(text) - 1, &f, err, sizeof(err)), 0);
	assert_int_equal(f.port, CL_DEFAULT_PORT);
	assert_int_equal(f.nnodes, 1);
}

/* Each bad file, and a word the error message must contain. */
static const struct {
	const char *text, *says;
} bad_files[] = {
	{ "key /k\nnode 0 1.2.3.4\n", "no 'cluster" },
	{ "cluster a\nnode 0 1.2.3.4\n", "no 'key" },
	{ "cluster a\nkey /k\n", "no 'node" },
	{ "cluster a b\nkey /k\nnode 0 1.2.3.4\n", "line 1" },
	{ "cluster a/b\nkey /k\nnode 0 1.2.3.4\n", "line 1" },
	{ "cluster a\nkey relative\nnode 0 1.2.3.4\n", "line 2" },
	{ "cluster a\nkey /k\nport 0\nnode 0 1.2.3.4\n", "line 3" },
	{ "cluster a\nkey /k\nport 65536\nnode 0 1.2.3.4\n", "line 3" },
	{ "cluster a\nkey /k\nnode 64 1.2.3.4\n", "line 3" },
	{ "cluster a\nkey /k\nnode -1 1.2.3.4\n", "line 3" },
	{ "cluster a\nkey /k\nnode 0 1.2.3.400\n", "not an IPv4" },
	{ "cluster a\nkey /k\nnode 0 1.2.3.4\nnode 0 1.2.3.5\n", "twice" },
	{ "cluster a\nkey /k\nnode 0 1.2.3.4\nnode 1 1.2.3.4\n", "node 0's too" },
	{ "cluster a\nkey /k\nnodes 0 1.2.3.4\n", "unknown keyword" },
	{ "cluster a\nkey /k\nnode 0 1.2.3.4 extra words here\n", "too many" },
	{ "cluster aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nkey /k\nnode 0 1.2.3.4\n", "line 1" },
};

static void
file_bad(void **state)
{
	struct cl_file f;
	char err[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		err[0] = '\0';
		assert_int_equal(cl_file_parse(bad_files[i].text, strlen(bad_files[i].text), &f,
					       err, sizeof(err)),
				 -EINVAL);
		if (strstr(err, bad_files[i].says) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad_files[i].says);
	}
}

static void
file_nul_and_long_lines(void **state)
{
	char text[2048];
	struct cl_file f;
	char err[200];

	(void)state;
	memcpy(text, "cluster a\0b\nkey /k\nnode 0 1.2.3.4\n", 34);
	assert_int_equal(cl_file_parse(text, 34, &f, err, sizeof(err)), -EINVAL);
	memset(text, 'x', sizeof(text));
	assert_int_equal(cl_file_parse(text, sizeof(text), &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer"));
}

static void
frame_check(void **state)
{
	uint8_t buf[sizeof(struct px_hdr)];
	struct px_hdr h;
	unsigned t;

	(void)state;
	for (t = 1; t < PX_TYPE_MAX; t++) {
		px_hdr_make(buf, t, 7);
		assert_int_equal(px_hdr_check(buf, sizeof(buf), &h), 0);
		assert_int_equal(h.type, t);
		assert_int_equal(h.seq, 7);
		assert_true(h.len <= PX_BODY_MAX);
	}
	px_hdr_make(buf, PX_PING, 1);
	assert_int_equal(px_hdr_check(buf, sizeof(buf) - 1, &h), -EPROTO);
	buf[0] ^= 1; /* magic */
	assert_int_equal(px_hdr_check(buf, sizeof(buf), &h), -EPROTO);
	buf[0] ^= 1;
	buf[8]++; /* length other than the type's */
	assert_int_equal(px_hdr_check(buf, sizeof(buf), &h), -EPROTO);
	buf[8]--;
	buf[4] = PX_TYPE_MAX; /* unknown type */
	assert_int_equal(px_hdr_check(buf, sizeof(buf), &h), -EPROTO);
	buf[4] = 0;
	assert_int_equal(px_hdr_check(buf, sizeof(buf), &h), -EPROTO);
	buf[4] = PX_PING;
	buf[6] = 1; /* flags must be 0 */
	assert_int_equal(px_hdr_check(buf, sizeof(buf), &h), -EPROTO);
}

static void
mac_binds_everything(void **state)
{
	static const uint8_t key[16] = "0123456789abcdef", key2[16] = "0123456789abcdeF";
	uint8_t nd[PX_NONCE] = { 1 }, na[PX_NONCE] = { 2 }, ref[PX_MAC], m[PX_MAC];

	(void)state;
	px_mac(key, 16, "c", "dialer", 0, 1, nd, na, ref);
	px_mac(key, 16, "c", "dialer", 0, 1, nd, na, m);
	assert_memory_equal(ref, m, PX_MAC);
	/* Any change of key, cluster, role, ids or nonces changes the MAC. */
	px_mac(key2, 16, "c", "dialer", 0, 1, nd, na, m);
	assert_memory_not_equal(ref, m, PX_MAC);
	px_mac(key, 16, "d", "dialer", 0, 1, nd, na, m);
	assert_memory_not_equal(ref, m, PX_MAC);
	px_mac(key, 16, "c", "acceptor", 0, 1, nd, na, m);
	assert_memory_not_equal(ref, m, PX_MAC);
	px_mac(key, 16, "c", "dialer", 1, 0, nd, na, m);
	assert_memory_not_equal(ref, m, PX_MAC);
	px_mac(key, 16, "c", "dialer", 0, 1, na, nd, m);
	assert_memory_not_equal(ref, m, PX_MAC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_good),
		cmocka_unit_test(file_default_port),
		cmocka_unit_test(file_bad),
		cmocka_unit_test(file_nul_and_long_lines),
		cmocka_unit_test(frame_check),
		cmocka_unit_test(mac_binds_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
