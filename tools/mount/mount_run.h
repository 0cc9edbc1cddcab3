/*
 * mount_run.h - making the run directory of a new dvs mount: refused when
 * the image is already served by another dvs mount or a supervisor still
 * runs there; a leftover of a killed one is removed.
 */
#ifndef DVS_MOUNT_RUN_H
#define DVS_MOUNT_RUN_H

#include "mount_opts.h"

/* Sets o->run, makes the directory and writes the state file with what
 * o asks.  Returns 0, or the exit status after the message. */
int mount_make_run_dir(struct mount_opts *o);

#endif
