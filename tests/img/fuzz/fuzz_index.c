/* fuzz_index.c - libFuzzer target: the index file parser. */
#include <stdint.h>
#include <stdlib.h>

#include "dvs/img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_index *ix = NULL;

	if (img_index_parse(data, size, &ix) == 0)
		img_index_free(ix);
	return 0;
}
