/*
 * bench_fat.c - `dvs-bench fat`: the FAT engine in-process against mtools.
 *
 * All in one run, images on /dev/shm (tmpfs), so the device costs the same
 * for both sides:
 *   - a 256 MiB file written and read back through the engine
 *     (fat_write_mbps, fat_read_mbps) beside `mcopy` into and out of an
 *     identical fresh image (mcopy_write_mbps, mcopy_read_mbps);
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

int
bench_fat_main(struct bench_report *r, int argc, char **argv)
{
	const char *dir = "/dev/shm";
	uint64_t mib = 256;
	size_t cache = 8u << 20;
	int files = 10000, reads = 200000, c, rc = 1;
	static const struct option lo[] = {
		{"dir", required_argument, 0, 'd'}, {"size-mib", required_argument, 0, 's'},
		{"files", required_argument, 0, 'n'}, {"cache-kib", required_argument, 0, 'c'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};

	while ((c = getopt_long(argc, argv, "d:s:n:c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's': mib = strtoull(optarg, NULL, 0); break;
		case 'n': files = atoi(optarg); break;
		case 'c': cache = (size_t)strtoull(optarg, NULL, 0) * 1024; break;
		default:
			printf("usage: dvs-bench fat [--dir TMPFS_DIR] [--size-mib N] "
			       "[--files N] [--cache-kib N]\n"
			       "  images go to --dir (default /dev/shm, a tmpfs);\n"
			       "  needs mtools (mcopy) for the baseline.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (mib < 8 || files < 1)
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
	struct fat_blkdev *dev = NULL;
	struct fat_vol *vol = NULL;
	struct fat_file *f = NULL;
	int err;

	if (!buf || !rd)
		goto out;
	pattern_init(buf, chunk);
	bench_progress("fat: formatting %s", img);
	if ((err = mkimage(img, vol_size)) || (err = mkimage(img2, vol_size))) {
		fprintf(stderr, "dvs-bench fat: cannot make images in %s: %s\n", dir,
			fat_strerror(err));
		goto out;
	}
	long rss0 = bench_peak_rss_kib(getpid());

	/* 1. the engine writes 256 MiB */
	struct fat_image_opts io = {0};
	struct fat_mount_opts mo = {.cache_bytes = cache};
	if (fat_image_open(img, &io, &dev) || fat_mount(dev, &mo, &vol) ||
	    fat_open(vol, "/big.bin", O_RDWR | O_CREAT | O_TRUNC, &f)) {
		fprintf(stderr, "dvs-bench fat: cannot mount %s\n", img);
		goto out;
	}
	bench_progress("fat: engine write");
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < mib; i++) {
		pattern(buf, chunk, i);
		if (fat_pwrite(f, buf, chunk, i * chunk) != (ssize_t)chunk) {
			fprintf(stderr, "dvs-bench fat: write failed\n");
			goto out;
		}
	}
	fat_fsync(f);
	double w_s = (double)(bench_now_ns() - t0) / 1e9;
	long rss = bench_peak_rss_kib(getpid());

	/* 2. the engine reads it back (and checks it) */
	bench_progress("fat: engine read");
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < mib; i++)
		if (fat_pread(f, rd, chunk, i * chunk) != (ssize_t)chunk) {
			fprintf(stderr, "dvs-bench fat: read failed\n");
			goto out;
		}
	double r_s = (double)(bench_now_ns() - t0) / 1e9;
	for (uint64_t i = 0; i < mib; i += mib / 4) {
		pattern(buf, chunk, i);
		if (fat_pread(f, rd, chunk, i * chunk) != (ssize_t)chunk ||
		    memcmp(buf, rd, chunk)) {
			fprintf(stderr, "dvs-bench fat: read back differs at %llu MiB\n",
				(unsigned long long)i);
			goto out;
		}
	}

	/* 3. random 4 KiB reads */
	bench_progress("fat: random reads");
	uint64_t x = 88172645463325252ull;
	t0 = bench_now_ns();
	for (int i = 0; i < reads; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t off = (x % (mib * 256)) * 4096;
		if (fat_pread(f, rd, 4096, off) != 4096)
			goto out;
	}
	double rand_us = (double)(bench_now_ns() - t0) / 1e3 / reads;
	/* the floor: the same reads with pread(2) on the image itself */
	int ifd = open(img, O_RDONLY);
	x = 88172645463325252ull;
	t0 = bench_now_ns();
	for (int i = 0; ifd >= 0 && i < reads; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (pread(ifd, rd, 4096, (off_t)((x % (mib * 256)) * 4096)) != 4096)
			break;
	}
	double pread_us = (double)(bench_now_ns() - t0) / 1e3 / reads;
	if (ifd >= 0)
		close(ifd);
	fat_close(f);
	f = NULL;

	/* 4. many small files in one directory */
	bench_progress("fat: %d files", files);
	fat_mkdir(vol, "/many");
	t0 = bench_now_ns();
	for (int i = 0; i < files; i++) {
		char p[64];
		snprintf(p, sizeof p, "/many/file%05d.dat", i);
		if (fat_open(vol, p, O_WRONLY | O_CREAT | O_EXCL, &f) ||
		    fat_pwrite(f, buf, 4096, 0) != 4096) {
			fprintf(stderr, "dvs-bench fat: create %s failed\n", p);
			goto out;
		}
		fat_close(f);
		f = NULL;
	}
	fat_sync(vol);
	double c_s = (double)(bench_now_ns() - t0) / 1e9;
	if (fat_unmount(vol)) {
		vol = NULL;
		fprintf(stderr, "dvs-bench fat: unmount failed\n");
		goto out;
	}
	vol = NULL;
	fat_blkdev_free(dev);
	dev = NULL;

	/* 5. mcopy, the baseline: the same bytes in and out of a fresh image */
	bench_progress("fat: mcopy");
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (uint64_t i = 0; fd >= 0 && i < mib; i++) {
		pattern(buf, chunk, i);
		if (write(fd, buf, chunk) != (ssize_t)chunk)
			break;
	}
	if (fd >= 0)
		close(fd);
	snprintf(cmd, sizeof cmd, "MTOOLS_SKIP_CHECK=1 mcopy -i '%s' '%s' ::/big.bin", img2, src);
	t0 = bench_now_ns();
	int m1 = run(cmd);
	double mw_s = (double)(bench_now_ns() - t0) / 1e9;
	snprintf(cmd, sizeof cmd, "MTOOLS_SKIP_CHECK=1 mcopy -n -i '%s' ::/big.bin '%s'", img2, src);
	t0 = bench_now_ns();
	int m2 = run(cmd);
	double mr_s = (double)(bench_now_ns() - t0) / 1e9;

	double wm = (double)mib / w_s, rm = (double)mib / r_s;
	double mwm = m1 == 0 ? (double)mib / mw_s : -1, mrm = m2 == 0 ? (double)mib / mr_s : -1;
	double cps = files / c_s;
	long bound_kib = (long)(cache / 1024);

	bench_report_add(r, "fat_write_mbps", wm, "MiB/s",
			 "256 MiB file, fsync included");
	bench_report_add(r, "fat_read_mbps", rm, "MiB/s", NULL);
	bench_report_add(r, "mcopy_write_mbps", mwm, "MiB/s", "baseline: mcopy into a fresh image");
	bench_report_add(r, "mcopy_read_mbps", mrm, "MiB/s", "baseline: mcopy out to tmpfs");
	bench_report_add(r, "fat_write_vs_mcopy", mwm > 0 ? wm / mwm : -1, "x", "target >= 1.5");
	bench_report_add(r, "fat_read_vs_mcopy", mrm > 0 ? rm / mrm : -1, "x", "target >= 1.5");
	bench_report_add(r, "fat_create_per_s", cps, "files/s",
			 "4 KiB files in one directory, sync included; target >= 100000");
	bench_report_add(r, "fat_rand4k_read_us", rand_us, "us", "target <= 2");
	bench_report_add(r, "pread4k_us", pread_us, "us",
			 "baseline: pread(2) of the same offsets of the image file");
	bench_report_add(r, "fat_rss_kib", (double)rss, "KiB",
			 "peak RSS during the write; target <= cache bound + 16 MiB");
	bench_report_add(r, "fat_rss_before_kib", (double)rss0, "KiB", "peak RSS before the write");
	bench_report_add(r, "fat_cache_bound_kib", (double)bound_kib, "KiB", "--cache-kib");
	verdict(r, "fat_write_target", mwm > 0 && wm >= 1.5 * mwm);
	verdict(r, "fat_read_target", mrm > 0 && rm >= 1.5 * mrm);
	verdict(r, "fat_create_target", cps >= 100000);
	verdict(r, "fat_rand4k_target", rand_us <= 2.0);
	verdict(r, "fat_rss_target", rss >= 0 && rss <= bound_kib + 16 * 1024);
	rc = 0;
out:
	if (f)
		fat_close(f);
	if (vol)
		fat_unmount(vol);
	fat_blkdev_free(dev);
	unlink(img);
	unlink(img2);
	unlink(src);
	free(buf);
	free(rd);
	return rc;
}
