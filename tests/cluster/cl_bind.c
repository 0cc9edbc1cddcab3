/*
 * cl_bind.c - binds one endpoint and holds it: `cl_bind EP SECONDS` prints
 * "bound EP" (or the error) and stays bound for SECONDS, or until killed.
 * The cluster tests run it through `dvsctl run` on chosen nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dvs/ipc.h"

int
main(int argc, char **argv)
{
	struct dvk *h;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: cl_bind EP SECONDS\n");
		return 2;
	}
	rc = dvk_bind(atoi(argv[1]), 0, &h);
	if (rc < 0) {
		printf("error %s\n", dvk_strerror(rc));
		return 1;
	}
	printf("bound %d\n", dvk_self(h));
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	dvk_unbind(h);
	return 0;
}
