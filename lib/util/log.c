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

void
dvs_log_at(enum dvs_log_level level, const char *func, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	char buf[1024];
	int saved = errno;
	va_list ap;

	if (!dvs_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line keeps lines of concurrent threads whole. */
	fprintf(stderr, "%s: %s: %s: %s\n", log_prog, names[level], func, buf);
	errno = saved;
}
