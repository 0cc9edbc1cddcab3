/*
 * parse.h - the one way DVS programs read a number a user typed: the whole
 * argument, decimal, within bounds; never atoi's silent 0.
 */
#ifndef DVS_PARSE_H
#define DVS_PARSE_H

#include <stdint.h>

/*
 * Reads s (borrowed) as a decimal integer in [min, max] into *out.  The
 * whole string must be the number: no blanks, no '+', no suffix; a '-'
 * only where min is negative.  Returns 0, or -EINVAL (not a number) or
 * -ERANGE (out of bounds); *out is untouched then.
 */
int dvs_parse_long(const char *s, long min, long max, long *out);

/*
 * A size: decimal digits, optionally followed by one of k, M, G (either
 * case; 2^10, 2^20, 2^30), at most max.  No sign, no blanks.  Returns 0,
 * -EINVAL or -ERANGE as dvs_parse_long; *out is untouched on error.
 */
int dvs_parse_size(const char *s, uint64_t max, uint64_t *out);

#endif
