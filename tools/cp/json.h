/* json.h - the one JSON writing helper dvs-cp needs (no JSON library in
 * the dependencies): a string, escaped. */
#ifndef DVS_CP_JSON_H
#define DVS_CP_JSON_H

#include <stdio.h>

/*
 * Writes s (borrowed) as a JSON string literal, quotes included: '"', '\\'
 * and control characters escaped; bytes that are not valid UTF-8 (Linux
 * names may hold any bytes) become U+FFFD, so the output is always valid
 * JSON.
 */
void json_str(FILE *f, const char *s);

#endif
