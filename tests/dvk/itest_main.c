/*
 * itest_main.c - runs one DVK integration test against a private dvkd.
 *
 *   dvk_itest NAME        start dvkd on a temp socket, create DC 1 (64
 *                         endpoints) and DC 2 (16), run the test admitted to
 *                         DC 1 (endpoints 0-63) through `dvsctl run`, stop.
 *   dvk_itest --in NAME   (what dvsctl run execs) the test itself.
 *
 * Tests with "host" in their table entry run without an admission.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dvs/clock.h"
#include "itest.h"
#include "itests.h"

static const struct {
	const char *name;
	int (*fn)(void);
	int host; /* runs without admission, beside dvkd */
} tests[] = {
	{ "calls", t_calls, 0 },
	{ "timeouts", t_timeouts, 0 },
	{ "notify", t_notify, 0 },
	{ "threads", t_threads, 0 },
	{ "deadpeer", t_deadpeer, 0 },
	{ "grants", t_grants, 0 },
	{ "vcopy-kill", t_vcopy_kill, 0 },
	{ "vcopy-shared", t_vcopy_shared, 0 },
	{ "backup", t_backup, 0 },
	{ "rogue", t_rogue, 0 },
	{ "rogue-ring", t_rogue_ring, 0 },
	{ "garbage", t_garbage, 0 },
	{ "dvkd-stop", t_dvkd_stop, 0 },
	{ "dvkd-kill", t_dvkd_kill, 0 },
	{ "noadmit", t_noadmit, 1 },
	{ "limits", t_limits, 0 },
	{ "gen-grant", t_gen_grant, 0 },
	{ "peer-gone", t_peer_gone, 0 },
	{ "stuck", t_stuck, 0 },
	{ "ctl-recover", t_ctl_recover, 0 },
	{ "quota", t_quota, 0 },
	{ "admit-steal", t_admit_steal, 1 },
	{ "stopped", t_stopped, 0 },
	/* parts of other tests, started by them with their own admission */
	{ "rogue-range", t_rogue_range, 0 },
	{ "rogue-dc2", t_rogue_dc2, 0 },
	{ "garbage-admit", t_garbage_admit, 0 },
	{ "hold17", t_hold17, 0 },
	{ "stuck-dc2", t_stuck_dc2, 0 },
	{ "quota-hog", t_quota_hog, 0 },
	{ "stopped-dc", t_stopped_dc, 0 },
};

pid_t
it_spawn(int (*fn)(void *), void *arg)
{
	pid_t ppid = getpid(), pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* Never outlive a failed test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(99);
		_exit(fn(arg));
	}
	return pid;
}

int
it_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int64_t
it_now_ms(void)
{
	return (int64_t)(dvs_now_ns() / 1000000u);
}

double
it_now_us(void)
{
	return (double)dvs_now_ns() / 1e3;
}

int
it_dvsctl(const char *fmt, ...)
{
	const char *bin = getenv("DVS_BIN");
	char args[512], cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s/dvsctl %s", bin ? bin : ".", args);
	fflush(NULL);
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

struct dvk *
it_bind(dvk_ep_t ep)
{
	struct dvk *h = NULL;
	int rc = dvk_bind(ep, 0, &h);

	if (rc != 0) {
		fprintf(stderr, "pid %d: bind %d: %s\n", (int)getpid(), ep, dvk_strerror(rc));
		exit(1);
	}
	return h;
}

int
it_echo7(void *arg)
{
	struct dvk *h = it_bind(7);
	dvk_msg_t m;

	(void)arg;
	for (;;) {
		if (dvk_receive(h, DVK_ANY, &m) != 0)
			return 1;
		CHECK_RC(dvk_reply(h, m.m_source, &m), 0);
	}
}

void
it_msg(dvk_msg_t *m, int32_t type, int32_t v)
{
	memset(m, 0, sizeof(*m));
	m->m_type = type;
	m->m_u.i32[0] = v;
}

static int
run_host(const char *name)
{
	char tmpl[] = "/tmp/dvk-itest.XXXXXX", sock[PATH_MAX], self[PATH_MAX];
	ssize_t n;
	size_t i;
	int rc = 1, host = 0, (*fn)(void) = NULL;
	pid_t pid;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (strcmp(tests[i].name, name) == 0) {
			fn = tests[i].fn;
			host = tests[i].host;
		}
	if (fn == NULL) {
		fprintf(stderr, "dvk_itest: no test %s\n", name);
		return 2;
	}
	if (getenv("DVS_BIN") == NULL) {
		fprintf(stderr, "dvk_itest: DVS_BIN is not set (run through meson test)\n");
		return 2;
	}
	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(sock, sizeof(sock), "%s/dvkd.sock", tmpl);
	setenv("DVS_SOCKET", sock, 1);
	unsetenv("DVK_ADMIT_FD");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	if (it_dvsctl("start >/dev/null") != 0 ||
	    it_dvsctl("dc create 1 --endpoints 64 >/dev/null") != 0 ||
	    it_dvsctl("dc create 2 --endpoints 16 >/dev/null") != 0) {
		fprintf(stderr, "dvk_itest: cannot set up dvkd\n");
		goto out;
	}
	if (host) {
		rc = fn();
	} else {
		char *bin = getenv("DVS_BIN"), ctl[PATH_MAX];

		snprintf(ctl, sizeof(ctl), "%s/dvsctl", bin);
		fflush(NULL);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			execl(ctl, "dvsctl", "run", "--dc", "1", "--ep", "0-63", "--",
			      self, "--in", name, (char *)NULL);
			_exit(127);
		}
		rc = it_wait(pid);
	}
out:
	it_dvsctl("stop >/dev/null 2>&1");
	{
		char cmd[PATH_MAX + 64];

		/* dvkd's own errors (sanitizer reports too) fail the test */
		snprintf(cmd, sizeof(cmd),
			 "grep -E 'Sanitizer|runtime error|Segmentation' %s.log >&2", sock);
		fflush(NULL);
		if (system(cmd) == 0) {
			fprintf(stderr, "dvk_itest: dvkd reported the errors above\n");
			rc = 1;
		}
		if (rc != 0) {
			snprintf(cmd, sizeof(cmd), "cat %s.log >&2", sock);
			fflush(NULL);
			if (system(cmd) < 0)
				perror("system");
		}
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
		if (system(cmd) < 0)
			perror("system");
	}
	fprintf(stderr, "dvk_itest %s: %s\n", name, rc == 0 ? "ok" : "FAILED");
	return rc;
}

int
main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "--in") == 0) {
		for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
			if (strcmp(tests[i].name, argv[2]) == 0)
				return tests[i].fn();
		return 2;
	}
	if (argc == 2)
		return run_host(argv[1]);
	fprintf(stderr, "usage: dvk_itest NAME | dvk_itest --in NAME\n");
	return 2;
}
