/* version.c - the version every program prints (see dvs/version.h). */
#include <stdio.h>

#include "dvs/version.h"

const char *
dvs_version(void)
{
	return DVS_VERSION;
}

int
dvs_print_version(const char *prog)
{
	printf("%s %s\n", prog, DVS_VERSION);
	return 0;
}
