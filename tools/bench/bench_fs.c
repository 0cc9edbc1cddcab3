/*
 * bench_fs.c - `dvs-bench fs`: the file server, dvs cp and the FUSE mount
 * beside mtools and fusefat, all in one run on images in tmpfs.
 *
 * Contenders, each on its own fresh FAT32 image of the same size:
 *   A1     dvs-cp -> dvs-fs (image file)
 *   A2     dvs-cp -> dvs-fs -> dvs-vdd (image file)
 *   FUSE   dd through `dvs mount` (dvs-fuse -> dvs-fs)
 *   fusefat  dd through `fusefat -o rw+`
 *   mcopy  mtools straight on the image
 * Every read is cold: the servers (or the mount) are restarted between
 * writing the file and reading it back, and the page cache is dropped.
 * Every write that goes through a kernel cache includes fsync.  The copy
 * tools (dvs cp, mcopy) read into a tmpfs file, dd reads into /dev/null.
 * Each file read back is compared with the original (not timed).
 *
 * The programs are driven through bash; this file only times them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MAX_RUNS 9

struct fsb {
	char tmp[PATH_MAX / 2];
	char bin[PATH_MAX];
	unsigned file_mib, img_mib, nsmall, cache_mb, runs;
	long fs_rss, fuse_rss; /* peak KiB seen */
	unsigned fuse_small_done, fusefat_small_done;
	double fusefat_max_secs;
	int keep;
	unsigned parts; /* PART_* to run (--only) */
};

/* The contenders, for --only. */
enum { PART_MCOPY = 1, PART_A1 = 2, PART_A2 = 4, PART_FUSE = 8, PART_FUSEFAT = 16 };
static const char *const part_names[] = {"mcopy", "a1", "a2", "fuse", "fusefat"};

/* Parses "a1,mcopy,...": 0, or -1 for an unknown name. */
static int
parse_parts(const char *arg, unsigned *out)
{
	char buf[128], *tok, *save = NULL;
	unsigned i, parts = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(part_names) / sizeof(part_names[0]); i++)
			if (strcmp(tok, part_names[i]) == 0)
				break;
		if (i == sizeof(part_names) / sizeof(part_names[0]))
			return -1;
		parts |= 1u << i;
	}
	if (parts == 0)
		return -1;
	*out = parts;
	return 0;
}

/* A command line in bash, output to bench.log (bench_sh.c); timed: its
 * seconds, or -1 when it failed. */
#define sh(b, ...) bench_sh((b)->tmp, 1, __VA_ARGS__)
#define timed(b, ...) bench_sh_timed((b)->tmp, 1, __VA_ARGS__)

static double
mbps(const struct fsb *b, double secs)
{
	if (secs <= 0)
		return NAN;
	return (double)b->file_mib * 1048576.0 / secs / 1e6;
}

static void
drop_caches(struct fsb *b)
{
	(void)sh(b, "sync; echo 3 > /proc/sys/vm/drop_caches");
}

static long
read_pid(struct fsb *b, const char *name)
{
	char path[PATH_MAX];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pid", b->tmp, name);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

static void
note_rss(long *peak, long pid)
{
	long v;

	if (pid <= 0)
		return;
	v = bench_peak_rss_kib((pid_t)pid);
	if (v > *peak)
		*peak = v;
}

/* Waits until a process that is not our child is gone (or a zombie). */
static void
wait_gone(long pid)
{
	char path[64], st[512];
	int i;
	FILE *f;

	for (i = 0; i < 600; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		f = fopen(path, "r");
		if (f == NULL)
			return;
		if (fgets(st, sizeof(st), f) == NULL)
			st[0] = '\0';
		fclose(f);
		if (strstr(st, ") Z ") != NULL)
			return;
		usleep(100 * 1000);
	}
}

static void
stop_pid(struct fsb *b, const char *name, long *rss)
{
	long pid = read_pid(b, name);

	if (pid <= 0)
		return;
	if (rss != NULL)
		note_rss(rss, pid);
	kill((pid_t)pid, SIGTERM);
	wait_gone(pid);
	(void)sh(b, "rm -f '%s/%s.pid'", b->tmp, name);
}

static int
mkimage(struct fsb *b, const char *name)
{
	return sh(
	    b,
	    "rm -f '%s/%s'; truncate -s %uM '%s/%s'; mkfs.fat -F 32 '%s/%s' >/dev/null",
	    b->tmp, name, b->img_mib, b->tmp, name, b->tmp, name);
}

/* Starts a server under dvsctl run and waits until ep is bound. */
static int
start_server(struct fsb *b, const char *name, const char *range, int ep, const char *args)
{
	return sh(
	    b,
	    "dvsctl run --dc 1 --ep %s -- %s >'%s/%s.log' 2>&1 & echo $! >'%s/%s.pid'; "
	    "for i in $(seq 100); do dvsctl ep list --dc 1 | "
	    "awk 'NR > 1 && $2 == %d && $4 == \"bound\" { f = 1 } END { exit !f }' && "
	    "exit 0; "
	    "sleep 0.1; done; exit 1",
	    range, args, b->tmp, name, b->tmp, name, ep);
}

static int
start_dvs(struct fsb *b, const char *img, int vdd)
{
	char args[PATH_MAX + 256];

	if (vdd) {
		snprintf(args, sizeof(args), "dvs-vdd --ep 20 '%s/%s'", b->tmp, img);
		if (start_server(b, "vdd", "20-29", 20, args) != 0)
			return -1;
		snprintf(args, sizeof(args),
			 "dvs-fs --ep 1 --workers 4 --cache-mb %u --vdd 20", b->cache_mb);
	} else {
		snprintf(args, sizeof(args),
			 "dvs-fs --ep 1 --workers 4 --cache-mb %u '%s/%s'", b->cache_mb,
			 b->tmp, img);
	}
	return start_server(b, "fs", "1-9", 1, args);
}

static void
stop_dvs(struct fsb *b)
{
	stop_pid(b, "fs", &b->fs_rss);
	stop_pid(b, "vdd", NULL);
}

/* Median of the runs in MB/s; NAN when any run failed. */
static double
median_mbps(const struct fsb *b, double *secs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (secs[i] < 0)
			return NAN;
		secs[i] = mbps(b, secs[i]);
	}
	return bench_median(secs, n);
}

/*
 * dvs cp in scenario A1 or A2.  Each write lands on a fresh image; each
 * read restarts the servers first (cold caches).  Medians of b->runs.
 */
static int
bench_cp(struct fsb *b, int vdd, double *rd, double *wr)
{
	const char *img = vdd ? "a2.img" : "a1.img";
	double w[MAX_RUNS], rr[MAX_RUNS];
	unsigned i;
	int r = -1;

	*rd = *wr = NAN;
	if (sh(b, "dvsctl start && dvsctl dc create 1") != 0)
		goto out;
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: dvs cp, scenario %s, write %u/%u", vdd ? "A2" : "A1",
			       i + 1, b->runs);
		if (mkimage(b, img) != 0 || start_dvs(b, img, vdd) != 0)
			goto out;
		w[i] = timed(b,
			     "dvsctl run --dc 1 --ep 60-69 -- dvs-cp -q '%s/src.bin' "
			     "dvs:/big.bin",
			     b->tmp);
		stop_dvs(b);
	}
	*wr = median_mbps(b, w, b->runs);
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: dvs cp, scenario %s, read %u/%u", vdd ? "A2" : "A1",
			       i + 1, b->runs);
		drop_caches(b);
		if (start_dvs(b, img, vdd) != 0)
			goto out;
		(void)sh(b, "rm -f '%s/out.bin'", b->tmp);
		rr[i] = timed(b,
			      "dvsctl run --dc 1 --ep 60-69 -- dvs-cp -q dvs:/big.bin "
			      "'%s/out.bin'",
			      b->tmp);
		stop_dvs(b);
		if (sh(b, "cmp '%s/src.bin' '%s/out.bin'", b->tmp, b->tmp) != 0)
			rr[i] = -1;
	}
	*rd = median_mbps(b, rr, b->runs);
	if (isnan(*rd) || isnan(*wr))
		goto out;
	r = sh(b, "fsck.fat -n '%s/%s' >/dev/null", b->tmp, img);
out:
	stop_dvs(b);
	(void)sh(b, "dvsctl stop || true");
	(void)sh(b, "rm -f '%s/%s' '%s/out.bin'", b->tmp, img, b->tmp);
	return r;
}

static int
bench_mcopy(struct fsb *b, double *rd, double *wr)
{
	double w[MAX_RUNS], rr[MAX_RUNS];
	unsigned i;
	int r = -1;

	*rd = *wr = NAN;
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: mcopy, write %u/%u", i + 1, b->runs);
		if (mkimage(b, "m.img") != 0)
			goto out;
		w[i] = timed(b, "mcopy -i '%s/m.img' '%s/src.bin' ::/big.bin", b->tmp,
			     b->tmp);
	}
	*wr = median_mbps(b, w, b->runs);
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: mcopy, read %u/%u", i + 1, b->runs);
		drop_caches(b);
		(void)sh(b, "rm -f '%s/out.bin'", b->tmp);
		rr[i] = timed(b, "mcopy -n -i '%s/m.img' ::/big.bin '%s/out.bin'", b->tmp,
			      b->tmp);
		if (sh(b, "cmp '%s/src.bin' '%s/out.bin'", b->tmp, b->tmp) != 0)
			rr[i] = -1;
	}
	*rd = median_mbps(b, rr, b->runs);
	r = isnan(*rd) || isnan(*wr) ? -1 : 0;
out:
	(void)sh(b, "rm -f '%s/m.img' '%s/out.bin'", b->tmp, b->tmp);
	return r;
}

/*
 * Creates nsmall files of 4 KiB in 10 directories; files per second.  With
 * max_secs, stops after that long and rates the files made so far (fusefat
 * slows down as a directory grows, to under a file per second at a few
 * hundred entries: stopping early only flatters it).  *done gets the count.
 */
static double
small_files(struct fsb *b, const char *mnt, double max_secs, unsigned *done)
{
	char path[PATH_MAX], data[4096];
	unsigned i, per = (b->nsmall + 9) / 10;
	uint64_t t0;
	int fd = -1;

	memset(data, 'x', sizeof(data));
	t0 = dvs_now_ns();
	for (i = 0; i < b->nsmall; i++) {
		if (max_secs > 0 && i > 0 &&
		    (double)(dvs_now_ns() - t0) / 1e9 > max_secs)
			break;
		if (i % per == 0) {
			snprintf(path, sizeof(path), "%s/small%u", mnt, i / per);
			if (mkdir(path, 0755) != 0)
				return NAN;
		}
		snprintf(path, sizeof(path), "%s/small%u/f%05u.dat", mnt, i / per, i);
		if (fd >= 0)
			close(fd);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data)) {
			fprintf(stderr, "dvs-bench: fs: creating %s: %s\n", path,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return NAN;
		}
	}
	/* The last file's fsync makes the FAT and the directories durable
	 * for both contenders. */
	if (fd >= 0) {
		if (fsync(fd) != 0) {
			close(fd);
			return NAN;
		}
		close(fd);
	}
	*done = i;
	return (double)i / ((double)(dvs_now_ns() - t0) / 1e9);
}

/* The mount's servers' pids from dvs mount's state file. */
static void
note_mount_rss(struct fsb *b)
{
	(void)sh(b,
		 "st=$(echo '%s'/run/mount-*/state); "
		 "fs=$(sed -n 's/^fs_pid=//p' $st); fu=$(sed -n 's/^fuse_pid=//p' $st); "
		 "echo $fs >'%s/mfs.pid'; echo $fu >'%s/mfuse.pid'",
		 b->tmp, b->tmp, b->tmp);
	note_rss(&b->fs_rss, read_pid(b, "mfs"));
	note_rss(&b->fuse_rss, read_pid(b, "mfuse"));
}

static int
dvs_mount(struct fsb *b, const char *mnt)
{
	return sh(b, "dvs-mount --cache-mb %u '%s/f.img' '%s'", b->cache_mb, b->tmp, mnt);
}

/* The same for `dvs mount`: writes on fresh images, reads after a
 * remount, then the small files on the last mount. */
static int
bench_fuse(struct fsb *b, double *rd, double *wr, double *small)
{
	double w[MAX_RUNS], rr[MAX_RUNS];
	char mnt[PATH_MAX];
	unsigned i;
	int r = -1;

	*rd = *wr = *small = NAN;
	snprintf(mnt, sizeof(mnt), "%s/mnt", b->tmp);
	if (sh(b, "mkdir -p '%s'", mnt) != 0)
		goto out;
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: FUSE (dvs mount), write %u/%u", i + 1, b->runs);
		if (mkimage(b, "f.img") != 0 || dvs_mount(b, mnt) != 0)
			goto out;
		w[i] = timed(
		    b, "dd if='%s/src.bin' of='%s/big.bin' bs=1M conv=fsync status=none",
		    b->tmp, mnt);
		note_mount_rss(b);
		if (sh(b, "dvs-umount '%s'", mnt) != 0)
			goto out;
	}
	*wr = median_mbps(b, w, b->runs);
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: FUSE (dvs mount), read %u/%u", i + 1, b->runs);
		drop_caches(b);
		if (dvs_mount(b, mnt) != 0)
			goto out;
		drop_caches(b);
		rr[i] =
		    timed(b, "dd if='%s/big.bin' of=/dev/null bs=1M status=none", mnt);
		note_mount_rss(b);
		if (sh(b, "cmp '%s/src.bin' '%s/big.bin'", b->tmp, mnt) != 0)
			rr[i] = -1;
		if (i + 1 < b->runs && sh(b, "dvs-umount '%s'", mnt) != 0)
			goto out;
	}
	*rd = median_mbps(b, rr, b->runs);
	bench_progress("fs: FUSE (dvs mount), %u small files", b->nsmall);
	*small = small_files(b, mnt, 0, &b->fuse_small_done);
	note_mount_rss(b);
	if (sh(b, "dvs-umount '%s'", mnt) != 0)
		goto out;
	r = isnan(*rd) || isnan(*wr) || isnan(*small)
		? -1
		: sh(b, "fsck.fat -n '%s/f.img' >/dev/null", b->tmp);
out:
	(void)sh(b, "findmnt -M '%s' >/dev/null && dvs-umount '%s' || true", mnt, mnt);
	(void)sh(b, "rm -f '%s/f.img'", b->tmp);
	return r;
}

static int
fusefat_mount(struct fsb *b, const char *mnt)
{
	return sh(b,
		  "fusefat -f -o rw+ '%s/ff.img' '%s' >'%s/fusefat.log' 2>&1 & "
		  "echo $! >'%s/fusefat.pid'; "
		  "for i in $(seq 100); do findmnt -M '%s' >/dev/null && exit 0; sleep "
		  "0.1; done; exit 1",
		  b->tmp, mnt, b->tmp, b->tmp, mnt);
}

static void
fusefat_umount(struct fsb *b, const char *mnt)
{
	long pid = read_pid(b, "fusefat");

	(void)sh(b, "fusermount -u '%s' || fusermount3 -u '%s'", mnt, mnt);
	if (pid > 0)
		wait_gone(pid);
}

static int
bench_fusefat(struct fsb *b, double *rd, double *wr, double *small)
{
	double w[MAX_RUNS], rr[MAX_RUNS];
	char mnt[PATH_MAX];
	unsigned i;
	int r = -1;

	*rd = *wr = *small = NAN;
	snprintf(mnt, sizeof(mnt), "%s/ffmnt", b->tmp);
	if (sh(b, "mkdir -p '%s'", mnt) != 0)
		goto out;
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: fusefat, write %u/%u", i + 1, b->runs);
		if (mkimage(b, "ff.img") != 0 || fusefat_mount(b, mnt) != 0)
			goto out;
		w[i] = timed(
		    b, "dd if='%s/src.bin' of='%s/big.bin' bs=1M conv=fsync status=none",
		    b->tmp, mnt);
		fusefat_umount(b, mnt);
	}
	*wr = median_mbps(b, w, b->runs);
	for (i = 0; i < b->runs; i++) {
		bench_progress("fs: fusefat, read %u/%u", i + 1, b->runs);
		drop_caches(b);
		if (fusefat_mount(b, mnt) != 0)
			goto out;
		drop_caches(b);
		rr[i] =
		    timed(b, "dd if='%s/big.bin' of=/dev/null bs=1M status=none", mnt);
		if (sh(b, "cmp '%s/src.bin' '%s/big.bin'", b->tmp, mnt) != 0)
			rr[i] = -1;
		if (i + 1 < b->runs)
			fusefat_umount(b, mnt);
	}
	*rd = median_mbps(b, rr, b->runs);
	bench_progress("fs: fusefat, %u small files", b->nsmall);
	*small = small_files(b, mnt, b->fusefat_max_secs, &b->fusefat_small_done);
	fusefat_umount(b, mnt);
	r = isnan(*rd) || isnan(*wr) || isnan(*small) ? -1 : 0;
out:
	(void)sh(b, "findmnt -M '%s' >/dev/null && fusermount -u '%s' || true", mnt, mnt);
	(void)sh(b, "rm -f '%s/ff.img'", b->tmp);
	return r;
}

/* Adds "name": "met (1.23x >= 0.7x)" or "missed (...)". */
static void
target(struct bench_report *r, const char *name, double ratio, double goal)
{
	char s[96];

	if (isnan(ratio))
		snprintf(s, sizeof(s), "not measured");
	else
		snprintf(s, sizeof(s), "%s (%.2fx, goal %.1fx)",
			 ratio >= goal ? "met" : "missed", ratio, goal);
	bench_report_add_str(r, name, s);
}

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: dvs-bench [--json] fs [OPTIONS]\n"
	       "dvs cp (scenarios A1, A2) and the FUSE mount against mcopy and fusefat,\n"
	       "on FAT32 images in tmpfs; needs root (mounts, drop_caches), fusefat, "
	       "mtools.\n"
	       "\n"
	       "  --dir DIR        where images and files go (default /dev/shm)\n"
	       "  --file-mib N     size of the big file (default 256)\n"
	       "  --image-mib N    size of each image (default 512)\n"
	       "  --small N        small files to create (default 10000)\n"
	       "  --cache-mb N     dvs-fs cache bound (default 64)\n"
	       "  --fusefat-secs N stop fusefat's small files after N s (default 60)\n"
	       "  --runs N         runs of each read and write, median kept (default 3)\n"
	       "  --only LIST      run only these contenders, comma-separated:\n"
	       "                   mcopy,a1,a2,fuse,fusefat (default all; the others\n"
	       "                   report null and their targets \"not measured\")\n"
	       "  --keep           keep the work directory (and its bench.log)\n");
}

static int
parse(struct fsb *b, int argc, char **argv, const char **dir)
{
	static const struct option lo[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"file-mib", required_argument, NULL, 'f'},
	    {"image-mib", required_argument, NULL, 'i'},
	    {"small", required_argument, NULL, 's'},
	    {"cache-mb", required_argument, NULL, 'c'},
	    {"fusefat-secs", required_argument, NULL, 'F'},
	    {"runs", required_argument, NULL, 'R'},
	    {"keep", no_argument, NULL, 'k'},
	    {"only", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct option *o;
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'k') {
			b->keep = 1;
			continue;
		}
		if (c == 'd') {
			*dir = optarg;
			continue;
		}
		if (c == 'o') {
			if (parse_parts(optarg, &b->parts) < 0) {
				fprintf(stderr,
					"dvs-bench: fs: --only: a list of mcopy, a1, a2, "
					"fuse, fusefat\n");
				return -1;
			}
			continue;
		}
		if (c == '?') {
			usage(stderr);
			return -1;
		}
		/* the long option's name, for bench_num's message */
		for (o = lo; o->name != NULL && o->val != c; o++)
			;
		if (o->name == NULL ||
		    bench_num("fs", o->name, optarg, 1, c == 'R' ? MAX_RUNS : 1000000, &v) != 0)
			return -1;
		if (c == 'f')
			b->file_mib = (unsigned)v;
		else if (c == 'i')
			b->img_mib = (unsigned)v;
		else if (c == 's')
			b->nsmall = (unsigned)v;
		else if (c == 'F')
			b->fusefat_max_secs = (double)v;
		else if (c == 'R')
			b->runs = (unsigned)v;
		else
			b->cache_mb = (unsigned)v;
	}
	if (b->file_mib + 16 > b->img_mib) {
		fprintf(stderr,
			"dvs-bench: fs: the image must be 16 MiB larger than the file\n");
		return -1;
	}
	return 0;
}

int
bench_fs_main(struct bench_report *r, int argc, char **argv)
{
	struct fsb b = {.file_mib = 256,
			.img_mib = 512,
			.nsmall = 10000,
			.cache_mb = 64,
			.fs_rss = -1,
			.fuse_rss = -1,
			.fusefat_max_secs = 60,
			.runs = 3,
			.parts = ~0u};
	double a1r, a1w, a2r, a2w, mr, mw, fr, fw, fs, ffr, ffw, ffs;
	const char *dir = "/dev/shm";
	char path[PATH_MAX + 64];
	int rc = 0, p;
	long bound;

	p = parse(&b, argc, argv, &dir);
	if (p != 0)
		return p > 0 ? 0 : 2;
	if (geteuid() != 0) {
		fprintf(stderr, "dvs-bench: fs: needs root (FUSE mounts, drop_caches)\n");
		return 2;
	}
	bench_bin_dir(b.bin, sizeof(b.bin));
	snprintf(b.tmp, sizeof(b.tmp), "%s/dvs-bench-fs.XXXXXX", dir);
	if (mkdtemp(b.tmp) == NULL) {
		fprintf(stderr, "dvs-bench: fs: mkdtemp in %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s:%s", b.bin,
		 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	snprintf(path, sizeof(path), "%s/dvkd.sock", b.tmp);
	setenv("DVS_SOCKET", path, 1);
	snprintf(path, sizeof(path), "%s/run", b.tmp);
	setenv("DVS_RUN_DIR", path, 1);
	setenv("MTOOLS_SKIP_CHECK", "1", 1);
	if (sh(&b,
	       "for p in dvsctl dvkd dvs-fs dvs-vdd dvs-cp dvs-fuse dvs-mount "
	       "dvs-umount mcopy mkfs.fat fusefat fusermount; do "
	       "command -v $p >/dev/null || { echo \"missing: $p\"; exit 1; }; done") !=
	    0) {
		fprintf(stderr,
			"dvs-bench: fs: a program is missing (build DVS; "
			"apt-get install mtools fusefat dosfstools); see %s/bench.log\n",
			b.tmp);
		return 1;
	}
	bench_progress("fs: %u MiB of random data", b.file_mib);
	if (sh(&b, "head -c %uM /dev/urandom >'%s/src.bin'", b.file_mib, b.tmp) != 0) {
		fprintf(stderr, "dvs-bench: fs: cannot write %s\n", b.tmp);
		return 1;
	}

	mr = mw = a1r = a1w = a2r = a2w = fr = fw = fs = ffr = ffw = ffs = NAN;
	if (b.parts & PART_MCOPY)
		rc |= bench_mcopy(&b, &mr, &mw);
	if (b.parts & PART_A1)
		rc |= bench_cp(&b, 0, &a1r, &a1w);
	if (b.parts & PART_A2)
		rc |= bench_cp(&b, 1, &a2r, &a2w);
	if (b.parts & PART_FUSE)
		rc |= bench_fuse(&b, &fr, &fw, &fs);
	if (b.parts & PART_FUSEFAT)
		rc |= bench_fusefat(&b, &ffr, &ffw, &ffs);

	bench_report_add(r, "a1_read_mbps", a1r, "MB/s",
			 "dvs cp out, dvs-fs on the image");
	bench_report_add(r, "a1_write_mbps", a1w, "MB/s", "dvs cp in");
	bench_report_add(r, "a2_read_mbps", a2r, "MB/s", "dvs cp out, dvs-fs -> dvs-vdd");
	bench_report_add(r, "a2_write_mbps", a2w, "MB/s", "dvs cp in");
	bench_report_add(r, "fuse_read_mbps", fr, "MB/s",
			 "dd bs=1M from dvs mount, cold");
	bench_report_add(r, "fuse_write_mbps", fw, "MB/s",
			 "dd bs=1M conv=fsync to dvs mount");
	bench_report_add(r, "fusefat_read_mbps", ffr, "MB/s",
			 "dd bs=1M from fusefat, cold");
	bench_report_add(r, "fusefat_write_mbps", ffw, "MB/s",
			 "dd bs=1M conv=fsync to fusefat");
	bench_report_add(r, "mcopy_read_mbps", mr, "MB/s", "mcopy out of the image");
	bench_report_add(r, "mcopy_write_mbps", mw, "MB/s", "mcopy into the image");
	bench_report_add(r, "fuse_smallfiles_per_s", fs, "files/s",
			 "4 KiB creates, dvs mount");
	bench_report_add(r, "fusefat_smallfiles_per_s", ffs, "files/s",
			 "4 KiB creates, fusefat");
	bench_report_add(r, "fs_rss_kib", (double)b.fs_rss, "KiB", "peak RSS of dvs-fs");
	bench_report_add(r, "fuse_rss_kib", (double)b.fuse_rss, "KiB",
			 "peak RSS of dvs-fuse");
	bound = (long)b.cache_mb * 1024 + 32 * 1024;
	bench_report_add(r, "rss_bound_kib", (double)bound, "KiB",
			 "cache bound + 32 MiB");
	bench_report_add(r, "file_mib", b.file_mib, "MiB", "big file");
	bench_report_add(r, "runs", b.runs, "", "median of this many runs per figure");
	bench_report_add(r, "fuse_smallfiles_done", b.fuse_small_done, "files",
			 "4 KiB each, in 10 directories");
	bench_report_add(r, "fusefat_smallfiles_done", b.fusefat_small_done, "files",
			 "the same, stopped after --fusefat-secs");
	target(r, "target_a1_read", a1r / mr, 0.7);
	target(r, "target_a1_write", a1w / mw, 0.7);
	target(r, "target_a2_read", a2r / mr, 0.5);
	target(r, "target_a2_write", a2w / mw, 0.5);
	target(r, "target_fuse_read", fr / ffr, 3.0);
	target(r, "target_fuse_write", fw / ffw, 3.0);
	target(r, "target_smallfiles", fs / ffs, 2.0);
	bench_report_add_str(r, "target_rss",
			     b.fs_rss > 0 && b.fuse_rss > 0 && b.fs_rss <= bound &&
				     b.fuse_rss <= bound
				 ? "met (both within the bound)"
				 : "missed or not measured");
	if (rc != 0)
		fprintf(stderr,
			"dvs-bench: fs: some runs failed (their figures are null); "
			"log kept in %s/bench.log\n",
			b.tmp);
	if (!b.keep && rc == 0)
		(void)sh(&b, "cd / && rm -rf '%s'", b.tmp);
	else if (rc == 0)
		fprintf(stderr, "dvs-bench: fs: kept %s\n", b.tmp);
	return 0;
}
