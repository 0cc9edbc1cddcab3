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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dvs/exit.h"
#include "dvs/log.h"
#include "dvs/version.h"
#include "fstype.h"
#include "mount_opts.h"
#include "mountinfo.h"
#include "progs.h"
#include "run_dir.h"
#include "state.h"
#include "supervise.h"

#define PROG "dvs-mount"
/* How long dvs mount waits for the supervisor's word. */
#define READY_WAIT_MS 40000

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: dvs mount IMAGE MOUNTPOINT [--vdd] [--ro] [--cache-mb N] [--threads N]\n"
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
		"  --threads N   FUSE worker threads, each with its own DVK binding (default 8)\n"
		"  --uid N, --gid N  owner every file shows (FAT has none; default: yours),\n"
		"                as vfat's uid= and gid= mount options\n"
		"  --allow-other let other users than the one who mounts use the mount\n"
		"                (FUSE's allow_other; permissions are checked by the kernel)\n"
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

static int
die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
die(const char *fmt, ...)
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
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

static int
parse_args(int argc, char **argv, struct mount_opts *o, int *done)
{
	enum { O_VDD = 256, O_RO, O_CACHE, O_THREADS, O_UID, O_GID, O_OTHER, O_VERSION };
	static const struct option lopts[] = {
		{ "vdd", no_argument, NULL, O_VDD },
		{ "ro", no_argument, NULL, O_RO },
		{ "cache-mb", required_argument, NULL, O_CACHE },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "uid", required_argument, NULL, O_UID },
		{ "gid", required_argument, NULL, O_GID },
		{ "allow-other", no_argument, NULL, O_OTHER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
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
				return usage_error("--cache-mb", "a number of MiB >= 1", optarg);
			o->cache_mb = (unsigned)v;
			break;
		case O_THREADS:
			if ((v = number(optarg, 1, 64)) < 0)
				return usage_error("--threads", "a number from 1 to 64", optarg);
			o->threads = (unsigned)v;
			break;
		case O_UID:
		case O_GID:
			if ((v = number(optarg, 0, 0xFFFFFFFEL)) < 0)
				return usage_error(c == O_UID ? "--uid" : "--gid", "a number",
						   optarg);
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

/* The programs a mount runs are where we are. */
static int
check_programs(const struct mount_opts *o)
{
	const char *need[] = { "dvsctl", "dvs-fs", "dvs-fuse", o->vdd ? "dvs-vdd" : NULL };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]) && need[i] != NULL; i++) {
		if (progs_path(need[i], path, sizeof(path)) < 0 || access(path, X_OK) != 0)
			return die("%s is missing: build DVS first (make), or reinstall it", path);
	}
	return 0;
}

static int
check_fuse(void)
{
	char path[PATH_MAX];
	int fd;

	if (access("/dev/fuse", F_OK) != 0)
		return die("/dev/fuse is missing: load the FUSE module (modprobe fuse)");
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return die("no access to /dev/fuse (run as root or join the fuse group)");
	if (fd >= 0)
		close(fd);
	if (progs_find_in_path("fusermount3", path, sizeof(path)) != 0)
		return die("fusermount3 is missing (apt-get install fuse3)");
	return 0;
}

/* The image exists, is a file we may use, and holds a file system that
 * dvs-fs serves. */
static int
check_image(const char *image, int ro)
{
	enum fstype_kind kind;
	char type[64];
	struct stat st;
	int rc;

	if (stat(image, &st) != 0)
		return die("image %s does not exist", image);
	if (!S_ISREG(st.st_mode))
		return die("image %s is not a regular file", image);
	if (access(image, R_OK) != 0)
		return die("image %s is not readable", image);
	if (!ro && access(image, W_OK) != 0)
		return die("image %s is not writable (use --ro)", image);
	rc = fstype_probe(image, &kind, type, sizeof(type));
	if (rc == -EINVAL)
		return die("image %s holds signatures of more than one file system "
			   "(blkid -p %s shows them); wipe the stale one with wipefs",
			   image, image);
	if (rc < 0)
		return die("cannot read image %s: %s", image, strerror(-rc));
	switch (kind) {
	case FSTYPE_FAT:
	case FSTYPE_EXT:
		dvs_info("image %s holds a %s file system", image, type);
		return 0;
	case FSTYPE_NONE:
		return die("image %s is not a FAT file system: blkid finds no file system "
			   "on it (format it: dvs fat mkfs or mkfs.fat)", image);
	case FSTYPE_OTHER:
		break;
	}
	return die("image %s holds a %s file system, which dvs-fs does not serve "
		   "(dvs mount takes FAT (vfat) and ext2/ext3/ext4 images)", image, type);
}

/* Another dvs mount already serves image: its mountpoint into mnt. */
static int
image_mounted(const char *root, const char *image, char *mnt, size_t len)
{
	char path[PATH_MAX + 300], v[PATH_MAX];
	struct dirent *e;
	int found = 0;
	DIR *d;

	d = opendir(root);
	if (d == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "mount-", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/state", root, e->d_name);
		if (state_get(path, "IMAGE", v, sizeof(v)) == 1 && strcmp(v, image) == 0) {
			if (state_get(path, "MNT", mnt, len) != 1)
				snprintf(mnt, len, "?");
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static int
mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Makes the run directory of o->mnt with the state file. */
static int
make_run_dir(struct mount_opts *o)
{
	char root[PATH_MAX], other[PATH_MAX], state[PATH_MAX + 16];
	long sup;
	int rc;

	if (run_root(root, sizeof(root)) < 0 || run_dir_of(o->mnt, o->run, sizeof(o->run)) < 0)
		return die("run directory path too long: set DVS_RUN_DIR to a shorter directory");
	/* dvkd's socket goes in there, and sun_path holds 108 bytes. */
	if (strlen(o->run) >= 96)
		return die("run directory %s is too long for a socket path: set DVS_RUN_DIR to a "
			   "shorter directory", o->run);
	rc = mkdirs(root);
	if (rc < 0)
		return die("cannot create %s: %s", root, strerror(-rc));
	if (image_mounted(root, o->image, other, sizeof(other)))
		return die("image %s is already mounted by dvs mount (%s)", o->image, other);
	snprintf(state, sizeof(state), "%s/state", o->run);
	if (access(o->run, F_OK) == 0) {
		/* A leftover of a supervisor that was killed: nothing runs there. */
		if (state_get_int(state, "supervisor", &sup) == 1 && kill((pid_t)sup, 0) == 0)
			return die("mountpoint %s is busy: a dvs mount is still starting or "
				   "stopping there", o->mnt);
		run_dir_remove(o->run);
	}
	if (mkdir(o->run, 0700) != 0)
		return die("cannot create %s: %s", o->run, strerror(errno));
	rc = state_put(o->run, "IMAGE", o->image);
	rc = rc < 0 ? rc : state_put(o->run, "MNT", o->mnt);
	rc = rc < 0 ? rc : state_put_int(o->run, "VDD", o->vdd);
	rc = rc < 0 ? rc : state_put_int(o->run, "RO", o->ro);
	rc = rc < 0 ? rc : state_put_int(o->run, "CACHE_MB", o->cache_mb);
	rc = rc < 0 ? rc : state_put_int(o->run, "THREADS", o->threads);
	rc = rc < 0 ? rc : state_put_int(o->run, "OWN_UID", o->uid);
	rc = rc < 0 ? rc : state_put_int(o->run, "OWN_GID", o->gid);
	rc = rc < 0 ? rc : state_put_int(o->run, "ALLOW_OTHER", o->allow_other);
	if (rc < 0) {
		run_dir_remove(o->run);
		return die("cannot write %s: %s", state, strerror(-rc));
	}
	return 0;
}

/* Forks the supervisor in its own session, its output in RUN/log. */
static pid_t
start_supervisor(const struct mount_opts *o, int *ready_rd)
{
	char log[PATH_MAX + 16];
	sigset_t stop, old;
	int p[2], fd;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	snprintf(log, sizeof(log), "%s/log", o->run);
	fflush(NULL);
	/* The supervisor must not lose a stop signal before it blocks them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	pid = fork();
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd < 0)
			_exit(1);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
		supervise(o, p[1]);
	}
	close(p[1]);
	*ready_rd = p[0];
	return pid;
}

/* A signal that came while we wait for the supervisor (Ctrl-C). */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* Ctrl-C, SIGTERM or SIGHUP while the mount starts stop it all: the
 * supervisor (in its own session, so the terminal's signals miss it) is
 * told, unmounts and stops what it started. */
static void
catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Reads what the supervisor says into buf until EOF or deadline (ms since
 * boot); returns the number of bytes, *eof set when it closed.
 */
static size_t
read_until(int fd, char *buf, size_t cap, size_t have, long deadline, int stop_at_line,
	   int *eof)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	long left;

	*eof = 0;
	while (have + 1 < cap) {
		if (stop_at_line && memchr(buf, '\n', have) != NULL)
			break;
		left = deadline - now_ms();
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0) {
			if (errno == EINTR && !interrupted)
				continue;
			break;
		}
		n = read(fd, buf + have, cap - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*eof = 1;
			break;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	return have;
}

/* Prints the servers' log, indented, after the failure. */
static void
print_indented(const char *text)
{
	const char *line = text, *nl;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		fprintf(stderr, "  %.*s\n", nl != NULL ? (int)(nl - line) : (int)strlen(line), line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

/* Waits for the supervisor's word; 0 mounted, else the exit status. */
static int
wait_ready(const struct mount_opts *o, pid_t sup, int fd)
{
	static char buf[1 << 16];
	const char *reason = "the supervisor stopped without saying why", *log = "";
	size_t n;
	int eof, w;
	char *nl;

	n = read_until(fd, buf, sizeof(buf), 0, now_ms() + READY_WAIT_MS, 1, &eof);
	if (strncmp(buf, "ok\n", 3) == 0) {
		close(fd);
		if (!o->quiet)
			printf(PROG ": %s mounted on %s (servers' log: %s/log; stop with: "
				    "dvs umount %s)\n",
			       o->image, o->mnt, o->run, o->mnt);
		return DVS_EXIT_OK;
	}
	if (n == 0 && !eof) {
		/* No word in time, or we were interrupted: the supervisor
		 * unmounts and stops all. */
		reason = interrupted ? "interrupted" : "no mount after 40 s";
		kill(sup, SIGTERM);
	}
	/* From here on the supervisor is stopping: let it finish. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	n = read_until(fd, buf, sizeof(buf), n, now_ms() + 60000, 0, &eof);
	close(fd);
	if (strncmp(buf, "error: ", 7) == 0 && (nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		reason = buf + 7;
		log = nl + 1;
	}
	fprintf(stderr, PROG ": mounting %s on %s failed: %s\n", o->image, o->mnt, reason);
	if (log[0] != '\0') {
		fprintf(stderr, "the servers said:\n");
		print_indented(log);
	}
	if (!eof)
		kill(sup, SIGKILL);
	waitpid(sup, &w, 0);
	run_dir_remove(o->run);
	return DVS_EXIT_FAILURE;
}

int
main(int argc, char **argv)
{
	static struct mount_opts o;
	char fstype[64];
	struct stat st;
	int rc, done, fd;
	pid_t sup;

	dvs_log_init(PROG);
	progs_init(argv[0]);
	rc = parse_args(argc, argv, &o, &done);
	if (rc != 0 || done)
		return rc;
	if ((rc = check_fuse()) != 0 || (rc = check_programs(&o)) != 0)
		return rc;
	if ((rc = check_image(argv[optind], o.ro)) != 0)
		return rc;
	if (stat(argv[optind + 1], &st) != 0 || !S_ISDIR(st.st_mode))
		return die("mountpoint %s is not a directory", argv[optind + 1]);
	if (realpath(argv[optind], o.image) == NULL || realpath(argv[optind + 1], o.mnt) == NULL)
		return die("cannot resolve %s or %s: %s", argv[optind], argv[optind + 1],
			   strerror(errno));
	/* The state file holds one value a line. */
	if (strchr(o.image, '\n') != NULL || strchr(o.mnt, '\n') != NULL)
		return die("paths with newlines are not supported: rename %s or %s",
			   o.image, o.mnt);
	if (mountinfo_fstype(o.mnt, fstype, sizeof(fstype)) == 1)
		return die("mountpoint %s is busy: something is mounted there already "
			   "(dvs umount %s, or fusermount3 -u %s)", o.mnt, o.mnt, o.mnt);
	if ((rc = make_run_dir(&o)) != 0)
		return rc;
	catch_signals();
	sup = start_supervisor(&o, &fd);
	if (sup < 0) {
		run_dir_remove(o.run);
		return die("cannot start the supervisor: %s", strerror((int)-sup));
	}
	dvs_info("supervisor pid %d, run directory %s", (int)sup, o.run);
	return wait_ready(&o, sup, fd);
}
