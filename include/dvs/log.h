/*
 * log.h - one-line diagnostics for DVS programs.
 *
 * Every message goes to stderr as "program: function: text".  Programs set
 * their name once with dvs_log_init(); the level comes from DVS_LOG
 * (error, warn, info, debug; default warn) or dvs_log_set_level(), and
 * the command-line convention of every program that has one: each -v
 * (--verbose) one level more, -q (--quiet) errors only.
 */
#ifndef DVS_LOG_H
#define DVS_LOG_H

enum dvs_log_level {
	DVS_LOG_ERROR = 0,
	DVS_LOG_WARN = 1,
	DVS_LOG_INFO = 2,
	DVS_LOG_DEBUG = 3,
};

/* prog is borrowed and must outlive the program (argv[0] is fine). */
void dvs_log_init(const char *prog);
void dvs_log_set_level(enum dvs_log_level level);
int dvs_log_enabled(enum dvs_log_level level);
/* -v: one level more than now (up to debug).  Call after dvs_log_init. */
void dvs_log_more(void);
/* -q: errors only. */
void dvs_log_quiet(void);
/* The level now, as DVS_LOG spells it ("warn", ...), to hand to children. */
const char *dvs_log_level_name(void);

void dvs_log_at(enum dvs_log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define dvs_err(...) dvs_log_at(DVS_LOG_ERROR, __func__, __VA_ARGS__)
#define dvs_warn(...) dvs_log_at(DVS_LOG_WARN, __func__, __VA_ARGS__)
#define dvs_info(...) dvs_log_at(DVS_LOG_INFO, __func__, __VA_ARGS__)
#define dvs_debug(...)                                                    \
	do {                                                              \
		if (dvs_log_enabled(DVS_LOG_DEBUG))                       \
			dvs_log_at(DVS_LOG_DEBUG, __func__, __VA_ARGS__); \
	} while (0)

#endif
