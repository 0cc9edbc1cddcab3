/*
 * bench_img.c - `dvs-bench img`: image migration against rsync.
 *
 * Builds (once, cached under --cache, default build/img-bench) two similar
 * real OS images: Debian bookworm minbase, and minbase with a few more
 * packages, each written into an ext4 image with `mke2fs -d`.  Then, all in
 * one run so the ratios hold on a noisy machine:
 *   - hashing speed, one thread and every core, beside `openssl speed`;
 *   - missing_bytes: the target's blocks found in no seed;
 *   - dvs img serve/fetch over 127.0.0.1 (plain and zstd) beside
 *     rsync --no-whole-file -B 4096 (plain and -z) through a pipe;
 *   - peak RSS of fetch and serve on a 2 GiB image.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "dvs/img.h"

static char img_bin[4096];
static char cache[2048];

/* The image builder: a shell script so its steps read like the docs. */
static const char build_script[] =
	"set -e\n"
	"D=\"$1\"\n"
	/* Say what is missing instead of letting a later step fail vaguely. */
	"[ \"$(id -u)\" = 0 ] || { echo \"building the images needs root (debootstrap)\" >&2; exit 1; }\n"
	"for p in debootstrap mke2fs; do command -v $p >/dev/null || "
	"{ echo \"$p is not installed\" >&2; exit 1; }; done\n"
	"mkdir -p \"$D/debs\"\n"
	"for v in a b; do\n"
	"  [ -f \"$D/$v.img\" ] && continue\n"
	"  rm -rf \"$D/root-$v\"\n"
	"  inc=\n"
	"  [ $v = b ] && inc=--include=less,procps,iproute2,curl,ca-certificates,python3-minimal\n"
	"  debootstrap --variant=minbase $inc --cache-dir=\"$D/debs\" bookworm \"$D/root-$v\" "
	"http://deb.debian.org/debian >\"$D/debootstrap-$v.log\" 2>&1 || "
	"{ echo \"debootstrap failed; the end of $D/debootstrap-$v.log:\" >&2; "
	"tail -n 5 \"$D/debootstrap-$v.log\" | sed 's/^/  /' >&2; exit 1; }\n"
	"  rm -f \"$D/$v.img.tmp\"\n"
	"  mke2fs -q -F -t ext4 -b 4096 -d \"$D/root-$v\" \"$D/$v.img.tmp\" 640M\n"
	"  mv \"$D/$v.img.tmp\" \"$D/$v.img\"\n"
	"done\n";

static int
run_sh(const char *script, const char *arg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, "sh", arg, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs a shell command; its stdout into buf (NUL-terminated). */
static int
capture(const char *cmd, char *buf, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, r;

	if (p == NULL)
		return -1;
	while (n + 1 < cap && (r = fread(buf + n, 1, cap - 1 - n, p)) > 0)
		n += r;
	buf[n] = '\0';
	return pclose(p);
}

static double
json_num(const char *json, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static double
openssl_mbps(void)
{
	char out[8192], *line, *save = NULL, *last;
	double v = -1;

	if (capture("taskset -c 0 openssl speed -evp sha256 -bytes 4096 -seconds 2 2>/dev/null",
		    out, sizeof(out)) != 0)
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "sha256", 6) != 0 && strncmp(line, "SHA256", 6) != 0)
			continue;
		last = strrchr(line, ' ');
		if (last)
			v = strtod(last + 1, NULL) * 1000.0 / 1e6; /* "123.45k" = kB/s */
	}
	return v;
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Hashes a cached file of random data; returns MB/s.  One thread is timed
 * in CPU time (user + system, so the reads count), as `openssl speed`
 * times itself in CPU time: both ignore time lost to other processes on a
 * shared machine.  Every core is timed on the wall clock.
 */
static double
hash_speed(const char *path, int threads)
{
	struct img_index *ix = NULL;
	uint64_t t0 = dvs_now_ns();
	double c0 = cpu_seconds(), s;

	if (img_index_build(path, IMG_DEFAULT_BLOCK, threads, &ix) != 0)
		return -1;
	if (threads == 1)
		s = cpu_seconds() - c0;
	else
		s = (double)(dvs_now_ns() - t0) / 1e9;
	s = (double)ix->image_size / s / 1e6;
	img_index_free(ix);
	return s;
}

static pid_t
spawn(const char *const argv[], int out_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (out_fd >= 0)
			dup2(out_fd, 1);
		execv(argv[0], (char *const *)argv); /* exec does not write argv */
		_exit(127);
	}
	return pid;
}

struct xfer {
	double seconds, bytes, data;
	long fetch_rss, serve_rss;
	char json[4096];
};

/* One serve --once + fetch over 127.0.0.1; -1 on failure. */
static int
transfer(const char *image, const char *seed, const char *codec, const char *out,
	 struct xfer *x)
{
	char portf[2300], port[64], addr[128], jpath[2300];
	const char *sargv[16], *fargv[20];
	struct rusage ru;
	pid_t sp, fp;
	int i = 0, st, jfd, n;
	uint64_t t0;
	FILE *f;

	snprintf(portf, sizeof(portf), "%s/port.%d", cache, (int)getpid());
	snprintf(jpath, sizeof(jpath), "%s/fetch.json", cache);
	unlink(portf);
	sargv[i++] = img_bin;
	sargv[i++] = "serve";
	sargv[i++] = image;
	sargv[i++] = "--listen";
	sargv[i++] = "127.0.0.1:0";
	sargv[i++] = "--port-file";
	sargv[i++] = portf;
	sargv[i++] = "--insecure-no-key";
	sargv[i++] = "--once";
	sargv[i] = NULL;
	sp = spawn(sargv, -1);
	for (n = 0; n < 600 && access(portf, R_OK) != 0; n++)
		usleep(50000);
	f = fopen(portf, "r");
	if (f == NULL || fgets(port, sizeof(port), f) == NULL) {
		if (f)
			fclose(f);
		kill(sp, SIGTERM);
		waitpid(sp, NULL, 0);
		return -1;
	}
	fclose(f);
	port[strcspn(port, "\n")] = '\0';
	snprintf(addr, sizeof(addr), "127.0.0.1:%s", port);
	i = 0;
	fargv[i++] = img_bin;
	fargv[i++] = "fetch";
	fargv[i++] = addr;
	fargv[i++] = out;
	if (seed) {
		fargv[i++] = "--seed";
		fargv[i++] = seed;
	}
	fargv[i++] = "--compress";
	fargv[i++] = codec;
	fargv[i++] = "--json";
	fargv[i++] = "--no-progress";
	fargv[i] = NULL;
	jfd = open(jpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	t0 = dvs_now_ns();
	fp = spawn(fargv, jfd);
	close(jfd);
	if (wait4(fp, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench img: fetch failed\n");
		kill(sp, SIGTERM);
		waitpid(sp, NULL, 0);
		return -1;
	}
	x->seconds = (double)(dvs_now_ns() - t0) / 1e9;
	x->fetch_rss = ru.ru_maxrss;
	if (wait4(sp, &st, 0, &ru) < 0)
		return -1;
	x->serve_rss = ru.ru_maxrss;
	f = fopen(jpath, "r");
	if (f == NULL)
		return -1;
	n = (int)fread(x->json, 1, sizeof(x->json) - 1, f);
	fclose(f);
	x->json[n > 0 ? n : 0] = '\0';
	x->bytes = json_num(x->json, "wire_bytes_in") + json_num(x->json, "wire_bytes_out");
	x->data = json_num(x->json, "data_bytes");
	unlink(portf);
	return 0;
}

/* rsync through a pipe (so deltas are computed); returns seconds. */
static double
rsync_run(const char *src, const char *basis, const char *extra, double *literal,
	  double *sent)
{
	char cmd[8192], out[16384], *p;
	uint64_t t0;
	double s;

	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s/rsync-dst.img'", basis, cache);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "rsync --no-whole-file -B 4096 --stats %s -e \"sh -c 'shift; exec \\\"\\$@\\\"' x\" "
		 "'%s' localhost:'%s/rsync-dst.img' 2>&1",
		 extra, src, cache);
	t0 = dvs_now_ns();
	if (capture(cmd, out, sizeof(out)) != 0) {
		fprintf(stderr, "bench img: rsync failed: %s\n", out);
		return -1;
	}
	s = (double)(dvs_now_ns() - t0) / 1e9;
	*literal = *sent = -1;
	if ((p = strstr(out, "Literal data: ")) != NULL) {
		char num[64];
		size_t j = 0;

		for (p += 14; *p && *p != ' ' && j < sizeof(num) - 1; p++)
			if (*p != ',')
				num[j++] = *p;
		num[j] = '\0';
		*literal = strtod(num, NULL);
	}
	if ((p = strstr(out, "Total bytes sent: ")) != NULL) {
		char num[64];
		size_t j = 0;

		for (p += 18; *p && *p != ' ' && *p != '\n' && j < sizeof(num) - 1; p++)
			if (*p != ',')
				num[j++] = *p;
		num[j] = '\0';
		*sent = strtod(num, NULL);
	}
	snprintf(cmd, sizeof(cmd), "%s/rsync-dst.img", cache);
	unlink(cmd);
	return s;
}

static void
verdict(struct bench_report *r, const char *name, int ok)
{
	bench_report_add_str(r, name, ok ? "PASS" : "FAIL");
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: dvs-bench img [--cache DIR] [--no-rss]\n"
		   "  --cache DIR  where the Debian images are built and kept (default: img-bench in\n               the build folder, whatever the working directory)\n"
		   "  --no-rss     skip the 2 GiB memory measurement\n");
}

int
bench_img_main(struct bench_report *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ "no-rss", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char a[2300], b[2300], out[2300], rnd[2300], big[2300], exe[4096], bindir[1900], cmd[16384];
	struct img_index *ta = NULL, *tb = NULL;
	const struct img_index *seeds[1];
	struct img_similarity sim;
	struct xfer x1, x2, x3;
	double hash1, hashn, ossl, lit, rs_sent, rs_s, rsz_lit, rsz_sent, rsz_s;
	int c, do_rss = 1;
	ssize_t n;

	optind = 1;
	cache[0] = '\0';
	while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			snprintf(cache, sizeof(cache), "%s", optarg);
			break;
		case 'n':
			do_rss = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 1;
	exe[n] = '\0';
	if (strlen(dirname(exe)) >= sizeof(bindir)) {
		fprintf(stderr, "bench img: the build folder's path is too long\n");
		return 1;
	}
	strcpy(bindir, exe); /* dirname() cut exe in place */
	snprintf(img_bin, sizeof(img_bin), "%s/../img/dvs-img", bindir);
	if (access(img_bin, X_OK) != 0) {
		fprintf(stderr, "bench img: %s not found; build dvs-img first\n", img_bin);
		return 1;
	}
	/* The default is the build folder's img-bench (this program is
	 * BUILD/tools/bench/dvs-bench), whatever the working directory. */
	if (cache[0] == '\0')
		snprintf(cache, sizeof(cache), "%s/../../img-bench", bindir);
	if (mkdir(cache, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "bench img: cannot create %s: %s\n", cache, strerror(errno));
		return 1;
	}
	/* debootstrap wants absolute paths ("cache directory should be
	 * specified with an absolute path"), and so do the shell steps. */
	{
		char abs[PATH_MAX];

		if (realpath(cache, abs) == NULL) {
			fprintf(stderr, "bench img: %s: %s\n", cache, strerror(errno));
			return 1;
		}
		if (strlen(abs) >= sizeof(cache)) {
			fprintf(stderr, "bench img: %s: path too long\n", abs);
			return 1;
		}
		strcpy(cache, abs);
	}
	snprintf(a, sizeof(a), "%s/a.img", cache);
	snprintf(b, sizeof(b), "%s/b.img", cache);
	snprintf(out, sizeof(out), "%s/out.img", cache);
	snprintf(rnd, sizeof(rnd), "%s/random-256m.img", cache);
	snprintf(big, sizeof(big), "%s/big-2g.img", cache);
	if (access(a, R_OK) != 0 || access(b, R_OK) != 0) {
		bench_progress("img: building the Debian images (debootstrap, once)");
		if (run_sh(build_script, cache) != 0) {
			fprintf(stderr, "bench img: cannot build the Debian images in %s "
					"(the reason is above)\n", cache);
			return 1;
		}
	}

	/* Hashing: random data (no zero blocks to skip), warm page cache. */
	if (access(rnd, R_OK) != 0) {
		snprintf(cmd, sizeof(cmd), "head -c 256M /dev/urandom > '%s.tmp' && mv '%s.tmp' '%s'",
			 rnd, rnd, rnd);
		if (system(cmd) != 0)
			return 1;
	}
	bench_progress("img: hashing");
	hash_speed(rnd, 1); /* warm the page cache */
	{
		/* Interleaved, median of 3: the machine is shared and noisy. */
		double h1[3], hn[3], os[3];
		cpu_set_t all;
		int i;

		for (i = 0; i < 3; i++) {
			bench_pin_cpu(0);
			h1[i] = hash_speed(rnd, 1);
			CPU_ZERO(&all);
			for (c = 0; c < CPU_SETSIZE; c++)
				CPU_SET(c, &all);
			sched_setaffinity(0, sizeof(all), &all);
			hn[i] = hash_speed(rnd, 0);
			os[i] = openssl_mbps();
		}
		hash1 = bench_median(h1, 3);
		hashn = bench_median(hn, 3);
		ossl = bench_median(os, 3);
	}
	bench_report_add(r, "hash_mbps", hash1, "MB/s", "1 thread, cached file, CPU time");
	bench_report_add(r, "hash_mbps_all", hashn, "MB/s", "every core, wall clock");
	bench_report_add(r, "openssl_sha256_mbps", ossl, "MB/s",
			 "openssl speed -evp sha256 -bytes 4096 (CPU time)");
	bench_report_add(r, "hash_vs_openssl", ossl > 0 ? hash1 / ossl : -1, "x", "target >= 0.8");
	verdict(r, "hash_target", ossl > 0 && hash1 >= 0.8 * ossl);

	/* Similarity: b (target) against a (seed). */
	bench_progress("img: indexing the Debian images");
	if (img_index_open(a, NULL, IMG_DEFAULT_BLOCK, 0, 1, NULL, &ta) != 0 ||
	    img_index_open(b, NULL, IMG_DEFAULT_BLOCK, 0, 1, NULL, &tb) != 0)
		return 1;
	seeds[0] = ta;
	if (img_similarity(tb, seeds, 1, &sim) != 0)
		return 1;
	bench_report_add(r, "image_bytes", (double)tb->image_size, "B", "bookworm minbase+pkgs, ext4");
	bench_report_add(r, "nonzero_blocks", (double)sim.nonzero_blocks, "blocks", NULL);
	bench_report_add(r, "similarity", sim.nonzero_blocks ?
			 (double)sim.found_blocks / (double)sim.nonzero_blocks : 0, "share",
			 "target's non-zero blocks found in the seed");
	bench_report_add(r, "missing_bytes", (double)sim.missing_bytes, "B",
			 "target blocks found in no seed");
	img_index_free(ta);
	img_index_free(tb);

	{
		/* Interleaved runs, median time of 3 for each tool. */
		double t1[3], t2[3], t3[3], t4[3];
		int i;

		for (i = 0; i < 3; i++) {
			bench_progress("img: dvs img fetch (run %d of 3)", i + 1);
			unlink(out);
			if (transfer(b, a, "none", out, &x1) != 0)
				return 1;
			snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", b, out);
			if (system(cmd) != 0) {
				fprintf(stderr, "bench img: the fetched image differs!\n");
				return 1;
			}
			unlink(out);
			t1[i] = x1.seconds;
			bench_progress("img: rsync (run %d of 3)", i + 1);
			t3[i] = rsync_run(b, a, "", &lit, &rs_sent);
			bench_progress("img: dvs img fetch --compress zstd (run %d of 3)", i + 1);
			if (transfer(b, a, "zstd", out, &x2) != 0)
				return 1;
			unlink(out);
			t2[i] = x2.seconds;
			bench_progress("img: rsync -z (run %d of 3)", i + 1);
			t4[i] = rsync_run(b, a, "-z", &rsz_lit, &rsz_sent);
		}
		x1.seconds = bench_median(t1, 3);
		x2.seconds = bench_median(t2, 3);
		rs_s = bench_median(t3, 3);
		rsz_s = bench_median(t4, 3);
	}
	bench_report_add(r, "img_bytes_sent", x1.bytes, "B", "both directions, index included");
	bench_report_add(r, "img_seconds", x1.seconds, "s", "fetch wall time, indexes cached, median of 3");
	bench_report_add(r, "img_zstd_bytes_sent", x2.bytes, "B", NULL);
	bench_report_add(r, "img_zstd_seconds", x2.seconds, "s", NULL);
	bench_report_add(r, "rsync_literal_bytes", lit, "B", "rsync --no-whole-file -B 4096");
	bench_report_add(r, "rsync_bytes_sent", rs_sent, "B", NULL);
	bench_report_add(r, "rsync_seconds", rs_s, "s", "median of 3");
	bench_report_add(r, "rsync_z_bytes_sent", rsz_sent, "B", "rsync -z");
	bench_report_add(r, "rsync_z_seconds", rsz_s, "s", NULL);
	bench_report_add(r, "sent_vs_missing", x1.bytes / (double)sim.missing_bytes, "x",
			 "target <= 1.02");
	verdict(r, "sent_target", x1.bytes <= 1.02 * (double)sim.missing_bytes);
	bench_report_add(r, "time_vs_rsync", rs_s > 0 ? x1.seconds / rs_s : -1, "x",
			 "target <= 0.5");
	verdict(r, "time_target", rs_s > 0 && x1.seconds <= 0.5 * rs_s);
	bench_report_add(r, "zstd_vs_rsync_z", rsz_sent > 0 ? x2.bytes / rsz_sent : -1, "x",
			 "target <= 0.8");
	verdict(r, "zstd_target", rsz_sent > 0 && x2.bytes <= 0.8 * rsz_sent);

	/*
	 * casync, where installed: chunk stores of both images (cached); the
	 * bytes it would download are the compressed chunks of the target
	 * missing from the seed's store, plus the target's chunk index.
	 * zsync is not run: it needs an HTTP server.
	 */
	if (system("command -v casync >/dev/null 2>&1") == 0) {
		char res[256];
		uint64_t t0;

		bench_progress("img: casync (chunk stores are built once)");
		snprintf(cmd, sizeof(cmd),
			 "set -e; cd '%s'; mkdir -p cas; cd cas; "
			 "[ -f b.caibx ] || casync make --store=sb b.caibx ../b.img >/dev/null; "
			 "[ -f a.caibx ] || casync make --store=sa a.caibx ../a.img >/dev/null; "
			 "(cd sa && find . -name '*.cacnk' -printf '%%f\n' | sort) > a.list; "
			 "(cd sb && find . -name '*.cacnk' -printf '%%f %%s\n' | sort) > b.list; "
			 "join -v1 b.list a.list | awk -v i=$(stat -c %%s b.caibx) "
			 "'{s+=$2} END {print s+i}'",
			 cache);
		if (capture(cmd, res, sizeof(res)) == 0 && atof(res) > 0) {
			bench_report_add(r, "casync_bytes", atof(res), "B",
					 "target chunks not in the seed's store + index");
			snprintf(cmd, sizeof(cmd),
				 "cd '%s/cas' && rm -f out.img && casync extract --store=sb "
				 "--seed=../a.img b.caibx out.img >/dev/null 2>&1 && cmp -s out.img ../b.img; "
				 "rc=$?; rm -f out.img; exit $rc",
				 cache);
			t0 = dvs_now_ns();
			if (system(cmd) == 0)
				bench_report_add(r, "casync_seconds",
						 (double)(dvs_now_ns() - t0) / 1e9, "s",
						 "extract with the seed, local store");
		}
	}

	/* Cold: no index on either side, so both are hashed inside the run. */
	snprintf(cmd, sizeof(cmd), "rm -f '%s.dvsidx' '%s.dvsidx'", a, b);
	if (system(cmd) == 0) {
		bench_progress("img: dvs img fetch without cached indexes");
		if (transfer(b, a, "none", out, &x3) == 0)
			bench_report_add(r, "img_cold_seconds", x3.seconds, "s",
					 "indexes built during the run");
		unlink(out);
	}

	if (do_rss) {
		uint64_t nblocks = (2ull << 30) / IMG_DEFAULT_BLOCK;
		double budget = 65536.0 + 48.0 * (double)nblocks / 1024.0;

		/* 2 GiB, sparse-ish: 1 MiB of random data every 8 MiB. */
		if (access(big, R_OK) != 0) {
			snprintf(cmd, sizeof(cmd),
				 "set -e; rm -f '%s.tmp'; truncate -s 2G '%s.tmp'; "
				 "for i in $(seq 0 255); do head -c 1M /dev/urandom | "
				 "dd of='%s.tmp' bs=1M seek=$((i * 8)) conv=notrunc status=none; done; "
				 "mv '%s.tmp' '%s'",
				 big, big, big, big, big);
			bench_progress("img: making the 2 GiB image");
			if (system(cmd) != 0)
				return 1;
		}
		bench_progress("img: memory on a 2 GiB image");
		if (transfer(big, NULL, "zstd", out, &x3) != 0)
			return 1;
		unlink(out);
		bench_report_add(r, "fetch_rss_kib", (double)x3.fetch_rss, "KiB", "2 GiB image");
		bench_report_add(r, "serve_rss_kib", (double)x3.serve_rss, "KiB", "2 GiB image");
		bench_report_add(r, "rss_budget_kib", budget, "KiB", "64 MiB + 48 B per block");
		verdict(r, "rss_target", x3.fetch_rss <= budget && x3.serve_rss <= budget);
	}
	return 0;
}
