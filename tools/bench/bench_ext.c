/*
 * bench_ext.c - `dvs-bench ext`: an ext4 volume through dvs-fs (libext2fs)
 * and dvs-fuse against fuse2fs (e2fsprogs' own FUSE server, one thread
 * behind one lock) on identical ext4 images in tmpfs, in the same run.
 *
 * Figures: sequential write (dd conv=fsync of a fresh file) and cold read
 * (page cache dropped, dd to /dev/null) of file_mib MiB, small files per
 * second (nsmall x 4 KiB in 10 directories, the last one fsynced), the
 * seconds to untar a real tree (default /usr/include) and the peak RSS of
 * dvs-fs.  Each contender mounts a copy of one template image; after its
 * last run the image must be e2fsck -fn clean, else the figures are not
 * reported.  Needs root (FUSE mounts, drop_caches) and fuse2fs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define EXT_MAX_RUNS 9

struct extb {
	char tmp[PATH_MAX / 2];
	char bin[PATH_MAX];
	const char *tree; /* what the untar figure unpacks */
	unsigned file_mib, img_mib, nsmall, runs;
	long fs_rss; /* peak KiB of dvs-fs */
	int keep;
};

/* One contender: how it mounts an image and lets go of it. */
struct contender {
	const char *name;
	int (*mount)(struct extb *b, const char *img, const char *mnt);
	int (*umount)(struct extb *b, const char *mnt);
};

/* A command line in bash (no -e: pipefail only), output to bench.log
 * (bench_sh.c); TIMED: its seconds, or -1 when it failed. */
#define bash(b, ...) bench_sh((b)->tmp, 0, __VA_ARGS__)
#define TIMED(b, ...) bench_sh_timed((b)->tmp, 0, __VA_ARGS__)

static long
pid_in(struct extb *b, const char *file)
{
	char path[PATH_MAX];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", b->tmp, file);
	f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	return pid;
}

/* ---- dvs-fs + dvs-fuse, started as `dvs mount` starts them ---------- */

static int
dvs_mount(struct extb *b, const char *img, const char *mnt)
{
	return bash(b,
		    "export DVS_SOCKET='%1$s/node/dvkd.sock'; mkdir -p '%1$s/node' '%3$s' && "
		    "dvsctl start && dvsctl dc create 1 --endpoints 256 || exit 1; "
		    "dvsctl run --dc 1 --ep 1-9 -- dvs-fs --ep 1 --workers 4 '%2$s' & "
		    "r=$!; "
		    "dvsctl run --dc 1 --ep 40-60 -- dvs-fuse -f --exclusive --ep 1 --wait 30 "
		    "--threads 8 '%3$s' & echo $! >'%1$s/fuse.pid'; "
		    "for i in $(seq 300); do findmnt -M '%3$s' >/dev/null && break; sleep 0.1; done; "
		    "p=$r; [ \"$(cat /proc/$p/comm)\" = dvs-fs ] || p=$(pgrep -P $r -x dvs-fs); "
		    "echo $p >'%1$s/fs.pid'; findmnt -M '%3$s' >/dev/null",
		    b->tmp, img, mnt);
}

static void
note_rss(struct extb *b)
{
	long rss = bench_peak_rss_kib((pid_t)pid_in(b, "fs.pid"));

	if (rss > b->fs_rss)
		b->fs_rss = rss;
}

static int
dvs_umount(struct extb *b, const char *mnt)
{
	note_rss(b);
	return bash(b,
		    "export DVS_SOCKET='%1$s/node/dvkd.sock'; fusermount3 -u '%2$s'; "
		    "for p in $(cat '%1$s/fuse.pid') $(cat '%1$s/fs.pid'); do "
		    "kill -0 $p 2>/dev/null && [ $p != $(cat '%1$s/fuse.pid') ] && kill -TERM $p; "
		    "for i in $(seq 300); do kill -0 $p 2>/dev/null || break; sleep 0.05; done; "
		    "done; dvsctl stop",
		    b->tmp, mnt);
}

/* ---- fuse2fs ---------------------------------------------------------- */

static int
f2_mount(struct extb *b, const char *img, const char *mnt)
{
	return bash(b,
		    "mkdir -p '%3$s'; fuse2fs -f '%2$s' '%3$s' -o rw & echo $! >'%1$s/f2.pid'; "
		    "for i in $(seq 300); do findmnt -M '%3$s' >/dev/null && exit 0; sleep 0.1; done; "
		    "exit 1",
		    b->tmp, img, mnt);
}

static int
f2_umount(struct extb *b, const char *mnt)
{
	/* fuse2fs writes its bitmaps when it exits: wait for that. */
	return bash(b,
		    "fusermount -u '%2$s'; p=$(cat '%1$s/f2.pid'); "
		    "for i in $(seq 600); do kill -0 $p 2>/dev/null || exit 0; sleep 0.05; done; "
		    "exit 1",
		    b->tmp, mnt);
}

static const struct contender contenders[] = {
    {"ext", dvs_mount, dvs_umount},
    {"fuse2fs", f2_mount, f2_umount},
};

/* ---- the work --------------------------------------------------------- */

static double
median_or_nan(double *v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (v[i] < 0)
			return NAN;
	return bench_median(v, n);
}

/* nsmall files of 4 KiB in 10 new directories; files per second. */
static double
small_files(struct extb *b, const char *mnt)
{
	char path[PATH_MAX + 64], data[4096];
	unsigned i, per = (b->nsmall + 9) / 10;
	uint64_t t0 = dvs_now_ns();
	int fd = -1;

	memset(data, 'e', sizeof(data));
	for (i = 0; i < b->nsmall; i++) {
		if (i % per == 0) {
			snprintf(path, sizeof(path), "%s/small%u", mnt, i / per);
			if (mkdir(path, 0755) != 0)
				return NAN;
		}
		if (fd >= 0)
			close(fd);
		snprintf(path, sizeof(path), "%s/small%u/f%05u", mnt, i / per, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data)) {
			fprintf(stderr, "dvs-bench: ext: %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return NAN;
		}
	}
	if (fd >= 0) {
		int rc = fsync(fd);

		close(fd);
		if (rc != 0)
			return NAN;
	}
	return (double)b->nsmall / ((double)(dvs_now_ns() - t0) / 1e9);
}

struct figures {
	double rd, wr, small, untar;
	int clean;
};

static int
one_contender(struct extb *b, const struct contender *c, struct figures *f)
{
	double w[EXT_MAX_RUNS], r[EXT_MAX_RUNS];
	char img[PATH_MAX], mnt[PATH_MAX];
	unsigned i;
	int rc = -1;

	f->rd = f->wr = f->small = f->untar = NAN;
	f->clean = 0;
	snprintf(img, sizeof(img), "%s/%s.img", b->tmp, c->name);
	snprintf(mnt, sizeof(mnt), "%s/mnt-%s", b->tmp, c->name);
	for (i = 0; i < b->runs; i++) {
		bench_progress("ext: %s, write %u/%u", c->name, i + 1, b->runs);
		if (bash(b, "cp --sparse=always '%s/template.img' '%s'", b->tmp, img) != 0 ||
		    c->mount(b, img, mnt) != 0)
			goto out;
		w[i] = TIMED(b, "dd if='%s/src.bin' of='%s/big' bs=1M conv=fsync status=none",
			     b->tmp, mnt);
		if (c->umount(b, mnt) != 0)
			goto out;
	}
	f->wr = (double)b->file_mib * 1048576.0 / median_or_nan(w, b->runs) / 1e6;
	for (i = 0; i < b->runs; i++) {
		bench_progress("ext: %s, cold read %u/%u", c->name, i + 1, b->runs);
		if (c->mount(b, img, mnt) != 0)
			goto out;
		(void)bash(b, "sync; echo 3 >/proc/sys/vm/drop_caches");
		r[i] = TIMED(b, "dd if='%s/big' of=/dev/null bs=1M status=none", mnt);
		if (bash(b, "cmp '%s/src.bin' '%s/big'", b->tmp, mnt) != 0)
			r[i] = -1;
		if (i + 1 < b->runs && c->umount(b, mnt) != 0)
			goto out;
	}
	f->rd = (double)b->file_mib * 1048576.0 / median_or_nan(r, b->runs) / 1e6;
	bench_progress("ext: %s, %u small files", c->name, b->nsmall);
	f->small = small_files(b, mnt);
	bench_progress("ext: %s, untar", c->name);
	f->untar = TIMED(b, "tar -xf '%s/tree.tar' -C '%s'", b->tmp, mnt);
	if (c->umount(b, mnt) != 0)
		goto out;
	f->clean = bash(b, "e2fsck -fn '%s' >/dev/null", img) == 0;
	rc = 0;
out:
	(void)bash(b, "findmnt -M '%s' >/dev/null && fusermount3 -u -z '%s'; rm -f '%s'; true",
		   mnt, mnt, img);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvs-bench ext [--file-mib N] [--small N] [--runs N] [--tree DIR]\n"
		"                     [--dir DIR] [--keep]\n"
		"An ext4 image through dvs-fs + dvs-fuse against fuse2fs on the same\n"
		"image in tmpfs: write/cold read of N MiB (256), N 4 KiB files (10000),\n"
		"untar of DIR (/usr/include), peak RSS of dvs-fs.  Needs root and fuse2fs.\n");
}

static int
parse(struct extb *b, int argc, char **argv, const char **dir)
{
	static const struct option lo[] = {
	    {"file-mib", required_argument, NULL, 'f'}, {"small", required_argument, NULL, 's'},
	    {"runs", required_argument, NULL, 'r'},	{"tree", required_argument, NULL, 't'},
	    {"dir", required_argument, NULL, 'd'},	{"keep", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (bench_num("ext", "file-mib", optarg, 1, 4096, &v) != 0)
				return -1;
			b->file_mib = (unsigned)v;
			break;
		case 's':
			if (bench_num("ext", "small", optarg, 10, 1000000, &v) != 0)
				return -1;
			b->nsmall = (unsigned)v;
			break;
		case 'r':
			if (bench_num("ext", "runs", optarg, 1, EXT_MAX_RUNS, &v) != 0)
				return -1;
			b->runs = (unsigned)v;
			break;
		case 't':
			b->tree = optarg;
			break;
		case 'd':
			*dir = optarg;
			break;
		case 'k':
			b->keep = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (b->file_mib < 1 || b->file_mib > 4096 || b->nsmall < 10 || b->runs < 1 ||
	    b->runs > EXT_MAX_RUNS) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
verdict(struct bench_report *r, const char *name, double ours, double theirs, double goal)
{
	char v[96];
	double ratio = ours / theirs;

	snprintf(v, sizeof(v), "%.2fx fuse2fs (target >= %.1fx): %s", ratio, goal,
		 ratio >= goal ? "met" : "missed");
	bench_report_add_str(r, name, isnan(ratio) ? "not measured" : v);
}

int
bench_ext_main(struct bench_report *r, int argc, char **argv)
{
	struct extb b = {.file_mib = 256, .nsmall = 10000, .runs = 3, .tree = "/usr/include"};
	struct figures fx[2];
	const char *dir = "/dev/shm";
	char path[PATH_MAX + 64];
	unsigned i;
	int rc;

	rc = parse(&b, argc, argv, &dir);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (geteuid() != 0) {
		fprintf(stderr, "dvs-bench: ext: needs root (FUSE mounts, drop_caches)\n");
		return 1;
	}
	bench_bin_dir(b.bin, sizeof(b.bin));
	snprintf(b.tmp, sizeof(b.tmp), "%s/dvs-bench-ext.XXXXXX", dir);
	if (mkdtemp(b.tmp) == NULL) {
		fprintf(stderr, "dvs-bench: ext: mkdtemp in %s: %s\n", dir, strerror(errno));
		return 1;
	}
	/* Ours first, then the system's (mke2fs, fuse2fs, e2fsck). */
	snprintf(path, sizeof(path), "%s:/usr/sbin:/usr/bin:/sbin:/bin", b.bin);
	setenv("PATH", path, 1);
	b.img_mib = b.file_mib + 1024;
	bench_progress("ext: making the template image and the sources");
	if (bash(&b, "command -v fuse2fs >/dev/null || { echo 'no fuse2fs (apt-get install "
		     "fuse2fs)'; exit 1; }") != 0 ||
	    bash(&b,
		 "truncate -s %uM '%s/template.img' && mke2fs -q -F -t ext4 '%s/template.img' && "
		 "head -c %uM /dev/urandom >'%s/src.bin' && tar -cf '%s/tree.tar' -C '%s' .",
		 b.img_mib, b.tmp, b.tmp, b.file_mib, b.tmp, b.tmp, b.tree) != 0) {
		fprintf(stderr, "dvs-bench: ext: set-up failed (see %s/bench.log)\n", b.tmp);
		rc = 1;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if (one_contender(&b, &contenders[i], &fx[i]) != 0) {
			fprintf(stderr, "dvs-bench: ext: %s failed (see %s/bench.log)\n",
				contenders[i].name, b.tmp);
			b.keep = 1;
		}
	}
	bench_report_add(r, "ext_fuse_write_mbps", fx[0].wr, "MB/s", "dd conv=fsync, median");
	bench_report_add(r, "ext_fuse_read_mbps", fx[0].rd, "MB/s", "cold cache, median");
	bench_report_add(r, "ext_fuse_smallfiles_per_s", fx[0].small, "files/s", "4 KiB each");
	bench_report_add(r, "ext_untar_seconds", fx[0].untar, "s", b.tree);
	bench_report_add(r, "fuse2fs_write_mbps", fx[1].wr, "MB/s", "dd conv=fsync, median");
	bench_report_add(r, "fuse2fs_read_mbps", fx[1].rd, "MB/s", "cold cache, median");
	bench_report_add(r, "fuse2fs_smallfiles_per_s", fx[1].small, "files/s", "4 KiB each");
	bench_report_add(r, "fuse2fs_untar_seconds", fx[1].untar, "s", b.tree);
	bench_report_add(r, "ext_fs_rss_kib", (double)b.fs_rss, "KiB", "peak VmHWM of dvs-fs");
	bench_report_add(r, "ext_file_mib", b.file_mib, "MiB", NULL);
	bench_report_add(r, "ext_smallfiles", b.nsmall, "files", NULL);
	bench_report_add(r, "ext_runs", b.runs, "runs", NULL);
	bench_report_add_str(r, "ext_e2fsck_after",
			     fx[0].clean && fx[1].clean ? "both clean"
			     : fx[0].clean		? "fuse2fs image NOT clean"
							: "dvs image NOT clean");
	verdict(r, "ext_target_write", fx[0].wr, fx[1].wr, 2.0);
	verdict(r, "ext_target_read", fx[0].rd, fx[1].rd, 2.0);
	verdict(r, "ext_target_smallfiles", fx[0].small, fx[1].small, 2.0);
	/* Figures are printed either way; ext_e2fsck_after says if they count. */
	rc = 0;
out:
	if (!b.keep)
		(void)bash(&b, "cd / && rm -rf '%s'", b.tmp);
	else
		fprintf(stderr, "dvs-bench: ext: kept %s\n", b.tmp);
	return rc;
}
