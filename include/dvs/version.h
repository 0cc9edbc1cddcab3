/*
 * version.h - the one version string of every DVS program (meson's project
 * version) and the one way each prints it for --version.
 */
#ifndef DVS_VERSION_H
#define DVS_VERSION_H

/* The version, e.g. "0.1.0"; a static string. */
const char *dvs_version(void);

/*
 * Prints "PROG VERSION" on stdout, as every DVS program answers --version.
 * prog is borrowed for the call.  Returns 0, the exit status to use.
 */
int dvs_print_version(const char *prog);

#endif
