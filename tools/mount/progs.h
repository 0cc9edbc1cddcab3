/*
 * progs.h - where dvs mount finds the programs it starts: beside itself,
 * as the user reached it (build/bin/dvs-mount finds build/bin/dvs-fs;
 * /usr/bin/dvs-mount finds /usr/bin/dvs-fs).
 */
#ifndef DVS_MOUNT_PROGS_H
#define DVS_MOUNT_PROGS_H

#include <stddef.h>

/*
 * Finds our folder from argv0 (borrowed): its folder when it has one,
 * else the PATH entry that holds it, else our executable's real folder.
 */
void progs_init(const char *argv0);

/* dir/name into buf; 0 or -ENAMETOOLONG. */
int progs_path(const char *name, char *buf, size_t len);

/* The PATH entry holding an executable name, as a shell finds it, into
 * buf; 0 or -ENOENT. */
int progs_find_in_path(const char *name, char *buf, size_t len);

#endif
