/*
 * bench.h - shared pieces of dvs-bench.
 *
 * Every benchmark adds its figures to one report with bench_report_add();
 * main() prints the report as a table for people or, with --json, as one
 * JSON object.  Each figure should sit beside its baseline measured in the
 * same run (the machine is noisy: compare ratios, not absolutes).
 */
#ifndef DVS_BENCH_H
#define DVS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dvs/clock.h" /* dvs_now_ns(), the clock of every benchmark */

struct bench_report;

/* name and unit are copied; note may be NULL. */
void bench_report_add(struct bench_report *r, const char *name, double value,
		      const char *unit, const char *note);
/* Adds a string field (shown in both forms), e.g. a target verdict. */
void bench_report_add_str(struct bench_report *r, const char *name,
			  const char *value);

/* Where the DVS programs are: $DVS_BIN, else build/bin beside us. */
void bench_bin_dir(char *buf, size_t len);
/* Pins the calling thread to one CPU; returns 0 or -errno. */
int bench_pin_cpu(int cpu);
/* Peak resident set (VmHWM) of a process in KiB, or -1. */
long bench_peak_rss_kib(pid_t pid);
/* Current resident set (VmRSS) of a process in KiB, or -1. */
long bench_rss_kib(pid_t pid);
/* Median of n doubles; sorts v in place. */
double bench_median(double *v, size_t n);
/* Progress line on stderr when stderr is a terminal. */
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An option's number through dvs_parse_long: 0, or -1 after "dvs-bench
 * BENCH: --OPT: MIN to MAX, not 'S'" on stderr (the caller exits 2). */
int bench_num(const char *bench, const char *opt, const char *s, long min, long max,
	      long *out);

/* bash -c of the formatted command line with its output appended to
 * DIR/bench.log, under `set -o pipefail` (and -e when errexit): 0 when it
 * exited 0, else -1 (bench_sh.c). */
int bench_sh(const char *dir, int errexit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same: the seconds it took, or -1 when it failed. */
double bench_sh_timed(const char *dir, int errexit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One benchmark: parses its own options (argv[0] is its name). */
typedef int (*bench_main_fn)(struct bench_report *r, int argc, char **argv);

int bench_ipc_main(struct bench_report *r, int argc, char **argv);
int bench_fat_main(struct bench_report *r, int argc, char **argv);
int bench_img_main(struct bench_report *r, int argc, char **argv);
int bench_fs_main(struct bench_report *r, int argc, char **argv);
int bench_smallio_main(struct bench_report *r, int argc, char **argv);
int bench_cluster_main(struct bench_report *r, int argc, char **argv);
int bench_ext_main(struct bench_report *r, int argc, char **argv);

#endif
