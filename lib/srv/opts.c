/*
 * opts.c - numbers and endpoints from a server's options and environment
 * (see dvs/srv.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dvs/parse.h"
#include "dvs/srv.h"

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
