/* cli.h - pieces shared by the subcommands of dvs-img. */
#ifndef DVS_IMG_CLI_H
#define DVS_IMG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "dvs/img.h"

/* Exit codes scripts can rely on (also in --help and docs/IMG.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* anything else */
	EXIT_USAGE = 2,
	EXIT_CONN = 3,		/* connection lost; run again to resume */
	EXIT_AUTH = 4,		/* authentication failed */
	EXIT_DATA = 5,		/* corrupt index, stream or data; verification */
	EXIT_LOCAL = 6,		/* local I/O error, e.g. disk full */
};

int img_exit_code(int err);
/*
 * A number a user typed for option opt of dvs img cmd, in [min, max], into
 * *out.  0, or -1 after saying what is wrong (then exit EXIT_USAGE).
 */
int img_cli_int(const char *cmd, const char *opt, const char *s, long min, long max,
		int *out);
/* Parses a size/count with an optional K/M/G suffix; -1 on error. */
int img_parse_u64(const char *s, uint64_t *out);

/* --key-file F: loads F (when given) into key (cap bytes) and points
 * *out / *len at it.  0, or -1 after img_key_load said what is wrong. */
int img_cli_key(const char *key_file, uint8_t *key, size_t cap,
		const uint8_t **out, size_t *len);

/* Draws a fetch's progress on stderr (an img_fetch_opts.progress; arg
 * unused): for a terminal only. */
void img_progress_line(const struct img_fetch_progress *p, void *arg);

int cmd_index(int argc, char **argv);
int cmd_similarity(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_fetch(int argc, char **argv);

#endif
