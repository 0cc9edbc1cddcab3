/*
 * umount_elsewhere.h - a dvs mount that lives on in another mount
 * namespace.
 *
 * A mount namespace made while the file system was mounted (`ip netns
 * exec`, `unshare -m`, a container; here / is private, so nothing
 * propagates) holds its own copy of the mount.  Unmounting ours then
 * leaves the FUSE connection alive: dvs-fuse never hears that it is
 * unmounted and its servers never stop.  dvs umount therefore writes the
 * dirty pages back before unmounting (the kernel would only do so when
 * the last copy goes) and, when dvs-fuse outlives the unmount, tells it to
 * stop; closing its /dev/fuse ends the copies elsewhere.
 */
#ifndef DVS_MOUNT_UMOUNT_ELSEWHERE_H
#define DVS_MOUNT_UMOUNT_ELSEWHERE_H

/* syncfs(2) of the file system on mnt.  0, or -errno (logged). */
int umount_sync(const char *mnt);

/*
 * After a successful unmount: when the supervisor sup is still there
 * after grace_s seconds and the dvs-fuse named by fuse_pid in the state
 * file at state still runs, sends it SIGTERM.  Returns 1 if it did.
 */
int umount_stop_stray_fuse(const char *state, long sup, long grace_s);

#endif
