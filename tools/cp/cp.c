/*
 * dvs-cp - copies files and trees between Linux and a volume served by
 * dvs-fs (the paper's m3copy), in either direction (and dvs to dvs).
 *
 * A path written dvs:/PATH is on the served volume; any other path is a
 * Linux path.  Both sides go through one small table of operations, so
 * every direction is the same copy loop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dvs/dvsfs.h"
#include "pipeline.h"

#define DVS_PREFIX "dvs:"

struct opts {
	int recursive;
	int quiet;
	int preserve;
	size_t bs;
};

static struct opts opt = {.bs = 1u << 20};
static struct dvsfs *fs;
static int nerrors;

/* ---- progress ---------------------------------------------------------- */

static struct {
	int on;
	uint64_t start_ns, last_ns;
	uint64_t bytes, files;
	int shown;
} prog;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
progress(const char *name, int force)
{
	uint64_t t = now_ns();
	double secs;

	if (!prog.on)
		return;
	/* Only long copies get a line: nothing in the first second. */
	if (!force && (t - prog.start_ns < 1000000000u || t - prog.last_ns < 200000000u))
		return;
	if (force && !prog.shown)
		return;
	prog.last_ns = t;
	secs = (double)(t - prog.start_ns) / 1e9;
	fprintf(stderr, "\r\033[Kdvs-cp: %llu files, %.1f MiB, %.1f MiB/s  %.40s",
		(unsigned long long)prog.files, (double)prog.bytes / 1048576.0,
		secs > 0 ? (double)prog.bytes / 1048576.0 / secs : 0.0,
		name != NULL ? name : "");
	prog.shown = 1;
}

static void
progress_end(void)
{
	if (prog.on && prog.shown) {
		progress(NULL, 1);
		fputc('\n', stderr);
	}
}

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	if (prog.shown)
		fputs("\r\033[K", stderr);
	fputs("dvs-cp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	nerrors++;
}

/* ---- the two sides ----------------------------------------------------- */

struct side {
	int dvs;
	char path[FS_PATH_MAX + 8];
};

/* Display name of a side (with the dvs: prefix). */
static const char *
disp(const struct side *s)
{
	static __thread char buf[2][FS_PATH_MAX + 16];
	static __thread int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", s->dvs ? DVS_PREFIX : "", s->path);
	return buf[k];
}

/* 1 dir, 0 file, negative errno. */
static int
side_kind(const struct side *s, uint64_t *size, struct timespec *mtime)
{
	if (s->dvs) {
		struct dvs_stat st;
		int rc = dvs_stat(fs, s->path, &st);

		if (rc < 0)
			return rc;
		if (size != NULL)
			*size = st.st_size;
		if (mtime != NULL)
			*mtime = st.st_mtim;
		return S_ISDIR(st.st_mode) ? 1 : 0;
	} else {
		struct stat st;

		if (stat(s->path, &st) < 0)
			return -errno;
		if (size != NULL)
			*size = (uint64_t)st.st_size;
		if (mtime != NULL)
			*mtime = st.st_mtim;
		if (S_ISDIR(st.st_mode))
			return 1;
		if (!S_ISREG(st.st_mode))
			return -EINVAL; /* devices, fifos, sockets: not copied */
		return 0;
	}
}

static int
side_open(const struct side *s, int write)
{
	int fd;

	if (s->dvs)
		return write ? dvs_open(fs, s->path, O_WRONLY | O_CREAT | O_TRUNC, 0644)
			     : dvs_open(fs, s->path, O_RDONLY, 0);
	fd = write ? open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
		   : open(s->path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static ssize_t
side_read(const struct side *s, int fd, void *buf, size_t len)
{
	ssize_t n;

	if (s->dvs)
		return dvs_read(fs, fd, buf, len);
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static ssize_t
side_write(const struct side *s, int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	if (s->dvs) {
		n = dvs_write(fs, fd, buf, len);
		if (n >= 0 && (size_t)n < len)
			return -ENOSPC;
		return n;
	}
	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int
side_close(const struct side *s, int fd)
{
	if (s->dvs)
		return dvs_close(fs, fd);
	return close(fd) < 0 ? -errno : 0;
}

static int
side_mkdir(const struct side *s)
{
	int rc = s->dvs ? dvs_mkdir(fs, s->path, 0755)
			: (mkdir(s->path, 0755) < 0 ? -errno : 0);

	return rc == -EEXIST && side_kind(s, NULL, NULL) == 1 ? 0 : rc;
}

static void
side_set_mtime(const struct side *s, const struct timespec *mt)
{
	struct timespec ts[2] = {{0, UTIME_OMIT}, *mt};

	if (s->dvs)
		(void)dvs_utimens(fs, s->path, ts);
	else
		(void)utimensat(AT_FDCWD, s->path, ts, 0);
}

static int
side_join(const struct side *dir, const char *name, struct side *out)
{
	size_t n = strlen(dir->path);
	int sep = n > 0 && dir->path[n - 1] != '/';

	out->dvs = dir->dvs;
	if (n + (size_t)sep + strlen(name) + 1 > sizeof(out->path) ||
	    (dir->dvs && n + (size_t)sep + strlen(name) >= FS_PATH_MAX))
		return -ENAMETOOLONG;
	memmove(out->path, dir->path, n);
	if (sep)
		out->path[n++] = '/';
	memcpy(out->path + n, name, strlen(name) + 1);
	return 0;
}

/* ---- copying ------------------------------------------------------------ */

struct io_ctx {
	const struct side *s;
	int fd;
};

static ssize_t
pl_read(void *arg, void *buf, size_t len)
{
	struct io_ctx *c = arg;

	return side_read(c->s, c->fd, buf, len);
}

static ssize_t
pl_write(void *arg, const void *buf, size_t len)
{
	struct io_ctx *c = arg;

	return side_write(c->s, c->fd, buf, len);
}

static const char *cur_name;

static void
pl_progress(size_t n)
{
	prog.bytes += n;
	progress(cur_name, 0);
}

/*
 * Large files between Linux and the volume go through two threads: the
 * Linux read or write of one block overlaps the round trip of the next.
 * Returns 1 if it did the copy (rc in *rc), 0 if the caller should.
 */
static int
copy_pipelined(const struct side *src, int in, const struct side *dst, int out,
	       uint64_t size, int *rc)
{
	struct io_ctx rc_in = {src, in}, rc_out = {dst, out};
	struct pl_result res;

	if (src->dvs == dst->dvs || size < 4 * (uint64_t)opt.bs)
		return 0;
	cur_name = src->path;
	if (pl_copy(pl_read, &rc_in, pl_write, &rc_out, opt.bs, !src->dvs, pl_progress,
		    &res) < 0)
		return 0;
	*rc = 0;
	if (res.read_err < 0) {
		fail("%s: read: %s", disp(src), strerror(-res.read_err));
		*rc = res.read_err;
	} else if (res.write_err < 0) {
		fail("%s: write: %s", disp(dst), strerror(-res.write_err));
		*rc = res.write_err;
	}
	return 1;
}

static int
copy_file(const struct side *src, const struct side *dst, void *buf)
{
	struct timespec mt;
	uint64_t size = 0;
	int in, out, rc;
	ssize_t n, w;

	if (side_kind(src, &size, &mt) < 0)
		mt.tv_nsec = UTIME_OMIT;
	in = side_open(src, 0);
	if (in < 0) {
		fail("%s: %s", disp(src), strerror(-in));
		return in;
	}
	out = side_open(dst, 1);
	if (out < 0) {
		fail("%s: %s", disp(dst), strerror(-out));
		side_close(src, in);
		return out;
	}
	rc = 0;
	if (copy_pipelined(src, in, dst, out, size, &rc))
		goto done;
	for (;;) {
		n = side_read(src, in, buf, opt.bs);
		if (n < 0) {
			fail("%s: read: %s", disp(src), strerror((int)-n));
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		w = side_write(dst, out, buf, (size_t)n);
		if (w < 0) {
			fail("%s: write: %s", disp(dst), strerror((int)-w));
			rc = (int)w;
			break;
		}
		prog.bytes += (uint64_t)n;
		progress(src->path, 0);
	}
done:
	side_close(src, in);
	n = side_close(dst, out);
	if (n < 0 && rc == 0) {
		fail("%s: close: %s", disp(dst), strerror((int)-n));
		rc = (int)n;
	}
	if (rc == 0 && opt.preserve && mt.tv_nsec != UTIME_OMIT)
		side_set_mtime(dst, &mt);
	if (rc == 0)
		prog.files++;
	return rc;
}

static int copy_any(const struct side *src, const struct side *dst, void *buf);

/* Both on the volume and the same node: copying would truncate the source. */
static int
same_place(const struct side *a, const struct side *b)
{
	struct dvs_stat sa, sb;

	if (!a->dvs || !b->dvs)
		return 0;
	return dvs_stat(fs, a->path, &sa) == 0 && dvs_stat(fs, b->path, &sb) == 0 &&
	       sa.st_ino == sb.st_ino;
}

/* Is path d below directory s (lexically)? */
static int
inside(const char *s, const char *d)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		n--;
	return strncmp(s, d, n) == 0 && (d[n] == '/' || (n == 1 && s[0] == '/'));
}

static int
copy_dir_dvs_entries(const struct side *src, const struct side *dst, void *buf)
{
	const struct dvs_dirent *e;
	struct dvs_dir *d;
	struct side s2, d2;
	int rc;

	rc = dvs_opendir(fs, src->path, &d);
	if (rc < 0) {
		fail("%s: %s", disp(src), strerror(-rc));
		return rc;
	}
	while ((rc = dvs_readdir(d, &e)) > 0) {
		if (side_join(src, e->name, &s2) < 0 ||
		    side_join(dst, e->name, &d2) < 0) {
			fail("%s/%s: %s", disp(src), e->name, strerror(ENAMETOOLONG));
			continue;
		}
		copy_any(&s2, &d2, buf);
	}
	if (rc < 0)
		fail("%s: listing: %s", disp(src), strerror(-rc));
	dvs_closedir(d);
	return rc;
}

static int
copy_dir_local_entries(const struct side *src, const struct side *dst, void *buf)
{
	struct side s2, d2;
	struct dirent *e;
	DIR *d;

	d = opendir(src->path);
	if (d == NULL) {
		fail("%s: %s", disp(src), strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (side_join(src, e->d_name, &s2) < 0 ||
		    side_join(dst, e->d_name, &d2) < 0) {
			fail("%s/%s: %s", disp(src), e->d_name, strerror(ENAMETOOLONG));
			continue;
		}
		copy_any(&s2, &d2, buf);
	}
	closedir(d);
	return 0;
}

static int
copy_any(const struct side *src, const struct side *dst, void *buf)
{
	struct timespec mt;
	int kind, rc;

	kind = side_kind(src, NULL, &mt);
	if (kind < 0) {
		if (kind == -EINVAL)
			fail("%s: not a regular file or directory: skipped", disp(src));
		else
			fail("%s: %s", disp(src), strerror(-kind));
		return kind;
	}
	if (same_place(src, dst)) {
		fail("%s and %s are the same file", disp(src), disp(dst));
		return -EINVAL;
	}
	if (kind == 0)
		return copy_file(src, dst, buf);
	if (src->dvs == dst->dvs && inside(src->path, dst->path)) {
		fail("cannot copy %s into itself (%s)", disp(src), disp(dst));
		return -EINVAL;
	}
	if (!opt.recursive) {
		fail("%s is a directory (use -r)", disp(src));
		return -EISDIR;
	}
	rc = side_mkdir(dst);
	if (rc < 0) {
		fail("%s: mkdir: %s", disp(dst), strerror(-rc));
		return rc;
	}
	rc = src->dvs ? copy_dir_dvs_entries(src, dst, buf)
		      : copy_dir_local_entries(src, dst, buf);
	if (opt.preserve)
		side_set_mtime(dst, &mt);
	return rc;
}

static int
parse_side(const char *arg, struct side *s)
{
	memset(s, 0, sizeof(*s));
	if (strncmp(arg, DVS_PREFIX, strlen(DVS_PREFIX)) == 0) {
		const char *p = arg + strlen(DVS_PREFIX);

		s->dvs = 1;
		if (*p == '\0')
			p = "/";
		if (*p != '/')
			return -EINVAL;
		if (strlen(p) >= FS_PATH_MAX)
			return -ENAMETOOLONG;
		snprintf(s->path, sizeof(s->path), "%s", p);
	} else {
		if (strlen(arg) >= sizeof(s->path))
			return -ENAMETOOLONG;
		snprintf(s->path, sizeof(s->path), "%s", arg);
	}
	return 0;
}

static const char *
base_name(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path);
	const char *slash;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return slash != NULL && slash[1] != '\0' ? slash + 1 : buf;
}

/* ---- statistics ----------------------------------------------------------- */

static int
print_stats(void)
{
	struct dvsfs_session_stats ss[256];
	struct dvsfs_server_stats st;
	size_t n, i;
	int rc;

	rc = dvsfs_stats(fs, &st, ss, 256, &n);
	if (rc < 0) {
		fail("server statistics: %s", strerror(-rc));
		return 1;
	}
	printf("requests %llu errors %llu sessions %u bindings %u fds %u workers %u\n",
	       (unsigned long long)st.requests, (unsigned long long)st.errors,
	       st.sessions, st.bindings, st.fds, st.workers);
	printf("%-8s %-8s %-8s %-6s %s\n", "session", "endpoint", "bindings", "fds",
	       "requests");
	for (i = 0; i < n; i++)
		printf("%-8u %-8d %-8u %-6u %llu%s\n", ss[i].session, (int)ss[i].first_ep,
		       ss[i].bindings, ss[i].fds, (unsigned long long)ss[i].requests,
		       ss[i].session == dvsfs_session(fs) ? "  (this dvs-cp)" : "");
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: dvs-cp [OPTIONS] SRC DST\n"
	    "       dvs-cp [OPTIONS] SRC... DIR\n"
	    "       dvs-cp --stats\n"
	    "Copies files and trees between Linux and a volume served by dvs-fs.\n"
	    "A path written dvs:/PATH is on the volume, any other is a Linux path:\n"
	    "  dvs cp -r ./tree dvs:/tree      dvs cp dvs:/tree/a.txt /tmp/\n"
	    "\n"
	    "  -r, --recursive      copy directories and their contents\n"
	    "  -p, --preserve       keep modification times\n"
	    "  -q, --quiet          no progress line\n"
	    "  -e, --ep N           endpoint of dvs-fs (default $DVS_FS_EP, else %d)\n"
	    "  -V, --volume NAME    volume of dvs-fs (default $DVS_FS_VOLUME, else the "
	    "first)\n"
	    "  -b, --block-size N   bytes per transfer (default 1 MiB, at most 64 MiB)\n"
	    "      --stats          print dvs-fs statistics (sessions, open\n"
	    "                       descriptors per client) and exit\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "dvs-cp must run inside the DC of dvs-fs:\n"
	    "  dvsctl run --dc 1 --ep 20 -- dvs-cp -r ./tree dvs:/tree\n"
	    "A progress line appears on a terminal when a copy takes over a second.\n"
	    "Exit: 0 all copied, 1 something failed (each failure is named),\n"
	    "2 bad usage, 3 cannot reach dvs-fs.\n",
	    FS_EP_DEFAULT);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"recursive", no_argument, NULL, 'r'},
	    {"preserve", no_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"ep", required_argument, NULL, 'e'},
	    {"volume", required_argument, NULL, 'V'},
	    {"block-size", required_argument, NULL, 'b'},
	    {"stats", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct dvsfs_opts fo;
	struct side dst, src, d2;
	int c, i, rc, stats = 0, dst_kind, nsrc;
	char *end, name[FS_PATH_MAX + 8];
	void *buf = NULL;
	long v;

	dvsfs_opts_init(&fo);
	while ((c = getopt_long(argc, argv, "rRpqe:V:b:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'r':
		case 'R':
			opt.recursive = 1;
			break;
		case 'p':
			opt.preserve = 1;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'e':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v >= INT32_MAX) {
				fprintf(stderr, "dvs-cp: bad endpoint '%s'\n", optarg);
				return 2;
			}
			fo.server_ep = (dvk_ep_t)v;
			break;
		case 'V':
			fo.volume = optarg;
			break;
		case 'b':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 512 ||
			    v > (64L << 20)) {
				fprintf(stderr,
					"dvs-cp: --block-size: 512 to 67108864\n");
				return 2;
			}
			opt.bs = (size_t)v;
			break;
		case 'S':
			stats = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	nsrc = argc - optind - 1;
	if (!stats && nsrc < 1) {
		usage(stderr);
		return 2;
	}
	rc = dvsfs_connect(&fo, &fs);
	if (rc < 0) {
		fprintf(stderr, "dvs-cp: cannot reach dvs-fs at endpoint %d: %s\n",
			(int)fo.server_ep, dvk_strerror(rc));
		if (rc == -EDVS_NOTADMITTED || rc == -EDVS_NODAEMON)
			fprintf(stderr, "  run it inside the DC of dvs-fs: "
					"dvsctl run --dc N --ep E -- dvs-cp ...\n");
		else if (rc == -EDVS_NOTBOUND)
			fprintf(stderr,
				"  is dvs-fs running in this DC (--ep / $DVS_FS_EP)?\n");
		return 3;
	}
	if (stats) {
		rc = print_stats();
		dvsfs_disconnect(fs);
		return rc;
	}
	prog.on = !opt.quiet && isatty(STDERR_FILENO);
	prog.start_ns = prog.last_ns = now_ns();
	/* Tests shorten the one-second quiet start to see the line at all. */
	if (getenv("DVS_CP_PROGRESS_NOW") != NULL)
		prog.start_ns = prog.last_ns = prog.start_ns - 1000000000u;
	buf = pl_buf_alloc(opt.bs);
	if (buf == NULL) {
		fprintf(stderr, "dvs-cp: out of memory\n");
		dvsfs_disconnect(fs);
		return 3;
	}
	if (parse_side(argv[argc - 1], &dst) < 0) {
		fprintf(stderr,
			"dvs-cp: bad destination '%s' (dvs paths are dvs:/PATH)\n",
			argv[argc - 1]);
		rc = 2;
		goto out;
	}
	dst_kind = side_kind(&dst, NULL, NULL);
	if (nsrc > 1 && dst_kind != 1) {
		fprintf(stderr, "dvs-cp: target '%s' is not a directory\n", disp(&dst));
		rc = 2;
		goto out;
	}
	for (i = optind; i < argc - 1; i++) {
		if (parse_side(argv[i], &src) < 0) {
			fail("bad source '%s' (dvs paths are dvs:/PATH)", argv[i]);
			continue;
		}
		if (!src.dvs && !dst.dvs) {
			fail("%s -> %s: neither is a dvs:/ path (use cp)", argv[i],
			     argv[argc - 1]);
			continue;
		}
		d2 = dst;
		if (dst_kind == 1) {
			/* Into an existing directory, under the source's name. */
			const char *b = base_name(src.path, name, sizeof(name));

			if (strcmp(b, "/") == 0 || strcmp(b, ".") == 0 ||
			    strcmp(b, "..") == 0) {
				fail("%s: give a destination name", disp(&src));
				continue;
			}
			if (side_join(&dst, b, &d2) < 0) {
				fail("%s: %s", disp(&dst), strerror(ENAMETOOLONG));
				continue;
			}
		}
		copy_any(&src, &d2, buf);
	}
	progress_end();
	if (dst.dvs) {
		/* Return only once the copy is on the volume's disk: a crash of
		 * dvs-fs after dvs-cp said "done" must not lose it. */
		rc = dvs_sync(fs);
		if (rc < 0)
			fail("%s: sync: %s", disp(&dst), strerror(-rc));
	}
	rc = nerrors > 0 ? 1 : 0;
out:
	free(buf);
	dvsfs_disconnect(fs);
	return rc;
}
