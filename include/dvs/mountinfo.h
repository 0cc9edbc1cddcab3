/*
 * mountinfo.h - what is mounted on a directory, from /proc/self/mountinfo
 * (what findmnt -M reads), so dvs mount, dvs umount and dvs-fuse need no
 * findmnt.
 */
#ifndef DVS_MOUNTINFO_H
#define DVS_MOUNTINFO_H

#include <stddef.h>
#include <stdio.h>

/*
 * The file-system type of the topmost mount on the resolved path mnt
 * (borrowed), e.g. "fuse.dvs", into fstype (len bytes).  Returns 1 when
 * something is mounted there, 0 when nothing is, -errno when the table
 * cannot be read.
 */
int mountinfo_fstype(const char *mnt, char *fstype, size_t len);

/* The same, from a table in mountinfo's format (borrowed; read to its end). */
int mountinfo_find(FILE *table, const char *mnt, char *fstype, size_t len);

/* 1 if a dvs mount (fuse.dvs) is on mnt, else 0. */
int mountinfo_is_dvs(const char *mnt);

#endif
