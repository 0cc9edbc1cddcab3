/*
 * fuzz_proto.c - libFuzzer target: dvkd's packet check and grant check on
 * arbitrary bytes.  The first bytes are a packet; the rest fills a grant
 * table entry and the request's fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dvkd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dvk_grant_ent table[DVK_GRANTS];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dvkd_msg m;
	uint64_t addr;
	size_t n = size < sizeof(m) ? size : sizeof(m);

	memset(&m, 0, sizeof(m));
	memcpy(&m, data, n);
	if (dvkd_msg_check(data, size) == 0 && m.h.type == DVKD_VCOPY) {
		struct dvkd_vcopy_req *v = &m.u.vcopy;
		unsigned idx = (unsigned)v->grant & (DVK_GRANTS - 1);

		/* the entry comes from the fuzzer too (the owner writes it) */
		memcpy(&table[idx], (const uint8_t *)&m + sizeof(m.h) + 8,
		       sizeof(table[idx]));
		(void)dvkd_grant_check(table, v->grant, v->owner, v->buf, v->dir,
				       v->off, v->len, &addr);
		memset(&table[idx], 0, sizeof(table[idx]));
	}
	if (size > 8) {
		/* a raw entry against raw fields */
		struct dvk_grant_ent e;
		uint64_t f[3] = { 0 };

		memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
		memcpy(f, data + 8, size - 8 < sizeof(f) ? size - 8 : sizeof(f));
		table[0] = e;
		(void)dvkd_grant_check(table, (int32_t)f[0], (int)f[1],
				       (uint32_t)(f[0] >> 32), (uint32_t)f[2] & 1,
				       f[1], f[2], &addr);
		memset(&table[0], 0, sizeof(table[0]));
	}
	return 0;
}
