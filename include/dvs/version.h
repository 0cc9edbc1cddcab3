/*
 * version.h - the one version string of every DVS program (meson's project
 * version, generated into dvs/version_config.h) and the one way each prints
 * it for --version.  Header-only, so any program has it without a library.
 */
#ifndef DVS_VERSION_H
#define DVS_VERSION_H

#include <stdio.h>

#include "dvs/version_config.h"

/*
 * Prints "PROG VERSION" on stdout, as every DVS program answers --version.
 * prog is borrowed for the call.  Returns 0, the exit status to use.
 */
static inline int
dvs_print_version(const char *prog)
{
	printf("%s %s\n", prog, DVS_VERSION);
	return 0;
}

#endif
