/*
 * remote.h - what remote.c (stand-ins, frames from other nodes) and
 * pump.c (the pump thread) share.  Everything here is under rlock
 * (dvkd_rlock) unless said otherwise.
 */
#ifndef DVKD_REMOTE_H
#define DVKD_REMOTE_H

#include <stdint.h>

#include "dvkd.h"

/* A NAKed sender waits this long before it resends (the receiver's ring
 * was full, or the sender's binding was not in the directory there yet);
 * it gives up on the second after RM_RETRY_MAX rounds (about 2 s). */
#define RM_RETRY_NS 200000ull
#define RM_RETRY_MAX 10000u

/* Rings with a stand-in on one side: to one (out), from one (in).
 * Owned by remote.c; the pump reads the list. */
extern struct ring **dvkd_rm_rings;
extern int dvkd_rm_nrings;

/* The stand-in doorbell of each DC that has stand-ins (a list of (dc,
 * doorbell); remote.c maps and unmaps them, the pump waits on them). */
struct dvkd_rm_db {
	struct dc *dc;
	int fd;
	struct dvk_doorbell *db;
};
extern struct dvkd_rm_db dvkd_rm_dbs[DVKD_MAX_DCS];
extern int dvkd_rm_ndbs;

/* Makes the pump look again: its futex_waitv returns if it sleeps (or
 * is about to, having read its futex before this increment).  Any
 * thread; the system call waits for dvkd_wake_flush in a batch. */
void dvkd_pump_kick(void);
/* Forwards the reply a local receiver wrote for a remote sendrec, if it
 * is there; 1 if queued (the caller flushes). */
int dvkd_pump_reply(struct ring *r);
/* The position of the other node's ring up to which an inbound ring can
 * be acknowledged. */
uint64_t dvkd_pump_ack_pos(struct ring *r);
/* Whether an inbound ring's receiver has not taken all we put in it and
 * no reply is to carry the acknowledgement (the pump then watches its
 * head). */
int dvkd_pump_untaken(const struct ring *r);

#endif
