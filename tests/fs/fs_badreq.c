/*
 * fs_badreq.c - sends raw, malformed requests to a running dvs-fs (and
 * dvs-vdd) and checks each gets the documented error, then that the
 * server still serves a good request.  Run inside the DC:
 *   fs_badreq FS_EP VDD_EP     (VDD_EP -1: skip the vdd part)
 * Prints one line per check; exit 0 only if every check passed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/blkproto.h"
#include "dvs/fsproto.h"
#include "dvs/ipc.h"

static struct dvk *h;
static int failures, checks;

static void
check(const char *what, int got, int want)
{
	checks++;
	if (got == want) {
		printf("ok   %-50s %d\n", what, got);
	} else {
		printf("FAIL %-50s got %d (%s), want %d (%s)\n", what, got,
		       dvk_strerror(got), want, dvk_strerror(want));
		failures++;
	}
}

static int
call(dvk_ep_t ep, int32_t type, dvk_msg_t *m)
{
	int rc;

	m->m_type = type;
	rc = dvk_sendrec_t(h, ep, m, 10000);
	if (rc < 0)
		return rc - 100000; /* a DVK failure is never the expected answer */
	return m->m_type;
}

static dvk_grant_t
grant(dvk_ep_t to, const void *p, size_t len, unsigned access)
{
	dvk_grant_t g;
	int rc = dvk_grant(h, to, (void *)(uintptr_t)p, len, access, &g);

	if (rc < 0) {
		fprintf(stderr, "fs_badreq: grant: %s\n", dvk_strerror(rc));
		exit(2);
	}
	return g;
}

static int
open_path(dvk_ep_t w, const void *path, uint32_t len, uint32_t glen, uint32_t flags)
{
	struct fs_rq_open *rq;
	dvk_msg_t m;
	dvk_grant_t g = grant(w, path, glen, DVK_GRANT_READ);
	int rc;

	memset(&m, 0, sizeof(m));
	rq = &m.m_u.fs_rq_open;
	rq->path.grant = g;
	rq->path.len = len;
	rq->flags = flags;
	rq->mode = 0644;
	rc = call(w, FS_RQ_BASE + FS_OPEN, &m);
	dvk_revoke(h, g);
	return rc;
}

/* FS_OPEN with the path inside the message (FS_GRANT_INLINE): len is
 * what the request claims, the bytes of path are placed as a client does
 * (ending at the end of the payload), as many as fit. */
static int
open_inline(dvk_ep_t w, const char *path, uint32_t len, uint32_t flags)
{
	struct fs_rq_open *rq;
	size_t n = strlen(path), room = DVK_PAYLOAD_SIZE - FS_RQ_END(fs_rq_open);
	dvk_msg_t m;

	memset(&m, 0, sizeof(m));
	rq = &m.m_u.fs_rq_open;
	rq->path.grant = FS_GRANT_INLINE;
	rq->path.len = len;
	rq->flags = flags;
	rq->mode = 0644;
	if (n > room)
		n = room;
	memcpy(m.m_u.raw + DVK_PAYLOAD_SIZE - n, path, n);
	return call(w, FS_RQ_BASE + FS_OPEN, &m);
}

static int
io(dvk_ep_t w, int call_no, int32_t fd, dvk_grant_t g, uint32_t len, uint32_t flags,
   int64_t off)
{
	struct fs_rq_io *rq;
	dvk_msg_t m;

	memset(&m, 0, sizeof(m));
	rq = &m.m_u.fs_rq_io;
	rq->fd = fd;
	rq->grant = g;
	rq->len = len;
	rq->flags = flags;
	rq->off = off;
	return call(w, FS_RQ_BASE + call_no, &m);
}

static void
fs_checks(dvk_ep_t fs_ep)
{
	static char big[FS_WIRE_PATH_MAX * 2];
	static unsigned char data[FS_IO_MAX + 4096];
	struct fs_rq_hello *hq;
	struct fs_rp_hello hp;
	struct fs_rq_join *jq;
	struct fs_rq_lseek *lq;
	struct fs_rq_readdir *dq;
	struct fs_rq_stats *sq;
	char path[64];
	dvk_ep_t w;
	dvk_msg_t m;
	dvk_grant_t g;
	int fd, dfd, rc;

	/* Unknown calls, before and after a session. */
	memset(&m, 0, sizeof(m));
	check("m_type 0", call(fs_ep, 0, &m), -ENOSYS);
	check("m_type INT32_MIN", call(fs_ep, INT32_MIN, &m), -ENOSYS);
	check("m_type base+NCALLS", call(fs_ep, FS_RQ_BASE + FS_NCALLS, &m), -ENOSYS);
	check("m_type base", call(fs_ep, FS_RQ_BASE, &m), -ENOSYS);
	check("open before hello", call(fs_ep, FS_RQ_BASE + FS_OPEN, &m), -ENOTCONN);

	/* Hello with bad fields. */
	memset(&m, 0, sizeof(m));
	hq = &m.m_u.fs_rq_hello;
	hq->version = 99;
	check("hello wrong version", call(fs_ep, FS_RQ_BASE + FS_HELLO, &m), -EPROTO);
	memset(&m, 0, sizeof(m));
	hq->version = FS_PROTO_VERSION;
	hq->vol.grant = 12345;
	hq->vol.len = 4;
	check("hello bad grant", call(fs_ep, FS_RQ_BASE + FS_HELLO, &m), -EFAULT);
	memset(&m, 0, sizeof(m));
	hq->version = FS_PROTO_VERSION;
	hq->vol.len = UINT32_MAX;
	check("hello huge volume name", call(fs_ep, FS_RQ_BASE + FS_HELLO, &m),
	      -ENAMETOOLONG);
	memset(&m, 0, sizeof(m));
	hq->version = FS_PROTO_VERSION;
	g = grant(fs_ep, "nosuchvol", 9, DVK_GRANT_READ);
	hq->vol.grant = g;
	hq->vol.len = 9;
	check("hello unknown volume", call(fs_ep, FS_RQ_BASE + FS_HELLO, &m), -ENODEV);
	dvk_revoke(h, g);
	memset(&m, 0, sizeof(m));
	jq = &m.m_u.fs_rq_join;
	jq->session = 1;
	jq->token = 42;
	check("join with a wrong token", call(fs_ep, FS_RQ_BASE + FS_JOIN, &m), -EACCES);

	memset(&m, 0, sizeof(m));
	hq->version = FS_PROTO_VERSION;
	hq->vol.grant = -1;
	check("hello default volume", call(fs_ep, FS_RQ_BASE + FS_HELLO, &m), 0);
	hp = m.m_u.fs_rp_hello;
	w = hp.worker;
	printf("     session %u, worker endpoint %d\n", hp.session, (int)w);

	/* Paths. */
	snprintf(path, sizeof(path), "/badreq-%d.txt", (int)dvk_self(h));
	check("open path len 0", open_path(w, path, 0, 1, FS_O_RDONLY), -ENOENT);
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	check("open path len FS_WIRE_PATH_MAX",
	      open_path(w, big, FS_WIRE_PATH_MAX, FS_WIRE_PATH_MAX, FS_O_RDONLY), -ENAMETOOLONG);
	check("open path len UINT32_MAX", open_path(w, big, UINT32_MAX, 16, FS_O_RDONLY),
	      -ENAMETOOLONG);
	/* Paths of thousands of bytes are fine (a deep tree): "/d/d/...". */
	for (size_t i = 0; i < 3 * FS_PATH_MAX; i += 2)
		memcpy(big + i, "/d", 2);
	check("open a 12,288-byte path of short names",
	      open_path(w, big, 3 * FS_PATH_MAX, 3 * FS_PATH_MAX, FS_O_RDONLY), -ENOENT);
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	check("open path longer than its grant", open_path(w, path, 40, 4, FS_O_RDONLY),
	      -EFAULT);
	check("open path with a NUL inside", open_path(w, "/a\0b", 4, 4, FS_O_RDONLY),
	      -EINVAL);
	check("open relative path", open_path(w, "abc", 3, 3, FS_O_RDONLY), -EINVAL);
	check("open inline path reaching into the request",
	      open_inline(w, "/0123456789012345678901234567890123456789xy", 42, FS_O_RDONLY),
	      -EINVAL);
	check("open inline path len UINT32_MAX", open_inline(w, "/a", UINT32_MAX, FS_O_RDONLY),
	      -ENAMETOOLONG);
	check("open inline path len 4096", open_inline(w, "/a", 4096, FS_O_RDONLY), -EINVAL);
	check("open inline path len 0", open_inline(w, "/a", 0, FS_O_RDONLY), -ENOENT);
	check("open inline relative path", open_inline(w, "abc", 3, FS_O_RDONLY), -EINVAL);
	check("open inline path with a NUL inside", open_inline(w, "/a", 3, FS_O_RDONLY),
	      -EINVAL);
	check("open inline path of 40 bytes (fits)",
	      open_inline(w, "/012345678901234567890123456789012345678", 40, FS_O_RDONLY),
	      -ENOENT);
	check("open unknown flags",
	      open_path(w, path, (uint32_t)strlen(path), (uint32_t)strlen(path),
			0x80000000u),
	      -EINVAL);
	check("open accmode 3",
	      open_path(w, path, (uint32_t)strlen(path), (uint32_t)strlen(path), 3),
	      -EINVAL);
	memset(&m, 0, sizeof(m));
	m.m_u.fs_rq_open.path.grant = 999999;
	m.m_u.fs_rq_open.path.len = 5;
	check("open with a bad grant id", call(w, FS_RQ_BASE + FS_OPEN, &m), -EFAULT);
	/* Unterminated: exactly len bytes count, whatever follows them. */
	{
		char raw[64];

		memset(raw, 'X', sizeof(raw));
		memcpy(raw, path, strlen(path));
		fd = open_path(w, raw, (uint32_t)strlen(path), sizeof(raw),
			       FS_O_RDWR | FS_O_CREAT | FS_O_TRUNC);
		checks++;
		if (fd < 0) {
			printf("FAIL %-50s %d\n", "unterminated path creates it", fd);
			failures++;
		} else {
			printf("ok   %-50s fd %d\n", "unterminated path creates it", fd);
		}
	}

	/* Data transfers. */
	g = grant(w, data, sizeof(data), DVK_GRANT_READ | DVK_GRANT_WRITE);
	memset(data, 'z', sizeof(data));
	check("write 100 bytes", io(w, FS_WRITE, fd, g, 100, 0, 0), 100);
	check("read len > FS_IO_MAX", io(w, FS_READ, fd, g, FS_IO_MAX + 1, FS_IO_AT, 0),
	      -EINVAL);
	check("write len UINT32_MAX", io(w, FS_WRITE, fd, g, UINT32_MAX, 0, 0), -EINVAL);
	check("read bad fd 9999", io(w, FS_READ, 9999, g, 10, 0, 0), -EBADF);
	check("read fd -1", io(w, FS_READ, -1, g, 10, 0, 0), -EBADF);
	check("read fd INT32_MIN", io(w, FS_READ, INT32_MIN, g, 10, 0, 0), -EBADF);
	check("read negative offset", io(w, FS_READ, fd, g, 10, FS_IO_AT, -5), -EINVAL);
	check("read unknown io flag", io(w, FS_READ, fd, g, 10, 0x10, 0), -EINVAL);
	check("read with a bad grant", io(w, FS_READ, fd, 777777, 10, FS_IO_AT, 0),
	      -EFAULT);
	dvk_revoke(h, g);
	check("read with a revoked grant", io(w, FS_READ, fd, g, 10, FS_IO_AT, 0),
	      -EFAULT);
	g = grant(w, data, 10, DVK_GRANT_WRITE);
	check("read more than the grant holds", io(w, FS_READ, fd, g, 50, FS_IO_AT, 0),
	      -EFAULT);
	dvk_revoke(h, g);
	g = grant(w, data, 100, DVK_GRANT_READ);
	check("read into a read-only grant", io(w, FS_READ, fd, g, 50, FS_IO_AT, 0),
	      -EFAULT);
	dvk_revoke(h, g);
	g = grant(fs_ep == w ? w + 1 : fs_ep, data, 100, DVK_GRANT_READ);
	check("write from a grant for another endpoint",
	      io(w, FS_WRITE, fd, g, 50, FS_IO_AT, 0), -EFAULT);
	dvk_revoke(h, g);
	g = grant(w, data, 100, DVK_GRANT_WRITE);
	check("pread 100 back", io(w, FS_READ, fd, g, 100, FS_IO_AT, 0), 100);
	dvk_revoke(h, g);

	memset(&m, 0, sizeof(m));
	lq = &m.m_u.fs_rq_lseek;
	lq->fd = fd;
	lq->whence = 7;
	check("lseek whence 7", call(w, FS_RQ_BASE + FS_LSEEK, &m), -EINVAL);
	memset(&m, 0, sizeof(m));
	lq->fd = fd;
	lq->whence = FS_SEEK_END;
	lq->off = INT64_MAX;
	check("lseek past INT64_MAX", call(w, FS_RQ_BASE + FS_LSEEK, &m), -EINVAL);
	memset(&m, 0, sizeof(m));
	lq->fd = fd;
	lq->whence = FS_SEEK_SET;
	lq->off = -1;
	check("lseek to -1", call(w, FS_RQ_BASE + FS_LSEEK, &m), -EINVAL);

	/* Directory listing. */
	dfd = open_path(w, "/", 1, 1, FS_O_RDONLY | FS_O_DIRECTORY);
	check("open / as a directory", dfd >= 0, 1);
	g = grant(w, data, sizeof(data), DVK_GRANT_WRITE);
	memset(&m, 0, sizeof(m));
	dq = &m.m_u.fs_rq_readdir;
	dq->fd = dfd;
	dq->grant = g;
	dq->len = UINT32_MAX;
	check("readdir len UINT32_MAX", call(w, FS_RQ_BASE + FS_READDIR, &m), -EINVAL);
	memset(&m, 0, sizeof(m));
	dq->fd = dfd;
	dq->grant = g;
	dq->len = 8;
	check("readdir buffer too small for a record",
	      call(w, FS_RQ_BASE + FS_READDIR, &m), -EINVAL);
	memset(&m, 0, sizeof(m));
	dq->fd = fd;
	dq->grant = g;
	dq->len = 4096;
	check("readdir on a file", call(w, FS_RQ_BASE + FS_READDIR, &m), -ENOTDIR);
	memset(&m, 0, sizeof(m));
	dq->fd = dfd;
	dq->grant = g;
	dq->len = 4096;
	dq->cookie = UINT64_MAX - 3;
	rc = call(w, FS_RQ_BASE + FS_READDIR, &m);
	check("readdir from a wild cookie: error or nothing", rc <= 0, 1);
	memset(&m, 0, sizeof(m));
	sq = &m.m_u.fs_rq_stats;
	sq->grant = g;
	sq->len = UINT32_MAX;
	check("stats len UINT32_MAX", call(w, FS_RQ_BASE + FS_STATS, &m), -EINVAL);
	dvk_revoke(h, g);
	{
		/* fallocate: only the modes FAT holds, sane ranges, files
		 * open for writing; nothing here changes the size. */
		struct fs_rq_falloc *fq = &m.m_u.fs_rq_falloc;
		static const struct {
			const char *what;
			int fd; /* 0: the file, 1: the directory, 2: none */
			uint32_t mode;
			int64_t off, len;
			int want;
		} fa[] = {
		    {"fallocate bad fd", 2, 0, 0, 10, -EBADF},
		    {"fallocate a directory", 1, 0, 0, 10, -EISDIR},
		    {"fallocate len 0", 0, 0, 0, 0, -EINVAL},
		    {"fallocate len -1", 0, 0, 0, -1, -EINVAL},
		    {"fallocate off -1", 0, 0, -1, 10, -EINVAL},
		    {"fallocate off INT64_MAX", 0, 0, INT64_MAX, 10, -EFBIG},
		    {"fallocate punch hole", 0, 0x3, 0, 10, -EOPNOTSUPP},
		    {"fallocate unknown mode", 0, 0x80000000u, 0, 10, -EOPNOTSUPP},
		    {"fallocate KEEP_SIZE", 0, FS_FALLOC_KEEP_SIZE, 0, 1 << 20, 0},
		};
		for (size_t i = 0; i < sizeof(fa) / sizeof(fa[0]); i++) {
			memset(&m, 0, sizeof(m));
			fq->fd = fa[i].fd == 0 ? fd : fa[i].fd == 1 ? dfd : 4321;
			fq->mode = fa[i].mode;
			fq->off = fa[i].off;
			fq->len = fa[i].len;
			check(fa[i].what, call(w, FS_RQ_BASE + FS_FALLOCATE, &m), fa[i].want);
		}
	}

	/* Still serving after all that. */
	memset(&m, 0, sizeof(m));
	m.m_u.fs_rq_fd.fd = fd;
	check("fstat after the bad requests", call(w, FS_RQ_BASE + FS_FSTAT, &m), 0);
	check("size is 100", (int)m.m_u.fs_wire_stat.size, 100);
	memset(&m, 0, sizeof(m));
	m.m_u.fs_rq_fd.fd = fd;
	check("close", call(w, FS_RQ_BASE + FS_CLOSE, &m), 0);
	check("close again", call(w, FS_RQ_BASE + FS_CLOSE, &m), -EBADF);
	{
		struct fs_rq_path *pq;

		memset(&m, 0, sizeof(m));
		pq = &m.m_u.fs_rq_path;
		g = grant(w, path, strlen(path), DVK_GRANT_READ);
		pq->path.grant = g;
		pq->path.len = (uint32_t)strlen(path);
		check("unlink the test file", call(w, FS_RQ_BASE + FS_UNLINK, &m), 0);
		dvk_revoke(h, g);
	}
	/* The other path calls with bad arguments. */
	{
		struct fs_rq_rename *rq;
		struct fs_rq_truncate *tq;
		struct fs_rq_utimens *uq;
		struct fs_rq_path_mode *mq;
		dvk_grant_t g2;

		g = grant(w, "/", 1, DVK_GRANT_READ);
		g2 = grant(w, "/x", 2, DVK_GRANT_READ);
		memset(&m, 0, sizeof(m));
		rq = &m.m_u.fs_rq_rename;
		rq->from.grant = g2;
		rq->from.len = 2;
		rq->to.grant = 424242;
		rq->to.len = 2;
		check("rename with a bad second grant",
		      call(w, FS_RQ_BASE + FS_RENAME, &m), -EFAULT);
		memset(&m, 0, sizeof(m));
		rq->from.grant = g2;
		rq->from.len = 2;
		rq->to.grant = g2;
		rq->to.len = 2;
		rq->flags = 0x80;
		check("rename unknown flags", call(w, FS_RQ_BASE + FS_RENAME, &m),
		      -EINVAL);
		memset(&m, 0, sizeof(m));
		tq = &m.m_u.fs_rq_truncate;
		tq->path.grant = g2;
		tq->path.len = 2;
		tq->len = -1;
		check("truncate to -1", call(w, FS_RQ_BASE + FS_TRUNCATE, &m), -EINVAL);
		tq->len = 0;
		tq->flags = 0x40;
		check("truncate unknown flags", call(w, FS_RQ_BASE + FS_TRUNCATE, &m),
		      -EINVAL);
		memset(&m, 0, sizeof(m));
		tq->fd = 12345;
		tq->len = 10;
		check("ftruncate bad fd", call(w, FS_RQ_BASE + FS_FTRUNCATE, &m), -EBADF);
		memset(&m, 0, sizeof(m));
		uq = &m.m_u.fs_rq_utimens;
		uq->path.grant = 31337;
		uq->path.len = 2;
		check("utimens bad grant", call(w, FS_RQ_BASE + FS_UTIMENS, &m), -EFAULT);
		memset(&m, 0, sizeof(m));
		mq = &m.m_u.fs_rq_path_mode;
		mq->path.grant = g2;
		mq->path.len = 2;
		mq->mode = 0xffffffffu;
		check("chmod with mode bits beyond 07777",
		      call(w, FS_RQ_BASE + FS_CHMOD, &m), -EINVAL);
		memset(&m, 0, sizeof(m));
		mq->path.grant = g;
		mq->path.len = 1;
		check("mkdir /", call(w, FS_RQ_BASE + FS_MKDIR, &m), -EEXIST);
		memset(&m, 0, sizeof(m));
		mq->path.grant = g;
		mq->path.len = 1;
		check("rmdir /", call(w, FS_RQ_BASE + FS_RMDIR, &m), -EBUSY);
		memset(&m, 0, sizeof(m));
		m.m_u.fs_rq_fd.fd = 0;
		m.m_u.fs_rq_fd.flags = 7;
		check("fsync unknown flags", call(w, FS_RQ_BASE + FS_FSYNC, &m), -EINVAL);
		dvk_revoke(h, g);
		dvk_revoke(h, g2);
	}
	memset(&m, 0, sizeof(m));
	check("bye", call(w, FS_RQ_BASE + FS_BYE, &m), 0);
	memset(&m, 0, sizeof(m));
	check("request after bye", call(w, FS_RQ_BASE + FS_SYNC, &m), -ENOTCONN);
}

static int
blk(dvk_ep_t ep, int c, uint64_t off, uint32_t len, dvk_grant_t g)
{
	struct blk_rq_io *rq;
	dvk_msg_t m;

	memset(&m, 0, sizeof(m));
	rq = &m.m_u.blk_rq_io;
	rq->off = off;
	rq->len = len;
	rq->grant = g;
	return call(ep, BLK_RQ_BASE + c, &m);
}

static void
vdd_checks(dvk_ep_t ep)
{
	static unsigned char buf[BLK_IO_MAX + 4096];
	struct blk_rp_info info;
	dvk_msg_t m;
	dvk_grant_t g;

	memset(&m, 0, sizeof(m));
	check("vdd m_type 0", call(ep, 0, &m), -ENOSYS);
	check("vdd info", call(ep, BLK_RQ_BASE + BLK_INFO, &m), 0);
	info = m.m_u.blk_rp_info;
	g = grant(ep, buf, sizeof(buf), DVK_GRANT_WRITE);
	check("vdd read 0 bytes", blk(ep, BLK_READ, 0, 0, g), -EINVAL);
	check("vdd read misaligned offset", blk(ep, BLK_READ, 3, 512, g), -EINVAL);
	check("vdd read misaligned length", blk(ep, BLK_READ, 0, 100, g), -EINVAL);
	check("vdd read > BLK_IO_MAX", blk(ep, BLK_READ, 0, BLK_IO_MAX + 512, g),
	      -EINVAL);
	check("vdd read past the end", blk(ep, BLK_READ, info.size, 512, g), -ENOSPC);
	check("vdd read straddling the end", blk(ep, BLK_READ, info.size - 512, 1024, g),
	      -ENOSPC);
	check("vdd read offset UINT64_MAX-511",
	      blk(ep, BLK_READ, UINT64_MAX - 511, 512, g), -ENOSPC);
	check("vdd read bad grant", blk(ep, BLK_READ, 0, 512, 888888), -EFAULT);
	check("vdd read the boot sector", blk(ep, BLK_READ, 0, 512, g), 512);
	check("vdd write into a write-only grant (server reads)",
	      blk(ep, BLK_WRITE, 0, 512, g), -EFAULT);
	dvk_revoke(h, g);
	memset(&m, 0, sizeof(m));
	check("vdd stats", call(ep, BLK_RQ_BASE + BLK_STATS, &m), 0);
	check("vdd counted errors", m.m_u.blk_rp_stats.errors >= 8, 1);
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: fs_badreq FS_EP VDD_EP(-1: none)\n");
		return 2;
	}
	rc = dvk_bind(DVK_ANY, 0, &h);
	if (rc < 0) {
		fprintf(stderr, "fs_badreq: bind: %s\n", dvk_strerror(rc));
		return 2;
	}
	fs_checks(atoi(argv[1]));
	if (atoi(argv[2]) >= 0)
		vdd_checks(atoi(argv[2]));
	dvk_unbind(h);
	printf("%d checks, %d failed\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
