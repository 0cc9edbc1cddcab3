/*
 * dvs-img - disk-image migration: index, similarity, serve, fetch.
 * `dvs img ...` runs this program.  See docs/IMG.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dvs/img.h"
#include "dvs/log.h"
#include "dvs/parse.h"
#include "dvs/version.h"

int
img_exit_code(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EPIPE:
	case ECONNRESET:
	case ECONNREFUSED:
	case ETIMEDOUT:
		return EXIT_CONN;
	case EACCES:
		return EXIT_AUTH;
	case EBADMSG:
	case EILSEQ:
	case EPROTO:
	case ESTALE:
		return EXIT_DATA;
	case ENOSPC:
	case EIO:
	case EDQUOT:
	case EROFS:
		return EXIT_LOCAL;
	default:
		return EXIT_FAIL;
	}
}

int
img_cli_key(const char *key_file, uint8_t *key, size_t cap,
	    const uint8_t **out, size_t *len)
{
	int r;

	if (key_file == NULL)
		return 0;
	r = img_key_load(key_file, key, cap);
	if (r < 0)
		return -1;
	*out = key;
	*len = (size_t)r;
	return 0;
}

int
img_parse_u64(const char *s, uint64_t *out)
{
	return dvs_parse_size(s, UINT64_MAX, out) == 0 ? 0 : -1;
}

int
img_cli_int(const char *cmd, const char *opt, const char *s, long min, long max, int *out)
{
	long v;

	if (dvs_parse_long(s, min, max, &v) != 0) {
		fprintf(stderr, "dvs img %s: %s needs a number from %ld to %ld, not '%s'\n", cmd,
			opt, min, max, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvs img [-v|-q] COMMAND [OPTIONS]\n"
		"\n"
		"Moves disk images between machines, sending only the blocks the\n"
		"receiver cannot find in images it already has (seeds).\n"
		"\n"
		"Commands:\n"
		"  index IMAGE         write IMAGE.dvsidx (SHA-256 of every block)\n"
		"  similarity TARGET SEED...\n"
		"                      share of TARGET's blocks found in the seeds\n"
		"  serve IMAGE         send IMAGE to fetchers (TCP or --stdio)\n"
		"  fetch HOST:PORT OUTPUT [--seed S]...\n"
		"  fetch --stdio OUTPUT [--seed S]... -- COMMAND...\n"
		"                      build OUTPUT from seeds and the server\n"
		"\n"
		"  -v, --verbose       log more (again: debug); before COMMAND\n"
		"  -q, --quiet         log errors only; before COMMAND (fetch -q is\n"
		"                      fetch's own: no progress line)\n"
		"\n"
		"`dvs img COMMAND --help` shows a command's options; `dvs img --version`\n"
		"prints the version.\n"
		"Exit codes: 0 ok, 1 error, 2 usage, 3 connection lost (run again to\n"
		"resume), 4 authentication failed, 5 corrupt index/stream/data,\n"
		"6 local I/O error (e.g. disk full).\n");
}

int
main(int argc, char **argv)
{
	dvs_log_init("dvs-img");
	/* -v, -vv..., --verbose, -q, --quiet: the log level, before COMMAND. */
	while (argc >= 2 && argv[1][0] == '-') {
		if (strcmp(argv[1], "--verbose") == 0 ||
		    (argv[1][1] == 'v' && strspn(argv[1] + 1, "v") == strlen(argv[1] + 1))) {
			size_t k = strcmp(argv[1], "--verbose") == 0 ? 1 : strlen(argv[1] + 1);

			while (k-- > 0)
				dvs_log_more();
		} else if (strcmp(argv[1], "-q") == 0 || strcmp(argv[1], "--quiet") == 0) {
			dvs_log_quiet();
		} else {
			break;
		}
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return dvs_print_version("dvs-img");
	if (strcmp(argv[1], "index") == 0) {
		img_log_prefix("dvs img index");
		return cmd_index(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "similarity") == 0) {
		img_log_prefix("dvs img similarity");
		return cmd_similarity(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "serve") == 0) {
		img_log_prefix("dvs img serve");
		return cmd_serve(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "fetch") == 0) {
		img_log_prefix("dvs img fetch");
		return cmd_fetch(argc - 1, argv + 1);
	}
	fprintf(stderr, "dvs img: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
