/*
 * bench_fat.c - `dvs-bench fat`: the FAT engine in-process against mtools.
 *
 * All in one run, images on /dev/shm (tmpfs), fully allocated like a disk
 * image (--sparse leaves them sparse: then tmpfs page allocation is the
 * limit for every writer), so the device costs the same for both sides:
 *   - a 256 MiB file written and read back through the engine
 *     (fat_write_mbps, fat_read_mbps) beside `mcopy` into and out of an
 *     identical fresh image (mcopy_write_mbps, mcopy_read_mbps), the two
 *     taking turns for --rounds rounds, medians reported;
 *   - 10,000 files of 4 KiB created in one directory, sync included
 *     (fat_create_per_s);
 *   - random 4 KiB reads in the 256 MiB file (fat_rand4k_read_us);
 *   - the peak resident size during the 256 MiB write (fat_rss_kib)
 *     beside the configured block-cache bound (fat_cache_bound_kib).
 * Targets (issue 3): read and write >= 1.5x mcopy, >= 100,000 files/s,
 * <= 2 us per random 4 KiB read, rss <= cache bound + 16 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "dvs/fat.h"

#define MiB (1024.0 * 1024.0)

static void
verdict(struct bench_report *r, const char *name, int ok)
{
	bench_report_add_str(r, name, ok ? "PASS" : "FAIL");
}

static int
run(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int g_sparse;	/* --sparse: images are not preallocated */

static int
mkimage(const char *path, uint64_t size)
{
	struct fat_image_opts io = {.create_size = size};
	struct fat_format_opts fo = {.fat_type = 32, .cluster_size = 4096,
				     .label = "BENCH"};
	struct fat_blkdev *dev;
	int err;

	unlink(path);
	err = fat_image_open(path, &io, &dev);
	if (err)
		return err;
	/* fully allocated, as a disk image usually is: the timed parts then
	 * measure the engines, not tmpfs allocating pages */
	int fd = g_sparse ? -1 : open(path, O_RDWR);
	if (fd >= 0) {
		if (posix_fallocate(fd, 0, (off_t)size) != 0)
			fprintf(stderr, "dvs-bench fat: cannot preallocate %s\n", path);
		close(fd);
	}
	err = fat_format(dev, &fo);
	fat_blkdev_free(dev);
	return err;
}

/* Random bytes made once; each chunk is stamped with its number every
 * 4 KiB so chunks differ without costing time inside the timed loops. */
static void
pattern_init(uint8_t *b, size_t n)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(b + i, &x, 8);
	}
}

static void
pattern(uint8_t *b, size_t n, uint64_t seed)
{
	for (size_t i = 0; i + 8 <= n; i += 4096)
		memcpy(b + i, &seed, 8);
}

/* One engine round: a fresh image, the file written (fsync included) and
 * read back; the volume stays mounted for the other measurements when
 * keep is set.  Returns 0 or -1. */
struct eng {
	struct fat_blkdev *dev;
	struct fat_vol *vol;
	struct fat_file *f;
};

static int
engine_round(const char *img, uint64_t vol_size, uint64_t mib, size_t cache,
	     uint8_t *buf, uint8_t *rd, double *w_s, double *r_s, long *rss,
	     struct eng *e)
{
	size_t chunk = 1 << 20;
	struct fat_image_opts io = {0};
	struct fat_mount_opts mo = {.cache_bytes = cache};
	int err;

	memset(e, 0, sizeof *e);
	if ((err = mkimage(img, vol_size))) {
		fprintf(stderr, "dvs-bench fat: cannot make %s: %s\n", img, fat_strerror(err));
		return -1;
	}
	if (fat_image_open(img, &io, &e->dev) || fat_mount(e->dev, &mo, &e->vol) ||
	    fat_open(e->vol, "/big.bin", O_RDWR | O_CREAT | O_TRUNC, &e->f)) {
		fprintf(stderr, "dvs-bench fat: cannot mount %s\n", img);
		return -1;
	}
	uint64_t t0 = dvs_now_ns();
	for (uint64_t i = 0; i < mib; i++) {
		pattern(buf, chunk, i);
		if (fat_pwrite(e->f, buf, chunk, i * chunk) != (ssize_t)chunk) {
			fprintf(stderr, "dvs-bench fat: write failed\n");
			return -1;
		}
	}
	fat_fsync(e->f);
	*w_s = (double)(dvs_now_ns() - t0) / 1e9;
	*rss = bench_peak_rss_kib(getpid());
	t0 = dvs_now_ns();
	for (uint64_t i = 0; i < mib; i++)
		if (fat_pread(e->f, rd, chunk, i * chunk) != (ssize_t)chunk) {
			fprintf(stderr, "dvs-bench fat: read failed\n");
			return -1;
		}
	*r_s = (double)(dvs_now_ns() - t0) / 1e9;
	for (uint64_t i = 0; i < mib; i += mib / 4) {
		pattern(buf, chunk, i);
		if (fat_pread(e->f, rd, chunk, i * chunk) != (ssize_t)chunk ||
		    memcmp(buf, rd, chunk)) {
			fprintf(stderr, "dvs-bench fat: read back differs at %llu MiB\n",
				(unsigned long long)i);
			return -1;
		}
	}
	return 0;
}

static void
engine_end(struct eng *e)
{
	if (e->f)
		fat_close(e->f);
	if (e->vol)
		fat_unmount(e->vol);
	fat_blkdev_free(e->dev);
	memset(e, 0, sizeof *e);
}

int
bench_fat_main(struct bench_report *r, int argc, char **argv)
{
	const char *dir = "/dev/shm";
	uint64_t mib = 256;
	size_t cache = 8u << 20;
	int files = 10000, reads = 200000, rounds = 3, c, rc = 1;
	long v;
	static const struct option lo[] = {
		{"dir", required_argument, 0, 'd'}, {"size-mib", required_argument, 0, 's'},
		{"files", required_argument, 0, 'n'}, {"cache-kib", required_argument, 0, 'c'},
		{"rounds", required_argument, 0, 'r'}, {"sparse", no_argument, 0, 'S'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};

	while ((c = getopt_long(argc, argv, "d:s:n:c:r:Sh", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's':
			if (bench_num("fat", "size-mib", optarg, 8, 1L << 20, &v) != 0)
				return 2;
			mib = (uint64_t)v;
			break;
		case 'n':
			if (bench_num("fat", "files", optarg, 1, 1000000, &v) != 0)
				return 2;
			files = (int)v;
			break;
		case 'c':
			if (bench_num("fat", "cache-kib", optarg, 0, 1L << 30, &v) != 0)
				return 2;
			cache = (size_t)v * 1024;
			break;
		case 'r':
			if (bench_num("fat", "rounds", optarg, 1, 15, &v) != 0)
				return 2;
			rounds = (int)v;
			break;
		case 'S': g_sparse = 1; break;
		default:
			printf("usage: dvs-bench fat [--dir TMPFS_DIR] [--size-mib N] "
			       "[--files N] [--cache-kib N] [--rounds N] [--sparse]\n"
			       "  images go to --dir (default /dev/shm, a tmpfs), fully\n"
			       "  allocated unless --sparse; the write/read figures are\n"
			       "  medians of --rounds (default 3) rounds, engine, mcopy and\n"
			       "  pwrite(2) taking turns; needs mtools.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (mib < 8 || files < 1 || rounds < 1 || rounds > 15)
		return 2;

	char img[512], img2[512], src[512], cmd[2048];
	snprintf(img, sizeof img, "%s/dvs-bench-fat-%d.img", dir, (int)getpid());
	snprintf(img2, sizeof img2, "%s/dvs-bench-fat-m-%d.img", dir, (int)getpid());
	snprintf(src, sizeof src, "%s/dvs-bench-fat-src-%d.bin", dir, (int)getpid());
	uint64_t vol_size = (mib + 64) << 20;
	if (vol_size < (300ull << 20))
		vol_size = 300ull << 20;	/* >= 65525 4 KiB clusters for mtools */
	size_t chunk = 1 << 20;
	uint8_t *buf = malloc(chunk), *rd = malloc(chunk);
	struct eng e = {0};
	struct fat_file *f = NULL;
	double ew[15], er[15], mw[15], mr[15], pw[15];
	long rss = -1, rss0;
	int m_ok = 1;

	if (!buf || !rd)
		goto out;
	pattern_init(buf, chunk);
	rss0 = bench_peak_rss_kib(getpid());

	/* the source file mcopy reads, written once */
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (uint64_t i = 0; fd >= 0 && i < mib; i++) {
		pattern(buf, chunk, i);
		if (write(fd, buf, chunk) != (ssize_t)chunk)
			break;
	}
	if (fd >= 0)
		close(fd);

	/* 1. 256 MiB written and read: engine and mcopy take turns */
	for (int k = 0; k < rounds; k++) {
		long rr;
		bench_progress("fat: round %d/%d: engine", k + 1, rounds);
		if (engine_round(img, vol_size, mib, cache, buf, rd, &ew[k], &er[k], &rr, &e))
			goto out;
		if (rr > rss)
			rss = rr;
		if (k < rounds - 1)
			engine_end(&e);	/* the last round's volume is used below */
		bench_progress("fat: round %d/%d: mcopy", k + 1, rounds);
		if (mkimage(img2, vol_size))
			goto out;
		snprintf(cmd, sizeof cmd, "MTOOLS_SKIP_CHECK=1 mcopy -i '%s' '%s' ::/big.bin", img2, src);
		uint64_t t0 = dvs_now_ns();
		m_ok &= run(cmd) == 0;
		mw[k] = (double)(dvs_now_ns() - t0) / 1e9;
		snprintf(cmd, sizeof cmd, "MTOOLS_SKIP_CHECK=1 mcopy -n -i '%s' ::/big.bin '%s.out'", img2, src);
		t0 = dvs_now_ns();
		m_ok &= run(cmd) == 0;
		mr[k] = (double)(dvs_now_ns() - t0) / 1e9;
		snprintf(cmd, sizeof cmd, "%s.out", src);
		unlink(cmd);
		/* the floor: the same bytes with pwrite(2) into a fresh, allocated file */
		int pfd = open(cmd, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (pfd >= 0 && !g_sparse &&
		    posix_fallocate(pfd, 0, (off_t)(mib * chunk)) != 0)
			fprintf(stderr, "dvs-bench fat: cannot preallocate %s\n", cmd);
		t0 = dvs_now_ns();
		for (uint64_t i = 0; pfd >= 0 && i < mib; i++) {
			pattern(buf, chunk, i);
			if (pwrite(pfd, buf, chunk, (off_t)(i * chunk)) != (ssize_t)chunk)
				break;
		}
		if (pfd >= 0) {
			fdatasync(pfd);
			close(pfd);
		}
		pw[k] = (double)(dvs_now_ns() - t0) / 1e9;
		unlink(cmd);
	}

	/* 2. random 4 KiB reads in the file, and pread(2) as the floor */
	bench_progress("fat: random reads");
	uint64_t x = 88172645463325252ull;
	uint64_t t0 = dvs_now_ns();
	for (int i = 0; i < reads; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t off = (x % (mib * 256)) * 4096;
		if (fat_pread(e.f, rd, 4096, off) != 4096)
			goto out;
	}
	double rand_us = (double)(dvs_now_ns() - t0) / 1e3 / reads;
	int ifd = open(img, O_RDONLY);
	x = 88172645463325252ull;
	t0 = dvs_now_ns();
	for (int i = 0; ifd >= 0 && i < reads; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (pread(ifd, rd, 4096, (off_t)((x % (mib * 256)) * 4096)) != 4096)
			break;
	}
	double pread_us = (double)(dvs_now_ns() - t0) / 1e3 / reads;
	if (ifd >= 0)
		close(ifd);
	fat_close(e.f);
	e.f = NULL;

	/* 3. many small files in one directory, sync included */
	bench_progress("fat: %d files", files);
	fat_mkdir(e.vol, "/many");
	t0 = dvs_now_ns();
	for (int i = 0; i < files; i++) {
		char p[64];
		snprintf(p, sizeof p, "/many/file%05d.dat", i);
		if (fat_open(e.vol, p, O_WRONLY | O_CREAT | O_EXCL, &f) ||
		    fat_pwrite(f, buf, 4096, 0) != 4096) {
			fprintf(stderr, "dvs-bench fat: create %s failed\n", p);
			goto out;
		}
		fat_close(f);
		f = NULL;
	}
	fat_sync(e.vol);
	double c_s = (double)(dvs_now_ns() - t0) / 1e9;
	int uerr = fat_unmount(e.vol);
	e.vol = NULL;
	if (uerr) {
		fprintf(stderr, "dvs-bench fat: unmount failed\n");
		goto out;
	}

	double wm = (double)mib / bench_median(ew, (size_t)rounds);
	double rm = (double)mib / bench_median(er, (size_t)rounds);
	double mwm = m_ok ? (double)mib / bench_median(mw, (size_t)rounds) : -1;
	double mrm = m_ok ? (double)mib / bench_median(mr, (size_t)rounds) : -1;
	double pwm = (double)mib / bench_median(pw, (size_t)rounds);
	double cps = files / c_s;
	long bound_kib = (long)(cache / 1024);

	bench_report_add(r, "fat_write_mbps", wm, "MiB/s",
			 "256 MiB file, fsync included; median of the rounds");
	bench_report_add(r, "fat_read_mbps", rm, "MiB/s", NULL);
	bench_report_add(r, "mcopy_write_mbps", mwm, "MiB/s", "baseline: mcopy into a fresh image");
	bench_report_add(r, "mcopy_read_mbps", mrm, "MiB/s", "baseline: mcopy out to tmpfs");
	bench_report_add(r, "pwrite_floor_mbps", pwm, "MiB/s",
			 g_sparse ? "the same bytes with pwrite(2) into a sparse file: the device's limit"
				  : "the same bytes with pwrite(2) into an allocated file: the device's limit");
	bench_report_add(r, "fat_write_vs_mcopy", mwm > 0 ? wm / mwm : -1, "x", "target >= 1.5");
	bench_report_add(r, "fat_read_vs_mcopy", mrm > 0 ? rm / mrm : -1, "x", "target >= 1.5");
	bench_report_add(r, "fat_create_per_s", cps, "files/s",
			 "4 KiB files in one directory, sync included; target >= 100000");
	bench_report_add(r, "fat_rand4k_read_us", rand_us, "us", "target <= 2");
	bench_report_add(r, "pread4k_us", pread_us, "us",
			 "baseline: pread(2) of the same offsets of the image file");
	bench_report_add(r, "fat_rss_kib", (double)rss, "KiB",
			 "peak RSS during the writes; target <= cache bound + 16 MiB");
	bench_report_add(r, "fat_rss_before_kib", (double)rss0, "KiB", "peak RSS before the writes");
	bench_report_add(r, "fat_cache_bound_kib", (double)bound_kib, "KiB", "--cache-kib");
	bench_report_add_str(r, "fat_images", g_sparse ? "sparse" : "allocated");
	verdict(r, "fat_write_target", mwm > 0 && wm >= 1.5 * mwm);
	verdict(r, "fat_read_target", mrm > 0 && rm >= 1.5 * mrm);
	verdict(r, "fat_create_target", cps >= 100000);
	verdict(r, "fat_rand4k_target", rand_us <= 2.0);
	verdict(r, "fat_rss_target", rss >= 0 && rss <= bound_kib + 16 * 1024);
	rc = 0;
out:
	if (f)
		fat_close(f);
	engine_end(&e);
	unlink(img);
	unlink(img2);
	unlink(src);
	free(buf);
	free(rd);
	return rc;
}
