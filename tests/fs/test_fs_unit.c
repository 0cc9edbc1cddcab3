/*
 * test_fs_unit.c - dvs-fs's decoder and handlers without dvkd: requests
 * go through fs_dispatch with the stub DVK of stub_dvk.c on a volume in
 * memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <cmocka.h>

#include "fs.h"
#include "stub_dvk.h"

#define CLIENT 40

static void
test_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"/", "/"},	       {"//", "/"},	      {"/a", "/a"},
	    {"/a/", "/a"},     {"//a//b///", "/a/b"}, {"/a/./b", "/a/b"},
	    {"/a/../b", "/b"}, {"/../..", "/"},	      {"/a/b/../../..", "/"},
	    {"/.", "/"},       {"/a/..b", "/a/..b"},  {"/a/.../c", "/a/.../c"},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		fs_normalize_path(buf, strlen(buf));
		assert_string_equal(buf, cases[i].out);
	}
}

/* getrandom() as dvs-fs sees it (linked with --wrap=getrandom): the real
 * one unless a test makes it fail with getrandom_errno. */
ssize_t __real_getrandom(void *buf, size_t len, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags);
static int getrandom_errno;

ssize_t
__wrap_getrandom(void *buf, size_t len, unsigned flags)
{
	if (getrandom_errno != 0) {
		errno = getrandom_errno;
		return -1;
	}
	return __real_getrandom(buf, len, flags);
}

static int
setup(void **state)
{
	stub_grants_clear();
	return stub_server_init(8u << 20);
}

static int
teardown(void **state)
{
	stub_server_fini();
	return 0;
}

static int
call(int c, dvk_msg_t *m)
{
	dvk_msg_t out;
	int rc;

	m->m_type = FS_RQ_BASE + c;
	rc = stub_call(CLIENT, m, &out);
	memcpy(m->m_u.raw, out.m_u.raw, sizeof(out.m_u.raw));
	return rc;
}

static void
hello(void)
{
	dvk_msg_t m;
	struct fs_rq_hello *rq = &m.m_u.fs_rq_hello;

	memset(&m, 0, sizeof(m));
	rq->version = FS_PROTO_VERSION;
	rq->vol.grant = -1;
	assert_int_equal(call(FS_HELLO, &m), 0);
}

static int
open_path(const char *path, uint32_t len, uint32_t flags)
{
	dvk_msg_t m;
	struct fs_rq_open *rq = &m.m_u.fs_rq_open;

	memset(&m, 0, sizeof(m));
	stub_grant_set(0, (void *)(uintptr_t)path, strlen(path), 1, DVK_GRANT_READ);
	rq->path.grant = 0;
	rq->path.len = len;
	rq->flags = flags;
	rq->mode = 0644;
	return call(FS_OPEN, &m);
}

static void
test_unknown_calls(void **state)
{
	dvk_msg_t m, out;

	memset(&m, 0, sizeof(m));
	m.m_type = 0;
	assert_int_equal(stub_call(CLIENT, &m, &out), -ENOSYS);
	m.m_type = INT32_MIN;
	assert_int_equal(stub_call(CLIENT, &m, &out), -ENOSYS);
	m.m_type = FS_RQ_BASE + FS_NCALLS;
	assert_int_equal(stub_call(CLIENT, &m, &out), -ENOSYS);
	m.m_type = FS_RQ_BASE + FS_READ;
	assert_int_equal(stub_call(CLIENT, &m, &out), -ENOTCONN);
}

static void
test_paths(void **state)
{
	hello();
	assert_int_equal(open_path("/x", 0, FS_O_RDONLY), -ENOENT);
	assert_int_equal(open_path("/x", FS_WIRE_PATH_MAX, FS_O_RDONLY), -ENAMETOOLONG);
	assert_int_equal(open_path("/x", 10, FS_O_RDONLY), -EFAULT);
	assert_int_equal(open_path("x", 1, FS_O_RDONLY), -EINVAL);
	assert_int_equal(open_path("/x", 2, FS_O_RDONLY), -ENOENT);
	assert_int_equal(open_path("/x", 2, 0x8000), -EINVAL);
	/* Only len bytes count: "/abc" of "/abcdef". */
	assert_true(open_path("/abcdef", 4, FS_O_RDWR | FS_O_CREAT) >= 0);
	assert_true(open_path("/abc", 4, FS_O_RDONLY) >= 0);
	assert_int_equal(open_path("/abcdef", 7, FS_O_RDONLY), -ENOENT);
}

static void
test_rw(void **state)
{
	static unsigned char data[100000], back[100000];
	struct fs_rq_io *rq;
	dvk_msg_t m;
	int fd;
	size_t i;

	hello();
	fd = open_path("/f.bin", 6, FS_O_RDWR | FS_O_CREAT);
	assert_true(fd >= 0);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);
	stub_grant_set(1, data, sizeof(data), 1, DVK_GRANT_READ);
	stub_grant_set(2, back, sizeof(back), 1, DVK_GRANT_WRITE);
	memset(&m, 0, sizeof(m));
	rq = &m.m_u.fs_rq_io;
	rq->fd = fd;
	rq->grant = 1;
	rq->len = sizeof(data);
	assert_int_equal(call(FS_WRITE, &m), (int)sizeof(data));
	memset(&m, 0, sizeof(m));
	rq->fd = fd;
	rq->grant = 2;
	rq->len = sizeof(back);
	rq->flags = FS_IO_AT;
	assert_int_equal(call(FS_READ, &m), (int)sizeof(back));
	assert_memory_equal(data, back, sizeof(data));
	/* Wrong direction and too long for the grant. */
	memset(&m, 0, sizeof(m));
	rq->fd = fd;
	rq->grant = 1;
	rq->len = 10;
	rq->flags = FS_IO_AT;
	assert_int_equal(call(FS_READ, &m), -EFAULT);
	memset(&m, 0, sizeof(m));
	rq->fd = fd;
	rq->grant = 1;
	rq->len = sizeof(data) + 1;
	rq->flags = FS_IO_AT;
	assert_int_equal(call(FS_WRITE, &m), -EFAULT); /* longer than the grant */
	memset(&m, 0, sizeof(m));
	rq->fd = fd;
	rq->len = FS_IO_MAX + 1;
	assert_int_equal(call(FS_WRITE, &m), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.m_u.fs_rq_fd.fd = fd;
	assert_int_equal(call(FS_CLOSE, &m), 0);
	assert_int_equal(call(FS_CLOSE, &m), -EBADF);
}

static void
test_descriptors_freed_with_session(void **state)
{
	dvk_msg_t m;
	int i;

	hello();
	for (i = 0; i < 10; i++) {
		char name[16];

		snprintf(name, sizeof(name), "/h%d", i);
		assert_true(
		    open_path(name, (uint32_t)strlen(name), FS_O_RDWR | FS_O_CREAT) >= 0);
	}
	memset(&m, 0, sizeof(m));
	assert_int_equal(call(FS_STATS, &m), 0);
	assert_int_equal(m.m_u.fs_rp_stats.fds, 10);
	/* The binding goes (as when the sweep finds the client dead). */
	fs_binding_remove(&fs_srv.workers[0], CLIENT);
	memset(&m, 0, sizeof(m));
	assert_int_equal(call(FS_STATS, &m), 0);
	assert_int_equal(m.m_u.fs_rp_stats.fds, 0);
	assert_int_equal(m.m_u.fs_rp_stats.sessions, 0);
}

/* Without the kernel's random source no session is made (its token
 * would be guessable), and once it is back a session is. */
static void
test_no_session_without_random(void **state)
{
	dvk_msg_t m;
	struct fs_rq_hello *rq = &m.m_u.fs_rq_hello;

	memset(&m, 0, sizeof(m));
	rq->version = FS_PROTO_VERSION;
	rq->vol.grant = -1;
	getrandom_errno = ENOSYS;
	assert_int_equal(call(FS_HELLO, &m), -EIO);
	getrandom_errno = 0;
	memset(&m, 0, sizeof(m));
	assert_int_equal(call(FS_STATS, &m), 0);
	assert_int_equal(m.m_u.fs_rp_stats.sessions, 0);
	hello();
	memset(&m, 0, sizeof(m));
	assert_int_equal(call(FS_STATS, &m), 0);
	assert_int_equal(m.m_u.fs_rp_stats.sessions, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test_setup_teardown(test_unknown_calls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_descriptors_freed_with_session, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_no_session_without_random, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
