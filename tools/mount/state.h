/*
 * state.h - the state file of a dvs mount (RUN/state): one KEY=VALUE a
 * line.  dvs mount writes IMAGE, MNT and the options; the supervisor adds
 * supervisor=PID, then fs_pid, vdd_pid and fuse_pid, which dvs umount,
 * the tests and dvs-bench read.  Values hold no newline (dvs mount
 * refuses such paths).
 */
#ifndef DVS_MOUNT_STATE_H
#define DVS_MOUNT_STATE_H

#include <stddef.h>

/* Appends "key=value\n" to the state file in run (borrowed). 0 or -errno. */
int state_put(const char *run, const char *key, const char *value);

/* Appends "key=N\n" (nothing for n < 0: "key=" as the script wrote). */
int state_put_int(const char *run, const char *key, long n);

/*
 * The value of the last line of key in the state file at path into buf.
 * Returns 1 found, 0 not found, -errno when the file cannot be read.
 */
int state_get(const char *path, const char *key, char *buf, size_t len);

/* state_get of a number; 1 found (in *n), 0 not found or not a number. */
int state_get_int(const char *path, const char *key, long *n);

#endif
