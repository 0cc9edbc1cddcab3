/*
 * mount_cli.h - what the parts of the dvs-mount command share: its name in
 * messages and the one way it reports a failure.
 */
#ifndef DVS_MOUNT_CLI_H
#define DVS_MOUNT_CLI_H

#define PROG "dvs-mount"

/* Prints "dvs-mount: MESSAGE" on stderr; returns 1 (DVS_EXIT_FAILURE). */
int mount_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
