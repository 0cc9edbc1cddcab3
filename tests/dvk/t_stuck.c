/*
 * t_stuck.c - dvkd never waits on a client's memory.  A member grants a
 * page registered with userfaultfd and never serves its fault: a vcopy
 * from it waits, but only that copier; dvkd answers management requests,
 * and other copies in this DC and in another DC go on.  The owner's death
 * ends the stuck copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "itest.h"
#include "itests.h"

#define SKIP 77

struct sshared {
	volatile int32_t grant;
	volatile int ready; /* 1: granted; -1: no userfaultfd here */
	volatile int copy_rc;
	volatile int copy_done;
};
static struct sshared *ss;

/* ep 5: grants a page whose fault nobody serves to ep 3. */
static int
uffd_owner(void *arg)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct dvk *h = it_bind(5);
	long psz = sysconf(_SC_PAGESIZE);
	dvk_grant_t g;
	char *p;
	int fd;

	(void)arg;
	p = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	/* Not UFFD_USER_MODE_ONLY: dvkd's process_vm_readv must wait. */
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) < 0) {
		fprintf(stderr, "no userfaultfd here (%s): skipped\n", strerror(errno));
		ss->ready = -1;
		return 0;
	}
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)p;
	reg.range.len = (uint64_t)psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	CHECK(ioctl(fd, UFFDIO_REGISTER, &reg) == 0);
	CHECK_RC(dvk_wait_bound(h, 3, 5000), 0);
	CHECK_RC(dvk_grant(h, 3, p, (size_t)psz, DVK_GRANT_READ, &g), 0);
	ss->grant = g;
	__atomic_store_n(&ss->ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return 0;
}

/* ep 3: copies from the page; reports what it got. */
static int
stuck_copier(void *arg)
{
	struct dvk *h = it_bind(3);
	char buf[64];

	(void)arg;
	while (__atomic_load_n(&ss->ready, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	if (ss->ready < 0)
		return 0;
	ss->copy_rc = dvk_vcopy_from(h, 5, ss->grant, 0, buf, sizeof(buf));
	__atomic_store_n(&ss->copy_done, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* A vcopy of ordinary memory (the copy threads' path) and a sendrec,
 * between two bindings of this process and an echo server. */
static int
copy_and_call(dvk_ep_t a, dvk_ep_t b, dvk_ep_t echo)
{
	static char src[65536], dst[65536];
	struct dvk *ha = it_bind(a), *hb = it_bind(b);
	dvk_grant_t g;
	dvk_msg_t m;
	int rc;

	memset(src, 0x42, sizeof(src));
	CHECK_RC(dvk_grant(ha, b, src, sizeof(src), DVK_GRANT_READ, &g), 0);
	rc = dvk_vcopy_from(hb, a, g, 0, dst, sizeof(dst));
	if (rc == 0 && (dst[0] != 0x42 || dst[sizeof(dst) - 1] != 0x42))
		rc = -EIO;
	if (rc == 0) {
		it_msg(&m, 1, 99);
		rc = dvk_sendrec_t(hb, echo, &m, 5000);
		if (rc == 0 && m.m_u.i32[0] != 99)
			rc = -EIO;
	}
	dvk_unbind(ha);
	dvk_unbind(hb);
	return rc;
}

/* In DC 2 (run through dvsctl run): its own echo server and copies. */
int
t_stuck_dc2(void)
{
	pid_t e;
	int rc;

	(void)0;
	{
		/* it_echo7 binds 7 of whatever DC we are admitted to */
		e = it_spawn(it_echo7, NULL);
	}
	{
		struct dvk *h = it_bind(9);

		CHECK_RC(dvk_wait_bound(h, 7, 5000), 0);
		dvk_unbind(h);
	}
	rc = copy_and_call(10, 11, 7);
	kill(e, SIGKILL);
	it_wait(e);
	CHECK_RC(rc, 0);
	return 0;
}

static char self_exe[PATH_MAX];
static pid_t dvkd_pid(void);

/* dvkd's /proc/PID/status still shows its memory (its main thread is
 * alive, even after it lost the loop). */
static int
dvkd_has_rss(void)
{
	char path[64], line[256];
	FILE *f;
	int ok = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)dvkd_pid());
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			ok = 1;
	fclose(f);
	return ok;
}

int
t_stuck(void)
{
	struct dvk *h;
	pid_t o, c, e;
	int64_t t0, dt;
	ssize_t n;

	ss = mmap(NULL, sizeof(*ss), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	CHECK(ss != MAP_FAILED);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	CHECK(n > 0);
	self_exe[n] = '\0';
	h = it_bind(1);
	e = it_spawn(it_echo7, NULL);
	CHECK_RC(dvk_wait_bound(h, 7, 5000), 0);

	c = it_spawn(stuck_copier, NULL);
	CHECK_RC(dvk_wait_bound(h, 3, 5000), 0);
	o = it_spawn(uffd_owner, NULL);
	t0 = it_now_ms();
	while (__atomic_load_n(&ss->ready, __ATOMIC_SEQ_CST) == 0) {
		CHECK(it_now_ms() - t0 < 10000);
		usleep(1000);
	}
	if (ss->ready < 0) {
		kill(o, SIGKILL);
		kill(c, SIGKILL);
		kill(e, SIGKILL);
		return SKIP;
	}
	/* Let the copy reach the page. */
	usleep(300 * 1000);
	CHECK(!ss->copy_done);

	/* The node still answers, at once. */
	t0 = it_now_ms();
	CHECK(it_dvsctl("status >/dev/null") == 0);
	dt = it_now_ms() - t0;
	fprintf(stderr, "dvsctl status while a copy waits: %lld ms\n", (long long)dt);
	CHECK(dt < 1000);
	/* Copies and calls in this DC and in another DC go on. */
	t0 = it_now_ms();
	CHECK_RC(copy_and_call(20, 21, 7), 0);
	dt = it_now_ms() - t0;
	fprintf(stderr, "vcopy + sendrec in DC 1: %lld ms\n", (long long)dt);
	CHECK(dt < 1000);
	t0 = it_now_ms();
	CHECK(it_dvsctl("run --dc 2 --ep 0-15 -- %s --in stuck-dc2", self_exe) == 0);
	dt = it_now_ms() - t0;
	fprintf(stderr, "vcopy + sendrec in DC 2: %lld ms\n", (long long)dt);
	CHECK(dt < 1000);
	CHECK(!ss->copy_done);

	/* The owner's death ends the wait: the copier hears at once. */
	kill(o, SIGKILL);
	CHECK(it_wait(o) == 128 + SIGKILL);
	t0 = it_now_ms();
	while (!__atomic_load_n(&ss->copy_done, __ATOMIC_SEQ_CST)) {
		CHECK(it_now_ms() - t0 < 5000);
		usleep(1000);
	}
	fprintf(stderr, "stuck copy after the owner's death: %s\n",
		dvk_strerror(ss->copy_rc));
	/* An error, or (the kernel drops the userfaultfd while the owner
	 * exits, and the fault then finds an empty page) zeros: either way
	 * the copy is over, long before the copier's 10 s timeout. */
	CHECK(ss->copy_rc != -ETIMEDOUT);
	CHECK(it_wait(c) == 0);
	CHECK(it_dvsctl("status >/dev/null") == 0);
	CHECK(dvkd_has_rss());
	kill(e, SIGKILL);
	it_wait(e);
	dvk_unbind(h);
	return 0;
}

static pid_t
dvkd_pid(void)
{
	const char *bin = getenv("DVS_BIN");
	char cmd[PATH_MAX + 64], line[4096], *p;
	FILE *f;
	long pid = 0;

	snprintf(cmd, sizeof(cmd), "%s/dvsctl --json status", bin ? bin : ".");
	f = popen(cmd, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, "\"pid\"")) != NULL)
			pid = strtol(p + 6, NULL, 10);
	pclose(f);
	CHECK(pid > 0);
	return (pid_t)pid;
}

/* A control call that timed out (dvkd stopped for a while) leaves the
 * binding usable: once dvkd answers again, so does the library. */
int
t_ctl_recover(void)
{
	struct dvk *h;
	pid_t d = dvkd_pid();
	int rc;

	h = it_bind(1);
	CHECK_RC(dvk_set_opt(h, DVK_OPT_CTL_TIMEOUT_MS, 300), 0);
	CHECK(kill(d, SIGSTOP) == 0);
	rc = dvk_wait_bound(h, 1, 0);
	CHECK(kill(d, SIGCONT) == 0);
	fprintf(stderr, "control call while dvkd was stopped: %s\n", dvk_strerror(rc));
	CHECK_RC(rc, -ETIMEDOUT);
	CHECK_RC(dvk_wait_bound(h, 1, 0), 0);
	CHECK_RC(dvk_wait_unbound(h, 2, 0), 0);
	dvk_unbind(h);
	return 0;
}

#define HOG_DC 3
#define HOG_BIND 200
#define HOG_RINGS 300

/* In DC HOG_DC: binds and opens rings until its quotas stop it, writes
 * what it got to $DVK_HOG_FILE, then holds them until killed. */
int
t_quota_hog(void)
{
	static struct dvk *h[HOG_BIND + 8];
	const char *out = getenv("DVK_HOG_FILE");
	int nb = 0, nr = 0, rc = 0, i;
	dvk_msg_t m;
	FILE *f;

	CHECK(out != NULL);
	while (nb < HOG_BIND + 8 && (rc = dvk_bind(DVK_ANY, 0, &h[nb])) == 0)
		nb++;
	CHECK_RC(rc, -EDVS_LIMIT);
	it_msg(&m, 1, 0);
	/* every binding sends to every other until the ring quota says no */
	for (i = 0, rc = 0; rc == 0 && i < nb * nb; i++) {
		int s = i / nb, d = i % nb;

		if (s == d)
			continue;
		rc = dvk_send_t(h[s], dvk_self(h[d]), &m, 0);
		if (rc == 0)
			nr++;
	}
	CHECK_RC(rc, -EDVS_LIMIT);
	f = fopen(out, "w");
	CHECK(f != NULL);
	fprintf(f, "%d %d %d\n", (int)getpid(), nb, nr);
	fclose(f);
	for (;;)
		pause();
	return 0;
}

/* One DC that uses up its quotas of bindings and rings does not make
 * another DC's binds and sends fail. */
int
t_quota(void)
{
	char file[] = "/tmp/dvk-hog.XXXXXX";
	struct dvk *h[8];
	int fd, pid = 0, nb = 0, nr = 0, i;
	int64_t t0;
	pid_t e;
	dvk_msg_t m;
	FILE *f;

	fd = mkstemp(file);
	CHECK(fd >= 0);
	close(fd);
	unlink(file);
	CHECK(readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) > 0);
	CHECK(it_dvsctl("dc create %d --endpoints 4096 --max-bindings %d --max-rings %d "
			">/dev/null", HOG_DC, HOG_BIND, HOG_RINGS) == 0);
	CHECK(it_dvsctl("run --dc %d --ep any -- env DVK_HOG_FILE=%s %s --in quota-hog &",
			HOG_DC, file, self_exe) == 0);
	t0 = it_now_ms();
	while ((f = fopen(file, "r")) == NULL) {
		CHECK(it_now_ms() - t0 < 30000);
		usleep(10000);
	}
	usleep(10000); /* written in one go, but let it finish */
	CHECK(fscanf(f, "%d %d %d", &pid, &nb, &nr) == 3);
	fclose(f);
	unlink(file);
	fprintf(stderr, "DC %d got %d bindings and %d rings\n", HOG_DC, nb, nr);
	CHECK(nb == HOG_BIND && nr == HOG_RINGS);
	/* Meanwhile this DC binds and sends as usual. */
	e = it_spawn(it_echo7, NULL);
	for (i = 0; i < 8; i++)
		h[i] = it_bind(20 + i);
	CHECK_RC(dvk_wait_bound(h[0], 7, 5000), 0);
	for (i = 0; i < 8; i++) {
		it_msg(&m, 1, i);
		CHECK_RC(dvk_sendrec_t(h[i], 7, &m, 5000), 0);
		CHECK(m.m_u.i32[0] == i);
	}
	for (i = 0; i < 8; i++)
		dvk_unbind(h[i]);
	kill(e, SIGKILL);
	it_wait(e);
	kill(pid, SIGKILL);
	return 0;
}

/* Runs without an admission (beside dvkd): takes the admission of a
 * program started by `dvsctl run` that has not bound (a sleep) with
 * pidfd_getfd, as a process of the same uid may, and tries to bind with
 * it.  dvkd refuses: the admission is for that program's process tree. */
int
t_admit_steal(void)
{
	char path[64], env[4096], num[16];
	struct dvk *h;
	pid_t w;
	int pfd, fd, afd = -1, rc, n, i;
	int64_t t0;

	w = fork();
	CHECK(w >= 0);
	if (w == 0) {
		const char *bin = getenv("DVS_BIN");
		char ctl[PATH_MAX];

		snprintf(ctl, sizeof(ctl), "%s/dvsctl", bin ? bin : ".");
		execl(ctl, "dvsctl", "run", "--dc", "1", "--ep", "0-63", "--", "sleep",
		      "30", (char *)NULL);
		_exit(127);
	}
	/* Wait for the exec of sleep, which carries DVK_ADMIT_FD. */
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)w);
	t0 = it_now_ms();
	for (;;) {
		CHECK(it_now_ms() - t0 < 10000);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : (int)read(fd, env, sizeof(env) - 1);
		if (fd >= 0)
			close(fd);
		for (i = 0; n > 0 && i < n; i += (int)strlen(env + i) + 1) {
			env[n] = '\0';
			if (strncmp(env + i, "DVK_ADMIT_FD=", 13) == 0)
				afd = atoi(env + i + 13);
		}
		if (afd >= 0)
			break;
		usleep(2000);
	}
	pfd = (int)syscall(SYS_pidfd_open, w, 0);
	CHECK(pfd >= 0);
	fd = (int)syscall(SYS_pidfd_getfd, pfd, afd, 0);
	CHECK(fd >= 0);
	snprintf(num, sizeof(num), "%d", fd);
	setenv("DVK_ADMIT_FD", num, 1);
	rc = dvk_bind(10, 0, &h);
	fprintf(stderr, "bind with an admission taken from pid %d: %s\n", (int)w,
		dvk_strerror(rc));
	if (rc == 0)
		dvk_unbind(h);
	kill(w, SIGKILL);
	it_wait(w);
	CHECK_RC(rc, -EPERM);
	return 0;
}

/* In DC 4 (--call-timeout 300): ep 2 calls the echo server on 7 with a
 * long explicit timeout. */
static int
slow_caller(void *arg)
{
	struct dvk *h = it_bind(2);
	dvk_msg_t m;
	int rc;

	(void)arg;
	it_msg(&m, 1, 5);
	rc = dvk_sendrec_t(h, 7, &m, 3000);
	return rc == -ETIMEDOUT ? 0 : 1;
}

int
t_stopped_dc(void)
{
	struct dvk *h = it_bind(1);
	dvk_msg_t m;
	int64_t t0, dt;
	pid_t e, c;
	int i, rc;

	e = it_spawn(it_echo7, NULL);
	CHECK_RC(dvk_wait_bound(h, 7, 5000), 0);
	for (i = 0; i < 5; i++) {
		it_msg(&m, 1, i);
		CHECK_RC(dvk_sendrec(h, 7, &m), 0);
	}
	/* Replies count as messages the server sent. */
	CHECK(it_dvsctl("--json ep list --dc 4 | python3 -c 'import json,sys; "
			"d={x[\"ep\"]: x for x in json.load(sys.stdin)}; "
			"assert d[7][\"sent_msgs\"] >= 5 and d[1][\"recv_msgs\"] >= 5, d'") == 0);
	/* A stopped server: ep list names it, a plain sendrec gives up. */
	kill(e, SIGSTOP);
	c = it_spawn(slow_caller, NULL);
	usleep(500 * 1000);
	CHECK(it_dvsctl("--json ep list --dc 4 --waiting-ms 200 | python3 -c 'import json,sys; "
			"d={x[\"ep\"]: x for x in json.load(sys.stdin)}; "
			"assert d[7][\"waiting\"] >= 1 and d[7][\"oldest_wait_ms\"] >= 200, d; "
			"assert d[1][\"waiting\"] == 0, d'") == 0);
	CHECK(it_dvsctl("ep list --dc 4 --waiting-ms 200 >&2") == 0);
	t0 = it_now_ms();
	it_msg(&m, 1, 9);
	rc = dvk_sendrec(h, 7, &m);
	dt = it_now_ms() - t0;
	fprintf(stderr, "plain sendrec to a stopped server: %s after %lld ms\n",
		dvk_strerror(rc), (long long)dt);
	CHECK_RC(rc, -ETIMEDOUT);
	CHECK(dt >= 250);
	CHECK(it_wait(c) == 0);
	kill(e, SIGCONT);
	kill(e, SIGKILL);
	it_wait(e);
	dvk_unbind(h);
	return 0;
}

/* A DC made with --call-timeout: what a caller of a stopped peer sees. */
int
t_stopped(void)
{
	CHECK(it_dvsctl("dc create 4 --endpoints 16 --call-timeout 300 >/dev/null") == 0);
	CHECK(it_dvsctl("--json dc list | python3 -c 'import json,sys; "
			"d={x[\"dc\"]: x for x in json.load(sys.stdin)}; "
			"assert d[4][\"call_timeout_ms\"] == 300, d'") == 0);
	CHECK(readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) > 0);
	CHECK(it_dvsctl("run --dc 4 --ep 0-15 -- %s --in stopped-dc", self_exe) == 0);
	return 0;
}
