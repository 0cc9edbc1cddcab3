/*
 * fuzz_vdd.c - libFuzzer target over dvs-vdd's request decoder: every
 * 64 bytes of input is one request to vdd_dispatch on a 64 KiB image in a
 * memfd; grants 0..2 are client memory with different access, copies are
 * checked like the DVK would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vdd.h"

static unsigned char client[8192];

static int
check(dvk_grant_t g, size_t off, size_t len, unsigned want)
{
	static const unsigned access[3] = { DVK_GRANT_READ, DVK_GRANT_WRITE,
					    DVK_GRANT_READ | DVK_GRANT_WRITE };
	static const size_t glen[3] = { 512, 4096, sizeof(client) };

	if (g < 0 || g > 2)
		return -EDVS_BADGRANT;
	if (!(access[g] & want))
		return -EDVS_GRANTACCESS;
	if (off > glen[g] || len > glen[g] - off)
		return -EDVS_GRANTRANGE;
	return 0;
}

int
dvk_vcopy_from(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
	       void *buf, size_t len)
{
	int rc = check(g, off, len, DVK_GRANT_READ);

	if (rc == 0)
		memcpy(buf, client + off, len);
	return rc;
}

int
dvk_vcopy_to(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
	     const void *buf, size_t len)
{
	int rc = check(g, off, len, DVK_GRANT_WRITE);

	if (rc == 0)
		memcpy(client + off, buf, len);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vdd v;
	dvk_msg_t in, out;
	size_t i;

	if (v.buf == NULL) {
		v.fd = memfd_create("fuzz-vdd", 0);
		if (v.fd < 0 || ftruncate(v.fd, 65536) < 0)
			abort();
		v.size = 65536;
		v.sector = 512;
		v.buf = malloc(BLK_IO_MAX);
		if (v.buf == NULL)
			abort();
	}
	for (i = 0; i + sizeof(in) <= size && i < 32 * sizeof(in); i += sizeof(in)) {
		memcpy(&in, data + i, sizeof(in));
		if ((in.m_type & 0x10000) == 0)
			in.m_type = BLK_RQ_BASE + (int32_t)((uint32_t)in.m_type % (BLK_NCALLS + 1));
		vdd_dispatch(&v, &in, &out);
	}
	return 0;
}
