/*
 * iobuf.c - the bulk I/O buffer of a server: shared with dvkd when it
 * gives one, else a huge page of ordinary memory (see dvs/srv.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dvs/log.h"
#include "dvs/srv.h"

#define HUGE_PAGE (2u << 20)

int
srv_iobuf_alloc(struct dvk *h, size_t len, struct srv_iobuf *b)
{
	size_t alloc;
	void *p;
	int rc;

	memset(b, 0, sizeof(*b));
	rc = h != NULL ? dvk_buf_alloc(h, len, &p) : -EINVAL;
	if (rc == 0) {
		b->p = p;
		b->len = len;
		b->h = h;
		return 0;
	}
	dvs_warn("no copy buffer from dvkd (%s): bulk copies take two kernel copies",
		 dvk_strerror(rc));
	/* A huge page at least spares the kernel pinning 4 KiB pages. */
	alloc = (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	p = aligned_alloc(HUGE_PAGE, alloc);
	if (p == NULL)
		return -ENOMEM;
	(void)madvise(p, alloc, MADV_HUGEPAGE);
	b->p = p;
	b->len = len;
	return 0;
}

void
srv_iobuf_free(struct srv_iobuf *b)
{
	if (b->p == NULL)
		return;
	if (b->h != NULL)
		(void)dvk_buf_free(b->h, b->p);
	else
		free(b->p);
	memset(b, 0, sizeof(*b));
}
