/*
 * dvsctl - manage the DVS on this node: start/stop dvkd, DCs, endpoint and
 * process listings with statistics, and `run` a program admitted to a DC.
 * See docs/DVK.md ("dvsctl") for the commands and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dvs/clock.h"
#include "dvs/dvkd_proto.h"
#include "dvs/json_out.h"
#include "dvs/parse.h"
#include "dvs/ipc.h"
#include "dvs/version.h"
#include "node_list.h"
#include "run_node.h"

#define EX_OK 0
#define EX_REFUSED 1  /* dvkd refused the request */
#define EX_USAGE 2    /* bad command line */
#define EX_NODAEMON 3 /* dvkd not running / not reachable */
#define EX_TIMEOUT 7  /* dvkd did not start or stop in time */

static const char *sock_path;
static int json;
static const char *argv0;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvsctl [--socket PATH] [--json] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  start [--log FILE]            start dvkd in the background; returns when ready\n"
		"  stop                          stop dvkd (every binding gets an error at once)\n"
		"  status                        is dvkd running; counts of DCs, bindings, rings\n"
		"  dc create DC [--endpoints N] [--max-bindings B] [--max-rings R]\n"
		"               [--call-timeout MS] [--nodes LIST]\n"
		"                                create DC number DC with N endpoints (default\n"
		"                                256) and its quotas: at most B bindings (default\n"
		"                                N) and R rings (default 4N, at most 4096); the\n"
		"                                quotas of all DCs fit the node's 4096 bindings\n"
		"                                and 16384 rings, so no DC takes another's;\n"
		"                                MS: its programs' send and sendrec without a\n"
		"                                timeout give up after MS (-ETIMEDOUT);\n"
		"                                LIST (e.g. 0,1,2): a DC over these nodes of the\n"
		"                                cluster, its endpoints unique across them\n"
		"  dc destroy DC                 destroy a DC; its processes lose their bindings\n"
		"  dc list                       DCs: endpoints, bound endpoints, admissions,\n"
		"                                bindings and rings in use / quota, nodes\n"
		"  ep list [--dc DC] [--waiting-ms MS]\n"
		"                                endpoints of the current bindings (a free\n"
		"                                endpoint shows its last binding's history):\n"
		"                                SENT/RECEIVED messages (a reply is a message\n"
		"                                sent by the server, received by the caller),\n"
		"                                SENT_B/RECV_B bytes (messages x 64 + vcopy\n"
		"                                bytes as copier), ERRORS (failed calls but\n"
		"                                timeouts, as the binding counts them), WAITING\n"
		"                                (callers in sendrec with it for more than MS,\n"
		"                                default 1000: a stopped or stuck server)\n"
		"  ep wait DC EP [--timeout S] [--unbound]\n"
		"                                wait until EP of DC is bound (or unbound);\n"
		"                                exit 7 after S seconds (default 10)\n"
		"  ps                            processes bound to endpoints\n"
		"  node list                     nodes of the cluster: state (member, down,\n"
		"                                unreachable), proxy link, quorum, frames and\n"
		"                                bytes over the link (empty when dvkd runs alone)\n"
		"  run [--node N] --dc DC --ep E -- PROG [ARGS]\n"
		"                                run PROG admitted to DC, allowed to bind E\n"
		"                                (a number, a range LO-HI, or `any`); with\n"
		"                                --node, on node N of the cluster (its dvkd\n"
		"                                starts it in this working directory, which\n"
		"                                must exist there; output comes here, stdin\n"
		"                                is /dev/null; Ctrl-C stops it)\n"
		"\n"
		"Options:\n"
		"  --socket PATH   dvkd's management socket (default $DVS_SOCKET or %s)\n"
		"  --json          machine-readable output\n"
		"  -h, --help      this text\n"
		"  --version       print the version\n"
		"\n"
		"Exit status: 0 ok, 1 dvkd refused the request, 2 usage error,\n"
		"3 dvkd not running or not reachable, 7 dvkd did not start/stop (or\n"
		"`ep wait` did not see the change) in time (docs/EXIT-CODES.md).\n"
		"`run` execs PROG, so its exit status is PROG's (127: PROG not found);\n"
		"`run --node` exits with PROG's status, 128+N if signal N ended it, 1 if\n"
		"refused, 255 if node N left while PROG ran.\n",
		DVKD_DEFAULT_SOCKET);
}

static int
die_usage(const char *msg)
{
	fprintf(stderr, "dvsctl: %s (see dvsctl --help)\n", msg);
	return EX_USAGE;
}

static int
connect_dvkd(int quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dvsctl: socket path too long: %s\n", sock_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (!quiet) {
			if (e == EACCES)
				fprintf(stderr, "dvsctl: permission denied on %s: run as root\n",
					sock_path);
			else
				fprintf(stderr,
					"dvsctl: dvkd is not running on %s (start it with `dvsctl start`)\n",
					sock_path);
		}
		close(fd);
		return -e;
	}
	return fd;
}

static int
refused(const char *what, int status)
{
	fprintf(stderr, "dvsctl: %s: %s\n", what, dvk_strerror(status));
	return EX_REFUSED;
}

/* A new connection, req sent on it, one reply read: 0 (descriptors that
 * came with the reply in fds), or <0 (connecting failed, said unless
 * quiet; or the exchange failed). */
static int
request(int quiet, struct dvkd_msg *req, struct dvkd_msg *rep, int fds[2], int *nfds)
{
	int fd = connect_dvkd(quiet), rc;

	*nfds = 0;
	if (fd < 0)
		return fd;
	rc = dvkd_send(fd, req, NULL, 0, 0);
	if (rc == 0)
		rc = dvkd_recv(fd, rep, fds, 2, nfds, 0);
	close(fd);
	return rc;
}

/* One request, one reply.  Returns an exit code. */
static int
call(struct dvkd_msg *req, struct dvkd_msg *rep, int *fd_out)
{
	int fds[2], nfds, rc = request(0, req, rep, fds, &nfds);

	if (rc < 0) {
		fprintf(stderr, "dvsctl: dvkd on %s: %s\n", sock_path, dvk_strerror(rc));
		return EX_NODAEMON;
	}
	if (fd_out != NULL)
		*fd_out = nfds > 0 ? fds[0] : -1;
	else
		while (nfds > 0)
			close(fds[--nfds]);
	return EX_OK;
}

/* A listing (DC_LIST, EP_LIST, PS): a connection with the request sent,
 * or <0 (said).  Records come from listing_next. */
static int list_wait_ms = 1000; /* ep list --waiting-ms */

static int
listing_open(unsigned type, int dc)
{
	struct dvkd_msg req;
	int fd = connect_dvkd(0), rc;

	if (fd < 0)
		return fd;
	dvkd_msg_init(&req, type, 1);
	req.u.dc.dc = dc;
	req.u.dc.wait_ms = list_wait_ms;
	rc = dvkd_send(fd, &req, NULL, 0, 0);
	if (rc < 0) {
		fprintf(stderr, "dvsctl: dvkd on %s: %s\n", sock_path, dvk_strerror(rc));
		close(fd);
		return rc;
	}
	return fd;
}

/* 1: a record in rep; 0: the end (its status in rep->h.status); <0: the
 * connection failed. */
static int
listing_next(int fd, struct dvkd_msg *rep)
{
	int fds[2], nfds, rc = dvkd_recv(fd, rep, fds, 2, &nfds, 0);

	while (rc == 0 && nfds > 0)
		close(fds[--nfds]);
	if (rc < 0)
		return rc;
	return rep->h.type != DVKD_END;
}

static int
parse_int(const char *s, long lo, long hi, long *out)
{
	return dvs_parse_long(s, lo, hi, out) == 0 ? 0 : -1;
}

static int
ping(struct dvkd_msg *rep, int quiet)
{
	struct dvkd_msg req;
	int fds[2], nfds, rc;

	dvkd_msg_init(&req, DVKD_PING, 1);
	rc = request(quiet, &req, rep, fds, &nfds);
	while (nfds > 0)
		close(fds[--nfds]);
	return rc < 0 ? rc : 0;
}

/* Where dvkd is: $DVKD, beside argv[0], beside our own binary, or PATH. */
static const char *
find_dvkd(char *buf, size_t n)
{
	const char *env = getenv("DVKD");
	char self[PATH_MAX];
	const char *slash;
	ssize_t len;

	if (env != NULL && *env != '\0')
		return env;
	slash = strrchr(argv0, '/');
	if (slash != NULL) {
		snprintf(buf, n, "%.*s/dvkd", (int)(slash - argv0), argv0);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			snprintf(buf, n, "%.*s/dvkd", (int)(slash - self), self);
			if (access(buf, X_OK) == 0)
				return buf;
			/* installed: PREFIX/bin/dvsctl -> PREFIX/sbin/dvkd */
			snprintf(buf, n, "%.*s/../sbin/dvkd", (int)(slash - self), self);
			if (access(buf, X_OK) == 0)
				return buf;
			/* the build tree: tools/ctl/dvsctl -> daemon/dvkd/dvkd */
			snprintf(buf, n, "%.*s/../../daemon/dvkd/dvkd", (int)(slash - self), self);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "dvkd";
}

static int
cmd_start(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	char logbuf[PATH_MAX], exe[PATH_MAX], fdbuf[16];
	const char *log = NULL, *dvkd;
	struct dvkd_msg rep;
	struct pollfd pfd;
	int p[2], c, status;
	char byte = 0;
	pid_t pid;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			log = optarg;
		else
			return die_usage("start: unknown option");
	}
	if (ping(&rep, 1) == 0) {
		printf("dvkd is already running (pid %d, socket %s)\n",
		       rep.u.status.pid, sock_path);
		return EX_OK;
	}
	if (log == NULL) {
		snprintf(logbuf, sizeof(logbuf), "%s.log", sock_path);
		log = logbuf;
	}
	{
		/* the socket's directory (e.g. /run/dvs), for the log too */
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", sock_path);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				fprintf(stderr, "dvsctl: cannot create %s: %s\n", dir,
					strerror(errno));
		}
	}
	dvkd = find_dvkd(exe, sizeof(exe));
	if (pipe2(p, O_CLOEXEC) < 0)
		return EX_REFUSED;
	pid = fork();
	if (pid < 0) {
		perror("dvsctl: fork");
		return EX_REFUSED;
	}
	if (pid == 0) {
		int fd;

		/* Double fork: dvkd is nobody's child and has no terminal. */
		if (fork() != 0)
			_exit(0);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		/* The directory of the socket may not exist yet. */
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* The ready pipe as fd 3, and nothing else of the caller's:
		 * an inherited pipe would keep a test harness waiting for
		 * its EOF as long as dvkd runs. */
		if (p[1] != 3) {
			dup2(p[1], 3); /* without O_CLOEXEC */
		} else {
			int fl = fcntl(3, F_GETFD);

			fcntl(3, F_SETFD, fl & ~FD_CLOEXEC);
		}
		for (fd = 4; fd < 1024; fd++)
			close(fd);
		fd = 3;
		snprintf(fdbuf, sizeof(fdbuf), "%d", fd);
		execlp(dvkd, "dvkd", "--socket", sock_path, "--ready-fd", fdbuf,
		       (char *)NULL);
		fprintf(stderr, "dvsctl: cannot run %s: %s\n", dvkd, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	waitpid(pid, &status, 0);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 10000) <= 0 || read(p[0], &byte, 1) != 1 || byte != 'R') {
		close(p[0]);
		fprintf(stderr, "dvsctl: dvkd did not start; see %s\n", log);
		return EX_TIMEOUT;
	}
	close(p[0]);
	if (ping(&rep, 0) != 0)
		return EX_NODAEMON;
	if (json) {
		struct json_object *doc = json_object_new_object();

		dvs_json_add_bool(doc, "started", 1);
		dvs_json_add_int(doc, "pid", rep.u.status.pid);
		dvs_json_add_str(doc, "socket", sock_path);
		dvs_json_print(stdout, doc);
	} else {
		printf("dvkd started (pid %d, socket %s, log %s)\n",
		       rep.u.status.pid, sock_path, log);
	}
	return EX_OK;
}

static int
cmd_stop(void)
{
	struct dvkd_msg req, rep;
	int fd = connect_dvkd(0), fds[2], nfds, rc;
	struct pollfd pfd;

	if (fd < 0)
		return EX_NODAEMON;
	dvkd_msg_init(&req, DVKD_STOP, 1);
	rc = dvkd_send(fd, &req, NULL, 0, 0);
	if (rc == 0)
		rc = dvkd_recv(fd, &rep, fds, 2, &nfds, 0);
	if (rc < 0) {
		close(fd);
		fprintf(stderr, "dvsctl: stop: %s\n", dvk_strerror(rc));
		return EX_NODAEMON;
	}
	/* dvkd closes every connection when it exits. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		rc = poll(&pfd, 1, 10000);
		if (rc <= 0) {
			close(fd);
			fprintf(stderr, "dvsctl: dvkd did not stop within 10 s\n");
			return EX_TIMEOUT;
		}
		rc = dvkd_recv(fd, &rep, fds, 2, &nfds, 0);
		if (rc < 0)
			break;
	}
	close(fd);
	if (json) {
		struct json_object *doc = json_object_new_object();

		dvs_json_add_bool(doc, "stopped", 1);
		dvs_json_print(stdout, doc);
	} else {
		printf("dvkd stopped\n");
	}
	return EX_OK;
}

static int
cmd_status(void)
{
	struct dvkd_msg rep;
	const struct dvkd_status_rep *s = &rep.u.status;

	if (ping(&rep, json) != 0) {
		if (json) {
			struct json_object *doc = json_object_new_object();

			dvs_json_add_bool(doc, "running", 0);
			dvs_json_add_str(doc, "socket", sock_path);
			dvs_json_print(stdout, doc);
		}
		return EX_NODAEMON;
	}
	if (json) {
		struct json_object *doc = json_object_new_object();

		dvs_json_add_bool(doc, "running", 1);
		dvs_json_add_str(doc, "socket", sock_path);
		dvs_json_add_int(doc, "pid", s->pid);
		dvs_json_add_uint(doc, "uptime_ms", s->uptime_ms);
		dvs_json_add_uint(doc, "dcs", s->ndc);
		dvs_json_add_uint(doc, "bindings", s->nbind);
		dvs_json_add_uint(doc, "admissions", s->nadmit);
		dvs_json_add_uint(doc, "rings", s->nrings);
		dvs_json_add_uint(doc, "copies", s->ncopies);
		dvs_json_add_uint(doc, "copied_bytes", s->copied_bytes);
		dvs_json_print(stdout, doc);
	} else {
		printf("dvkd running on %s\n", sock_path);
		printf("  pid          %d\n", s->pid);
		printf("  uptime       %.1f s\n", (double)s->uptime_ms / 1000);
		printf("  DCs          %u\n", s->ndc);
		printf("  bindings     %u\n", s->nbind);
		printf("  admissions   %u\n", s->nadmit);
		printf("  rings        %u\n", s->nrings);
		printf("  copies now   %u\n", s->ncopies);
		printf("  copied       %llu bytes\n", (unsigned long long)s->copied_bytes);
	}
	return EX_OK;
}

/* One node id of a list: the digits of s up to the first of stop. */
static int
parse_node_id(const char *s, size_t len, long *out)
{
	char buf[8];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return dvs_parse_long(buf, 0, 63, out) == 0 ? 0 : -1;
}

/* "0,1,2" (or "0-2,5") -> a mask of node ids. */
static int
parse_nodes(const char *s, uint64_t *mask)
{
	long lo, hi;
	size_t n;

	*mask = 0;
	for (;;) {
		n = strcspn(s, "-,");
		if (parse_node_id(s, n, &lo) != 0)
			return -1;
		s += n;
		hi = lo;
		if (*s == '-') {
			s++;
			n = strcspn(s, ",");
			if (parse_node_id(s, n, &hi) != 0 || hi < lo)
				return -1;
			s += n;
		}
		for (; lo <= hi; lo++)
			*mask |= 1ull << lo;
		if (*s == '\0')
			return 0;
		s++; /* ',' */
	}
}

/* The node ids of a mask as "0,1,2" ("-" for none). */
static const char *
nodes_str(uint64_t mask, char *buf, size_t n)
{
	size_t len = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; k < 64 && len + 4 < n; k++)
		if (mask >> k & 1)
			len += (size_t)snprintf(buf + len, n - len, "%s%d", len ? "," : "", k);
	return len ? buf : "-";
}

static int
cmd_dc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoints", required_argument, NULL, 'n' },
		{ "max-bindings", required_argument, NULL, 'b' },
		{ "max-rings", required_argument, NULL, 'R' },
		{ "call-timeout", required_argument, NULL, 't' },
		{ "nodes", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct dvkd_msg req, rep;
	long dc, nep = 256, max_bind = 0, max_rings = 0, call_ms = 0;
	uint64_t nodes = 0;
	int c, rc;

	if (argc < 2)
		return die_usage("dc: missing create, destroy or list");
	if (strcmp(argv[1], "list") == 0)
		return -1; /* handled by the listing code */
	optind = 0; /* GNU getopt: 0 resets its state */
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (c == 'n') {
			if (parse_int(optarg, 1, DVK_MAX_DC_EPS, &nep) < 0)
				return die_usage("dc: --endpoints wants 1..4096");
		} else if (c == 'b') {
			if (parse_int(optarg, 1, 4096, &max_bind) < 0)
				return die_usage("dc: --max-bindings wants 1..4096");
		} else if (c == 'R') {
			if (parse_int(optarg, 1, 16384, &max_rings) < 0)
				return die_usage("dc: --max-rings wants 1..16384");
		} else if (c == 't') {
			if (parse_int(optarg, 1, 86400000, &call_ms) < 0)
				return die_usage("dc: --call-timeout wants 1..86400000 ms");
		} else if (c == 'N') {
			if (parse_nodes(optarg, &nodes) < 0)
				return die_usage("dc: --nodes wants node ids 0..63, e.g. 0,1,2");
		} else {
			return die_usage("dc: unknown option");
		}
	}
	if (optind != argc - 2 || parse_int(argv[optind + 1], 0, 65535, &dc) < 0)
		return die_usage("dc: wants one DC number 0..65535");
	if (strcmp(argv[1], "create") == 0) {
		dvkd_msg_init(&req, DVKD_DC_CREATE, 1);
		req.u.dc.nep = (int32_t)nep;
		req.u.dc.max_bind = (int32_t)max_bind;
		req.u.dc.max_rings = (int32_t)max_rings;
		req.u.dc.call_timeout_ms = (int32_t)call_ms;
		req.u.dc.nodes = nodes;
	} else if (strcmp(argv[1], "destroy") == 0) {
		dvkd_msg_init(&req, DVKD_DC_DESTROY, 1);
	} else {
		return die_usage("dc: unknown subcommand");
	}
	req.u.dc.dc = (int32_t)dc;
	rc = call(&req, &rep, NULL);
	if (rc != EX_OK)
		return rc;
	if (rep.h.status == -EEXIST) {
		fprintf(stderr, "dvsctl: dc create: DC %ld exists\n", dc);
		return EX_REFUSED;
	}
	if (rep.h.status == -EDVS_NODC) {
		fprintf(stderr, "dvsctl: dc %s: DC %ld does not exist\n", argv[1], dc);
		return EX_REFUSED;
	}
	if (rep.h.status == -EDVS_LIMIT && argv[1][0] == 'c') {
		fprintf(stderr, "dvsctl: dc create: DC %ld does not fit: too many DCs, "
			"or its quotas exceed what other DCs left (see dc list; "
			"--max-bindings, --max-rings)\n", dc);
		return EX_REFUSED;
	}
	if (rep.h.status < 0)
		return refused(argv[1], rep.h.status);
	if (json) {
		struct json_object *doc = json_object_new_object();

		dvs_json_add_int(doc, "dc", dc);
		dvs_json_add_bool(doc, argv[1][0] == 'c' ? "created" : "destroyed", 1);
		dvs_json_print(stdout, doc);
	} else {
		printf("dc %ld %s\n", dc, argv[1][0] == 'c' ? "created" : "destroyed");
	}
	return EX_OK;
}

/* An endpoint's state in words: bound here, free, or (owned on another
 * node, as the directory says) bound or unreachable there. */
static const char *
ep_state(const struct dvkd_ep_rec *e)
{
	if (e->pid != 0)
		return "bound";
	if (e->gen != 0)
		return (e->flags & DVKD_EPF_UNREACHABLE) ? "unreachable" : "bound";
	return "free";
}

/* The JSON object of one listing record; NULL for a type of no listing. */
static struct json_object *
rec_json(const struct dvkd_msg *m)
{
	struct json_object *o = json_object_new_object(), *nodes;
	int k;

	switch (m->h.type) {
	case DVKD_REC_DC: {
		const struct dvkd_dc_rec *d = &m->u.dcrec;

		dvs_json_add_int(o, "dc", d->dc);
		dvs_json_add_int(o, "endpoints", d->nep);
		dvs_json_add_int(o, "bound", d->nbound);
		dvs_json_add_int(o, "admissions", d->nadmit);
		dvs_json_add_int(o, "bindings", d->nbind);
		dvs_json_add_int(o, "max_bindings", d->max_bind);
		dvs_json_add_int(o, "rings", d->nrings);
		dvs_json_add_int(o, "max_rings", d->max_rings);
		dvs_json_add_int(o, "call_timeout_ms", d->call_timeout_ms);
		nodes = json_object_new_array();
		for (k = 0; k < 64; k++)
			if (d->nodes >> k & 1)
				json_object_array_add(nodes, json_object_new_int(k));
		json_object_object_add(o, "nodes", nodes);
		return o;
	}
	case DVKD_REC_EP: {
		const struct dvkd_ep_rec *e = &m->u.eprec;

		dvs_json_add_int(o, "dc", e->dc);
		dvs_json_add_int(o, "ep", e->ep);
		dvs_json_add_int(o, "node", e->node);
		dvs_json_add_int(o, "pid", e->pid);
		dvs_json_add_str(o, "state", ep_state(e));
		dvs_json_add_int(o, "backup_pid", e->backup_pid);
		dvs_json_add_uint(o, "sent_msgs", e->sent_msgs);
		dvs_json_add_uint(o, "recv_msgs", e->recv_msgs);
		dvs_json_add_uint(o, "sent_bytes", e->sent_bytes);
		dvs_json_add_uint(o, "recv_bytes", e->recv_bytes);
		dvs_json_add_uint(o, "errors", e->errors);
		dvs_json_add_uint(o, "rings", e->nrings);
		dvs_json_add_uint(o, "waiting", e->waiting);
		dvs_json_add_uint(o, "oldest_wait_ms", e->oldest_wait_ms);
		return o;
	}
	case DVKD_REC_NODE:
		json_object_put(o);
		return node_list_json(&m->u.noderec);
	case DVKD_REC_PS: {
		const struct dvkd_ps_rec *p = &m->u.psrec;
		char comm[17];

		memcpy(comm, p->comm, 16);
		comm[16] = '\0';
		dvs_json_add_int(o, "pid", p->pid);
		dvs_json_add_int(o, "dc", p->dc);
		dvs_json_add_int(o, "ep", p->ep);
		dvs_json_add_str(o, "role", p->backup ? "backup" : "primary");
		dvs_json_add_str(o, "comm", comm);
		return o;
	}
	}
	json_object_put(o);
	return NULL;
}

/* One listing record as a table row. */
static void
print_rec(const struct dvkd_msg *m)
{
	switch (m->h.type) {
	case DVKD_REC_DC: {
		char nb[200];

		nodes_str(m->u.dcrec.nodes, nb, sizeof(nb));
		printf("%-6d %9d %6d %10d %6d/%-6d %6d/%-6d %s\n", m->u.dcrec.dc,
		       m->u.dcrec.nep, m->u.dcrec.nbound, m->u.dcrec.nadmit,
		       m->u.dcrec.nbind, m->u.dcrec.max_bind, m->u.dcrec.nrings,
		       m->u.dcrec.max_rings, nb);
		break;
	}
	case DVKD_REC_EP: {
		const struct dvkd_ep_rec *e = &m->u.eprec;
		char node[16];

		if (e->node >= 0)
			snprintf(node, sizeof(node), "%d", e->node);
		else
			snprintf(node, sizeof(node), "-");
		printf("%-4d %5d %8d %-6s %8d %10llu %10llu %12llu %12llu %7llu %7u %s\n",
		       e->dc, e->ep, e->pid, ep_state(e), e->backup_pid,
		       (unsigned long long)e->sent_msgs,
		       (unsigned long long)e->recv_msgs,
		       (unsigned long long)e->sent_bytes,
		       (unsigned long long)e->recv_bytes,
		       (unsigned long long)e->errors, e->waiting, node);
		break;
	}
	case DVKD_REC_NODE:
		node_list_print(&m->u.noderec);
		break;
	case DVKD_REC_PS: {
		const struct dvkd_ps_rec *p = &m->u.psrec;
		char comm[17];

		memcpy(comm, p->comm, 16);
		comm[16] = '\0';
		/* A program may name itself anything: keep the table's lines. */
		for (char *q = comm; *q; q++)
			if ((unsigned char)*q < 32 || *q == 127)
				*q = '?';
		printf("%8d %-4d %5d %-8s %s\n", p->pid, p->dc, p->ep,
		       p->backup ? "backup" : "primary", comm);
		break;
	}
	}
}

static int
cmd_list(unsigned type, int dc)
{
	struct dvkd_msg rep;
	struct json_object *list = NULL, *o;
	int fd = listing_open(type, dc), rc;

	if (fd < 0)
		return EX_NODAEMON;
	if (json)
		list = json_object_new_array();
	else if (type == DVKD_DC_LIST)
		printf("%-6s %9s %6s %10s %13s %13s %s\n", "DC", "ENDPOINTS", "BOUND",
		       "ADMISSIONS", "BINDINGS/MAX", "RINGS/MAX", "NODES");
	else if (type == DVKD_EP_LIST)
		printf("%-4s %5s %8s %-6s %8s %10s %10s %12s %12s %7s %7s %s\n", "DC", "EP",
		       "PID", "STATE", "BACKUP", "SENT", "RECEIVED", "SENT_B",
		       "RECV_B", "ERRORS", "WAITING", "NODE");
	else if (type == DVKD_NODE_LIST)
		node_list_header();
	else
		printf("%8s %-4s %5s %-8s %s\n", "PID", "DC", "EP", "ROLE", "COMMAND");
	while ((rc = listing_next(fd, &rep)) > 0) {
		if (!json)
			print_rec(&rep);
		else if ((o = rec_json(&rep)) != NULL)
			json_object_array_add(list, o);
	}
	close(fd);
	if (json)
		dvs_json_print(stdout, list);
	if (rc < 0) {
		fprintf(stderr, "dvsctl: dvkd on %s: %s\n", sock_path, dvk_strerror(rc));
		return EX_NODAEMON;
	}
	if (rep.h.status < 0)
		return refused("list", rep.h.status);
	return EX_OK;
}

/* 1 if endpoint ep of dc is bound, 0 if not, <0 an exit code's negation. */
static int
ep_bound(int dc, int ep)
{
	struct dvkd_msg rep;
	int fd = listing_open(DVKD_EP_LIST, dc), rc, bound = 0;

	if (fd < 0)
		return -EX_NODAEMON;
	while ((rc = listing_next(fd, &rep)) > 0)
		if (rep.h.type == DVKD_REC_EP && rep.u.eprec.ep == ep && rep.u.eprec.pid != 0)
			bound = 1;
	close(fd);
	if (rc < 0)
		return -EX_NODAEMON;
	if (rep.h.status < 0) {
		refused("ep wait", rep.h.status);
		return -EX_REFUSED;
	}
	return bound;
}

/* ep wait DC EP [--timeout SEC] [--unbound]: for scripts that start a
 * server in the background and must not talk to it before it bound. */
static int
cmd_ep_wait(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "unbound", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	long dc, ep, secs = 10;
	int c, want = 1, rc;
	uint64_t t0;

	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (c == 't') {
			if (parse_int(optarg, 0, 86400, &secs) < 0)
				return die_usage("ep wait: --timeout wants seconds");
		} else if (c == 'u') {
			want = 0;
		} else {
			return die_usage("ep wait: unknown option");
		}
	}
	if (optind != argc - 3 || parse_int(argv[optind + 1], 0, 65535, &dc) < 0 ||
	    parse_int(argv[optind + 2], 0, DVK_MAX_DC_EPS - 1, &ep) < 0)
		return die_usage("ep wait: wants DC and EP numbers");
	t0 = dvs_now_ns();
	for (;;) {
		rc = ep_bound((int)dc, (int)ep);
		if (rc < 0)
			return -rc;
		if (rc == want)
			return EX_OK;
		if (dvs_now_ns() - t0 >= (uint64_t)secs * 1000000000u) {
			fprintf(stderr, "dvsctl: dc %ld ep %ld still %s after %ld s\n", dc,
				ep, want ? "unbound" : "bound", secs);
			return EX_TIMEOUT;
		}
		usleep(10000);
	}
}

static int
parse_eps(const char *s, long *lo, long *hi)
{
	const char *dash;
	char buf[32];

	if (strcmp(s, "any") == 0) {
		*lo = 0;
		*hi = -1; /* the whole DC: filled in by the caller */
		return 0;
	}
	dash = strchr(s, '-');
	if (dash == NULL) {
		if (parse_int(s, 0, DVK_MAX_DC_EPS - 1, lo) < 0)
			return -1;
		*hi = *lo;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (parse_int(buf, 0, DVK_MAX_DC_EPS - 1, lo) < 0 ||
	    parse_int(dash + 1, 0, DVK_MAX_DC_EPS - 1, hi) < 0 || *hi < *lo)
		return -1;
	return 0;
}

static int
cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dc", required_argument, NULL, 'd' },
		{ "ep", required_argument, NULL, 'e' },
		{ "node", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct dvkd_msg req, rep;
	long dc = -1, lo = -1, hi = -1, node = -1;
	char buf[16];
	int c, rc, fd = -1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'd') {
			if (parse_int(optarg, 0, 65535, &dc) < 0)
				return die_usage("run: --dc wants a DC number");
		} else if (c == 'e') {
			if (parse_eps(optarg, &lo, &hi) < 0)
				return die_usage("run: --ep wants N, LO-HI or any");
		} else if (c == 'n') {
			if (parse_int(optarg, 0, 63, &node) < 0)
				return die_usage("run: --node wants a node id (0-63)");
		} else {
			return die_usage("run: unknown option");
		}
	}
	if (dc < 0 || lo < 0)
		return die_usage("run: --dc and --ep are required");
	if (optind >= argc)
		return die_usage("run: no program given (dvsctl run --dc D --ep E -- PROG ARGS)");
	if (hi < 0) {
		/* `any`: ask for the whole DC; dvkd clips nothing, so find
		 * its size first. */
		int lfd = listing_open(DVKD_DC_LIST, 0);

		if (lfd < 0)
			return EX_NODAEMON;
		while (listing_next(lfd, &rep) > 0)
			if (rep.h.type == DVKD_REC_DC && rep.u.dcrec.dc == dc)
				hi = rep.u.dcrec.nep - 1;
		close(lfd);
		if (hi < 0) {
			fprintf(stderr, "dvsctl: run: DC %ld does not exist\n", dc);
			return EX_REFUSED;
		}
	}
	if (node >= 0) {
		int sfd = connect_dvkd(0);

		if (sfd < 0)
			return EX_NODAEMON;
		rc = run_node(sfd, (int)node, (int)dc, (int)lo, (int)hi, argv + optind);
		close(sfd);
		return rc;
	}
	dvkd_msg_init(&req, DVKD_ADMIT, 1);
	req.u.admit.dc = (int32_t)dc;
	req.u.admit.lo = (int32_t)lo;
	req.u.admit.hi = (int32_t)hi;
	rc = call(&req, &rep, &fd);
	if (rc != EX_OK)
		return rc;
	if (rep.h.status == -EDVS_NODC) {
		fprintf(stderr, "dvsctl: run: DC %ld does not exist\n", dc);
		return EX_REFUSED;
	}
	if (rep.h.status < 0 || fd < 0)
		return refused("run", rep.h.status < 0 ? rep.h.status : -EDVS_PROTO);
	/* The admission is inherited: it must survive exec. */
	if (fd < 3) {
		int nfd = fcntl(fd, F_DUPFD, 3);

		close(fd);
		fd = nfd;
	}
	fcntl(fd, F_SETFD, 0);
	snprintf(buf, sizeof(buf), "%d", fd);
	setenv(DVKD_ADMIT_ENV, buf, 1);
	setenv(DVKD_SOCKET_ENV, sock_path, 1);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "dvsctl: run: cannot run %s: %s\n", argv[optind], strerror(errno));
	return 127;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 0x100 },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c, i, rc;

	argv0 = argv[0];
	sock_path = dvkd_socket_path();
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 0x100:
			return dvs_print_version("dvsctl");
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	/* --json and --socket may also follow the command (not after --). */
	for (i = 1; i < argc && strcmp(cmd, "run") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			sock_path = argv[i + 1];
			memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 1) * sizeof(*argv));
			argc -= 2;
			i--;
		}
	}
	if (strcmp(cmd, "start") == 0)
		return cmd_start(argc, argv);
	if (strcmp(cmd, "stop") == 0)
		return argc == 1 ? cmd_stop() : die_usage("stop takes no arguments");
	if (strcmp(cmd, "status") == 0)
		return argc == 1 ? cmd_status() : die_usage("status takes no arguments");
	if (strcmp(cmd, "dc") == 0) {
		rc = cmd_dc(argc, argv);
		if (rc != -1)
			return rc;
		return argc == 2 ? cmd_list(DVKD_DC_LIST, -1) : die_usage("dc list takes no arguments");
	}
	if (strcmp(cmd, "ep") == 0) {
		long dc = -1;

		if (argc >= 2 && strcmp(argv[1], "wait") == 0)
			return cmd_ep_wait(argc, argv);
		if (argc < 2 || strcmp(argv[1], "list") != 0)
			return die_usage("ep: `ep list [--dc DC]` or `ep wait DC EP`");
		for (int k = 2; k < argc; k += 2) {
			long v;

			if (k + 1 >= argc)
				return die_usage("ep list: unexpected arguments");
			if (strcmp(argv[k], "--dc") == 0) {
				if (parse_int(argv[k + 1], 0, 65535, &dc) < 0)
					return die_usage("ep list: --dc wants a DC number");
			} else if (strcmp(argv[k], "--waiting-ms") == 0) {
				if (parse_int(argv[k + 1], 1, 86400000, &v) < 0)
					return die_usage("ep list: --waiting-ms wants 1..86400000");
				list_wait_ms = (int)v;
			} else {
				return die_usage("ep list: unexpected arguments");
			}
		}
		return cmd_list(DVKD_EP_LIST, (int)dc);
	}
	if (strcmp(cmd, "ps") == 0)
		return argc == 1 ? cmd_list(DVKD_PS, -1) : die_usage("ps takes no arguments");
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc, argv);
	if (strcmp(cmd, "node") == 0) {
		if (argc == 2 && strcmp(argv[1], "list") == 0)
			return cmd_list(DVKD_NODE_LIST, -1);
		return die_usage("node: `node list`");
	}
	fprintf(stderr, "dvsctl: unknown command `%s` (see dvsctl --help)\n", cmd);
	return EX_USAGE;
}
