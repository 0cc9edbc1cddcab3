/*
 * dvs-fuse - mounts a volume served by dvs-fs with FUSE, so that any Linux
 * program can use it.  libfuse3's low-level API, many worker threads, each
 * with its own DVK binding (libdvsfs makes one per thread), no global lock
 * around IPC.  See docs/FUSE.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dfuse.h"
#include "dvs/log.h"
#include "dvs/parse.h"
#include "dvs/version.h"
#include "dvs/mountinfo.h"

#define DEFAULT_THREADS 8

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: dvs-fuse [OPTIONS] MOUNTPOINT\n"
	    "\n"
	    "Mounts a volume of a running dvs-fs on MOUNTPOINT.  Run it inside the\n"
	    "server's DC with one endpoint per worker thread plus one, e.g.\n"
	    "  dvsctl run --dc 1 --ep 40-57 -- dvs-fuse -f MOUNTPOINT\n"
	    "Unmount with `fusermount3 -u MOUNTPOINT` (dvs-fuse then exits).\n"
	    "`dvs mount` starts a private DVS with the servers and this for you.\n"
	    "\n"
	    "  --ep N          endpoint of dvs-fs (default $DVS_FS_EP or %d)\n"
	    "  --volume NAME   volume to mount (default: the server's first)\n"
	    "  --exclusive     this mount is the volume's only client: enables the\n"
	    "                  writeback cache, keeps cached pages across opens and\n"
	    "                  caches names and attributes for long (dvs mount sets it)\n"
	    "  --ro            mount read-only\n"
	    "  --wait SEC      wait up to SEC seconds for dvs-fs to bind its endpoint\n"
	    "  --threads N     FUSE worker threads (default %d)\n"
	    "  --readahead-kb N  readahead window of the mount (default 8192; 0: the\n"
	    "                  kernel's 128 KiB; needs root)\n"
	    "  --uid N --gid N owner shown for every file (default: the caller's)\n"
	    "  -f              stay in the foreground\n"
	    "  -d              FUSE debug output (implies -f)\n"
	    "  -v, --verbose   log more (again: debug)\n"
	    "  -q, --quiet     log errors only\n"
	    "  -o OPT[,OPT]    more FUSE mount options (see mount.fuse3(8))\n"
	    "  -h, --help      this help\n"
	    "      --version   print the version\n"
	    "\n"
	    "Exit status: 0 after a clean unmount, 1 on errors, 2 on bad usage.\n",
	    FS_EP_DEFAULT, DEFAULT_THREADS);
}

static void
do_init(void *userdata, struct fuse_conn_info *conn)
{
	struct dfuse *d = userdata;
	unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_ATOMIC_O_TRUNC |
			FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_READDIRPLUS |
			FUSE_CAP_READDIRPLUS_AUTO;

	conn->max_write = DFUSE_IO_MAX;
	conn->max_read = DFUSE_IO_MAX;
	/* 1 MiB of readahead keeps the server busy with 1 MiB reads. */
	if (conn->max_readahead > DFUSE_IO_MAX)
		conn->max_readahead = DFUSE_IO_MAX;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	/* FAT keeps mtime to 2 s; the kernel should not invent precision.
	 * ext keeps nanoseconds (with large inodes). */
	conn->time_gran = d->posix ? 1 : 1000000000;
	if (d->exclusive && !d->ro)
		want |= FUSE_CAP_WRITEBACK_CACHE;
	if (!d->exclusive)
		want |= FUSE_CAP_AUTO_INVAL_DATA;
	conn->want |= want & conn->capable;
	/* Splicing buys nothing here: the data goes through a grant anyway. */
	conn->want &=
	    ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	if (!d->exclusive)
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void
do_destroy(void *userdata)
{
	struct dfuse *d = userdata;
	int r;

	/* The kernel wrote back every dirty page before unmounting; make the
	 * volume clean on its device now. */
	r = dvs_sync(d->fs);
	if (r < 0)
		dvs_warn("sync at unmount failed: %s", dvk_strerror(r));
}

/*
 * Forks into the background before any DVK binding exists (a binding
 * belongs to the process that made it).  The parent waits for one status
 * byte from the child: it exits 0 once the mount is up, or with the
 * child's failure, whose message the child printed on the shared stderr.
 * Returns the pipe end the child reports on, or -1 in the foreground.
 */
static int
background(void)
{
	int p[2], fd;
	char st = 1;
	pid_t pid;

	if (pipe(p) != 0) {
		dvs_err("pipe: %s", strerror(errno));
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		dvs_err("fork: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &st, 1) != 1)
			st = 1;
		_exit(st);
	}
	close(p[0]);
	setsid();
	if (chdir("/") != 0)
		dvs_warn("chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return p[1];
}

static void
report(int *fd, char st)
{
	int nul;

	if (*fd < 0)
		return;
	if (write(*fd, &st, 1) != 1)
		dvs_warn("cannot tell the parent: %s", strerror(errno));
	close(*fd);
	*fd = -1;
	/* From now on nobody reads our stderr. */
	nul = open("/dev/null", O_WRONLY);
	if (nul >= 0) {
		dup2(nul, STDERR_FILENO);
		close(nul);
	}
}

/*
 * The kernel caps a FUSE mount's readahead at its 128 KiB default whatever
 * max_readahead says; a bigger window keeps several 1 MiB reads in flight,
 * served by several threads.  The knob is the mount's backing-device
 * readahead in sysfs (root only; best effort).  It is set from a thread
 * because stat() of the mountpoint waits until the kernel finished INIT,
 * which the session loop answers.
 */
static unsigned readahead_kb = 8192;

static void *
tune_bdi(void *arg)
{
	const char *mnt = arg;
	char path[128];
	struct stat st;
	FILE *f;

	if (stat(mnt, &st) != 0)
		return NULL;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb",
		 major(st.st_dev), minor(st.st_dev));
	f = fopen(path, "w");
	if (f == NULL) {
		dvs_info("cannot set %s: %s", path, strerror(errno));
		return NULL;
	}
	fprintf(f, "%u\n", readahead_kb);
	if (fclose(f) != 0)
		dvs_info("cannot set %s: %s", path, strerror(errno));
	return NULL;
}

static void
start_tuning(const char *mnt)
{
	pthread_attr_t attr;
	pthread_t tid;

	if (readahead_kb == 0)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, tune_bdi, (void *)mnt) != 0)
		dvs_info("no readahead tuning thread");
	pthread_attr_destroy(&attr);
}

struct opts {
	struct dvsfs_opts fs;
	unsigned threads;
	unsigned wait_ms;
	int foreground;
	const char *mountpoint;
	char mount_opts[1024];
};

static int
add_mount_opt(struct opts *o, const char *opt)
{
	size_t n = strlen(o->mount_opts);

	if ((size_t)snprintf(o->mount_opts + n, sizeof(o->mount_opts) - n, ",%s", opt) >=
	    sizeof(o->mount_opts) - n) {
		dvs_err("too many -o options");
		return -1;
	}
	return 0;
}

/* The number of option opt (its name, for the message) in [min, max]. */
static int
parse_uint(const char *s, const char *opt, long min, long max, unsigned long *out)
{
	long v;

	if (dvs_parse_long(s, min, max, &v) != 0) {
		fprintf(stderr, "dvs-fuse: %s: a number from %ld to %ld, not '%s'\n", opt, min,
			max, s);
		return -1;
	}
	*out = (unsigned long)v;
	return 0;
}

/* Returns 0, 1 (help shown) or -1 (bad usage, message printed). */
static int
parse_args(int argc, char **argv, struct opts *o, struct dfuse *d)
{
	static const struct option longopts[] = {
	    {"ep", required_argument, NULL, 'e'},
	    {"volume", required_argument, NULL, 0x101},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"exclusive", no_argument, NULL, 'x'},
	    {"ro", no_argument, NULL, 'r'},
	    {"wait", required_argument, NULL, 'w'},
	    {"threads", required_argument, NULL, 't'},
	    {"readahead-kb", required_argument, NULL, 'a'},
	    {"uid", required_argument, NULL, 'u'},
	    {"gid", required_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 0x100},
	    {NULL, 0, NULL, 0},
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "fdvqho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (parse_uint(optarg, "--ep", 0, INT32_MAX, &v) < 0)
				return -1;
			o->fs.server_ep = (dvk_ep_t)v;
			break;
		case 0x101:
			o->fs.volume = optarg;
			break;
		case 'v':
			dvs_log_more();
			break;
		case 'q':
			dvs_log_quiet();
			break;
		case 'x':
			d->exclusive = 1;
			break;
		case 'r':
			d->ro = 1;
			break;
		case 'w':
			if (parse_uint(optarg, "--wait", 0, 3600, &v) < 0)
				return -1;
			o->wait_ms = (unsigned)v * 1000;
			break;
		case 't':
			if (parse_uint(optarg, "--threads", 1, 256, &v) < 0)
				return -1;
			o->threads = (unsigned)v;
			break;
		case 'a':
			if (parse_uint(optarg, "--readahead-kb", 0, 1L << 20, &v) < 0)
				return -1;
			readahead_kb = (unsigned)v;
			break;
		case 'u':
			if (parse_uint(optarg, "--uid", 0, (long)UINT32_MAX - 1, &v) < 0)
				return -1;
			d->uid = (uid_t)v;
			break;
		case 'g':
			if (parse_uint(optarg, "--gid", 0, (long)UINT32_MAX - 1, &v) < 0)
				return -1;
			d->gid = (gid_t)v;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'd':
			d->debug = 1;
			o->foreground = 1;
			break;
		case 'o':
			if (add_mount_opt(o, optarg) < 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 0x100:
			dvs_print_version("dvs-fuse");
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		dvs_err("expected one MOUNTPOINT (see --help)");
		return -1;
	}
	o->mountpoint = argv[optind];
	return 0;
}

static int
check_mountpoint(const char *mnt)
{
	struct stat st;

	if (stat(mnt, &st) != 0) {
		dvs_err("mountpoint %s: %s", mnt, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dvs_err("mountpoint %s is not a directory", mnt);
		return -1;
	}
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		dvs_err("/dev/fuse: %s (load the fuse module: modprobe fuse)",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Connects, waiting up to o->wait_ms for a server still starting. */
static int
connect_server(const struct opts *o, struct dvsfs **fs)
{
	unsigned waited = 0;
	int r;

	for (;;) {
		r = dvsfs_connect(&o->fs, fs);
		if (r != -EDVS_NOTBOUND || waited >= o->wait_ms)
			return r;
		usleep(50 * 1000);
		waited += 50;
	}
}

int
main(int argc, char **argv)
{
	static struct dfuse d;
	struct fuse_lowlevel_ops ops;
	struct fuse_loop_config *cfg = NULL;
	char mnt_real[PATH_MAX];
	struct fuse_session *se = NULL;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct opts o;
	struct dvs_stat root;
	int r, status_fd = -1, rc = 1, mounted = 0;

	dvs_log_init("dvs-fuse");
	memset(&o, 0, sizeof(o));
	dvsfs_opts_init(&o.fs);
	/* The mount has default_permissions: the kernel checks every access
	 * against the modes we show, with the caller's uid and capabilities
	 * (root writes a 0444 file, others get EACCES, as on vfat), so the
	 * server need not refuse for the read-only bit again.  dvs-fs
	 * trusts this adapter for that: it speaks for the kernel. */
	o.fs.access_checked = 1;
	o.threads = DEFAULT_THREADS;
	d.uid = getuid();
	d.gid = getgid();
	r = parse_args(argc, argv, &o, &d);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (check_mountpoint(o.mountpoint) < 0)
		return 1;
	if (d.exclusive) {
		/* Nothing but this mount changes the volume: the kernel's
		 * copy of names and attributes stays true. */
		d.attr_timeout = 3600;
		d.entry_timeout = 3600;
		d.negative_timeout = 3600;
	} else {
		d.attr_timeout = 1;
		d.entry_timeout = 1;
		d.negative_timeout = 0;
	}
	if (!o.foreground)
		status_fd = background();

	r = connect_server(&o, &d.fs);
	if (r < 0) {
		dvs_err("cannot reach dvs-fs at endpoint %d: %s (run dvs-fuse "
			"inside its DC: dvsctl run --dc N --ep LO-HI -- dvs-fuse ...)",
			(int)o.fs.server_ep, dvk_strerror(r));
		goto out;
	}
	r = dvs_stat(d.fs, "/", &root);
	if (r < 0) {
		dvs_err("cannot stat the volume's root: %s", dvk_strerror(r));
		goto out;
	}
	d.posix = dvsfs_posix(d.fs);
	dfuse_posix_names = d.posix;
	r = ino_table_new(root.st_ino, &d.itab);
	if (r >= 0 && d.posix)
		ino_table_case_sensitive(d.itab);
	/* Directories' attributes: FAT's do not change with their names;
	 * ext's do (times, size, links), and every handler that changes a
	 * name there drops them (dfuse_dir_changed) or, for a create, patches
	 * them with what the server says it did (attr_cache_patch). */
	if (r >= 0 && d.exclusive)
		r = attr_cache_new(S_IFDIR, &d.dattr);
	if (r >= 0 && d.exclusive)
		r = dir_names_new(&d.dnames);
	if (r >= 0 && d.exclusive)
		r = attr_cache_new(S_IFREG, &d.fattr);
	if (r >= 0 && d.exclusive && d.posix && !d.ro && dvsfs_close_times(d.fs))
		r = times_defer_new(&d.tdefer);
	if (r < 0) {
		dvs_err("out of memory");
		goto out;
	}

	if (fuse_opt_add_arg(&args, argv[0]) != 0 || fuse_opt_add_arg(&args, "-o") != 0 ||
	    add_mount_opt(&o, "fsname=dvs,subtype=dvs,default_permissions") < 0 ||
	    (d.ro && add_mount_opt(&o, "ro") < 0) ||
	    add_mount_opt(&o, "max_read=1048576") < 0 ||
	    fuse_opt_add_arg(&args, o.mount_opts + 1) != 0 ||
	    (d.debug && fuse_opt_add_arg(&args, "-d") != 0)) {
		dvs_err("out of memory");
		goto out;
	}
	memset(&ops, 0, sizeof(ops));
	ops.init = do_init;
	ops.destroy = do_destroy;
	dfuse_entry_ops(&ops);
	dfuse_file_ops(&ops);
	dfuse_dir_ops(&ops);
	dfuse_link_ops(&ops);

	se = fuse_session_new(&args, &ops, sizeof(ops), &d);
	d.se = se;
	if (se == NULL) {
		dvs_err("bad FUSE options (see --help)");
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		dvs_err("cannot set signal handlers");
		goto out;
	}
	/* Resolved before mounting: once mounted, a stat of it would ask us. */
	if (realpath(o.mountpoint, mnt_real) == NULL)
		snprintf(mnt_real, sizeof(mnt_real), "%s", o.mountpoint);
	if (fuse_session_mount(se, o.mountpoint) != 0) {
		dvs_err("cannot mount on %s (busy? try fusermount3 -u %s)", o.mountpoint,
			o.mountpoint);
		goto out;
	}
	mounted = 1;
	report(&status_fd, 0);
	start_tuning(o.mountpoint);

	cfg = fuse_loop_cfg_create();
	if (cfg == NULL) {
		dvs_err("out of memory");
		goto out;
	}
	/* Idle threads stay: a thread that ends drops its DVK binding, and
	 * binding again costs a round trip to dvkd. */
	fuse_loop_cfg_set_max_threads(cfg, o.threads);
	fuse_loop_cfg_set_idle_threads(cfg, o.threads);
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	r = fuse_session_loop_mt(se, cfg);
	/* Stopped by a signal after our mount went: dvs umount does that when
	 * a copy of the mount in another mount namespace keeps the connection
	 * alive (tools/mount/umount_elsewhere.h).  That is a clean end (the
	 * loop has reset the session's exited flag by now).  The unmount
	 * below still runs: it frees what fuse_session_mount took, and says
	 * in the log that there was nothing left to unmount. */
	if (r != 0 && !mountinfo_is_dvs(mnt_real)) {
		dvs_info("%s was unmounted here; stopping", mnt_real);
		r = 0;
	}
	rc = r == 0 ? 0 : 1;
out:
	report(&status_fd, 1);
	if (se != NULL) {
		if (mounted)
			fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	fuse_loop_cfg_destroy(cfg);
	fuse_opt_free_args(&args);
	dvsfs_disconnect(d.fs);
	ino_table_free(d.itab);
	attr_cache_free(d.dattr);
	dir_names_free(d.dnames);
	attr_cache_free(d.fattr);
	times_defer_free(d.tdefer);
	return rc;
}
