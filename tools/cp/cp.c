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
#include "dvs/json_out.h"
#include "dvs/parse.h"
#include "dvs/version.h"
#include "pipeline.h"
#include "seen.h"
#include "dvs/clock.h"

#define DVS_PREFIX "dvs:"
#define MAX_KEPT_ERRORS 1000	/* error lines kept for --json */

struct opts {
	int recursive;
	int quiet;
	int preserve;
	int follow_all;		/* -L: every symbolic link */
	int follow_cmd;		/* -H: links named on the command line */
	int json;
	size_t bs;
};

static struct opts opt = {.bs = 1u << 20};
static struct dvsfs *fs;
static int nerrors;

/* What the copy did, for the summary line and --json. */
static struct {
	uint64_t files, dirs, bytes;
	uint64_t links;		/* symbolic links skipped (not followed) */
	uint64_t loops;		/* -L: links back into a directory being copied */
	uint64_t collisions;	/* names this copy had already made */
	char **errs;		/* the first MAX_KEPT_ERRORS error lines */
	size_t nerrs;
} cpdone;

/* Totals found by a silent walk before the copy (for percent and ETA). */
static struct {
	int known;
	uint64_t files, bytes;
} total;

/* While set, the walk only adds up sizes: nothing is written or said. */
static int counting;
/* Entries this copy created, by (dev, ino) (dev 0 on the volume). */
static struct seen created;
/* The source directories being copied, from the top to here (-L loops). */
static struct seen ancestors;

/* "1 file", "2 files". */
static const char *
count_of(uint64_t n, const char *one, const char *many, char *buf, size_t len)
{
	snprintf(buf, len, "%llu %s", (unsigned long long)n, n == 1 ? one : many);
	return buf;
}

/* ---- progress ---------------------------------------------------------- */

static struct {
	int on;
	uint64_t start_ns, last_ns;
	uint64_t bytes, files;
	int shown;
} prog;

/* "1:05" or "1:02:05". */
static const char *
hms(double secs, char *buf, size_t len)
{
	unsigned long s = secs > 0 && secs < 1e7 ? (unsigned long)(secs + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
	return buf;
}

static void
progress(const char *name, int force)
{
	uint64_t t = dvs_now_ns();
	double secs, rate, mib = (double)prog.bytes / 1048576.0;
	char f[48], eta[32];

	if (!prog.on || counting)
		return;
	/* Only long copies get a line: nothing in the first second. */
	if (!force && (t - prog.start_ns < 1000000000u || t - prog.last_ns < 200000000u))
		return;
	if (force && !prog.shown)
		return;
	prog.last_ns = t;
	secs = (double)(t - prog.start_ns) / 1e9;
	rate = secs > 0 ? mib / secs : 0.0;
	if (total.known) {
		/* The walk before the copy gave the totals: percent and ETA. */
		double all = (double)total.bytes / 1048576.0;
		int pct = total.bytes ? (int)(100.0 * (double)prog.bytes / (double)total.bytes)
				      : 100;

		snprintf(f, sizeof(f), "%llu of %llu", (unsigned long long)prog.files,
			 (unsigned long long)total.files);
		fprintf(stderr, "\r\033[Kdvs-cp: %s %s, %.1f of %.1f MiB (%d%%), %.1f MiB/s, "
			"%s left  %.30s", f, total.files == 1 ? "file" : "files", mib, all,
			pct > 100 ? 100 : pct, rate,
			rate > 0 && all > mib ? hms((all - mib) / rate, eta, sizeof(eta)) : "0:00",
			name != NULL ? name : "");
	} else {
		fprintf(stderr, "\r\033[Kdvs-cp: %s, %.1f MiB, %.1f MiB/s  %.40s",
			count_of(prog.files, "file", "files", f, sizeof(f)), mib, rate,
			name != NULL ? name : "");
	}
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

/* Says one line on stderr (clearing the progress line first). */
static void
say(const char *line)
{
	if (prog.shown)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "dvs-cp: %s\n", line);
}

/* An error: named on stderr, counted, kept for --json. */
static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char line[2 * FS_PATH_MAX + 256];
	va_list ap;

	if (counting)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(line);
	nerrors++;
	if (cpdone.nerrs < MAX_KEPT_ERRORS) {
		char **v = realloc(cpdone.errs, (cpdone.nerrs + 1) * sizeof(*v));

		if (v != NULL) {
			cpdone.errs = v;
			if ((v[cpdone.nerrs] = strdup(line)) != NULL)
				cpdone.nerrs++;
		}
	}
}

/* Something skipped on purpose (not an error): said once, on stderr. */
static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	char line[2 * FS_PATH_MAX + 256];
	va_list ap;

	if (counting)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(line);
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

enum { K_FILE, K_DIR, K_LINK };

struct info {
	int kind;		/* K_* */
	uint64_t size, dev, ino; /* dev 0 on the volume */
	struct timespec mtime;
	uint32_t mode, uid, gid; /* permission bits and owner (-p) */
	int has_perm;		 /* they are real: Linux or a POSIX volume */
};

/* What a source is; a Linux symbolic link is K_LINK unless follow.
 * 0, -EINVAL for devices, fifos and sockets (not copied), or -errno. */
static int
side_info(const struct side *s, int follow, struct info *in)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	if (s->dvs) {
		struct dvs_stat ds;
		int rc = dvs_stat(fs, s->path, &ds);

		if (rc < 0)
			return rc;
		if (S_ISLNK(ds.st_mode))
			in->kind = K_LINK; /* on an ext volume */
		else if (S_ISDIR(ds.st_mode))
			in->kind = K_DIR;
		else if (S_ISREG(ds.st_mode))
			in->kind = K_FILE;
		else
			return -EINVAL;
		in->size = ds.st_size;
		in->ino = ds.st_ino;
		in->mtime = ds.st_mtim;
		in->mode = ds.st_mode & 07777;
		in->uid = ds.st_uid;
		in->gid = ds.st_gid;
		in->has_perm = dvsfs_posix(fs);
		return 0;
	}
	if ((follow ? stat(s->path, &st) : lstat(s->path, &st)) < 0)
		return -errno;
	in->size = (uint64_t)st.st_size;
	in->dev = (uint64_t)st.st_dev;
	in->ino = (uint64_t)st.st_ino;
	in->mtime = st.st_mtim;
	in->mode = st.st_mode & 07777;
	in->uid = st.st_uid;
	in->gid = st.st_gid;
	in->has_perm = 1;
	if (S_ISLNK(st.st_mode))
		in->kind = K_LINK;
	else if (S_ISDIR(st.st_mode))
		in->kind = K_DIR;
	else if (S_ISREG(st.st_mode))
		in->kind = K_FILE;
	else
		return -EINVAL;
	return 0;
}

/* (dev, ino) of a destination by path (fd < 0) or open descriptor. */
static int
side_id(const struct side *s, int fd, uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (s->dvs) {
		struct dvs_stat ds;
		int rc = fd >= 0 ? dvs_fstat(fs, fd, &ds) : dvs_stat(fs, s->path, &ds);

		if (rc < 0)
			return rc;
		*dev = 0;
		*ino = ds.st_ino;
		return 0;
	}
	if ((fd >= 0 ? fstat(fd, &st) : stat(s->path, &st)) < 0)
		return -errno;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

/* Opens for reading (how 0) or creates for writing with how = O_EXCL or
 * O_TRUNC. */
static int
side_open(const struct side *s, int how)
{
	int fd;

	if (s->dvs)
		return how ? dvs_open(fs, s->path, O_WRONLY | O_CREAT | how, 0644)
			   : dvs_open(fs, s->path, O_RDONLY, 0);
	fd = how ? open(s->path, O_WRONLY | O_CREAT | how | O_CLOEXEC, 0644)
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

/* The name dst is taken by something this copy made (from another source
 * whose name differs only in case: FAT does not tell them apart, nor
 * does any case-insensitive Linux file system).  Reported as EEXIST for
 * src, as cp does into vfat; never replaced.  1 if so. */
static int
collision(const struct side *src, const struct side *dst)
{
	uint64_t dev, ino;
	const char *from;

	if (side_id(dst, -1, &dev, &ino) < 0 || (from = seen_find(&created, dev, ino)) == NULL)
		return 0;
	fail("%s: %s: this copy made it a moment ago from %s (the names differ only in "
	     "case, which the destination does not tell apart); %s not copied",
	     disp(dst), strerror(EEXIST), from, disp(src));
	cpdone.collisions++;
	return 1;
}

/* Remembers that this copy made dst (open as fd, or -1) from src. */
static void
remember(const struct side *src, const struct side *dst, int fd)
{
	uint64_t dev, ino;

	if (side_id(dst, fd, &dev, &ino) == 0 && seen_add(&created, dev, ino, disp(src)) < 0)
		fail("out of memory");
}

/* Creates the destination file of src: a new one, or one that was there
 * before the copy (truncated, as cp does), never one this copy made. */
static int
dst_create(const struct side *src, const struct side *dst)
{
	int fd = side_open(dst, O_EXCL);

	if (fd == -EEXIST) {
		if (collision(src, dst))
			return -EEXIST;
		fd = side_open(dst, O_TRUNC);
	}
	if (fd == -EINVAL && dst->dvs) {
		fail("%s: FAT does not allow this name (no control characters, none of "
		     "\" * : < > ? \\ |, no trailing dot or space): %s not copied",
		     disp(dst), disp(src));
		return fd;
	}
	if (fd < 0) {
		fail("%s: %s", disp(dst), strerror(-fd));
		return fd;
	}
	remember(src, dst, fd);
	return fd;
}

/* Makes the destination directory of src, or enters one that was there
 * before the copy, never one this copy made.  0 or -errno (said). */
static int
dst_mkdir(const struct side *src, const struct side *dst)
{
	int rc = dst->dvs ? dvs_mkdir(fs, dst->path, 0755)
			  : (mkdir(dst->path, 0755) < 0 ? -errno : 0);

	if (rc == 0) {
		remember(src, dst, -1);
		return 0;
	}
	if (rc == -EEXIST && collision(src, dst))
		return rc;
	if (rc == -EEXIST && side_kind(dst, NULL, NULL) == 1)
		return 0;
	fail("%s: mkdir: %s", disp(dst), strerror(-rc));
	return rc;
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

/* -p: the time, and where both sides hold them (Linux or an ext volume;
 * never FAT) the mode, and the owner when we are root (as cp -p). */
static void
side_set_attrs(const struct side *s, const struct info *si)
{
	int perm = si->has_perm && (!s->dvs || dvsfs_posix(fs));

	if (perm && geteuid() == 0) {
		if (s->dvs)
			(void)dvs_chown(fs, s->path, si->uid, si->gid);
		else
			(void)lchown(s->path, si->uid, si->gid);
	}
	if (perm) {
		if (s->dvs)
			(void)dvs_chmod(fs, s->path, si->mode);
		else
			(void)chmod(s->path, si->mode);
	}
	if (si->mtime.tv_nsec != UTIME_OMIT)
		side_set_mtime(s, &si->mtime);
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
copy_file(const struct side *src, const struct side *dst, void *buf,
	  const struct info *si)
{
	uint64_t size = si->size;
	int in, out, rc;
	ssize_t n, w;

	if (counting) {
		total.files++;
		total.bytes += size;
		return 0;
	}
	in = side_open(src, 0);
	if (in < 0) {
		fail("%s: %s", disp(src), strerror(-in));
		return in;
	}
	out = dst_create(src, dst);
	if (out < 0) {
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
	if (rc == 0 && opt.preserve)
		side_set_attrs(dst, si);
	if (rc == 0) {
		prog.files++;
		cpdone.files++;
	}
	return rc;
}

static int copy_any(const struct side *src, const struct side *dst, void *buf, int top);

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
		copy_any(&s2, &d2, buf, 0);
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
		copy_any(&s2, &d2, buf, 0);
	}
	closedir(d);
	return 0;
}

/* Says that a symbolic link was not followed (once per link: the walk
 * meets each link once) and counts it. */
static void
skip_link(const struct side *src, int top)
{
	char target[PATH_MAX];
	ssize_t n = readlink(src->path, target, sizeof(target) - 1);

	target[n > 0 ? n : 0] = '\0';
	note("%s -> %s: symbolic link not followed (%s)", disp(src), target,
	     top ? "-H or -L follows it" : "-L follows links inside trees");
	cpdone.links++;
}

/* top: src was named on the command line. */
static int
copy_any(const struct side *src, const struct side *dst, void *buf, int top)
{
	struct info si;
	const char *loop;
	int rc, follow;

	/* cp's and rsync's conventions: links inside a tree are not
	 * followed unless -L (a tree with `up -> ..` would recurse until the
	 * volume filled); one named on the command line is followed with -H
	 * or -L, or when the copy is not recursive (cp FILE-LINK dvs:/x). */
	follow = opt.follow_all || (top && (opt.follow_cmd || !opt.recursive));
	rc = side_info(src, follow, &si);
	if (rc < 0) {
		if (rc == -EINVAL)
			fail("%s: not a regular file or directory: skipped", disp(src));
		else
			fail("%s: %s", disp(src), strerror(-rc));
		return rc;
	}
	if (si.kind == K_LINK) {
		if (!counting)
			skip_link(src, top);
		return 0;
	}
	if (!counting && same_place(src, dst)) {
		fail("%s and %s are the same file", disp(src), disp(dst));
		return -EINVAL;
	}
	if (si.kind == K_FILE)
		return copy_file(src, dst, buf, &si);
	if (src->dvs == dst->dvs && inside(src->path, dst->path)) {
		fail("cannot copy %s into itself (%s)", disp(src), disp(dst));
		return -EINVAL;
	}
	if (!opt.recursive) {
		fail("%s is a directory (use -r)", disp(src));
		return -EISDIR;
	}
	/* Only a followed link can lead back into a directory being copied. */
	loop = src->dvs ? NULL : seen_find(&ancestors, si.dev, si.ino);
	if (loop != NULL) {
		fail("%s: cannot copy a cyclic symbolic link: it leads back to %s, which "
		     "is being copied", disp(src), loop);
		cpdone.loops++;
		return -ELOOP;
	}
	if (!counting) {
		rc = dst_mkdir(src, dst);
		if (rc < 0)
			return rc;
		cpdone.dirs++;
	}
	if (!src->dvs && seen_add(&ancestors, si.dev, si.ino, disp(src)) < 0) {
		fail("out of memory");
		return -ENOMEM;
	}
	rc = src->dvs ? copy_dir_dvs_entries(src, dst, buf)
		      : copy_dir_local_entries(src, dst, buf);
	if (!src->dvs)
		seen_del(&ancestors, si.dev, si.ino);
	if (opt.preserve && !counting)
		side_set_attrs(dst, &si);
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
	/* Every counter said in words: "errors 3" alone puzzled users. */
	printf("  requests  calls dvs-fs answered since it started, from every client\n"
	       "  errors    of those, the ones answered with an error code; most are\n"
	       "            expected (a client asking whether a name exists before it\n"
	       "            creates it gets ENOENT), the clients report real failures\n"
	       "  sessions  clients connected now (one per process)\n"
	       "  bindings  client endpoints in those sessions (one per thread)\n"
	       "  fds       files and directories the clients hold open now\n"
	       "  workers   dvs-fs threads serving the clients\n"
	       "Per session: its first endpoint, endpoints, open descriptors and calls.\n");
	printf("%-8s %-8s %-8s %-6s %s\n", "session", "endpoint", "bindings", "fds",
	       "requests");
	for (i = 0; i < n; i++)
		printf("%-8u %-8d %-8u %-6u %llu%s\n", ss[i].session, (int)ss[i].first_ep,
		       ss[i].bindings, ss[i].fds, (unsigned long long)ss[i].requests,
		       ss[i].session == dvsfs_session(fs) ? "  (this dvs-cp)" : "");
	return 0;
}

/*
 * The end of a copy in words (on a terminal, or when anything was skipped
 * or failed: a quiet success stays quiet, like cp) and, with --json, as
 * one object on stdout.
 */
static void
summary(uint64_t t0)
{
	double secs = (double)(dvs_now_ns() - t0) / 1e9;
	char f[48], d[48], l[64], e[48];
	struct json_object *doc, *errs;
	size_t i;

	cpdone.bytes = prog.bytes;
	if (prog.on || nerrors > 0 || cpdone.links > 0) {
		fprintf(stderr, "dvs-cp: copied %s and %s (%.1f MiB) in %.1f s",
			count_of(cpdone.files, "file", "files", f, sizeof(f)),
			count_of(cpdone.dirs, "directory", "directories", d, sizeof(d)),
			(double)cpdone.bytes / 1048576.0, secs);
		if (cpdone.links > 0)
			fprintf(stderr, "; %s not followed",
				count_of(cpdone.links, "symbolic link", "symbolic links", l, sizeof(l)));
		if (nerrors > 0)
			fprintf(stderr, "; %s, each named above",
				count_of((uint64_t)nerrors, "error", "errors", e, sizeof(e)));
		fputc('\n', stderr);
	}
	if (!opt.json)
		return;
	doc = json_object_new_object();
	errs = json_object_new_array();
	dvs_json_add_bool(doc, "ok", nerrors == 0);
	dvs_json_add_uint(doc, "files", cpdone.files);
	dvs_json_add_uint(doc, "directories", cpdone.dirs);
	dvs_json_add_uint(doc, "bytes", cpdone.bytes);
	dvs_json_add_fixed(doc, "seconds", secs, 3);
	dvs_json_add_uint(doc, "links_not_followed", cpdone.links);
	dvs_json_add_uint(doc, "link_loops", cpdone.loops);
	dvs_json_add_uint(doc, "case_collisions", cpdone.collisions);
	dvs_json_add_int(doc, "errors", nerrors);
	for (i = 0; i < cpdone.nerrs; i++)
		json_object_array_add(errs, dvs_json_string(cpdone.errs[i]));
	json_object_object_add(doc, "error_messages", errs);
	dvs_json_print(stdout, doc);
}

/* Copies every source (argv[optind .. argc-2]) to dst. */
static void
run_sources(int argc, char **argv, const struct side *dst, int dst_kind, void *buf)
{
	char name[FS_PATH_MAX + 8];
	struct side src, d2;
	int i;

	for (i = optind; i < argc - 1; i++) {
		if (parse_side(argv[i], &src) < 0) {
			fail("bad source '%s' (dvs paths are dvs:/PATH)", argv[i]);
			continue;
		}
		if (!src.dvs && !dst->dvs) {
			fail("%s -> %s: neither is a dvs:/ path (use cp)", argv[i],
			     argv[argc - 1]);
			continue;
		}
		d2 = *dst;
		if (dst_kind == 1) {
			/* Into an existing directory, under the source's name. */
			const char *b = base_name(src.path, name, sizeof(name));

			if (strcmp(b, "/") == 0 || strcmp(b, ".") == 0 ||
			    strcmp(b, "..") == 0) {
				fail("%s: give a destination name", disp(&src));
				continue;
			}
			if (side_join(dst, b, &d2) < 0) {
				fail("%s: %s", disp(dst), strerror(ENAMETOOLONG));
				continue;
			}
		}
		copy_any(&src, &d2, buf, 1);
	}
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
	    "  -L, --dereference    follow every symbolic link (loops are refused)\n"
	    "  -H                   follow symbolic links named on the command line\n"
	    "                       (without -r they are always followed)\n"
	    "  -p, --preserve       keep modification times; with an ext volume on\n"
	    "                       either side also modes, and owners as root\n"
	    "  -q, --quiet, --no-progress  no progress line\n"
	    "      --json           print a summary as one JSON object on stdout\n"
	    "  -e, --ep N           endpoint of dvs-fs (default $DVS_FS_EP, else %d)\n"
	    "  -V, --volume NAME    volume of dvs-fs (default $DVS_FS_VOLUME, else the "
	    "first)\n"
	    "  -b, --block-size N   bytes per transfer (default 1 MiB, at most 64 MiB)\n"
	    "      --stats          print dvs-fs statistics (sessions, open\n"
	    "                       descriptors per client) and exit\n"
	    "  -h, --help           this text\n"
	    "      --version        print the version\n"
	    "\n"
	    "dvs-cp must run inside the DC of dvs-fs:\n"
	    "  dvsctl run --dc 1 --ep 20 -- dvs-cp -r ./tree dvs:/tree\n"
	    "A progress line (percent, ETA) appears on a terminal when a copy takes\n"
	    "over a second.  Symbolic links inside a tree are skipped and named\n"
	    "(FAT cannot store links) unless -L.  Two sources whose names differ\n"
	    "only in case cannot both land on FAT: the second is an error (EEXIST)\n"
	    "and the first is kept.\n"
	    "Exit: 0 all copied, 1 something failed (each failure is named),\n"
	    "2 bad usage, 3 cannot reach dvs-fs.\n",
	    FS_EP_DEFAULT);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"recursive", no_argument, NULL, 'r'},
	    {"dereference", no_argument, NULL, 'L'},
	    {"no-progress", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'J'},
	    {"preserve", no_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"ep", required_argument, NULL, 'e'},
	    {"volume", required_argument, NULL, 'V'},
	    {"block-size", required_argument, NULL, 'b'},
	    {"stats", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 0x100},
	    {NULL, 0, NULL, 0},
	};
	struct dvsfs_opts fo;
	struct side dst;
	uint64_t t0;
	int c, rc, stats = 0, dst_kind, nsrc;
	void *buf = NULL;
	long v;

	dvsfs_opts_init(&fo);
	while ((c = getopt_long(argc, argv, "rRLHpqe:V:b:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'L':
			opt.follow_all = 1;
			break;
		case 'H':
			opt.follow_cmd = 1;
			break;
		case 'J':
			opt.json = 1;
			break;
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
			if (dvs_parse_long(optarg, 0, INT32_MAX - 1, &v) != 0) {
				fprintf(stderr, "dvs-cp: --ep: bad endpoint '%s'\n", optarg);
				return 2;
			}
			fo.server_ep = (dvk_ep_t)v;
			break;
		case 'V':
			fo.volume = optarg;
			break;
		case 'b':
			if (dvs_parse_long(optarg, 512, 64L << 20, &v) != 0) {
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
		case 0x100:
			return dvs_print_version("dvs-cp");
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
	prog.start_ns = prog.last_ns = t0 = dvs_now_ns();
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
	if (prog.on) {
		/* A silent walk first: the progress line can then say how much
		 * is done and how long the rest will take. */
		counting = 1;
		run_sources(argc, argv, &dst, dst_kind, buf);
		counting = 0;
		total.known = 1;
	}
	run_sources(argc, argv, &dst, dst_kind, buf);
	progress_end();
	if (dst.dvs) {
		/* Return only once the copy is on the volume's disk: a crash of
		 * dvs-fs after dvs-cp said "done" must not lose it. */
		rc = dvs_sync(fs);
		if (rc < 0)
			fail("%s: sync: %s", disp(&dst), strerror(-rc));
	}
	rc = nerrors > 0 ? 1 : 0;
	summary(t0);
out:
	seen_free(&created);
	seen_free(&ancestors);
	while (cpdone.nerrs > 0)
		free(cpdone.errs[--cpdone.nerrs]);
	free(cpdone.errs);
	free(buf);
	dvsfs_disconnect(fs);
	return rc;
}
