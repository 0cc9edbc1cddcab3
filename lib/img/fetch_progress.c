/*
 * fetch_progress.c - tells the program how far a fetch is through its
 * callback (img_fetch_opts.progress): at most four times a second, and
 * once more at the end.  Drawing it is the program's business.
 */
#include "fetch_int.h"

void
fetch_progress(struct fet *f, int force)
{
	struct img_fetch_progress p;
	uint64_t now = dvs_now_ns();

	if (f->o->progress == NULL || (!force && now - f->last_prog < 250000000u))
		return;
	f->last_prog = now;
	p.got_bytes = f->got_bytes;
	p.need_bytes = f->need_bytes;
	p.seconds = (double)(now - f->t0) / 1e9;
	p.done = force;
	f->o->progress(&p, f->o->progress_arg);
}
