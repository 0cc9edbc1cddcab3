/* clock.c - the monotonic clock (dvs/clock.h). */
#include <time.h>

#include "dvs/clock.h"

uint64_t
dvs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
