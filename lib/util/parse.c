/* parse.c - numbers from the command line (see dvs/parse.h). */
#include <errno.h>
#include <stdint.h>
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

int
dvs_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > (UINT64_MAX >> shift))
		return -ERANGE;
	v <<= shift;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
