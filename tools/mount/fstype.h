/*
 * fstype.h - which file system an image holds, as libblkid sees it, and
 * whether dvs-fs can serve it.
 */
#ifndef DVS_MOUNT_FSTYPE_H
#define DVS_MOUNT_FSTYPE_H

#include <stddef.h>

enum fstype_kind {
	FSTYPE_NONE,  /* no file system found */
	FSTYPE_FAT,   /* vfat: FAT12/16/32 */
	FSTYPE_EXT,   /* ext2, ext3, ext4 (dvs-fs tells them apart itself) */
	FSTYPE_OTHER, /* a file system dvs-fs does not serve */
};

/*
 * Probes the image at path (borrowed).  On success returns 0, sets *kind
 * and writes blkid's TYPE (e.g. "vfat", "ext4", "xfs"; "" for none) into
 * type.  Returns -errno when the image cannot be read, -EINVAL when blkid
 * finds two file systems that contradict each other (its "ambivalent").
 */
int fstype_probe(const char *path, enum fstype_kind *kind, char *type, size_t len);

#endif
