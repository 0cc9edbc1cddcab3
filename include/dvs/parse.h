/*
 * parse.h - the one way DVS programs read a number a user typed: the whole
 * argument, decimal, within bounds; never atoi's silent 0.
 */
#ifndef DVS_PARSE_H
#define DVS_PARSE_H

/*
 * Reads s (borrowed) as a decimal integer in [min, max] into *out.  The
 * whole string must be the number: no blanks, no '+', no suffix; a '-'
 * only where min is negative.  Returns 0, or -EINVAL (not a number) or
 * -ERANGE (out of bounds); *out is untouched then.
 */
int dvs_parse_long(const char *s, long min, long max, long *out);

#endif
