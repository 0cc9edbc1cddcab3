/*
 * mount_start.h - starting the supervisor of a dvs mount (supervise.h) in
 * its own session and waiting for its word: the mount is up, or which
 * part failed, with the servers' log.  Ctrl-C, SIGTERM or SIGHUP while
 * waiting make the supervisor stop everything it started.
 */
#ifndef DVS_MOUNT_START_H
#define DVS_MOUNT_START_H

#include "mount_opts.h"

/* Returns the exit status of dvs mount: 0 mounted, 1 failed (after the
 * message and the log; nothing is left behind). */
int mount_start(const struct mount_opts *o);

#endif
