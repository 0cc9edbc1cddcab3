/* serve_cmd.c - `dvs img serve`: TCP listener or one session on stdio. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dvs/imagelock.h"
#include "dvs/img.h"
#include "dvs/log.h"
#include "dvs/parse.h"

#define MAX_HOOKS 16

static void
serve_usage(FILE *f)
{
	fprintf(f,
		"usage: dvs img serve IMAGE [--listen ADDR:PORT] (--key-file F | --insecure-no-key)\n"
		"       dvs img serve IMAGE --stdio [--key-file F]\n\n"
		"Sends IMAGE to `dvs img fetch`.  Its index (IMAGE.dvsidx) is built if\n"
		"missing or stale; a corrupt index is an error.\n"
		"  --listen ADDR:PORT  where to listen (default 0.0.0.0:7411; port 0 picks\n"
		"                      a free port, printed on stderr)\n"
		"  --port-file F       also write the port number to F\n"
		"  --key-file F        shared secret (16+ bytes); fetchers must hold the same\n"
		"  --insecure-no-key   serve to anyone who connects (no authentication)\n"
		"  --stdio             one session on stdin/stdout (for ssh; no key needed,\n"
		"                      ssh authenticates)\n"
		"  --once              serve one connection, then exit with its status\n"
		"  --live              the image may change while served: send rounds of\n"
		"                      changed blocks, then pause the writer for the last one\n"
		"  --max-rounds N      live: rounds before the pause (default 8)\n"
		"  --pause-cmd CMD     live: shell command that stops the writer\n"
		"                      (e.g. 'kill -STOP 1234' or 'virsh suspend vm')\n"
		"  --resume-cmd CMD    live: shell command that lets it go on\n"
		"  --block-size N      block size of a new index (default 4096)\n"
		"  --index FILE        index file (default IMAGE.dvsidx)\n"
		"  --threads N         hashing threads (default: every core)\n"
		"Test hooks (for the test suite; comma-separated, one value per connection):\n"
		"  --drop-after N,...  cut the n-th connection after N bytes sent\n"
		"  --corrupt-at N,...  flip byte N of the n-th connection's stream\n");
}

static int
parse_list(const char *s, uint64_t *v, int *n)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int r = 0;

	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok && *n < MAX_HOOKS;
	     tok = strtok_r(NULL, ",", &save)) {
		if (img_parse_u64(tok, &v[(*n)++]) != 0)
			r = -1;
	}
	free(copy);
	return r;
}

static int
split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (colon == NULL)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= hcap || strlen(colon + 1) >= pcap || colon[1] == '\0')
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int
listen_on(const char *addr, char *shown, size_t scap, int *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	long lport;
	char host[256], serv[32];
	int fd = -1, one = 1, r;

	if (split_hostport(addr, host, sizeof(host), serv, sizeof(serv)) != 0) {
		fprintf(stderr, "dvs img serve: --listen wants ADDR:PORT, not '%s'\n", addr);
		return -EINVAL;
	}
	r = getaddrinfo(host[0] ? host : NULL, serv, &hints, &res);
	if (r != 0) {
		fprintf(stderr, "dvs img serve: %s: %s\n", addr, gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		r = -errno;
		fprintf(stderr, "dvs img serve: cannot listen on %s: %s\n", addr, strerror(-r));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return r;
	}
	freeaddrinfo(res);
	getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(shown, scap, "%s:%s", host, serv);
	*port = dvs_parse_long(serv, 0, 65535, &lport) == 0 ? (int)lport : 0;
	return fd;
}

/*
 * Ends a connection so the client still reads everything we sent (the
 * ERROR frame that says why, or all the bytes before a test cut): closing
 * a socket with unread requests in it would send a reset, and a reset
 * makes the client's kernel drop data it has not read yet.
 */
static void
close_gracefully(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	time_t end = time(NULL) + 3; /* a slow client cannot hold us longer */
	char buf[4096];

	shutdown(fd, SHUT_WR);
	while (time(NULL) < end && poll(&pfd, 1, 1000) > 0)
		if (read(fd, buf, sizeof(buf)) <= 0)
			break;
	close(fd);
}

static void
report(const struct img_serve_opts *o, const struct img_serve_stats *st, int r)
{
	int i;

	if (r != 0) {
		fprintf(stderr, "dvs img serve: session ended: %s\n", strerror(-r));
		return;
	}
	fprintf(stderr, "dvs img serve: sent %llu blocks, %llu bytes on the wire\n",
		(unsigned long long)st->blocks_sent, (unsigned long long)st->bytes_out);
	if (o->live) {
		fprintf(stderr, "dvs img serve: live: %d rounds, changed blocks per round:",
			st->rounds);
		for (i = 0; i < st->rounds && i < 64; i++)
			fprintf(stderr, " %llu", (unsigned long long)st->round_changed[i]);
		fprintf(stderr, "; writer paused %.1f ms\n", st->pause_ms);
	}
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "insecure-no-key", no_argument, NULL, 'K' },
		{ "stdio", no_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ "live", no_argument, NULL, 'L' },
		{ "max-rounds", required_argument, NULL, 'R' },
		{ "pause-cmd", required_argument, NULL, 'p' },
		{ "resume-cmd", required_argument, NULL, 'r' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "index", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 't' },
		{ "drop-after", required_argument, NULL, 'D' },
		{ "corrupt-at", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static uint8_t key[IMG_KEY_MAX];
	struct img_serve_opts o = { .block_size = IMG_DEFAULT_BLOCK, .max_rounds = 8 };
	struct img_serve_stats st;
	const char *listen_addr = "0.0.0.0:7411", *key_file = NULL, *port_file = NULL;
	uint64_t drops[MAX_HOOKS], corrupts[MAX_HOOKS], v;
	int ndrops = 0, ncorrupts = 0, insecure = 0, stdio = 0, once = 0;
	int c, r, lfd, port = 0, conn = 0;
	struct img_gate *gate = NULL;
	const char *t;
	long auth_ms;
	char shown[300];

	while ((c = getopt_long(argc, argv, "l:P:k:KsoLR:p:r:b:i:t:D:C:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_addr = optarg; break;
		case 'P': port_file = optarg; break;
		case 'k': key_file = optarg; break;
		case 'K': insecure = 1; break;
		case 's': stdio = 1; break;
		case 'o': once = 1; break;
		case 'L': o.live = 1; break;
		case 'R':
			if (img_cli_int("serve", "--max-rounds", optarg, 1, 1000, &o.max_rounds) < 0)
				return EXIT_USAGE;
			break;
		case 'p': o.pause_cmd = optarg; break;
		case 'r': o.resume_cmd = optarg; break;
		case 'i': o.index_path = optarg; break;
		case 't':
			if (img_cli_int("serve", "--threads", optarg, 0, 64, &o.nthreads) < 0)
				return EXIT_USAGE;
			break;
		case 'b':
			if (img_parse_u64(optarg, &v) != 0 || v < IMG_MIN_BLOCK ||
			    v > IMG_MAX_BLOCK || (v & (v - 1))) {
				fprintf(stderr, "dvs img serve: bad --block-size\n");
				return EXIT_USAGE;
			}
			o.block_size = (uint32_t)v;
			break;
		case 'D':
			if (parse_list(optarg, drops, &ndrops) != 0)
				return EXIT_USAGE;
			break;
		case 'C':
			if (parse_list(optarg, corrupts, &ncorrupts) != 0)
				return EXIT_USAGE;
			break;
		case 'h':
			serve_usage(stdout);
			return EXIT_OK;
		default:
			serve_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		serve_usage(stderr);
		return EXIT_USAGE;
	}
	o.image = argv[optind];
	if (o.max_rounds < 1)
		o.max_rounds = 1;
	if (key_file && insecure) {
		fprintf(stderr, "dvs img serve: --key-file and --insecure-no-key exclude each other\n");
		return EXIT_USAGE;
	}
	if (!key_file && !insecure && !stdio) {
		fprintf(stderr, "dvs img serve: a served image needs a shared key: pass --key-file "
				"FILE (create one with `head -c 32 /dev/urandom | base64 > FILE`), or "
				"--insecure-no-key to serve anyone who connects\n");
		return EXIT_USAGE;
	}
	if (img_cli_key(key_file, key, sizeof(key), &o.key, &o.key_len) != 0)
		return EXIT_USAGE;
	if (access(o.image, R_OK) != 0) {
		fprintf(stderr, "dvs img serve: cannot read %s: %s\n", o.image, strerror(errno));
		return EXIT_FAIL;
	}
	if (!o.live) {
		/* A shared lock for as long as we serve (children inherit it):
		 * an image a DVS program is writing would not match its index,
		 * and none may start writing it while fetchers read it.  Live
		 * mode exists for images that change, so it takes none. */
		int ifd = open(o.image, O_RDONLY | O_CLOEXEC);

		r = ifd < 0 ? -errno : dvs_image_lock(ifd, 0);
		if (r != 0) {
			char msg[600];

			fprintf(stderr, "dvs img serve: %s\n",
				r == -EBUSY ? dvs_image_busy_msg(o.image, msg, sizeof(msg))
					    : strerror(-r));
			return EXIT_FAIL;
		}
	}
	if (!o.live) {
		/* Check (or build) the index now: a corrupt one is reported at
		 * start, and sessions then only load it. */
		struct img_index *ix = NULL;
		int rebuilt = 0;

		r = img_index_open(o.image, o.index_path, o.block_size, o.nthreads, 0,
				   &rebuilt, &ix);
		if (r != 0)
			return img_exit_code(r);
		if (rebuilt)
			fprintf(stderr, "dvs img serve: indexed %s (%llu blocks)\n", o.image,
				(unsigned long long)ix->nblocks);
		img_index_free(ix);
	}
	signal(SIGPIPE, SIG_IGN);
	if (stdio) {
		o.drop_after = ndrops ? drops[0] : 0;
		o.corrupt_at = ncorrupts ? corrupts[0] : 0;
		r = img_serve_session(0, 1, &o, &st);
		report(&o, &st, r);
		return img_exit_code(r);
	}
	lfd = listen_on(listen_addr, shown, sizeof(shown), &port);
	if (lfd < 0)
		return EXIT_FAIL;
	fprintf(stderr, "dvs img serve: serving %s on %s%s\n", o.image, shown,
		o.key ? "" : " WITHOUT authentication");
	if (port_file) {
		char tmp[4096];
		FILE *pf;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		pf = fopen(tmp, "w");
		if (pf == NULL || fprintf(pf, "%d\n", port) < 0 || fclose(pf) != 0 ||
		    rename(tmp, port_file) != 0) {
			fprintf(stderr, "dvs img serve: cannot write %s\n", port_file);
			return EXIT_FAIL;
		}
	}
	/* Live sessions keep the image's state in this process: one at a time. */
	if (o.live)
		once = 1;
	if (!once)
		signal(SIGCHLD, SIG_IGN);
	/* The key is proven in this process, for every pending connection at
	 * once (lib/img/gate.c); only a client that proved it gets a process.
	 * Forking first let 1,500 idle connections make 521 processes. */
	t = getenv("DVS_IMG_AUTH_TIMEOUT_MS");
	auth_ms = IMG_GATE_TIMEOUT_MS;
	if (t != NULL && dvs_parse_long(t, 1, 3600000, &auth_ms) != 0)
		fprintf(stderr, "dvs img serve: DVS_IMG_AUTH_TIMEOUT_MS=%s is not a number of "
				"ms from 1 to 3600000: using %d\n", t, IMG_GATE_TIMEOUT_MS);
	r = img_gate_new(&o, IMG_GATE_PENDING, (int)auth_ms, &gate);
	if (r != 0) {
		fprintf(stderr, "dvs img serve: out of memory\n");
		return EXIT_FAIL;
	}
	for (;;) {
		struct img_authed au;
		int cfd;
		pid_t pid;

		r = img_gate_next(gate, lfd, &cfd, &au);
		if (r != 0) {
			fprintf(stderr, "dvs img serve: waiting for connections failed: %s\n",
				strerror(-r));
			img_gate_free(gate);
			return EXIT_FAIL;
		}
		o.drop_after = conn < ndrops ? drops[conn] : 0;
		o.corrupt_at = conn < ncorrupts ? corrupts[conn] : 0;
		conn++;
		if (once) {
			img_gate_free(gate);
			close(lfd);
			r = img_serve_session_authed(cfd, &o, &au, &st);
			report(&o, &st, r);
			close_gracefully(cfd);
			return img_exit_code(r);
		}
		pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			img_gate_free(gate); /* the child's copies of the others */
			close(lfd);
			r = img_serve_session_authed(cfd, &o, &au, &st);
			report(&o, &st, r);
			close_gracefully(cfd);
			_exit(img_exit_code(r));
		}
		if (pid < 0)
			fprintf(stderr, "dvs img serve: cannot start a session process: %s\n",
				strerror(errno));
		close(cfd);
	}
}
