/*
 * srv.h - libdvssrv (lib/srv), what the servers (dvs-fs, dvs-vdd) share:
 * number parsing for their options (opts.c), and the I/O buffer a server
 * moves bulk data through (iobuf.c).
 *
 * The I/O buffer comes from dvk_buf_alloc(): memory shared with dvkd, so
 * a vcopy between it and a client's grant is ONE kernel copy (dvkd copies
 * straight between the client and its own mapping of the buffer) instead
 * of two through dvkd's bounce buffer.  When dvkd cannot give one (its
 * per-binding limit, an old dvkd), ordinary memory in a transparent huge
 * page is used instead: everything works, one copy slower.
 */
#ifndef DVS_SRV_H
#define DVS_SRV_H

#include <stddef.h>

#include "dvs/ipc.h"

/* Parses a whole decimal number in [min, max]: 0, or -1 if it is not one. */
int srv_parse_long(const char *s, long min, long max, long *out);

/* Reads an endpoint number from the environment variable var into *ep
 * (left alone when var is unset or empty).  0, or -1 after printing
 * "PROG: VAR='...' is not an endpoint number" on stderr. */
int srv_env_ep(const char *prog, const char *var, long *ep);

struct srv_iobuf {
	unsigned char *p; /* len bytes, page aligned; NULL when not allocated */
	size_t len;
	struct dvk *h; /* the binding that owns p when shared, else NULL */
};

/*
 * Allocates len bytes for bulk I/O of binding h (the binding that will
 * call dvk_vcopy_* on it: a copy buffer belongs to one binding).  0 or
 * -ENOMEM.  Free with srv_iobuf_free() BEFORE dvk_unbind(h), which unmaps
 * the shared memory.
 */
int srv_iobuf_alloc(struct dvk *h, size_t len, struct srv_iobuf *b);
/* Frees b's memory; a zeroed or already freed b is fine. */
void srv_iobuf_free(struct srv_iobuf *b);

#endif
