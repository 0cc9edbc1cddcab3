/* supervise.c - the supervisor of one dvs mount (see supervise.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "dvs/mountinfo.h"
#include "progs.h"
#include "run_dir.h"
#include "state.h"
#include "supervise.h"

/* How long dvs-fuse may take to put the mount up. */
#define MOUNT_WAIT_MS  30000
/* How long dvs-fs may take to flush the volume when told to stop. */
#define SERVER_STOP_MS 30000
#define FUSE_STOP_MS   10000

struct sup {
	const struct mount_opts *o;
	int ready_fd;  /* -1 once dvs mount was told */
	sigset_t sigs; /* blocked; what sup_sleep waits for */
	struct child vdd, fs, fuse;
};

static void sup_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sup_log(const char *fmt, ...)
{
	char stamp[16];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	printf("%s supervisor: ", stamp);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Sleeps up to ms or until a signal we wait for comes.  Returns 1 when it
 * was one of the stop signals, 0 otherwise (a child changed, or time).
 */
static int
sup_sleep(struct sup *s, int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	int sig = sigtimedwait(&s->sigs, NULL, &ts);

	return sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
copy_file(const char *path, int to)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		write_all(to, buf, (size_t)n);
	close(fd);
}

static void
log_path(const struct sup *s, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", s->o->run, name);
}

/* $DVS_MOUNT_LOG keeps the servers' logs past the run directory (tests
 * look there for sanitizer reports). */
static void
keep_log(const struct sup *s)
{
	const char *keep = getenv("DVS_MOUNT_LOG");
	char path[PATH_MAX + 32];
	int fd;

	if (keep == NULL || keep[0] == '\0')
		return;
	fd = open(keep, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	log_path(s, "log", path, sizeof(path));
	copy_file(path, fd);
	log_path(s, "dvkd.sock.log", path, sizeof(path));
	copy_file(path, fd);
	close(fd);
}

static void
tell_ok(struct sup *s)
{
	if (s->ready_fd < 0)
		return;
	write_all(s->ready_fd, "ok\n", 3);
	close(s->ready_fd);
	s->ready_fd = -1;
}

/* The reason the mount failed, then the whole log, to dvs mount. */
static void
tell_failure(struct sup *s, const char *reason)
{
	char path[PATH_MAX + 32];

	if (s->ready_fd < 0)
		return;
	write_all(s->ready_fd, "error: ", 7);
	write_all(s->ready_fd, reason, strlen(reason));
	write_all(s->ready_fd, "\n", 1);
	log_path(s, "log", path, sizeof(path));
	copy_file(path, s->ready_fd);
	close(s->ready_fd);
	s->ready_fd = -1;
}

static int
run_tool(const char *tool, const char *const *args, int quiet)
{
	char path[PATH_MAX];
	const char *argv[16];
	int n = 0;

	if (progs_path(tool, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	argv[n++] = path;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return child_run(argv, quiet);
}

static void
fusermount(const char *mnt, int lazy)
{
	const char *argv[] = {"fusermount3", "-u", lazy ? "-z" : NULL, NULL, NULL};

	argv[lazy ? 3 : 2] = mnt;
	child_run(argv, 1);
}

/* Stops whatever runs, in the order that leaves the image clean. */
static void
stop_all(struct sup *s)
{
	static const char *const stop_args[] = {"stop", NULL};
	struct child *servers[] = {&s->fs, &s->vdd};
	size_t i;

	/* Unmount first if dvs-fuse still serves (a failed start, a signal);
	 * one that has not mounted yet has nothing to unmount: it is told to
	 * stop (libfuse unmounts if it got there meanwhile). */
	if (child_alive(&s->fuse)) {
		if (mountinfo_is_dvs(s->o->mnt)) {
			fusermount(s->o->mnt, 0);
			if (child_alive(&s->fuse))
				fusermount(s->o->mnt, 1);
		} else {
			kill(s->fuse.pid, SIGTERM);
		}
		if (!child_wait(&s->fuse, FUSE_STOP_MS)) {
			sup_log("dvs-fuse did not exit in %d s: killing it",
				FUSE_STOP_MS / 1000);
			child_stop(&s->fuse, SIGKILL, FUSE_STOP_MS);
		}
	}
	if (mountinfo_is_dvs(s->o->mnt))
		fusermount(s->o->mnt, 1);
	/* dvs-fs flushes the volume on SIGTERM; then the disk driver. */
	for (i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
		if (child_stop(servers[i], SIGTERM, SERVER_STOP_MS))
			sup_log("%s (pid %d) did not stop in %d s: killed it",
				servers[i]->name, (int)servers[i]->pid,
				SERVER_STOP_MS / 1000);
	run_tool("dvsctl", stop_args, 1);
	sup_log("stopped");
}

static void __attribute__((noreturn)) finish(struct sup *s, int rc, const char *reason)
{
	stop_all(s);
	keep_log(s);
	if (reason != NULL)
		tell_failure(s, reason);
	run_dir_remove(s->o->run);
	exit(rc);
}

static void __attribute__((noreturn)) stopped_by_signal(struct sup *s)
{
	sup_log("stopping: asked to by a signal");
	finish(s, 1, "stopped by a signal before the mount was up");
}

/* Starts one server under `dvsctl run --dc 1 --ep RANGE`. */
static int
start_server(struct child *c, const char *name, const char *range,
	     const char *const *args, char *why, size_t whylen)
{
	char dvsctl[PATH_MAX], prog[PATH_MAX];
	const char *argv[40];
	int n = 0, rc;

	if (progs_path("dvsctl", dvsctl, sizeof(dvsctl)) < 0 ||
	    progs_path(name, prog, sizeof(prog)) < 0) {
		snprintf(why, whylen, "program path too long");
		return -1;
	}
	argv[n++] = dvsctl;
	argv[n++] = "run";
	argv[n++] = "--dc";
	argv[n++] = "1";
	argv[n++] = "--ep";
	argv[n++] = range;
	argv[n++] = "--";
	argv[n++] = prog;
	while (*args != NULL && n < 39)
		argv[n++] = *args++;
	argv[n] = NULL;
	rc = child_start(c, name, argv);
	if (rc < 0) {
		snprintf(why, whylen, "cannot run dvsctl to start %s: %s", name,
			 strerror(-rc));
		return -1;
	}
	return 0;
}

/* dvsctl start and dc create; a reason on failure. */
static int
start_node(char *why, size_t whylen)
{
	static const char *const start_args[] = {"start", NULL};
	static const char *const dc_args[] = {"dc",	     "create", "1",
					      "--endpoints", "256",    NULL};
	int rc;

	rc = run_tool("dvsctl", start_args, 0);
	if (rc != 0) {
		sup_log("dvsctl start failed");
		if (rc < 0)
			snprintf(why, whylen, "cannot run dvsctl: %s", strerror(-rc));
		else
			snprintf(
			    why, whylen,
			    "the private dvkd did not start (dvsctl start: status %d)",
			    rc);
		return -1;
	}
	rc = run_tool("dvsctl", dc_args, 0);
	if (rc != 0) {
		snprintf(why, whylen,
			 "dvkd refused to create the DC (dvsctl dc create: status %d)",
			 rc);
		return -1;
	}
	return 0;
}

/* dvs-vdd (--vdd), dvs-fs and dvs-fuse, each in the DC. */
static int
start_servers(struct sup *s, char *why, size_t whylen)
{
	const struct mount_opts *o = s->o;
	const char *vdd_args[8], *fs_args[16], *fuse_args[24];
	char cache[16], threads[16], uid[24], gid[24], range[32];
	int n;

	/* Endpoints: dvs-fs 1 (+ its workers from 2-9), dvs-vdd 20 (+ 21-29),
	 * dvs-fuse 40 and up, one per worker thread. */
	if (o->vdd) {
		n = 0;
		vdd_args[n++] = "--ep";
		vdd_args[n++] = "20";
		if (o->ro)
			vdd_args[n++] = "--read-only";
		vdd_args[n++] = o->image;
		vdd_args[n] = NULL;
		if (start_server(&s->vdd, "dvs-vdd", "20-29", vdd_args, why, whylen) < 0)
			return -1;
	}
	snprintf(cache, sizeof(cache), "%u", o->cache_mb);
	n = 0;
	fs_args[n++] = "--ep";
	fs_args[n++] = "1";
	fs_args[n++] = "--workers";
	fs_args[n++] = "4";
	fs_args[n++] = "--cache-mb";
	fs_args[n++] = cache;
	if (o->ro)
		fs_args[n++] = "--read-only";
	if (o->vdd) {
		fs_args[n++] = "--vdd";
		fs_args[n++] = "20";
	} else {
		fs_args[n++] = o->image;
	}
	fs_args[n] = NULL;
	if (start_server(&s->fs, "dvs-fs", "1-9", fs_args, why, whylen) < 0)
		return -1;
	snprintf(threads, sizeof(threads), "%u", o->threads);
	n = 0;
	fuse_args[n++] = "-f";
	fuse_args[n++] = "--exclusive";
	fuse_args[n++] = "--ep";
	fuse_args[n++] = "1";
	fuse_args[n++] = "--wait";
	fuse_args[n++] = "30";
	fuse_args[n++] = "--threads";
	fuse_args[n++] = threads;
	if (o->ro)
		fuse_args[n++] = "--ro";
	if (o->uid >= 0) {
		snprintf(uid, sizeof(uid), "%ld", o->uid);
		fuse_args[n++] = "--uid";
		fuse_args[n++] = uid;
	}
	if (o->gid >= 0) {
		snprintf(gid, sizeof(gid), "%ld", o->gid);
		fuse_args[n++] = "--gid";
		fuse_args[n++] = gid;
	}
	if (o->allow_other) {
		fuse_args[n++] = "-o";
		fuse_args[n++] = "allow_other";
	}
	fuse_args[n++] = o->mnt;
	fuse_args[n] = NULL;
	/* One endpoint per FUSE thread, plus the connecting one, plus spares
	 * for threads libfuse starts while others end. */
	snprintf(range, sizeof(range), "40-%u", 40 + 2 * o->threads + 1);
	if (start_server(&s->fuse, "dvs-fuse", range, fuse_args, why, whylen) < 0)
		return -1;
	state_put_int(o->run, "fs_pid", s->fs.pid);
	state_put_int(o->run, "vdd_pid", s->vdd.pid > 0 ? s->vdd.pid : -1);
	state_put_int(o->run, "fuse_pid", s->fuse.pid);
	return 0;
}

/*
 * Waits for the mount.  0 once it is up; -1 with a reason when a part
 * failed first (dvs-fuse then is told to stop); 1 for a stop signal.
 */
static int
wait_mount(struct sup *s, char *why, size_t whylen)
{
	struct child *servers[] = {&s->fs, &s->vdd};
	int waited = 0;
	size_t i;

	for (;;) {
		if (mountinfo_is_dvs(s->o->mnt))
			return 0;
		if (!child_alive(&s->fuse)) {
			snprintf(why, whylen,
				 "dvs-fuse exited with status %d before the mount was up",
				 s->fuse.status);
			return -1;
		}
		/* A server that dies while starting fails the mount at once
		 * (dvs-fuse would wait for it in vain). */
		for (i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
			if (servers[i]->pid <= 0 || child_alive(servers[i]))
				continue;
			sup_log("a server exited before the mount was up");
			snprintf(why, whylen,
				 "%s exited with status %d before the mount was up",
				 servers[i]->name, servers[i]->status);
			return -1;
		}
		if (waited >= MOUNT_WAIT_MS) {
			snprintf(why, whylen, "the mount did not appear within %d s",
				 MOUNT_WAIT_MS / 1000);
			return -1;
		}
		if (sup_sleep(s, 100))
			return 1;
		waited += 100;
	}
}

void
supervise(const struct mount_opts *o, int ready_fd)
{
	struct sup s = {.o = o, .ready_fd = ready_fd};
	char why[512];
	char sock[PATH_MAX + 16];
	int rc;

	sigemptyset(&s.sigs);
	sigaddset(&s.sigs, SIGTERM);
	sigaddset(&s.sigs, SIGINT);
	sigaddset(&s.sigs, SIGHUP);
	sigaddset(&s.sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s.sigs, NULL);
	/* dvs mount may be gone when we tell it how the start went. */
	signal(SIGPIPE, SIG_IGN);
	if (chdir("/") != 0)
		exit(1);
	snprintf(sock, sizeof(sock), "%s/dvkd.sock", o->run);
	setenv("DVS_SOCKET", sock, 1);
	state_put_int(o->run, "supervisor", (long)getpid());
	sup_log("starting a private node for %s on %s", o->image, o->mnt);

	if (start_node(why, sizeof(why)) < 0)
		finish(&s, 1, why);
	if (sup_sleep(&s, 0))
		stopped_by_signal(&s);
	if (start_servers(&s, why, sizeof(why)) < 0)
		finish(&s, 1, why);
	rc = wait_mount(&s, why, sizeof(why));
	if (rc > 0)
		stopped_by_signal(&s);
	if (rc < 0) {
		sup_log("%s", why);
		if (child_alive(&s.fuse)) {
			kill(s.fuse.pid, SIGTERM);
			child_wait(&s.fuse, FUSE_STOP_MS);
		}
		sup_log("dvs-fuse stopped: the mount failed");
		finish(&s, 1, why);
	}
	tell_ok(&s);

	/* dvs-fuse returns when the file system is unmounted (or it failed). */
	while (child_alive(&s.fuse)) {
		if (sup_sleep(&s, 1000)) {
			sup_log("stopping: asked to by a signal");
			finish(&s, 1, NULL);
		}
	}
	sup_log("dvs-fuse exited with status %d", s.fuse.status);
	finish(&s, s.fuse.status, NULL);
}
