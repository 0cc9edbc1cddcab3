/*
 * dvs-bench - every figure DVS publishes comes from here, each beside a
 * baseline measured in the same run.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "dvs/json_out.h"
#include "dvs/clock.h"
#include "dvs/parse.h"

struct bench_field {
	char name[64];
	char unit[16];
	char note[128];
	char str[128];
	double value;
	int is_str;
};

struct bench_report {
	struct bench_field f[256];
	size_t n;
};

static const struct {
	const char *name;
	bench_main_fn fn;
	const char *summary;
} benches[] = {
	{ "ipc", bench_ipc_main, "libdvk round trips, one-way rate and vcopy against a Unix socketpair and memcpy" },
	{ "fat", bench_fat_main, "the FAT engine in-process against mtools" },
	{ "img", bench_img_main, "image migration against rsync" },
	{ "fs", bench_fs_main, "dvs cp and the FUSE mount against fusefat and mtools" },
	{ "smallio", bench_smallio_main, "small files, metadata and random reads through dvs mount against ext4 on a loop device and tmpfs" },
	{ "ext", bench_ext_main, "an ext4 image through dvs-fs (libext2fs) and dvs-fuse against fuse2fs" },
	{ "cluster", bench_cluster_main, "a local cluster: TCP baselines between two nodes, failure detection, dvkd RSS" },
};

static struct bench_field *
report_slot(struct bench_report *r, const char *name)
{
	struct bench_field *f;

	if (r->n >= sizeof(r->f) / sizeof(r->f[0]))
		return NULL;
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

void
bench_report_add(struct bench_report *r, const char *name, double value,
		 const char *unit, const char *note)
{
	struct bench_field *f = report_slot(r, name);

	if (f == NULL)
		return;
	f->value = value;
	snprintf(f->unit, sizeof(f->unit), "%s", unit ? unit : "");
	snprintf(f->note, sizeof(f->note), "%s", note ? note : "");
}

void
bench_report_add_str(struct bench_report *r, const char *name, const char *value)
{
	struct bench_field *f = report_slot(r, name);

	if (f == NULL)
		return;
	f->is_str = 1;
	snprintf(f->str, sizeof(f->str), "%s", value);
}

void
bench_bin_dir(char *buf, size_t len)
{
	const char *env = getenv("DVS_BIN");
	char exe[PATH_MAX / 2], *s;
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(buf, len, "%s", env);
		return;
	}
	/* build/tools/bench/dvs-bench: the programs are in build/bin. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	s = strrchr(exe, '/');
	if (s != NULL)
		*s = '\0';
	snprintf(buf, len, "%s/../../bin", exe);
}

int
bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		return -1;
	return 0;
}

static long
status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

long
bench_peak_rss_kib(pid_t pid)
{
	return status_kib(pid, "VmHWM");
}

long
bench_rss_kib(pid_t pid)
{
	return status_kib(pid, "VmRSS");
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
bench_progress(const char *fmt, ...)
{
	va_list ap;

	if (!isatty(STDERR_FILENO))
		return;
	va_start(ap, fmt);
	fputs("\r\033[K", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void
print_json(const struct bench_report *r)
{
	struct json_object *doc = json_object_new_object();
	char text[32];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct bench_field *f = &r->f[i];

		if (f->is_str) {
			dvs_json_add_str(doc, f->name, f->str);
		} else if (isfinite(f->value)) {
			snprintf(text, sizeof(text), "%.6g", f->value);
			json_object_object_add(doc, f->name,
					       json_object_new_double_s(f->value, text));
		} else {
			json_object_object_add(doc, f->name, NULL);
		}
	}
	dvs_json_print(stdout, doc);
}

static void
print_table(const struct bench_report *r)
{
	size_t i;

	printf("%-28s %14s  %-8s %s\n", "figure", "value", "unit", "note");
	for (i = 0; i < r->n; i++) {
		const struct bench_field *f = &r->f[i];

		if (f->is_str)
			printf("%-28s %14s\n", f->name, f->str);
		else
			printf("%-28s %14.3f  %-8s %s\n", f->name, f->value, f->unit,
			       f->note);
	}
}

int
bench_num(const char *bench, const char *opt, const char *s, long min, long max, long *out)
{
	if (dvs_parse_long(s, min, max, out) == 0)
		return 0;
	fprintf(stderr, "dvs-bench %s: --%s: %ld to %ld, not '%s'\n", bench, opt, min, max, s);
	return -1;
}

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: dvs-bench [--json] BENCH [OPTIONS...]\n\nBenchmarks:\n");
	for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		fprintf(out, "  %-5s %s\n", benches[i].name, benches[i].summary);
	fprintf(out, "\n  --json  print one JSON object instead of a table\n"
		     "`dvs-bench BENCH --help` shows the options of one benchmark.\n");
}

int
main(int argc, char **argv)
{
	static struct bench_report report;
	int json = 0, i, r, argi = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < (int)(sizeof(benches) / sizeof(benches[0])); i++) {
		if (strcmp(argv[argi], benches[i].name) != 0)
			continue;
		r = benches[i].fn(&report, argc - argi, argv + argi);
		if (isatty(STDERR_FILENO))
			fputs("\r\033[K", stderr);
		if (r != 0)
			return r;
		if (json)
			print_json(&report);
		else
			print_table(&report);
		return 0;
	}
	fprintf(stderr, "dvs-bench: unknown benchmark '%s'\n", argv[argi]);
	usage(stderr);
	return 2;
}
