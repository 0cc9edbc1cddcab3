/* bench_fs.c - placeholder until the fs benchmark lands. */
#include <stdio.h>

#include "bench.h"

int
bench_fs_main(struct bench_report *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	fprintf(stderr, "dvs-bench: the fs benchmark is not built yet\n");
	return 2;
}
