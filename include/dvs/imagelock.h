/*
 * imagelock.h - one writer per disk image, across every DVS program.
 *
 * Every program that writes an image (dvs-fs through fat_image_open,
 * dvs-vdd, the writing commands of dvs-fat, dvs img fetch) takes an
 * exclusive flock(2) on its open image file; readers that need a stable
 * image (dvs-fat ls/get, read-only dvs-fs and dvs-vdd, dvs img serve)
 * take a shared one.  The lock belongs to the open file, not to its name,
 * so a hard link, a bind mount or a symbolic link to a served image meets
 * the same lock; it goes away with the last descriptor of that open, so a
 * killed program never leaves it behind.
 *
 * Why flock and not an OFD fcntl lock: both are per open file, but
 * /proc/locks names the pid of a flock's taker (an OFD lock shows -1),
 * and the message that refuses an image must say who holds it.  Why not
 * a classic fcntl lock: it is dropped when the process closes ANY
 * descriptor of the file, which a library cannot promise never to do.
 * mtools does not lock image files given with -i; fsck.fat -n only reads.
 *
 * Implemented in lib/fat/blkdev_image.c (fat_dep).
 */
#ifndef DVS_IMAGELOCK_H
#define DVS_IMAGELOCK_H

#include <stddef.h>

/*
 * Locks the open file fd: exclusive for a writer, shared for a reader,
 * without waiting.  0, or -EBUSY when another open of the same file holds
 * a conflicting lock (see dvs_image_holder), or another -errno.
 */
int dvs_image_lock(int fd, int exclusive);

/*
 * Describes who holds a lock on the file at path (symbolic links
 * followed), from /proc/locks and /proc/PID/comm: "dvs-fs (pid 1234),
 * which writes it", "dvs-fat (pid 99), which reads it", or "another
 * process" when it cannot tell.  Writes at most len bytes (NUL included)
 * into buf, borrowed for the call; returns buf.
 */
char *dvs_image_holder(const char *path, char *buf, size_t len);

/*
 * The whole sentence for a refused image, for programs to print after
 * their name: "PATH is in use by dvs-fs (pid 1234), which writes it; stop
 * that program first (or `dvs umount` its mount point)".  Same buffer
 * rules as dvs_image_holder.
 */
char *dvs_image_busy_msg(const char *path, char *buf, size_t len);

#endif
