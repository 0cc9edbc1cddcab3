/*
 * run_dir.h - where the private DVS of one `dvs mount` keeps its socket,
 * state file and log: $DVS_RUN_DIR/mount-<first 16 hex digits of the
 * SHA-256 of the mountpoint>, so dvs umount finds it from the mountpoint
 * alone (tests compute the same name with sha256sum).
 */
#ifndef DVS_MOUNT_RUN_DIR_H
#define DVS_MOUNT_RUN_DIR_H

#include <stddef.h>

/*
 * The folder of every mount's run directory: $DVS_RUN_DIR, else /run/dvs
 * when it (or /run, to create it in) is writable, else
 * $XDG_RUNTIME_DIR/dvs, else /tmp/dvs.  Returns 0 or -ENAMETOOLONG.
 */
int run_root(char *buf, size_t len);

/* The run directory of the resolved mountpoint mnt (borrowed). */
int run_dir_of(const char *mnt, char *buf, size_t len);

/* Removes path and everything under it; a missing path is no error. */
void run_dir_remove(const char *path);

#endif
