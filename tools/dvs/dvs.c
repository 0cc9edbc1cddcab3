/*
 * dvs - the front door: `dvs COMMAND ARGS...` runs `dvs-COMMAND ARGS...`,
 * the way git runs its sub-commands.  Commands are looked up first beside
 * this program (so build/bin/dvs finds build/bin/dvs-*), then in PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvs/version.h"

struct dvs_command {
	const char *name;
	const char *summary;
};

/* Known commands, in the order `dvs --help` shows them. */
static const struct dvs_command known[] = {
	{ "ctl", "start/stop a node, create DCs, list endpoints, statistics, run programs in a DC" },
	{ "cluster", "a cluster of network namespaces on this machine: up, exec, status, down" },
	{ "cp", "copy files and trees between Linux and a served volume" },
	{ "mount", "serve a FAT image and mount it with FUSE" },
	{ "umount", "unmount a `dvs mount` and stop its servers" },
	{ "fat", "inspect and change FAT images (mkfs, ls, get, put, mkdir, rm, mv, df)" },
	{ "img", "disk-image index, similarity, and migration with seeds" },
	{ "bench", "benchmarks, each beside its baseline" },
};

/*
 * The folder this program was started from: argv[0]'s folder when it has
 * one (build/bin/dvs is a symbolic link, and the commands sit beside the
 * link), else the folder of the resolved executable.
 */
static char self_dir[PATH_MAX - 64];

static void
find_self_dir(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	ssize_t n;
	char *s;

	if (slash != NULL && (size_t)(slash - argv0) < sizeof(self_dir)) {
		memcpy(self_dir, argv0, (size_t)(slash - argv0));
		self_dir[slash - argv0] = '\0';
		return;
	}
	n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
	if (n < 0) {
		self_dir[0] = '\0';
		return;
	}
	self_dir[n] = '\0';
	s = strrchr(self_dir, '/');
	if (s != NULL)
		*s = '\0';
}

static int
find_command(const char *name, char *path, size_t len)
{
	if (self_dir[0] != '\0' &&
	    (size_t)snprintf(path, len, "%s/dvs-%s", self_dir, name) < len &&
	    access(path, X_OK) == 0)
		return 0;
	/* execvp searches PATH. */
	if ((size_t)snprintf(path, len, "dvs-%s", name) >= len)
		return -ENAMETOOLONG;
	return 1;
}

static void
usage(FILE *out)
{
	char path[PATH_MAX];
	size_t i;

	fprintf(out,
		"usage: dvs COMMAND [ARGS...]\n"
		"       dvs help COMMAND\n\n"
		"DVS, a Distributed Virtualization System: Minix-style IPC across\n"
		"Linux nodes and the servers of a virtual OS on top of it.\n\n"
		"Commands:\n");
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		int here;

		here = find_command(known[i].name, path, sizeof(path)) == 0;
		fprintf(out, "  %-8s %s%s\n", known[i].name, known[i].summary,
			here ? "" : " (not installed)");
	}
	fprintf(out, "\n`dvs COMMAND --help` shows the options of one command.\n");
}

int
main(int argc, char **argv)
{
	char path[PATH_MAX];
	const char *name;
	int r;

	find_self_dir(argv[0]);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		return dvs_print_version("dvs");
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		static char help_opt[] = "--help"; /* argv's strings are writable */

		argv[1] = argv[2];
		argv[2] = help_opt;
		argc = 3;
	}
	if (argv[1][0] == '-' || strchr(argv[1], '/') != NULL) {
		fprintf(stderr, "dvs: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	name = argv[1];
	r = find_command(name, path, sizeof(path));
	if (r < 0) {
		fprintf(stderr, "dvs: command name too long\n");
		return 2;
	}
	argv[1] = path;
	if (r == 0)
		execv(path, argv + 1);
	else
		execvp(path, argv + 1);
	if (errno == ENOENT) {
		fprintf(stderr, "dvs: '%s' is not a dvs command. See 'dvs --help'.\n",
			name);
		return 127;
	}
	fprintf(stderr, "dvs: cannot run %s: %s\n", path, strerror(errno));
	return 126;
}
