/*
 * fuzz_wire.c - libFuzzer over what a node reads from outside before it
 * trusts anything: proxy frame headers (a byte stream cut into frames the
 * way proxy.c does) and the cluster file parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cluster.h"
#include "proxy_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_file f;
	struct px_hdr h;
	char err[256];
	size_t off = 0;

	if (size > 0 && data[0] & 1) {
		cl_file_parse((const char *)data + 1, size - 1, &f, err, sizeof(err));
		return 0;
	}
	while (size - off >= sizeof(struct px_hdr)) {
		if (px_hdr_check(data + off, size - off, &h) < 0)
			break;
		if (h.len > PX_BODY_MAX)
			__builtin_trap(); /* a checked header promised a fixed body */
		if (size - off < sizeof(h) + h.len)
			break;
		off += sizeof(h) + h.len;
	}
	return 0;
}
