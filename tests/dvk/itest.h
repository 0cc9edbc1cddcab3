/*
 * itest.h - helpers of the DVK integration tests (itest.c runs each test
 * against a private dvkd; see README.md).
 */
#ifndef DVK_ITEST_H
#define DVK_ITEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "dvs/ipc.h"

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                            \
			exit(1);                                             \
		}                                                            \
	} while (0)

#define CHECK_RC(expr, want)                                                 \
	do {                                                                 \
		int rc_ = (expr);                                            \
		if (rc_ != (want)) {                                         \
			fprintf(stderr, "%s:%d: %s = %d (%s), want %d (%s)\n", \
				__FILE__, __LINE__, #expr, rc_,              \
				dvk_strerror(rc_), (want), dvk_strerror(want)); \
			exit(1);                                             \
		}                                                            \
	} while (0)

/* Runs fn(arg) in a child process (which inherits the admission); the
 * child's exit status is fn's return value. */
pid_t it_spawn(int (*fn)(void *), void *arg);
/* Waits for pid; returns its exit status, or 128+signal. */
int it_wait(pid_t pid);
int64_t it_now_ms(void);
double it_now_us(void);
/* Runs `dvsctl ARGS...` (from $DVS_BIN) and returns its exit status. */
int it_dvsctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Binds ep or exits the process. */
struct dvk *it_bind(dvk_ep_t ep);
void it_msg(dvk_msg_t *m, int32_t type, int32_t v);
/* For it_spawn: binds endpoint 7 and answers every sendrec with the
 * request itself, until it is killed or its receive fails. */
int it_echo7(void *arg);

#endif
