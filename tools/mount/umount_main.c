/*
 * dvs-umount - unmounts a `dvs mount` and waits until its servers have
 * stopped and the image is clean.  See docs/FUSE.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "child.h"
#include "dvs/clock.h"
#include "dvs/exit.h"
#include "dvs/log.h"
#include "dvs/parse.h"
#include "dvs/version.h"
#include "dvs/mountinfo.h"
#include "run_dir.h"
#include "state.h"
#include "umount_elsewhere.h"

#define PROG "dvs-umount"
/* How long dvs-fuse may take to notice the unmount by itself. */
#define STRAY_GRACE_S 5

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: dvs umount MOUNTPOINT [--timeout SEC] [-v|-q]\n"
	    "\n"
	    "Unmounts the file system that `dvs mount` put on MOUNTPOINT and waits\n"
	    "until its private DVS (dvs-fuse, dvs-fs, dvs-vdd, dvkd) has stopped, which\n"
	    "leaves the image clean.  `fusermount3 -u MOUNTPOINT` stops it all too, but\n"
	    "returns without waiting.\n"
	    "\n"
	    "  --timeout SEC  how long to wait for the servers (default 60)\n"
	    "  -v, --verbose  say each step (again: debug)\n"
	    "  -q, --quiet    say nothing on success, only errors\n"
	    "  -h, --help     this help\n"
	    "  --version      print the version\n"
	    "\n"
	    "Exit status: 0 unmounted and stopped, 1 failed (the message says why),\n"
	    "2 bad usage, 7 the servers did not stop in time (docs/EXIT-CODES.md).\n");
}

static int die(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
die(int rc, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rc;
}

/*
 * The mountpoint as dvs mount resolved it.  realpath of a dead FUSE mount
 * fails (ENOTCONN): then the parent is resolved and the name appended.
 */
static int
resolve(const char *arg, char *out)
{
	char parent[PATH_MAX], tmp[PATH_MAX], *slash;
	const char *base;

	if (realpath(arg, out) != NULL)
		return 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", arg) >= sizeof(tmp))
		return -ENAMETOOLONG;
	while (strlen(tmp) > 1 && tmp[strlen(tmp) - 1] == '/')
		tmp[strlen(tmp) - 1] = '\0';
	slash = strrchr(tmp, '/');
	if (slash == NULL) {
		base = tmp;
		if (getcwd(parent, sizeof(parent)) == NULL)
			return -errno;
	} else {
		*slash = '\0';
		base = slash + 1;
		if (realpath(tmp[0] != '\0' ? tmp : "/", parent) == NULL)
			return -errno;
	}
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s",
			     strcmp(parent, "/") == 0 ? "" : parent, base) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* fusermount3 -u mnt; what it said into err on failure. */
static int
fusermount(const char *mnt, char *err, size_t len)
{
	const char *argv[] = {"fusermount3", "-u", mnt, NULL};
	size_t have = 0;
	int p[2], w = 0;
	ssize_t n;
	pid_t pid;

	err[0] = '\0';
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid = child_spawn(argv, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		snprintf(err, len, "cannot run fusermount3: %s", strerror((int)-pid));
		return -1;
	}
	while (have + 1 < len && (n = read(p[0], err + have, len - 1 - have)) > 0)
		have += (size_t)n;
	err[have] = '\0';
	while (have > 0 && err[have - 1] == '\n')
		err[--have] = '\0';
	close(p[0]);
	while (waitpid(pid, &w, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(w) && WEXITSTATUS(w) == 0 ? 0 : -1;
}

/* 1 once pid is gone, 0 if it still runs at deadline (dvs_now_ns). */
static int
wait_gone(pid_t pid, uint64_t deadline)
{
	const struct timespec tick = {0, 100 * 1000 * 1000};

	while (dvs_now_ns() < deadline) {
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return 1;
		nanosleep(&tick, NULL);
	}
	return kill(pid, 0) != 0 && errno == ESRCH;
}

int
main(int argc, char **argv)
{
	enum { O_TIMEOUT = 256, O_VERSION };
	static const struct option lopts[] = {
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, O_VERSION},
	    {NULL, 0, NULL, 0},
	};
	char mnt[PATH_MAX], run[PATH_MAX], state[PATH_MAX + 16], fstype[64], err[1024];
	long timeout = 60, sup = 0;
	int c, rc, mounted, quiet = 0;
	uint64_t deadline;

	dvs_log_init(PROG);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hvq", lopts, NULL)) != -1) {
		switch (c) {
		case O_TIMEOUT:
			if (dvs_parse_long(optarg, 0, 86400, &timeout) != 0) {
				fprintf(
				    stderr,
				    PROG
				    ": --timeout needs a number of seconds, not '%s'\n",
				    optarg);
				return DVS_EXIT_USAGE;
			}
			break;
		case 'v':
			dvs_log_more();
			break;
		case 'q':
			quiet = 1;
			dvs_log_quiet();
			break;
		case 'h':
			usage(stdout);
			return DVS_EXIT_OK;
		case O_VERSION:
			return dvs_print_version(PROG);
		case ':':
			fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
			usage(stderr);
			return DVS_EXIT_USAGE;
		default:
			fprintf(stderr, PROG ": unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return DVS_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, PROG ": %s\n",
			argc == optind ? "expected a MOUNTPOINT"
				       : "expected one MOUNTPOINT");
		usage(stderr);
		return DVS_EXIT_USAGE;
	}
	if ((rc = resolve(argv[optind], mnt)) < 0)
		return die(DVS_EXIT_FAILURE, "cannot resolve %s: %s", argv[optind],
			   strerror(-rc));
	if (run_dir_of(mnt, run, sizeof(run)) < 0)
		return die(DVS_EXIT_FAILURE,
			   "run directory path too long: set DVS_RUN_DIR");
	snprintf(state, sizeof(state), "%s/state", run);
	mounted = mountinfo_fstype(mnt, fstype, sizeof(fstype)) == 1;
	if (state_get_int(state, "supervisor", &sup) != 1)
		sup = 0;
	if (!mounted && sup == 0)
		return die(DVS_EXIT_FAILURE, "nothing is mounted on %s by dvs mount",
			   mnt);
	if (mounted && strcmp(fstype, "fuse.dvs") != 0)
		return die(DVS_EXIT_FAILURE,
			   "%s is a %s mount, not a dvs mount: use umount", mnt, fstype);
	dvs_info("%s: %s, supervisor %ld, run directory %s", mnt,
		 mounted ? "mounted" : "not mounted", sup, run);
	if (mounted) {
		/* Written back now: a copy of the mount in another mount
		 * namespace would keep the kernel from doing it at unmount. */
		dvs_info("writing back and unmounting %s", mnt);
		umount_sync(mnt);
	}
	if (mounted && fusermount(mnt, err, sizeof(err)) != 0) {
		if (strstr(err, "busy") != NULL)
			return die(
			    DVS_EXIT_FAILURE,
			    "%s is busy: close the files and leave the directories open "
			    "there (see: fuser -vm %s)",
			    mnt, mnt);
		return die(DVS_EXIT_FAILURE, "cannot unmount %s: %s", mnt, err);
	}
	/* dvs-fuse exits once unmounted; the supervisor then stops the
	 * servers (dvs-fs flushes the volume) and removes the run directory. */
	if (sup > 0)
		dvs_info("waiting up to %ld s for the supervisor (pid %ld) to stop the "
			 "servers", timeout, sup);
	/* One deadline for all of it: the grace given to a stray dvs-fuse
	 * counts against --timeout. */
	deadline = dvs_now_ns() + (uint64_t)timeout * 1000000000u;
	if (sup > 0 && mounted && timeout > STRAY_GRACE_S)
		umount_stop_stray_fuse(state, sup, STRAY_GRACE_S);
	if (sup > 0 && !wait_gone((pid_t)sup, deadline))
		return die(DVS_EXIT_TIMEOUT,
			   "the servers of %s did not stop within %ld s (log: %s/log)",
			   mnt, timeout, run);
	run_dir_remove(run);
	dvs_info("removed %s", run);
	if (quiet)
		return DVS_EXIT_OK;
	if (sup > 0)
		printf(PROG ": %s unmounted, servers stopped\n", mnt);
	else
		printf(PROG ": %s unmounted (not started by dvs mount: its servers keep "
			    "running)\n",
		       mnt);
	return DVS_EXIT_OK;
}
