/*
 * supervise.h - the supervisor of one dvs mount: a process in its own
 * session that starts a private dvkd, a DC, dvs-vdd (--vdd), dvs-fs and
 * dvs-fuse, waits for dvs-fuse to exit (it does when the file system is
 * unmounted, by whoever), then stops dvs-fs cleanly (it flushes the
 * volume), dvs-vdd and dvkd, and removes the run directory.  SIGTERM,
 * SIGINT or SIGHUP make it unmount and stop everything.
 *
 * Its stdout and stderr are the run directory's log, which the servers
 * share.  It tells dvs mount how the start went through ready_fd: the
 * line "ok" once the mount is up; else "error: REASON" followed by the
 * log, after everything it started has stopped.
 */
#ifndef DVS_MOUNT_SUPERVISE_H
#define DVS_MOUNT_SUPERVISE_H

#include "mount_opts.h"

/* Never returns: exits with dvs-fuse's status (1 when the start failed). */
void supervise(const struct mount_opts *o, int ready_fd) __attribute__((noreturn));

#endif
