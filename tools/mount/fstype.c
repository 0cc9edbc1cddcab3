/* fstype.c - file-system detection with libblkid (see fstype.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <blkid.h>

#include "fstype.h"

static enum fstype_kind
kind_of(const char *type)
{
	static const char *const ext[] = {"ext2", "ext3", "ext4"};
	size_t i;

	if (strcmp(type, "vfat") == 0)
		return FSTYPE_FAT;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (strcmp(type, ext[i]) == 0)
			return FSTYPE_EXT;
	return FSTYPE_OTHER;
}

int
fstype_probe(const char *path, enum fstype_kind *kind, char *type, size_t len)
{
	const char *value = NULL;
	blkid_probe pr;
	int rc, err = 0;

	*kind = FSTYPE_NONE;
	snprintf(type, len, "%s", "");
	errno = 0;
	pr = blkid_new_probe_from_filename(path);
	if (pr == NULL)
		return errno != 0 ? -errno : -EIO;
	/* Only superblocks: a FAT boot sector also looks like an MBR. */
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 0);
	rc = blkid_do_safeprobe(pr);
	if (rc == -2) {
		err = -EINVAL;
	} else if (rc < 0) {
		err = -EIO;
	} else if (rc == 0 && blkid_probe_lookup_value(pr, "TYPE", &value, NULL) == 0 &&
		   value != NULL) {
		snprintf(type, len, "%s", value);
		*kind = kind_of(value);
	}
	blkid_free_probe(pr);
	return err;
}
