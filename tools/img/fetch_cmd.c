/* fetch_cmd.c - `dvs img fetch`: over TCP or a command's stdin/stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "dvs/imagelock.h"
#include "dvs/img.h"
#include "dvs/json_out.h"
#include "dvs/log.h"

#define MAX_SEEDS 64

static void
fetch_usage(FILE *f)
{
	fprintf(f,
		"usage: dvs img fetch HOST:PORT OUTPUT [OPTIONS]\n"
		"       dvs img fetch --stdio OUTPUT [OPTIONS] -- COMMAND [ARGS...]\n\n"
		"Builds OUTPUT from local seed images and the blocks the server sends.\n"
		"Writes OUTPUT.partial and OUTPUT.partial.state; renames to OUTPUT only\n"
		"when every block is verified.  Run the same command again to resume.\n"
		"  --seed S            a local image to take blocks from (repeatable)\n"
		"  --compress C        zstd, lz4, zlib, lzo or none (default none)\n"
		"  --level N           compression level (codec's default if omitted)\n"
		"  --key-file F        shared secret; required if the server has one\n"
		"  --stdio             run COMMAND and talk over its stdin/stdout, e.g.\n"
		"                      dvs img fetch --stdio out.img -- ssh host dvs img serve --stdio img\n"
		"  --inflight N        requests in flight (default 16)\n"
		"  --retries N         reconnect this often after a broken connection (default 3)\n"
		"  --json              print a machine-readable summary on stdout\n"
		"  --threads N         hashing threads (default: every core)\n"
		"  --no-progress       no progress line even on a terminal\n"
		"  --no-basis          do not use an existing OUTPUT as a seed (by default\n"
		"                      its blocks are reused, like rsync's basis file)\n"
		"Exit codes: 0 ok, 2 usage, 3 cannot connect or connection lost (run\n"
		"again to resume what was fetched),\n"
		"4 authentication failed, 5 corrupt stream or data, 6 local I/O error.\n");
}

static int
connect_to(const char *hp)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *a;
	char host[256], port[32];
	const char *colon = strrchr(hp, ':');
	size_t hl;
	int fd = -1, r, e = ECONNREFUSED;

	if (colon == NULL || colon == hp || colon[1] == '\0')
		return -EINVAL;
	hl = (size_t)(colon - hp);
	if (hp[0] == '[' && hl >= 2 && hp[hl - 1] == ']') {
		hp++;
		hl -= 2;
	}
	if (hl >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
		return -EINVAL;
	memcpy(host, hp, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		fprintf(stderr, "dvs img fetch: cannot connect to %s: unknown host (%s)\n", hp,
			gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		char why[128];

		/* "connection refused", as a sentence goes on after a colon. */
		snprintf(why, sizeof(why), "%s", strerror(e));
		if (why[0] >= 'A' && why[0] <= 'Z' && why[1] >= 'a' && why[1] <= 'z')
			why[0] = (char)(why[0] - 'A' + 'a');
		fprintf(stderr, "dvs img fetch: cannot connect to %s: %s\n", hp, why);
		return -e;
	}
	return fd;
}

/*
 * Locks what this fetch will write, for the whole run (every attempt):
 * OUTPUT.partial exclusively (two fetches into one output would write
 * each other's blocks) and an existing OUTPUT shared (it is replaced at
 * the end: a dvs-fs or dvs-vdd serving it would go on writing a file that
 * no longer has a name, and lose every write).  The descriptors stay open
 * until exit; *created says that OUTPUT.partial did not exist before.
 * 0, or an exit code after saying what is wrong.
 */
static int
lock_output(const char *output, int *created)
{
	char *partial = img_partial_path(output), msg[600];
	int fd, r;

	if (partial == NULL)
		return EXIT_FAIL;
	fd = open(output, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (r = dvs_image_lock(fd, 0)) != 0) {
		if (r == -EBUSY)
			fprintf(stderr, "dvs img fetch: %s\n", dvs_image_busy_msg(output, msg, sizeof(msg)));
		else
			fprintf(stderr, "dvs img fetch: cannot lock %s: %s\n", output, strerror(-r));
		free(partial);
		return EXIT_FAIL;
	}
	*created = access(partial, F_OK) != 0;
	fd = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "dvs img fetch: cannot create %s: %s\n", partial, strerror(errno));
		free(partial);
		return EXIT_LOCAL;
	}
	r = dvs_image_lock(fd, 1);
	if (r != 0) {
		if (r == -EBUSY)
			fprintf(stderr, "dvs img fetch: %s\n", dvs_image_busy_msg(partial, msg, sizeof(msg)));
		else
			fprintf(stderr, "dvs img fetch: cannot lock %s: %s\n", partial, strerror(-r));
		free(partial);
		return EXIT_FAIL;
	}
	free(partial);
	return 0;
}

/* A failed run that never wrote a byte leaves no empty OUTPUT.partial. */
static void
drop_empty_partial(const char *output)
{
	char *partial = img_partial_path(output), *state = img_state_path(output);
	struct stat sb;

	if (partial && state && stat(partial, &sb) == 0 && sb.st_size == 0 &&
	    access(state, F_OK) != 0)
		unlink(partial);
	free(partial);
	free(state);
}

static pid_t
spawn(char **cmd, int *rfd, int *wfd)
{
	int to[2], from[2];
	pid_t pid;

	if (pipe2(to, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(from, O_CLOEXEC) != 0) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "dvs img fetch: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	if (pid < 0) {
		close(to[1]);
		close(from[0]);
		return -1;
	}
	*wfd = to[1];
	*rfd = from[0];
	return pid;
}

/* The --json summary: one object on stdout. */
static void
print_json(int r, const char *output, const struct img_fetch_stats *st, int attempts)
{
	struct json_object *doc = json_object_new_object();

	dvs_json_add_bool(doc, "ok", r == 0);
	dvs_json_add_str(doc, "error", r == 0 ? "" : strerror(-r));
	dvs_json_add_str(doc, "output", output);
	dvs_json_add_uint(doc, "image_bytes", st->image_bytes);
	dvs_json_add_uint(doc, "blocks", st->blocks);
	dvs_json_add_uint(doc, "zero_blocks", st->zero_blocks);
	dvs_json_add_uint(doc, "seed_blocks", st->seed_blocks);
	dvs_json_add_uint(doc, "dup_blocks", st->dup_blocks);
	dvs_json_add_uint(doc, "resumed_blocks", st->resumed_blocks);
	dvs_json_add_uint(doc, "sent_blocks", st->sent_blocks);
	dvs_json_add_uint(doc, "seed_mismatch_blocks", st->seed_mismatch);
	dvs_json_add_uint(doc, "data_bytes", st->data_raw_bytes);
	dvs_json_add_uint(doc, "wire_bytes_in", st->bytes_in);
	dvs_json_add_uint(doc, "wire_bytes_out", st->bytes_out);
	dvs_json_add_int(doc, "attempts", attempts);
	dvs_json_add_int(doc, "rounds", st->rounds);
	dvs_json_add_fixed(doc, "pause_ms", st->pause_ms, 3);
	dvs_json_add_fixed(doc, "seconds", st->seconds, 3);
	dvs_json_print(stdout, doc);
}

int
cmd_fetch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "compress", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "stdio", no_argument, NULL, 'S' },
		{ "inflight", required_argument, NULL, 'n' },
		{ "retries", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 't' },
		{ "no-progress", no_argument, NULL, 'q' },
		{ "no-basis", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static uint8_t key[IMG_KEY_MAX];
	const char *seeds[MAX_SEEDS], *addr = NULL, *key_file = NULL;
	struct img_fetch_opts o = { .codec = IMG_CODEC_NONE, .inflight = 16 };
	struct img_fetch_stats st, acc;
	int c, r = 0, stdio = 0, json = 0, retries = 3, attempt, noprog = 0, created = 0;
	int no_basis = 0, reached = 0;
	struct stat sb;
	size_t i;
	char **cmd = NULL;

	/* GNU getopt moves operands after the options and stops at "--", so
	 * argv[optind] is OUTPUT (or HOST:PORT) and a --stdio COMMAND follows. */
	while ((c = getopt_long(argc, argv, "s:c:l:k:Sn:r:jt:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (o.nseeds >= MAX_SEEDS) {
				fprintf(stderr, "dvs img fetch: at most %d seeds\n", MAX_SEEDS);
				return EXIT_USAGE;
			}
			seeds[o.nseeds++] = optarg;
			break;
		case 'c':
			o.codec = img_codec_from_name(optarg);
			if (o.codec < 0) {
				fprintf(stderr, "dvs img fetch: --compress: zstd, lz4, zlib, lzo or none\n");
				return EXIT_USAGE;
			}
			break;
		case 'l':
			if (img_cli_int("fetch", "--level", optarg, -131072, 22, &o.level) < 0)
				return EXIT_USAGE;
			break;
		case 'k': key_file = optarg; break;
		case 'S': stdio = 1; break;
		case 'n':
			if (img_cli_int("fetch", "--inflight", optarg, 1, 1024, &o.inflight) < 0)
				return EXIT_USAGE;
			break;
		case 'r':
			if (img_cli_int("fetch", "--retries", optarg, 0, 1000, &retries) < 0)
				return EXIT_USAGE;
			break;
		case 'j': json = 1; break;
		case 't':
			if (img_cli_int("fetch", "--threads", optarg, 0, 64, &o.nthreads) < 0)
				return EXIT_USAGE;
			break;
		case 'q': noprog = 1; break;
		case 'B': no_basis = 1; break;
		case 'h':
			fetch_usage(stdout);
			return EXIT_OK;
		default:
			fetch_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (stdio) {
		if (argc - optind < 2) {
			fprintf(stderr, "dvs img fetch: --stdio wants OUTPUT -- COMMAND...\n");
			return EXIT_USAGE;
		}
		o.output = argv[optind];
		cmd = argv + optind + 1;
	} else if (argc - optind != 2) {
		fetch_usage(stderr);
		return EXIT_USAGE;
	} else {
		addr = argv[optind];
		o.output = argv[optind + 1];
	}
	if (img_cli_key(key_file, key, sizeof(key), &o.key, &o.key_len) != 0)
		return EXIT_USAGE;
	c = lock_output(o.output, &created);
	if (c != 0)
		return c;
	o.seeds = seeds;
	if (!noprog && isatty(2))
		o.progress = img_progress_line;
	/* Like rsync's basis file: an OUTPUT that is there (an older copy of
	 * the image, most often) is a seed, so its matching blocks do not
	 * cross the network again.  Its blocks are re-hashed like any seed's. */
	for (i = 0; i < o.nseeds && strcmp(seeds[i], o.output) != 0; i++)
		;
	if (!no_basis && i == o.nseeds && stat(o.output, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size > 0) {
		if (o.nseeds < MAX_SEEDS) {
			seeds[o.nseeds++] = o.output;
			if (o.progress != NULL)
				fprintf(stderr, "dvs img fetch: %s exists: its blocks are reused "
						"(--no-basis to ignore it)\n", o.output);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&acc, 0, sizeof(acc));
	for (attempt = 0;; attempt++) {
		int rfd = -1, wfd = -1;
		pid_t pid = -1;

		if (stdio) {
			pid = spawn(cmd, &rfd, &wfd);
			r = pid < 0 ? -errno : 0;
		} else {
			rfd = wfd = connect_to(addr);
			r = rfd < 0 ? rfd : 0;
			if (r == -EINVAL) {
				fprintf(stderr, "dvs img fetch: want HOST:PORT, not '%s'\n", addr);
				return EXIT_USAGE;
			}
		}
		memset(&st, 0, sizeof(st));
		if (r == 0)
			reached = 1;
		if (r == 0) {
			r = img_fetch_session(rfd, wfd, &o, &st);
			close(rfd);
			if (wfd != rfd)
				close(wfd);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		acc.bytes_in += st.bytes_in;
		acc.bytes_out += st.bytes_out;
		acc.seconds += st.seconds;
		acc.sent_blocks += st.sent_blocks;
		acc.data_raw_bytes += st.data_raw_bytes;
		/* Retry only what can be resumed: a server never reached (wrong
		 * address, not running) is not retried; one that was reached
		 * and broke off, or cannot be reached again yet, is. */
		if (r == 0 || attempt >= retries || !reached ||
		    (r != -EPIPE && r != -EBADMSG && r != -ECONNREFUSED && r != -ECONNRESET))
			break;
		if (st.bytes_in > 0)
			fprintf(stderr, "dvs img fetch: the connection broke off (%s); resuming "
					"(attempt %d of %d)\n", strerror(-r), attempt + 2, retries + 1);
		else
			fprintf(stderr, "dvs img fetch: trying again (attempt %d of %d)\n",
				attempt + 2, retries + 1);
		sleep(1);
	}
	if (r != 0 && created)
		drop_empty_partial(o.output);
	st.bytes_in = acc.bytes_in;
	st.bytes_out = acc.bytes_out;
	st.seconds = acc.seconds;
	st.sent_blocks = acc.sent_blocks;
	st.data_raw_bytes = acc.data_raw_bytes;
	if (r == 0) {
		fprintf(stderr,
			"dvs img fetch: %s: %llu bytes, %llu blocks: %llu zero, %llu from seeds, "
			"%llu repeated, %llu resumed, %llu sent; %llu bytes on the wire in %.2f s",
			o.output, (unsigned long long)st.image_bytes, (unsigned long long)st.blocks,
			(unsigned long long)st.zero_blocks, (unsigned long long)st.seed_blocks,
			(unsigned long long)st.dup_blocks, (unsigned long long)st.resumed_blocks,
			(unsigned long long)st.sent_blocks,
			(unsigned long long)st.bytes_in + st.bytes_out, st.seconds);
		if (st.rounds)
			fprintf(stderr, "; live: %d rounds, writer paused %.1f ms", st.rounds,
				st.pause_ms);
		fputc('\n', stderr);
	} else if (reached && (r == -EPIPE || r == -ECONNREFUSED || r == -EBADMSG)) {
		char *state = img_state_path(o.output);

		if (state != NULL && access(state, F_OK) == 0)
			fprintf(stderr, "dvs img fetch: %s is not complete; run the same command "
					"again to resume\n", o.output);
		free(state);
	}
	if (json)
		print_json(r, o.output, &st, attempt + 1);
	return img_exit_code(r);
}
