/*
 * bench_smallio.c - `dvs-bench smallio`: small files, metadata and random
 * reads through `dvs mount` beside the kernel's ext4 on a loop device over
 * tmpfs (the anchor: this kernel has no vfat module) and tmpfs (the limit),
 * in one run.
 *
 * Every round makes each contender afresh (a new image or file system on
 * tmpfs, a new mount) and runs the same workloads (smallio_work.c) on it;
 * the contenders take turns, starting with a different one each round, so
 * a noisy neighbour hurts all of them alike.  Figures are medians of the
 * rounds.  Caches are dropped before every read-back (stat, small reads,
 * random reads); the image files themselves live in tmpfs and stay.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "smallio.h"

#define MAX_ROUNDS 9

/* bindfs: FUSE with no server behind it (bindfs over the kernel's ext4 of
 * C_KERNEL), what any FUSE file system pays here before its own work. */
enum { C_DVS, C_KERNEL, C_TMPFS, C_BINDFS, NCONT };
static const char *const cont_name[NCONT] = {"dvs", "kernel", "tmpfs", "bindfs"};

/* The figures, each measured for the contenders marked in `who`. */
enum {
	F_CREATE, F_STAT, F_STAT_NAMED, F_SMALLREAD, F_UNLINK, F_RANDREAD, F_RANDREAD4,
	F_UNTAR, F_POSTMARK, NFIG
};
static const struct {
	const char *name; /* <contender>_<name> */
	const char *unit, *note;
	unsigned who; /* 1 << C_* */
} fig[NFIG] = {
    [F_CREATE] = {"create_per_s", "files/s", "4 KiB files in 50 dirs, closed, then syncfs", 15},
    [F_STAT] = {"stat_per_s", "files/s", "readdir + fstatat of each (ls -l, find), cold", 11},
    [F_STAT_NAMED] = {"stat_named_per_s", "files/s", "stat by path, no listing first, cold", 11},
    [F_SMALLREAD] = {"smallread_per_s", "files/s", "readdir, open, read, close each, cold", 11},
    [F_UNLINK] = {"unlink_per_s", "files/s", "rm -r of the tree", 11},
    [F_RANDREAD] = {"randread_iops", "reads/s", "4 KiB pread of a 1 GiB file, 1 thread, cold", 11},
    [F_RANDREAD4] = {"randread4_iops", "reads/s", "the same, 4 threads", 11},
    [F_UNTAR] = {"untar_seconds", "s", "tar -x of /usr/include (FAT names), then syncfs", 11},
    [F_POSTMARK] = {"postmark_builtin_tps", "tx/s", "built-in PostMark, 2000 files, 5000 tx", 15},
};

struct sio {
	char tmp[PATH_MAX / 2];
	char bin[PATH_MAX];
	unsigned rounds, files, dirs, img_mib, big_mib, cache_mb;
	double rand_secs;
	unsigned parts; /* 1 << C_* */
	int no_loop, no_bindfs, keep;
	long fs_rss, fuse_rss;
	double v[NCONT][NFIG][MAX_ROUNDS];
	unsigned n[NCONT][NFIG];
};

/* A command line in bash, output to bench.log (bench_sh.c). */
#define sh(s, ...) bench_sh((s)->tmp, 1, __VA_ARGS__)

static void
drop_caches(struct sio *s)
{
	(void)sh(s, "sync -f '%s'; echo 3 > /proc/sys/vm/drop_caches", s->tmp);
}

static void
note(struct sio *s, int c, int f, double v)
{
	if (s->n[c][f] < MAX_ROUNDS)
		s->v[c][f][s->n[c][f]++] = v;
}

static void
note_rss(struct sio *s)
{
	char path[PATH_MAX];
	long fs = -1, fu = -1, v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pids", s->tmp);
	if (sh(s,
	       "st=$(echo '%s'/run/mount-*/state); "
	       "echo $(sed -n 's/^fs_pid=//p' $st) $(sed -n 's/^fuse_pid=//p' $st) >'%s'",
	       s->tmp, path) != 0)
		return;
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%ld %ld", &fs, &fu) != 2)
		fs = fu = -1;
	fclose(f);
	if (fs > 0 && (v = bench_peak_rss_kib((pid_t)fs)) > s->fs_rss)
		s->fs_rss = v;
	if (fu > 0 && (v = bench_peak_rss_kib((pid_t)fu)) > s->fuse_rss)
		s->fuse_rss = v;
}

static int
mount_cont(struct sio *s, int c, const char *mnt)
{
	switch (c) {
	case C_DVS:
		return sh(s,
			  "rm -f '%s/c.img'; truncate -s %uM '%s/c.img'; "
			  "mkfs.fat -F 32 '%s/c.img' >/dev/null; "
			  "dvs-mount --cache-mb %u '%s/c.img' '%s'",
			  s->tmp, s->img_mib, s->tmp, s->tmp, s->cache_mb, s->tmp, mnt);
	case C_KERNEL:
		return sh(s,
			  "rm -f '%s/c.img'; truncate -s %uM '%s/c.img'; "
			  "mkfs.ext4 -q -F '%s/c.img'; mount -o loop '%s/c.img' '%s'",
			  s->tmp, s->img_mib, s->tmp, s->tmp, s->tmp, mnt);
	case C_BINDFS:
		/* over the same ext4 on a loop device (a directory in tmpfs
		 * without loop devices) */
		if (sh(s, "mkdir -p '%s/lower'", s->tmp) != 0 ||
		    (!s->no_loop &&
		     sh(s,
			"rm -f '%s/c.img'; truncate -s %uM '%s/c.img'; "
			"mkfs.ext4 -q -F '%s/c.img'; mount -o loop '%s/c.img' '%s/lower'",
			s->tmp, s->img_mib, s->tmp, s->tmp, s->tmp, s->tmp) != 0))
			return -1;
		return sh(s, "bindfs --multithreaded '%s/lower' '%s'", s->tmp, mnt);
	default:
		return sh(s, "mount -t tmpfs -o size=%uM tmpfs '%s'", s->img_mib, mnt);
	}
}

static void
umount_cont(struct sio *s, int c, const char *mnt)
{
	if (c == C_DVS) {
		note_rss(s);
		(void)sh(s, "dvs-umount '%s'", mnt);
	} else if (c == C_BINDFS) {
		/* bindfs holds the ext4 below until it has exited, a moment
		 * after fusermount returns */
		(void)sh(s, "fusermount -u '%s'; for i in $(seq 100); do "
			    "findmnt -M '%s/lower' >/dev/null || break; "
			    "umount '%s/lower' 2>/dev/null || sleep 0.1; done; rm -rf '%s/lower'",
			 mnt, s->tmp, s->tmp, s->tmp);
	} else {
		(void)sh(s, "umount '%s'", mnt);
	}
	(void)sh(s, "findmnt -M '%s' >/dev/null && umount -l '%s' || true; rm -f '%s/c.img'",
		 mnt, mnt, s->tmp);
}

/* Seconds a command line takes, or NAN if it failed. */
#define secs_of(s, ...)                                                                  \
	({                                                                               \
		double secs_ = bench_sh_timed((s)->tmp, 1, __VA_ARGS__);               \
		secs_ < 0 ? NAN : secs_;                                                 \
	})

/* One contender, one round: every workload on a fresh file system. */
static int
run_one(struct sio *s, int c, unsigned round)
{
	char mnt[PATH_MAX], tree[PATH_MAX + 16], path[PATH_MAX + 16];
	unsigned seen = 0, bit = 1u << c;
	double v, secs;
	int rc = 0;

	snprintf(mnt, sizeof(mnt), "%s/mnt", s->tmp);
	snprintf(tree, sizeof(tree), "%s/tree", mnt);
	if (mount_cont(s, c, mnt) != 0) {
		fprintf(stderr, "dvs-bench: smallio: cannot mount %s (see %s/bench.log)\n",
			cont_name[c], s->tmp);
		return -1;
	}
	bench_progress("smallio: round %u, %s: small files", round + 1, cont_name[c]);
	if (sh(s, "mkdir '%s'", tree) != 0)
		goto bad;
	v = sio_create(tree, s->files, s->dirs);
	note(s, c, F_CREATE, v);
	if (isnan(v))
		goto bad;
	if (fig[F_STAT].who & bit) {
		drop_caches(s);
		v = sio_stat_walk(tree, s->dirs, &seen);
		note(s, c, F_STAT, seen == s->files ? v : NAN);
		drop_caches(s);
		note(s, c, F_STAT_NAMED, sio_stat_named(tree, s->files, s->dirs));
		drop_caches(s);
		note(s, c, F_SMALLREAD, sio_read_walk(tree, s->dirs));
		secs = secs_of(s, "rm -r '%s'", tree);
		note(s, c, F_UNLINK, s->files / secs);
	}
	if (fig[F_UNTAR].who & bit) {
		bench_progress("smallio: round %u, %s: untar", round + 1, cont_name[c]);
		note(s, c, F_UNTAR,
		     secs_of(s, "mkdir '%s/inc'; tar -xf '%s/inc.tar' -C '%s/inc'; sync -f '%s'",
			     mnt, s->tmp, mnt, mnt));
	}
	bench_progress("smallio: round %u, %s: postmark", round + 1, cont_name[c]);
	snprintf(path, sizeof(path), "%s/pm", mnt);
	if (sh(s, "mkdir '%s'", path) != 0)
		goto bad;
	note(s, c, F_POSTMARK, sio_postmark(path, 2000, 5000, round));
	if (fig[F_RANDREAD].who & bit) {
		bench_progress("smallio: round %u, %s: random reads", round + 1,
			       cont_name[c]);
		snprintf(path, sizeof(path), "%s/big", mnt);
		if (sio_make_big(path, s->big_mib) != 0)
			goto bad;
		drop_caches(s);
		note(s, c, F_RANDREAD, sio_randread(path, 1, s->rand_secs));
		drop_caches(s);
		note(s, c, F_RANDREAD4, sio_randread(path, 4, s->rand_secs));
	}
	goto out;
bad:
	rc = -1;
out:
	umount_cont(s, c, mnt);
	return rc;
}

/* A tar of /usr/include with the names FAT can hold: regular files only,
 * one of the names that differ only in case, none with a character FAT
 * refuses. */
static int
make_tarball(struct sio *s)
{
	return sh(s,
		  "cd /usr && find include -type f | LC_ALL=C sort | "
		  "grep -v '[\\\\:*?\"<>|]' | "
		  "awk '{ k = tolower($0); if (!(k in seen)) { seen[k] = 1; print } }' "
		  ">'%s/inc.list' && "
		  "tar -cf '%s/inc.tar' --no-recursion -T '%s/inc.list'",
		  s->tmp, s->tmp, s->tmp);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvs-bench [--json] smallio [OPTIONS]\n"
		"Small files, metadata and random reads through `dvs mount` beside the\n"
		"kernel's ext4 on a loop device over tmpfs, tmpfs itself and bindfs (FUSE\n"
		"with nothing behind it) over that ext4, in one run;\n"
		"needs root (mounts, loop devices, drop_caches).\n"
		"\n"
		"  --dir DIR         where images and mounts go (default /dev/shm)\n"
		"  --rounds N        rounds, medians kept (default 3, at most %d)\n"
		"  --files N         small files (default 5000)\n"
		"  --image-mib N     size of each image (default 2048: the 1 GiB file fits)\n"
		"  --big-mib N       the random-read file (default 1024)\n"
		"  --rand-secs S     seconds of each random-read run (default 15)\n"
		"  --cache-mb N      dvs-fs cache bound (default 64)\n"
		"  --only LIST       dvs,kernel,tmpfs,bindfs (default all)\n"
		"  --keep            keep the work directory (and its bench.log)\n",
		MAX_ROUNDS);
}

static int
parse(struct sio *s, int argc, char **argv, const char **dir)
{
	static const struct option lo[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"files", required_argument, NULL, 'n'},
	    {"image-mib", required_argument, NULL, 'i'},
	    {"big-mib", required_argument, NULL, 'b'},
	    {"rand-secs", required_argument, NULL, 's'},
	    {"cache-mb", required_argument, NULL, 'c'},
	    {"only", required_argument, NULL, 'o'},
	    {"keep", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end, buf[64], *tok, *save;
	const struct option *o;
	long v;
	int c, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			*dir = optarg;
			continue;
		case 'k':
			s->keep = 1;
			continue;
		case 'h':
			usage(stdout);
			return 1;
		case 's':
			s->rand_secs = strtod(optarg, &end);
			if (*end != '\0' || !(s->rand_secs > 0)) {
				fprintf(stderr, "dvs-bench: smallio: --rand-secs wants "
						"seconds above 0\n");
				return -1;
			}
			continue;
		case 'o':
			s->parts = 0;
			snprintf(buf, sizeof(buf), "%s", optarg);
			for (tok = strtok_r(buf, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				for (i = 0; i < NCONT && strcmp(tok, cont_name[i]) != 0; i++)
					;
				if (i == NCONT) {
					fprintf(stderr,
						"dvs-bench: smallio: --only: unknown "
						"contender '%s' (dvs, kernel, tmpfs, bindfs)\n",
						tok);
					return -1;
				}
				s->parts |= 1u << i;
			}
			continue;
		case 'r': case 'n': case 'i': case 'b': case 'c':
			for (o = lo; o->name != NULL && o->val != c; o++)
				;
			if (o->name == NULL ||
			    bench_num("smallio", o->name, optarg, 1,
				      c == 'r' ? MAX_ROUNDS : 1000000, &v) != 0)
				return -1;
			if (c == 'r')
				s->rounds = (unsigned)v;
			else if (c == 'n')
				s->files = (unsigned)v;
			else if (c == 'i')
				s->img_mib = (unsigned)v;
			else if (c == 'b')
				s->big_mib = (unsigned)v;
			else
				s->cache_mb = (unsigned)v;
			continue;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dvs-bench: smallio: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

static void
target(struct bench_report *r, const char *name, double ratio, double goal, int less)
{
	char str[96];
	int met = less ? ratio <= goal : ratio >= goal;

	if (isnan(ratio))
		snprintf(str, sizeof(str), "not measured");
	else
		snprintf(str, sizeof(str), "%s (%.2fx, goal %s %.1fx)", met ? "met" : "missed",
			 ratio, less ? "<=" : ">=", goal);
	bench_report_add_str(r, name, str);
}

static void
report(struct sio *s, struct bench_report *r)
{
	double med[NCONT][NFIG];
	char name[80], loadavg[128] = "";
	long bound = (long)s->cache_mb * 1024 + 32 * 1024;
	int c, f;
	FILE *lf;

	for (c = 0; c < NCONT; c++)
		for (f = 0; f < NFIG; f++) {
			/* A failed round makes the figure null, not better. */
			int bad = 0;

			for (unsigned i = 0; i < s->n[c][f]; i++)
				bad |= isnan(s->v[c][f][i]);
			med[c][f] = s->n[c][f] == 0 || bad ? NAN
							   : bench_median(s->v[c][f], s->n[c][f]);
		}
	for (f = 0; f < NFIG; f++)
		for (c = 0; c < NCONT; c++) {
			if (!(fig[f].who & (1u << c)))
				continue;
			snprintf(name, sizeof(name), "%s_%s", cont_name[c], fig[f].name);
			bench_report_add(r, name, med[c][f], fig[f].unit, fig[f].note);
		}
	bench_report_add(r, "fs_rss_kib", (double)s->fs_rss, "KiB", "peak RSS of dvs-fs");
	bench_report_add(r, "fuse_rss_kib", (double)s->fuse_rss, "KiB",
			 "peak RSS of dvs-fuse");
	bench_report_add(r, "rss_bound_kib", (double)bound, "KiB", "cache bound + 32 MiB");
	bench_report_add(r, "rounds", s->rounds, "", "median of this many rounds");
	bench_report_add(r, "files", s->files, "", "small files per round");
	bench_report_add_str(r, "postmark", "built-in (postmark is not installed)");
	bench_report_add_str(r, "kernel",
			     s->no_loop ? "no loop devices: kernel_* are null"
					: "ext4 on a loop device over tmpfs");
	bench_report_add_str(r, "bindfs",
			     s->no_bindfs  ? "bindfs is not installed: bindfs_* are null"
			     : s->no_loop ? "bindfs --multithreaded over a tmpfs directory"
					  : "bindfs --multithreaded over kernel's ext4 on loop");
	lf = fopen("/proc/loadavg", "r");
	if (lf != NULL) {
		if (fgets(loadavg, sizeof(loadavg), lf) != NULL)
			loadavg[strcspn(loadavg, "\n")] = '\0';
		fclose(lf);
	}
	bench_report_add_str(r, "loadavg_end", loadavg);
	target(r, "target_create", med[C_DVS][F_CREATE] / med[C_KERNEL][F_CREATE], 0.3, 0);
	target(r, "target_stat", med[C_DVS][F_STAT] / med[C_KERNEL][F_STAT], 0.5, 0);
	target(r, "target_smallread", med[C_DVS][F_SMALLREAD] / med[C_KERNEL][F_SMALLREAD],
	       0.3, 0);
	target(r, "target_unlink", med[C_DVS][F_UNLINK] / med[C_KERNEL][F_UNLINK], 0.3, 0);
	target(r, "target_randread", med[C_DVS][F_RANDREAD] / med[C_KERNEL][F_RANDREAD],
	       0.5, 0);
	target(r, "target_untar", med[C_DVS][F_UNTAR] / med[C_KERNEL][F_UNTAR], 3.0, 1);
	bench_report_add_str(r, "target_rss",
			     s->fs_rss > 0 && s->fuse_rss > 0 && s->fs_rss <= bound &&
				     s->fuse_rss <= bound
				 ? "met (both within the bound)"
				 : "missed or not measured");
}

int
bench_smallio_main(struct bench_report *r, int argc, char **argv)
{
	static struct sio s;
	const char *dir = "/dev/shm";
	char path[PATH_MAX + 64];
	unsigned round;
	int p, c, k, rc = 0;

	memset(&s, 0, sizeof(s));
	s.rounds = 3;
	s.files = 5000;
	s.dirs = 50;
	s.img_mib = 2048;
	s.big_mib = 1024;
	s.rand_secs = 15;
	s.cache_mb = 64;
	s.parts = (1u << NCONT) - 1;
	s.fs_rss = s.fuse_rss = -1;
	p = parse(&s, argc, argv, &dir);
	if (p != 0)
		return p > 0 ? 0 : 2;
	if (geteuid() != 0) {
		fprintf(stderr, "dvs-bench: smallio: needs root (mounts, loop devices, "
				"drop_caches)\n");
		return 2;
	}
	bench_bin_dir(s.bin, sizeof(s.bin));
	snprintf(s.tmp, sizeof(s.tmp), "%s/dvs-bench-smallio.XXXXXX", dir);
	if (mkdtemp(s.tmp) == NULL) {
		fprintf(stderr, "dvs-bench: smallio: cannot make a directory in %s: %s\n",
			dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s:%s", s.bin,
		 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	snprintf(path, sizeof(path), "%s/run", s.tmp);
	setenv("DVS_RUN_DIR", path, 1);
	if (sh(&s, "for p in dvs-mount dvs-umount dvs-fuse dvs-fs dvkd mkfs.fat mkfs.ext4 "
		   "tar; do command -v $p >/dev/null || { echo \"missing: $p\"; exit 1; }; "
		   "done; mkdir -p '%s/mnt'",
		   s.tmp) != 0) {
		fprintf(stderr, "dvs-bench: smallio: a program is missing (build DVS; "
				"apt-get install dosfstools e2fsprogs); see %s/bench.log\n",
			s.tmp);
		return 1;
	}
	if ((s.parts & (1u << C_KERNEL | 1u << C_BINDFS)) &&
	    sh(&s, "losetup -f >/dev/null") != 0) {
		fprintf(stderr, "dvs-bench: smallio: no free loop device: kernel_* will "
				"be null\n");
		s.no_loop = 1;
		s.parts &= ~(1u << C_KERNEL);
	}
	if ((s.parts & (1u << C_BINDFS)) && sh(&s, "command -v bindfs") != 0) {
		fprintf(stderr, "dvs-bench: smallio: bindfs is not installed (apt-get "
				"install bindfs, or: make deps): bindfs_* will be null\n");
		s.no_bindfs = 1;
		s.parts &= ~(1u << C_BINDFS);
	}
	if (make_tarball(&s) != 0) {
		fprintf(stderr, "dvs-bench: smallio: cannot make the tar of /usr/include "
				"(see %s/bench.log)\n", s.tmp);
		return 1;
	}
	for (round = 0; round < s.rounds; round++)
		for (k = 0; k < NCONT; k++) {
			c = (int)((round + (unsigned)k) % NCONT);
			if (s.parts & (1u << c))
				rc |= run_one(&s, c, round);
		}
	report(&s, r);
	if (rc != 0)
		fprintf(stderr, "dvs-bench: smallio: some runs failed (their figures "
				"are null); log kept in %s/bench.log\n", s.tmp);
	else if (!s.keep)
		(void)sh(&s, "cd / && rm -rf '%s'", s.tmp);
	else
		fprintf(stderr, "dvs-bench: smallio: kept %s\n", s.tmp);
	return 0;
}
