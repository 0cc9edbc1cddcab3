/*
 * progress_line.c - the line `dvs img fetch` draws on a terminal from the
 * library's progress callback: redrawn in place, ended at the end of
 * each attempt.
 */
#include <stdio.h>

#include "cli.h"

void
img_progress_line(const struct img_fetch_progress *p, void *arg)
{
	double rate, eta;

	(void)arg;
	rate = p->seconds > 0 ? (double)p->got_bytes / p->seconds : 0;
	eta = rate > 0 && p->need_bytes > p->got_bytes ?
		      (double)(p->need_bytes - p->got_bytes) / rate : 0;
	fprintf(stderr, "\r\033[Kdvs img fetch: %.1f / %.1f MiB  %.1f MiB/s  ETA %d:%02d",
		(double)p->got_bytes / 1048576.0, (double)p->need_bytes / 1048576.0,
		rate / 1048576.0, (int)eta / 60, (int)eta % 60);
	if (p->done)
		fputc('\n', stderr);
}
