/*
 * mount_checks.h - what a user can get wrong before dvs mount starts
 * anything, each with a message that says what to do.  Each returns 0, or
 * the exit status after the message.
 */
#ifndef DVS_MOUNT_CHECKS_H
#define DVS_MOUNT_CHECKS_H

#include "mount_opts.h"

/* /dev/fuse is there and ours to open; fusermount3 is installed. */
int mount_check_fuse(void);

/* dvsctl, dvs-fs, dvs-fuse (and dvs-vdd for --vdd) are beside us. */
int mount_check_programs(const struct mount_opts *o);

/* image (borrowed) is a file we may read (and write unless ro) holding a
 * file system dvs-fs serves, as libblkid sees it. */
int mount_check_image(const char *image, int ro);

#endif
