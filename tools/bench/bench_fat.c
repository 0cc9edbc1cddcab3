/* bench_fat.c - placeholder until the fat benchmark lands. */
#include <stdio.h>

#include "bench.h"

int
bench_fat_main(struct bench_report *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	fprintf(stderr, "dvs-bench: the fat benchmark is not built yet\n");
	return 2;
}
