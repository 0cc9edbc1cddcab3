/*
 * clock.h - the one monotonic clock of DVS's libraries and tools, for
 * elapsed times, rates and deadlines (never for dates: it starts at an
 * arbitrary point, usually the boot).
 */
#ifndef DVS_CLOCK_H
#define DVS_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t dvs_now_ns(void);

#endif
