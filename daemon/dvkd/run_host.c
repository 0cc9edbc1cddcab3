/*
 * run_host.c - the node that runs a program for `dvs ctl run --node`
 * typed on another node (run_remote.c is the other end).
 *
 * A RUN frame names a DC, an endpoint range, a working directory and the
 * arguments.  The DC must exist here and span both nodes; then dvkd
 * starts `dvsctl run --dc D --ep LO-HI -- ARGS` (so the program is
 * admitted exactly as a local `dvs ctl run` would admit it), in its own
 * session, with stdin on /dev/null and stdout and stderr on pipes that
 * the event loop reads and sends back as RUN_OUT frames, and a pidfd that
 * says when it ends (RUN_EXIT).  The program runs as dvkd's user: every
 * node that holds the cluster key may start programs on the nodes of the
 * DCs it shares with them (docs/CLUSTER.md, "Trust across nodes").
 *
 * A pipe is read only while the link's queue is under HR_QUEUE_MAX and
 * less than HR_WINDOW bytes of output are not yet acknowledged (RUN_ACK)
 * as written to the client, so a program that writes faster than the
 * link or the client takes is slowed down by its pipe: nothing is dropped
 * and the link is never flooded.  The requester's link gone: its programs
 * get SIGTERM.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"
#include "proxy_wire.h"

extern char **environ;

#define HR_QUEUE_MAX (1u << 20)
#define HR_WINDOW (1u << 20)
#define HR_MAX 64 /* programs running here for other nodes */

struct hr_in {
	struct cl_ev ev;
	int fd;
	int paused;
	struct hrun *h;
};

struct hrun {
	int node;
	uint64_t id;
	pid_t pid;
	int pidfd;
	struct cl_ev pev;
	struct hr_in in[2];
	uint64_t sent, acked; /* output bytes */
	struct hrun *next;
};

static struct hrun *hruns;
static int nhruns;

static void
send_exit(int node, uint64_t id, int code, int sig, int error)
{
	struct px_run_exit f = {
		.id = htole64(id),
		.code = (int32_t)htole32((uint32_t)code),
		.sig = (int32_t)htole32((uint32_t)sig),
		.error = (int32_t)htole32((uint32_t)error),
	};

	cl_px_queue(node, PX_RUN_EXIT, &f, sizeof(f));
	cl_px_flush_all();
}

static void
in_close(struct hr_in *in)
{
	if (in->fd < 0)
		return;
	epoll_ctl(dvkd.epfd, EPOLL_CTL_DEL, in->fd, NULL);
	close(in->fd);
	in->fd = -1;
}

static void
in_want(struct hr_in *in, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = &in->ev.ev };

	if (in->fd >= 0)
		epoll_ctl(dvkd.epfd, EPOLL_CTL_MOD, in->fd, &ee);
	in->paused = events == 0;
}

/* Reads what the pipe has (all of it when draining, else while the link's
 * queue is short) and sends it. */
static void
in_read(struct hr_in *in, int drain)
{
	uint8_t b[sizeof(struct px_run_out) + PX_VC_CHUNK];
	struct px_run_out f;
	struct hrun *h = in->h;

	while (in->fd >= 0) {
		ssize_t n;

		if (!drain && (cl_px_queued(h->node) >= HR_QUEUE_MAX ||
			       h->sent - h->acked >= HR_WINDOW)) {
			in_want(in, 0); /* the tick looks again */
			return;
		}
		n = read(in->fd, b + sizeof(f), PX_VC_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			in_close(in);
			return;
		}
		f.id = htole64(h->id);
		f.stream = htole32((uint32_t)(in - h->in + 1));
		f.n = htole32((uint32_t)n);
		memcpy(b, &f, sizeof(f));
		h->sent += (uint64_t)n;
		if (cl_px_queue(h->node, PX_RUN_OUT, b, sizeof(f) + (size_t)n) < 0)
			continue; /* no link: the output goes nowhere */
	}
}

static void
in_event(void *self, uint32_t events)
{
	(void)events;
	in_read(self, 0);
	cl_px_flush_all();
}

static void
hrun_free(struct hrun *h)
{
	struct hrun **pp;

	for (pp = &hruns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	nhruns--;
	in_close(&h->in[0]);
	in_close(&h->in[1]);
	if (h->pidfd >= 0) {
		epoll_ctl(dvkd.epfd, EPOLL_CTL_DEL, h->pidfd, NULL);
		close(h->pidfd);
	}
	dvkd_defer(free, h);
}

/* The program ended: the rest of its output, then how it ended. */
static void
exit_event(void *self, uint32_t events)
{
	struct hrun *h = self;
	int st, code = -1, sig = 0;

	(void)events;
	if (waitpid(h->pid, &st, WNOHANG) <= 0)
		return;
	if (WIFEXITED(st))
		code = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		sig = WTERMSIG(st);
	in_read(&h->in[0], 1);
	in_read(&h->in[1], 1);
	send_exit(h->node, h->id, code, sig, 0);
	dvs_info("run for node %d: pid %d ended (%s %d)", h->node, (int)h->pid,
		 sig ? "signal" : "status", sig ? sig : code);
	hrun_free(h);
}

/* The dvsctl next to this dvkd, else the one on PATH. */
static void
dvsctl_path(char *buf, size_t len)
{
	char exe[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(buf, len, "%s/dvsctl", exe) >= len)
				buf[0] = '\0';
			if (buf[0] != '\0' && access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "dvsctl");
}

/* Splits the blob (cwd\0arg0\0...) into argv after `dvsctl run ... --`.
 * Returns the number of arguments of the program, or < 0. */
static int
blob_args(const uint8_t *blob, uint32_t n, const char **cwd, const char **argv, int max)
{
	uint32_t i, start = 0;
	int k = -1;

	if (n < 4 || blob[n - 1] != '\0')
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (blob[i] != '\0')
			continue;
		if (i == start)
			return -EINVAL; /* an empty cwd or program name */
		if (k < 0)
			*cwd = (const char *)blob + start;
		else if (k < max)
			argv[k] = (const char *)blob + start;
		else
			return -E2BIG;
		k++;
		start = i + 1;
	}
	return k >= 1 ? k : -EINVAL;
}

static int
spawn(struct hrun *h, const struct px_run *f, uint32_t n)
{
	const char *args[PX_RUN_ARGS + 8], *cwd = NULL;
	char prog[PATH_MAX], dc[16], eps[32], sock[PATH_MAX + 16];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int p[2][2] = { { -1, -1 }, { -1, -1 } }, nargs, rc, i;
	char *env[512];
	size_t ne = 0;

	nargs = blob_args(f->blob, n, &cwd, args + 6, PX_RUN_ARGS);
	if (nargs < 0)
		return nargs;
	dvsctl_path(prog, sizeof(prog));
	snprintf(dc, sizeof(dc), "%d", (int32_t)le32toh((uint32_t)f->dc));
	snprintf(eps, sizeof(eps), "%d-%d", (int32_t)le32toh((uint32_t)f->lo),
		 (int32_t)le32toh((uint32_t)f->hi));
	args[0] = prog;
	args[1] = "run";
	args[2] = "--dc";
	args[3] = dc;
	args[4] = "--ep";
	args[5] = eps;
	memmove(args + 7, args + 6, (size_t)nargs * sizeof(args[0]));
	args[6] = "--";
	args[7 + nargs] = NULL;
	/* dvkd's environment, with DVS_SOCKET naming this dvkd. */
	snprintf(sock, sizeof(sock), "%s=%s", DVKD_SOCKET_ENV, dvkd.sock_path);
	env[ne++] = sock;
	for (i = 0; environ[i] != NULL && ne < 511; i++)
		if (strncmp(environ[i], DVKD_SOCKET_ENV "=", strlen(DVKD_SOCKET_ENV) + 1) != 0)
			env[ne++] = environ[i];
	env[ne] = NULL;

	if (pipe2(p[0], O_CLOEXEC) < 0 || pipe2(p[1], O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[0][1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1][1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSID);
	rc = -posix_spawnp(&h->pid, prog, &fa, &at, (char *const *)args, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc < 0)
		goto out;
	h->pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
	if (h->pidfd < 0 || cl_ev_add(h->pidfd, &h->pev, EPOLLIN, exit_event, h) < 0) {
		rc = -errno;
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		goto out;
	}
	for (i = 0; i < 2; i++) {
		struct hr_in *in = &h->in[i];

		in->fd = p[i][0];
		p[i][0] = -1;
		in->h = h;
		fcntl(in->fd, F_SETFL, O_NONBLOCK);
		if (cl_ev_add(in->fd, &in->ev, EPOLLIN, in_event, in) < 0)
			in_close(in);
	}
	rc = 0;
out:
	for (i = 0; i < 2; i++) {
		if (p[i][0] >= 0)
			close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
	return rc;
}

static void
on_run(int from, const struct px_run *f, size_t len)
{
	uint64_t id = le64toh(f->id);
	uint32_t n = le32toh(f->n);
	int dcid = (int32_t)le32toh((uint32_t)f->dc);
	int lo = (int32_t)le32toh((uint32_t)f->lo), hi = (int32_t)le32toh((uint32_t)f->hi);
	struct dc *dc = dvkd_dc_find(dcid);
	struct hrun *h;
	int rc;

	if (n != len - sizeof(*f)) {
		send_exit(from, id, -1, 0, -EDVS_PROTO);
		return;
	}
	/* Only for a DC both nodes are in, inside it. */
	if (dc == NULL || !(dc->nodes >> from & 1) || !(dc->nodes >> cl.self & 1)) {
		send_exit(from, id, -1, 0, -EDVS_NODC);
		return;
	}
	if (lo < 0 || hi < lo || hi >= dc->nep) {
		send_exit(from, id, -1, 0, -EDVS_BADEP);
		return;
	}
	if (nhruns >= HR_MAX || (h = calloc(1, sizeof(*h))) == NULL) {
		send_exit(from, id, -1, 0, -EDVS_LIMIT);
		return;
	}
	h->node = from;
	h->id = id;
	h->pidfd = -1;
	h->in[0].fd = h->in[1].fd = -1;
	rc = spawn(h, f, n);
	if (rc < 0) {
		free(h);
		dvs_warn("run for node %d: cannot start it: %s", from, strerror(-rc));
		send_exit(from, id, -1, 0, rc);
		return;
	}
	h->next = hruns;
	hruns = h;
	nhruns++;
	dvs_info("run for node %d: pid %d in dc %d, ep %d-%d", from, (int)h->pid, dcid, lo, hi);
}

void
dvkd_run_host_frame(int node, unsigned type, const void *body, size_t len)
{
	if (type == PX_RUN) {
		on_run(node, body, len);
	} else if (type == PX_RUN_ACK) {
		const struct px_run_ack *a = body;
		uint64_t bytes = le64toh(a->bytes);
		struct hrun *h;
		int i;

		for (h = hruns; h != NULL; h = h->next) {
			if (h->node != node || h->id != le64toh(a->id))
				continue;
			if (bytes > h->acked && bytes <= h->sent)
				h->acked = bytes;
			for (i = 0; i < 2; i++)
				if (h->in[i].paused && cl_px_queued(node) < HR_QUEUE_MAX)
					in_want(&h->in[i], EPOLLIN);
		}
	} else {
		const struct px_run_kill *k = body;
		int sig = (int32_t)le32toh((uint32_t)k->sig);
		struct hrun *h;

		if (sig != SIGTERM && sig != SIGINT && sig != SIGKILL && sig != SIGHUP)
			return;
		for (h = hruns; h != NULL; h = h->next)
			if (h->node == node && h->id == le64toh(k->id))
				syscall(SYS_pidfd_send_signal, h->pidfd, sig, NULL, 0);
	}
}

void
dvkd_run_host_link_down(int node)
{
	struct hrun *h;

	for (h = hruns; h != NULL; h = h->next) {
		if (h->node == node) {
			dvs_info("run for node %d: its link is down; SIGTERM to pid %d", node,
				 (int)h->pid);
			syscall(SYS_pidfd_send_signal, h->pidfd, SIGTERM, NULL, 0);
		}
	}
}

void
dvkd_run_host_tick(void)
{
	struct hrun *h;
	int i;

	for (h = hruns; h != NULL; h = h->next)
		for (i = 0; i < 2; i++)
			if (h->in[i].paused && cl_px_queued(h->node) < HR_QUEUE_MAX &&
			    h->sent - h->acked < HR_WINDOW)
				in_want(&h->in[i], EPOLLIN);
}
