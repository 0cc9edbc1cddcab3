/* json_out.c - JSON output through json-c (see dvs/json_out.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/json_out.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static int
utf8_len(const unsigned char *p)
{
	uint32_t c;
	int n, i;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0)
		n = 2, c = p[0] & 0x1F;
	else if ((p[0] & 0xF0) == 0xE0)
		n = 3, c = p[0] & 0x0F;
	else if ((p[0] & 0xF8) == 0xF0)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0; /* also stops at the NUL */
		c = (c << 6) | (p[i] & 0x3F);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	return n;
}

struct json_object *
dvs_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	struct json_object *o;
	size_t len = strlen((const char *)p), w = 0;
	char *clean;
	int n;

	/* Each invalid byte becomes 3 bytes (EF BF BD). */
	clean = malloc(len * 3 + 1);
	if (clean == NULL)
		return json_object_new_string("");
	while (*p != '\0') {
		n = utf8_len(p);
		if (n == 0) {
			memcpy(clean + w, "\xEF\xBF\xBD", 3);
			w += 3;
			p++;
			continue;
		}
		memcpy(clean + w, p, (size_t)n);
		w += (size_t)n;
		p += n;
	}
	clean[w] = '\0';
	o = json_object_new_string_len(clean, (int)w);
	free(clean);
	return o;
}

struct json_object *
dvs_json_fixed(double v, int decimals)
{
	char text[64];

	if (!isfinite(v))
		return NULL;
	snprintf(text, sizeof(text), "%.*f", decimals, v);
	return json_object_new_double_s(v, text);
}

void
dvs_json_add_str(struct json_object *obj, const char *key, const char *s)
{
	json_object_object_add(obj, key, dvs_json_string(s));
}

void
dvs_json_add_int(struct json_object *obj, const char *key, int64_t v)
{
	json_object_object_add(obj, key, json_object_new_int64(v));
}

void
dvs_json_add_uint(struct json_object *obj, const char *key, uint64_t v)
{
	json_object_object_add(obj, key, json_object_new_uint64(v));
}

void
dvs_json_add_bool(struct json_object *obj, const char *key, int v)
{
	json_object_object_add(obj, key, json_object_new_boolean(v != 0));
}

void
dvs_json_add_fixed(struct json_object *obj, const char *key, double v, int decimals)
{
	json_object_object_add(obj, key, dvs_json_fixed(v, decimals));
}

int
dvs_json_print(FILE *f, struct json_object *doc)
{
	const char *text = json_object_to_json_string_ext(
	    doc, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = 0;

	if (fputs(text, f) == EOF || fputc('\n', f) == EOF || fflush(f) == EOF)
		rc = -EIO;
	json_object_put(doc);
	return rc;
}
