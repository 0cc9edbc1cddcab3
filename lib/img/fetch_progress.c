/*
 * fetch_progress.c - the progress line a fetch draws on stderr when asked
 * (img_fetch_opts.progress): at most four times a second, and once more
 * at the end.
 */
#include <stdio.h>

#include "fetch_int.h"

void
fetch_progress(struct fet *f, int force)
{
	uint64_t now = dvs_now_ns();
	double el, rate, eta;

	if (!f->o->progress || (!force && now - f->last_prog < 250000000u))
		return;
	f->last_prog = now;
	el = (double)(now - f->t0) / 1e9;
	rate = el > 0 ? (double)f->got_bytes / el : 0;
	eta = rate > 0 && f->need_bytes > f->got_bytes ?
		      (double)(f->need_bytes - f->got_bytes) / rate : 0;
	fprintf(stderr, "\r\033[Kdvs img fetch: %.1f / %.1f MiB  %.1f MiB/s  ETA %d:%02d",
		(double)f->got_bytes / 1048576.0, (double)f->need_bytes / 1048576.0,
		rate / 1048576.0, (int)eta / 60, (int)eta % 60);
	if (force)
		fputc('\n', stderr);
}
