/*
 * backoff.h - whether a waiter spins before it sleeps: the one rule of
 * libdvk's waits (lib/dvk/wait.c), its control calls (lib/dvk/ctl.c) and
 * dvkd's threads (daemon/dvkd/spin.h).
 *
 * A spin saves the event it waits for a wake-up (about 25 us across cores
 * on a 2-vCPU VM) when the event comes soon: a reply from a busy server, a
 * stream of messages.  When it does not come, the spin only burns a CPU,
 * often the one the other side needs to make the event.  So a waiter
 * spins while its spins succeed; after one that failed it sleeps at once
 * the next `first` times, then twice as many after the next failed spin,
 * up to `max`; one spin that succeeds starts it over.  One per thread and
 * kind of wait; no locking.
 */
#ifndef DVS_BACKOFF_H
#define DVS_BACKOFF_H

struct dvs_backoff {
	unsigned skip;	  /* waits left that sleep at once */
	unsigned backoff; /* what skip was set to after the last failed spin */
};

/* Whether this wait may spin (1), or sleeps at once (0). */
static inline int
dvs_backoff_may_spin(struct dvs_backoff *b)
{
	if (b->skip > 0) {
		b->skip--;
		return 0;
	}
	return 1;
}

/* The end of a spin: it saw the event (found), or its time ran out. */
static inline void
dvs_backoff_result(struct dvs_backoff *b, int found, unsigned first, unsigned max)
{
	if (found) {
		b->backoff = 0;
		return;
	}
	b->backoff = b->backoff == 0 ? first : b->backoff >= max / 2 ? max : b->backoff * 2;
	b->skip = b->backoff;
}

#endif
