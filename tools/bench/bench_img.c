/* bench_img.c - placeholder until the img benchmark lands. */
#include <stdio.h>

#include "bench.h"

int
bench_img_main(struct bench_report *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	fprintf(stderr, "dvs-bench: the img benchmark is not built yet\n");
	return 2;
}
