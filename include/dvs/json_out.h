/*
 * json_out.h - JSON output of the DVS programs (--json), written with
 * json-c so that any name, path or message comes out as valid JSON.  Every
 * program prints the same way: one document a line, "key": value with a
 * space, '/' not escaped.
 */
#ifndef DVS_JSON_OUT_H
#define DVS_JSON_OUT_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/*
 * A new JSON string of s (borrowed; NULL gives ""): bytes that are not
 * valid UTF-8 (Linux names may hold any) become U+FFFD, so the document
 * stays valid; quotes, backslashes and control characters are json-c's
 * to escape.  The caller owns the result (json_object_put, or hand it to
 * an object or array).
 */
struct json_object *dvs_json_string(const char *s);

/* A number printed with decimals digits after the point (null for NaN
 * or infinity).  The caller owns the result. */
struct json_object *dvs_json_fixed(double v, int decimals);

/* obj[key] = a string, an integer, a boolean, a fixed-point number: short
 * forms of json_object_object_add.  key is copied. */
void dvs_json_add_str(struct json_object *obj, const char *key, const char *s);
void dvs_json_add_int(struct json_object *obj, const char *key, int64_t v);
void dvs_json_add_uint(struct json_object *obj, const char *key, uint64_t v);
void dvs_json_add_bool(struct json_object *obj, const char *key, int v);
void dvs_json_add_fixed(struct json_object *obj, const char *key, double v, int decimals);

/*
 * Writes doc and a newline to f, then releases doc (taken over).
 * Returns 0, or -EIO when f could not be written.
 */
int dvs_json_print(FILE *f, struct json_object *doc);

#endif
