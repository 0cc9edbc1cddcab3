/* bench_ipc.c - placeholder until the ipc benchmark lands. */
#include <stdio.h>

#include "bench.h"

int
bench_ipc_main(struct bench_report *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	fprintf(stderr, "dvs-bench: the ipc benchmark is not built yet\n");
	return 2;
}
