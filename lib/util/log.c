#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/log.h"

static const char *log_prog = "dvs";
static int log_level = -1;

static int
level_from_env(void)
{
	const char *s = getenv("DVS_LOG");

	if (s == NULL)
		return DVS_LOG_WARN;
	if (strcmp(s, "error") == 0)
		return DVS_LOG_ERROR;
	if (strcmp(s, "info") == 0)
		return DVS_LOG_INFO;
	if (strcmp(s, "debug") == 0)
		return DVS_LOG_DEBUG;
	return DVS_LOG_WARN;
}

void
dvs_log_init(const char *prog)
{
	const char *slash;

	if (prog != NULL) {
		slash = strrchr(prog, '/');
		log_prog = slash != NULL ? slash + 1 : prog;
	}
	log_level = level_from_env();
}

void
dvs_log_set_level(enum dvs_log_level level)
{
	log_level = (int)level;
}

void
dvs_log_more(void)
{
	if (log_level < 0)
		log_level = level_from_env();
	if (log_level < DVS_LOG_DEBUG)
		log_level++;
}

void
dvs_log_quiet(void)
{
	log_level = DVS_LOG_ERROR;
}

const char *
dvs_log_level_name(void)
{
	static const char *names[] = { "error", "warn", "info", "debug" };

	if (log_level < 0)
		log_level = level_from_env();
	return names[log_level];
}

int
dvs_log_enabled(enum dvs_log_level level)
{
	if (log_level < 0)
		log_level = level_from_env();
	return (int)level <= log_level;
}

/*
 * Copies s into out (size n) with every control byte (below 0x20, and
 * DEL) written as \xNN: a file name or a peer's text in a message cannot
 * put a terminal escape, a carriage return or a second line into a log,
 * on a terminal or in a file or the journal.
 */
static void
log_escape(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0' && o + 5 < n; s++) {
		if (c < 0x20 || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void
dvs_log_at(enum dvs_log_level level, const char *func, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	char buf[1024], safe[1024];
	int saved = errno;
	va_list ap;

	if (!dvs_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_escape(buf, safe, sizeof(safe));
	/* One write per line keeps lines of concurrent threads whole. */
	fprintf(stderr, "%s: %s: %s: %s\n", log_prog, names[level], func, safe);
	errno = saved;
}
