/*
 * srv_util.c - option parsing and bulk I/O buffers shared by dvs-fs and
 * dvs-vdd (see srv_util.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dvs/log.h"
#include "dvs/parse.h"
#include "srv_util.h"

#define HUGE_PAGE (2u << 20)

int
srv_parse_long(const char *s, long min, long max, long *out)
{
	return dvs_parse_long(s, min, max, out) == 0 ? 0 : -1;
}

int
srv_env_ep(const char *prog, const char *var, long *ep)
{
	const char *s = getenv(var);

	if (s == NULL || *s == '\0' || srv_parse_long(s, 0, INT32_MAX - 1, ep) == 0)
		return 0;
	fprintf(stderr, "%s: %s='%s' is not an endpoint number\n", prog, var, s);
	return -1;
}

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
