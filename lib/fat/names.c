/* names.c - VFAT names: UTF-8 <-> UTF-16, validity, case folding, 8.3
 * aliases with numeric tails and the NT lower-case bits. */
#include <stdio.h>

#include "fat_int.h"

/* Upper-case fold of the common alphabets (what Windows' upcase table
 * does for Latin-1, Latin Extended-A, Greek and Cyrillic). */
uint16_t
fat_upcase16(uint16_t c)
{
	if (c >= 'a' && c <= 'z')
		return (uint16_t)(c - 32);
	if (c < 0xE0)
		return c;
	if (c <= 0xFE)
		return c == 0xF7 ? c : (uint16_t)(c - 32);
	if (c == 0xFF)
		return 0x178;
	if (c >= 0x100 && c <= 0x17F) {
		/* pairs: even upper, odd lower, except the 0x139..0x148 and
		 * 0x179..0x17E runs which are odd upper */
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
			return (c & 1) ? c : (uint16_t)(c - 1);
		if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
			return c;
		return (c & 1) ? (uint16_t)(c - 1) : c;
	}
	if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2)
		return (uint16_t)(c - 32);
	if (c == 0x3C2)
		return 0x3A3;
	if (c >= 0x430 && c <= 0x44F)
		return (uint16_t)(c - 32);
	if (c >= 0x450 && c <= 0x45F)
		return (uint16_t)(c - 80);
	return c;
}

int
fat_utf8_to_16(const char *s, size_t len, uint16_t *out, size_t max)
{
	const uint8_t *p = (const uint8_t *)s, *e = p + len;
	size_t n = 0;

	while (p < e) {
		uint32_t cp;
		int k;
		if (*p < 0x80) {
			cp = *p;
			k = 0;
		} else if ((*p & 0xE0) == 0xC0) {
			cp = *p & 0x1F;
			k = 1;
		} else if ((*p & 0xF0) == 0xE0) {
			cp = *p & 0x0F;
			k = 2;
		} else if ((*p & 0xF8) == 0xF0) {
			cp = *p & 0x07;
			k = 3;
		} else
			return -EINVAL;
		p++;
		if (e - p < k)
			return -EINVAL;
		for (int i = 0; i < k; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return -EINVAL;
			cp = (cp << 6) | (*p & 0x3F);
		}
		/* overlong forms and surrogates are not valid UTF-8 */
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return -EINVAL;
		if (cp >= 0x10000) {
			if (n + 2 > max)
				return -ENAMETOOLONG;
			cp -= 0x10000;
			out[n++] = (uint16_t)(0xD800 | (cp >> 10));
			out[n++] = (uint16_t)(0xDC00 | (cp & 0x3FF));
		} else {
			if (n + 1 > max)
				return -ENAMETOOLONG;
			out[n++] = (uint16_t)cp;
		}
	}
	return (int)n;
}

int
fat_utf16_to_8(const uint16_t *s, size_t n, char *out, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t cp = s[i];
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n &&
		    s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
			i++;
		} else if (cp >= 0xD800 && cp <= 0xDFFF)
			cp = 0xFFFD;	/* a lone surrogate on disk */
		if (o + 5 > max)
			return -ENAMETOOLONG;
		if (cp < 0x80)
			out[o++] = (char)cp;
		else if (cp < 0x800) {
			out[o++] = (char)(0xC0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xE0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | (cp >> 18));
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	out[o] = 0;
	return (int)o;
}

int
fat_name_check(const uint16_t *n, int len)
{
	if (len <= 0)
		return -EINVAL;
	if (len > FAT_LFN_MAX)
		return -ENAMETOOLONG;
	if ((len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.'))
		return -EINVAL;
	for (int i = 0; i < len; i++) {
		uint16_t c = n[i];
		if (c < 0x20 || c == '"' || c == '*' || c == '/' || c == ':' ||
		    c == '<' || c == '>' || c == '?' || c == '\\' || c == '|' ||
		    c == 0x7F)
			return -EINVAL;
	}
	/* Windows drops trailing dots and spaces; we refuse them so a name
	 * never silently changes */
	if (n[len - 1] == '.' || n[len - 1] == ' ')
		return -EINVAL;
	return 0;
}

uint32_t
fat_name_hash(const uint16_t *n, int len)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < len; i++) {
		h ^= fat_upcase16(n[i]);
		h *= 16777619u;
	}
	return h;
}

int
fat_name_eq(const uint16_t *a, int alen, const uint16_t *b, int blen)
{
	if (alen != blen)
		return 0;
	for (int i = 0; i < alen; i++)
		if (fat_upcase16(a[i]) != fat_upcase16(b[i]))
			return 0;
	return 1;
}

uint32_t
fat_short_hash(const uint8_t *sn11)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 11; i++) {
		h ^= sn11[i];
		h *= 16777619u;
	}
	return h;
}

uint8_t
fat_lfn_checksum(const uint8_t *sn11)
{
	uint8_t s = 0;
	for (int i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + sn11[i]);
	return s;
}

/* Characters allowed in a short name besides A-Z and 0-9. */
static int
short_ok(uint16_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && c < 0x80 && strchr("!#$%&'()-@^_`{}~", c) != NULL;
}

int
fat_name_is_short(const uint16_t *n, int len, uint8_t *sn11, uint8_t *ntflags)
{
	int dot = -1, bl, el;
	int b_up = 0, b_lo = 0, e_up = 0, e_lo = 0;

	for (int i = 0; i < len; i++)
		if (n[i] == '.') {
			if (dot >= 0)
				return 0;
			dot = i;
		}
	bl = dot >= 0 ? dot : len;
	el = dot >= 0 ? len - dot - 1 : 0;
	if (bl < 1 || bl > 8 || el > 3 || (dot >= 0 && el == 0))
		return 0;
	memset(sn11, ' ', 11);
	for (int i = 0; i < len; i++) {
		if (i == dot)
			continue;
		uint16_t c = n[i];
		int in_ext = dot >= 0 && i > dot;
		if (c >= 'a' && c <= 'z') {
			c = (uint16_t)(c - 32);
			if (in_ext)
				e_lo = 1;
			else
				b_lo = 1;
		} else if (c >= 'A' && c <= 'Z') {
			if (in_ext)
				e_up = 1;
			else
				b_up = 1;
		}
		if (!short_ok(c))
			return 0;
		sn11[in_ext ? 8 + (i - dot - 1) : i] = (uint8_t)c;
	}
	if ((b_up && b_lo) || (e_up && e_lo))
		return 0;	/* mixed case needs a long name */
	if (sn11[0] == FAT_DIRENT_FREE)
		sn11[0] = FAT_DIRENT_KANJI_E5;
	*ntflags = (uint8_t)((b_lo ? FAT_NT_LOWER_BASE : 0) |
			     (e_lo ? FAT_NT_LOWER_EXT : 0));
	return 1;
}

void
fat_short_basis(const uint16_t *n, int len, uint8_t *sn11, int *lossy)
{
	int last_dot = -1, k = 0, start = 0;

	*lossy = 0;
	memset(sn11, ' ', 11);
	for (int i = 0; i < len; i++)
		if (n[i] == '.')
			last_dot = i;
	/* leading dots and spaces are dropped */
	while (start < len && (n[start] == '.' || n[start] == ' '))
		start++;
	if (last_dot < start)
		last_dot = -1;
	int bend = last_dot >= 0 ? last_dot : len;
	for (int i = start; i < bend; i++) {
		uint16_t c = fat_upcase16(n[i]);
		if (c == ' ' || c == '.') {
			*lossy = 1;
			continue;
		}
		if (!short_ok(c)) {
			c = '_';
			*lossy = 1;
		}
		if (k == 8) {
			*lossy = 1;
			break;
		}
		sn11[k++] = (uint8_t)c;
	}
	if (last_dot >= 0) {
		k = 0;
		for (int i = last_dot + 1; i < len; i++) {
			uint16_t c = fat_upcase16(n[i]);
			if (c == ' ') {
				*lossy = 1;
				continue;
			}
			if (!short_ok(c)) {
				c = '_';
				*lossy = 1;
			}
			if (k == 3) {
				*lossy = 1;
				break;
			}
			sn11[8 + k++] = (uint8_t)c;
		}
	}
	if (sn11[0] == ' ')
		sn11[0] = '_';
	if (sn11[0] == FAT_DIRENT_FREE)
		sn11[0] = FAT_DIRENT_KANJI_E5;
}

void
fat_short_tail(uint8_t *sn11, uint32_t num, const uint16_t *n, int len)
{
	char tail[12];
	int tl, bl = 0;

	/* by hand, not snprintf: a create in a big directory of similar
	 * names tries several tails, and formatting was a third of its CPU */
	if (num > 4) {
		/* as Windows does after ~4: two basis characters, four hex
		 * digits of a hash of the long name, then ~N */
		static const char hex[] = "0123456789ABCDEF";
		uint16_t h = (uint16_t)fat_name_hash(n, len);
		int keep = sn11[1] == ' ' ? 1 : 2;
		for (int i = keep; i < 8; i++)
			sn11[i] = ' ';
		for (int i = 0; i < 4; i++)
			sn11[keep + i] = (uint8_t)hex[(h >> (12 - 4 * i)) & 0xF];
		num -= 4;
	}
	char digits[10];
	int nd = 0;
	do {
		digits[nd++] = (char)('0' + num % 10);
		num /= 10;
	} while (num);
	tail[0] = '~';
	for (int i = 0; i < nd; i++)
		tail[1 + i] = digits[nd - 1 - i];
	tl = nd + 1;
	while (bl < 8 && sn11[bl] != ' ')
		bl++;
	if (bl + tl > 8)
		bl = 8 - tl;
	memcpy(sn11 + bl, tail, (size_t)tl);
}

int
fat_short_display(const uint8_t *sn11, uint8_t ntflags, uint16_t *out)
{
	int n = 0, bl = 8, el = 3;

	while (bl > 0 && sn11[bl - 1] == ' ')
		bl--;
	while (el > 0 && sn11[8 + el - 1] == ' ')
		el--;
	for (int i = 0; i < bl; i++) {
		uint16_t c = sn11[i];
		if (i == 0 && c == FAT_DIRENT_KANJI_E5)
			c = FAT_DIRENT_FREE;
		if ((ntflags & FAT_NT_LOWER_BASE) && c >= 'A' && c <= 'Z')
			c = (uint16_t)(c + 32);
		out[n++] = c;	/* bytes >= 0x80: shown as Latin-1 */
	}
	if (el > 0) {
		out[n++] = '.';
		for (int i = 0; i < el; i++) {
			uint16_t c = sn11[8 + i];
			if ((ntflags & FAT_NT_LOWER_EXT) && c >= 'A' && c <= 'Z')
				c = (uint16_t)(c + 32);
			out[n++] = c;
		}
	}
	return n;
}

void
fat_short_text(const uint8_t *sn11, char *out13)
{
	uint16_t u[13];
	int n = fat_short_display(sn11, 0, u), o = 0;
	for (int i = 0; i < n; i++)
		out13[o++] = u[i] < 0x80 ? (char)u[i] : '?';
	out13[o] = 0;
}
