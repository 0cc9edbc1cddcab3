/*
 * dvkd - the DVK node daemon: DCs, endpoint tables, admission, the set-up
 * of the per-pair shared-memory rings, grant-checked copies, statistics.
 * See docs/DVK.md.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "spin.h"
#include "dvs/log.h"
#include "dvs/parse.h"
#include "dvs/version.h"


static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvkd [-v|-q] [--socket PATH] [--ready-fd N] [--cluster FILE --node ID]\n"
		"\n"
		"The DVK node daemon.  Normally started by `dvsctl start`.\n"
		"\n"
		"  --socket PATH   management socket (default $DVS_SOCKET or %s)\n"
		"  --ready-fd N    write one byte to fd N once the socket listens\n"
		"  --cluster FILE  run as a node of the cluster FILE describes (needs\n"
		"                  Corosync on this node; see docs/CLUSTER.md)\n"
		"  --node ID       this node's id in that file\n"
		"  -v, --verbose   log more (again: debug)\n"
		"  -q, --quiet     log errors only\n"
		"  -h, --help      this text\n"
		"      --version   print the version\n"
		"\n"
		"Log level from DVS_LOG (error, warn, info, debug), then -v and -q.\n"
		"Exit status: 0 stopped cleanly, 1 could not start (e.g. already\n"
		"running), 2 bad usage.\n",
		DVKD_DEFAULT_SOCKET);
}

static int
mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		dvs_err("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	rc = mkdir_parent(path);
	if (rc < 0) {
		dvs_err("cannot create the directory of %s: %s", path, strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket file with nobody listening is a leftover of a crash. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		dvs_err("dvkd is already running on %s", path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		dvs_err("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

/* CAP_SYS_PTRACE lets us copy from processes that made themselves
 * non-dumpable; without it libdvk must leave them dumpable. */
static int
have_ptrace_cap(void)
{
	char line[256];
	int have = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "CapEff:", 7) == 0) {
			unsigned long long caps = strtoull(line + 7, NULL, 16);

			have = (caps >> 19) & 1; /* CAP_SYS_PTRACE */
			break;
		}
	}
	fclose(f);
	return have;
}


static int loop_sigfd = -1;
static int sock_activated; /* the socket came from systemd */
static void *loop_main(void *arg);

static void
shutdown_all(void)
{
	struct binding *b;

	dvkd.stopping = 1;
	/* Every waiter learns at once that the DVK is gone. */
	while ((b = dvkd.bindings) != NULL)
		dvkd_bind_gone(b);
	while (dvkd.admits != NULL)
		dvkd_admit_close(dvkd.admits);
	dvkd_copy_stop();
	dvkd_run_deferred();
	dvkd_dc_free_all();
}

static void
loop(int sigfd)
{
	static struct ev sig_ev = { EV_SIGNAL, NULL };
	static struct ev listen_ev = { EV_LISTEN, NULL };
	struct epoll_event evs[64];
	int n, i;

	dvkd_ep_add(sigfd, &sig_ev);
	dvkd_ep_add(dvkd.listen_fd, &listen_ev);
	uint64_t busy_until = 0;
	struct dvs_backoff spin = { 0, 0 };
	int spinning = 0;

	while (!dvkd.stopping) {
		/* Polls while spinning (spin.h), else sleeps: no poll of its
		 * own before a sleep, a system call that costs on a VM. */
		n = epoll_wait(dvkd.epfd, evs, 64, spinning ? 0 : -1);
		if (n == 0 && spinning) {
			if (dvs_now_ns() >= busy_until) {
				spinning = 0;
				dvkd_spin_result(&spin, 0);
			}
			continue;
		}
		if (n > 0) {
			if (spinning)
				dvkd_spin_result(&spin, 1);
			spinning = dvkd_spin_ok(&spin);
			busy_until = dvs_now_ns() + DVKD_SPIN_NS;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			dvs_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && !dvkd.stopping; i++) {
			struct ev *ev = evs[i].data.ptr;

			switch (ev->kind) {
			case EV_SIGNAL:
				dvs_info("signal: stopping");
				dvkd.stopping = 1;
				break;
			case EV_LISTEN:
				dvkd_mgmt_accept();
				break;
			case EV_MGMT:
				dvkd_mgmt_input(ev->obj);
				break;
			case EV_ADMIT:
				dvkd_admit_input(ev->obj);
				break;
			case EV_BIND:
				if (evs[i].events & EPOLLOUT)
					dvkd_bind_flush(ev->obj);
				dvkd_bind_input(ev->obj);
				break;
			case EV_PIDFD:
				dvkd_bind_gone(ev->obj);
				break;
			case EV_CLUSTER:
				dvkd_cluster_event(ev->obj, evs[i].events);
				break;
			}
		}
		/* An object closed above may still appear later in evs, so
		 * handlers defer frees to the end of the batch. */
		dvkd_run_deferred();
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *cluster_file = NULL;
	int ready_fd = -1, node = -1, c, sigfd;
	long lv;
	sigset_t set;

	dvs_log_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hvq", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'r':
			if (dvs_parse_long(optarg, 0, INT_MAX, &lv) != 0) {
				fprintf(stderr, "dvkd: --ready-fd: a file descriptor, not '%s'\n",
					optarg);
				return 2;
			}
			ready_fd = (int)lv;
			break;
		case 'c':
			cluster_file = optarg;
			break;
		case 'n':
			if (dvs_parse_long(optarg, 0, CL_MAX_NODES - 1, &lv) != 0) {
				fprintf(stderr, "dvkd: --node: 0 to %d\n", CL_MAX_NODES - 1);
				return 2;
			}
			node = (int)lv;
			break;
		case 'v':
			dvs_log_more();
			break;
		case 'q':
			dvs_log_quiet();
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return dvs_print_version("dvkd");
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (cluster_file == NULL) != (node < 0)) {
		if (optind == argc)
			fprintf(stderr, "dvkd: --cluster and --node go together\n");
		usage(stderr);
		return 2;
	}
	if (path == NULL)
		path = dvkd_socket_path();
	{
		/* Every ring and binding keeps descriptors: use what we may. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	dvkd.start_ns = dvs_now_ns();
	dvkd.priv = have_ptrace_cap();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	dvkd.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sigfd < 0 || dvkd.epfd < 0) {
		dvs_err("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	dvkd.listen_fd = dvkd_sd_listen_fd(&path);
	sock_activated = dvkd.listen_fd >= 0;
	if (dvkd.listen_fd == -1)
		dvkd.listen_fd = listen_on(path);
	if (dvkd.listen_fd < 0)
		return 1;
	dvkd.sock_path = path;
	if (dvkd_copy_start() < 0) {
		dvs_err("cannot start the copy threads");
		if (!sock_activated)
			unlink(path);
		return 1;
	}
	if (cluster_file != NULL && dvkd_cluster_start(cluster_file, node) < 0) {
		dvkd_copy_stop();
		if (!sock_activated)
			unlink(path);
		return 1;
	}
	dvs_info("listening on %s (pid %d%s)", path, (int)getpid(),
		 sock_activated ? ", socket from systemd" : "");
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) < 0)
			dvs_warn("ready fd: %s", strerror(errno));
		close(ready_fd);
	}
	dvkd_sd_notify("READY=1");
	loop_sigfd = sigfd;
	dvkd_set_loop(loop_main);
	loop_main(NULL);
	return 0;
}

/* The event loop and, when it ends, the clean stop.  Runs in the main
 * thread, or in a new one after a copy held the old one too long
 * (dvkd_loop_handover). */
static void *
loop_main(void *arg)
{
	(void)arg;
	loop(loop_sigfd);
	dvkd_sd_notify("STOPPING=1");
	dvkd_cluster_stop();
	/* A socket systemd made is systemd's to remove. */
	if (!sock_activated)
		unlink(dvkd.sock_path);
	close(dvkd.listen_fd);
	shutdown_all();
	dvkd_mgmt_close_all();
	dvkd_run_deferred();
	dvkd_deferred_release();
	dvs_info("stopped");
	exit(0);
	return 0;
}
