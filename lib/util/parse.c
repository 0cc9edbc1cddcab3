/* parse.c - numbers from the command line (see dvs/parse.h). */
#include <errno.h>
#include <stdlib.h>

#include "dvs/parse.h"

int
dvs_parse_long(const char *s, long min, long max, long *out)
{
	const char *digits = s;
	char *end;
	long v;

	if (*digits == '-' && min < 0)
		digits++;
	if (*digits < '0' || *digits > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
