/*
 * dvs-mount - serves a FAT (or ext2/3/4) image on a private one-node DVS
 * and mounts it with FUSE, then returns; `dvs umount MOUNTPOINT` (or
 * `fusermount3 -u MOUNTPOINT`) stops it all.  See docs/FUSE.md.
 *
 * Everything of one mount lives in a private run directory named after
 * the mountpoint (run_dir.h): the dvkd socket, the state file, the
 * servers' log.  A supervisor (supervise.h) in its own session runs the
 * servers; this process checks what a user can get wrong, starts the
 * supervisor and waits until it says the mount is up or why it is not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dvs/exit.h"
#include "dvs/log.h"
#include "dvs/parse.h"
#include "dvs/version.h"
#include "mount_checks.h"
#include "mount_cli.h"
#include "mount_opts.h"
#include "mount_run.h"
#include "mount_start.h"
#include "dvs/mountinfo.h"
#include "progs.h"

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: dvs mount IMAGE MOUNTPOINT [--vdd] [--ro] [--cache-mb N] [--threads "
	    "N]\n"
	    "                 [--uid N] [--gid N] [--allow-other]\n"
	    "\n"
	    "Serves the image IMAGE (FAT; ext2/3/4 where dvs-fs serves it) with dvs-fs\n"
	    "on a private one-node DVS and mounts it on MOUNTPOINT with dvs-fuse, then\n"
	    "returns; the servers keep running in the background until the file system\n"
	    "is unmounted with\n"
	    "  dvs umount MOUNTPOINT     (or: fusermount3 -u MOUNTPOINT)\n"
	    "which leaves the image clean (fsck.fat -n finds nothing).\n"
	    "\n"
	    "  --vdd         reach the image through the virtual disk driver dvs-vdd\n"
	    "                (scenario A2) instead of directly (A1)\n"
	    "  --ro          serve and mount read-only\n"
	    "  --cache-mb N  cache bound of dvs-fs per volume in MiB (default 64)\n"
	    "  --threads N   FUSE worker threads, each with its own DVK binding (default "
	    "8)\n"
	    "  --uid N, --gid N  owner every file shows (FAT has none; default: yours),\n"
	    "                as vfat's uid= and gid= mount options\n"
	    "  --allow-other let other users than the one who mounts use the mount\n"
	    "                (FUSE's allow_other; permissions are checked by the "
	    "kernel)\n"
	    "  -v, --verbose say more (again: more still); the servers' log too\n"
	    "  -q, --quiet   say nothing on success, only errors\n"
	    "  -h, --help    this help\n"
	    "  --version     print the version\n"
	    "\n"
	    "The image must not be used by anything else while mounted (dvs-fuse caches\n"
	    "aggressively because it is the volume's only client).\n"
	    "Exit status: 0 mounted, 1 failed (the message says why), 2 bad usage\n"
	    "(docs/EXIT-CODES.md).\n");
}

int
mount_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DVS_EXIT_FAILURE;
}

/* "dvs-mount: OPTION needs WHAT, not 'ARG'": a bad value. */
static int
usage_error(const char *option, const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s needs %s, not '%s'\n", option, what, arg);
	return DVS_EXIT_USAGE;
}

/* A decimal number in [min, max]; -1 if s is anything else. */
static long
number(const char *s, long min, long max)
{
	long v;

	return dvs_parse_long(s, min, max, &v) == 0 ? v : -1;
}

static int
parse_args(int argc, char **argv, struct mount_opts *o, int *done)
{
	enum { O_VDD = 256, O_RO, O_CACHE, O_THREADS, O_UID, O_GID, O_OTHER, O_VERSION };
	static const struct option lopts[] = {
	    {"vdd", no_argument, NULL, O_VDD},
	    {"ro", no_argument, NULL, O_RO},
	    {"cache-mb", required_argument, NULL, O_CACHE},
	    {"threads", required_argument, NULL, O_THREADS},
	    {"uid", required_argument, NULL, O_UID},
	    {"gid", required_argument, NULL, O_GID},
	    {"allow-other", no_argument, NULL, O_OTHER},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, O_VERSION},
	    {NULL, 0, NULL, 0},
	};
	long v;
	int c;

	*done = 0;
	o->cache_mb = 64;
	o->threads = 8;
	o->uid = o->gid = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hvq", lopts, NULL)) != -1) {
		switch (c) {
		case O_VDD:
			o->vdd = 1;
			break;
		case O_RO:
			o->ro = 1;
			break;
		case O_CACHE:
			if ((v = number(optarg, 1, 1L << 20)) < 0)
				return usage_error("--cache-mb", "a number of MiB >= 1",
						   optarg);
			o->cache_mb = (unsigned)v;
			break;
		case O_THREADS:
			if ((v = number(optarg, 1, 64)) < 0)
				return usage_error("--threads", "a number from 1 to 64",
						   optarg);
			o->threads = (unsigned)v;
			break;
		case O_UID:
		case O_GID:
			if ((v = number(optarg, 0, 0xFFFFFFFEL)) < 0)
				return usage_error(c == O_UID ? "--uid" : "--gid",
						   "a number", optarg);
			if (c == O_UID)
				o->uid = v;
			else
				o->gid = v;
			break;
		case O_OTHER:
			o->allow_other = 1;
			break;
		case 'v':
			dvs_log_more();
			break;
		case 'q':
			dvs_log_quiet();
			o->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			*done = 1;
			return DVS_EXIT_OK;
		case O_VERSION:
			*done = 1;
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
	if (argc - optind != 2) {
		fprintf(stderr, PROG ": expected IMAGE and MOUNTPOINT\n");
		usage(stderr);
		return DVS_EXIT_USAGE;
	}
	/* The servers log at the level asked for here. */
	setenv("DVS_LOG", dvs_log_level_name(), 1);
	return DVS_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static struct mount_opts o;
	char fstype[64];
	struct stat st;
	int rc, done;

	dvs_log_init(PROG);
	progs_init(argv[0]);
	rc = parse_args(argc, argv, &o, &done);
	if (rc != 0 || done)
		return rc;
	if ((rc = mount_check_fuse()) != 0 || (rc = mount_check_programs(&o)) != 0)
		return rc;
	if ((rc = mount_check_image(argv[optind], o.ro)) != 0)
		return rc;
	if (stat(argv[optind + 1], &st) != 0 || !S_ISDIR(st.st_mode))
		return mount_fail("mountpoint %s is not a directory", argv[optind + 1]);
	if (realpath(argv[optind], o.image) == NULL ||
	    realpath(argv[optind + 1], o.mnt) == NULL)
		return mount_fail("cannot resolve %s or %s: %s", argv[optind],
				  argv[optind + 1], strerror(errno));
	/* The state file holds one value a line. */
	if (strchr(o.image, '\n') != NULL || strchr(o.mnt, '\n') != NULL)
		return mount_fail(
		    "paths with newlines are not supported: rename %s or %s", o.image,
		    o.mnt);
	if (mountinfo_fstype(o.mnt, fstype, sizeof(fstype)) == 1)
		return mount_fail(
		    "mountpoint %s is busy: something is mounted there already "
		    "(dvs umount %s, or fusermount3 -u %s)",
		    o.mnt, o.mnt, o.mnt);
	if ((rc = mount_make_run_dir(&o)) != 0)
		return rc;
	return mount_start(&o);
}
