/*
 * fuzz_frame.c - libFuzzer target: the frame header check, the checksum,
 * the INDEX frame decoder, and a whole server session reading the input
 * as the client's byte stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t (*h)[IMG_HASH_LEN];
	uint64_t first, count;
	uint32_t len;
	int type;

	if (size >= IMG_FRAME_HDR && img_frame_check_hdr(data, &type, &len) == 0 &&
	    len <= size - IMG_FRAME_HDR)
		(void)img_frame_check_crc(data, data + IMG_FRAME_HDR, len);
	h = malloc(64 * IMG_HASH_LEN);
	if (h != NULL) {
		(void)img_index_frame_decode(data, size, 64, h, &first, &count);
		free(h);
	}
	return 0;
}
