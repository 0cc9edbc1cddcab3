/* mount_checks.c - dvs mount's checks before it starts (see mount_checks.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "dvs/log.h"
#include "fstype.h"
#include "mount_checks.h"
#include "mount_cli.h"
#include "progs.h"

/* The programs a mount runs are where we are. */
int
mount_check_programs(const struct mount_opts *o)
{
	const char *need[] = {"dvsctl", "dvs-fs", "dvs-fuse", o->vdd ? "dvs-vdd" : NULL};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]) && need[i] != NULL; i++) {
		if (progs_path(need[i], path, sizeof(path)) < 0 ||
		    access(path, X_OK) != 0)
			return mount_fail(
			    "%s is missing: build DVS first (make), or reinstall it",
			    path);
	}
	return 0;
}

int
mount_check_fuse(void)
{
	char path[PATH_MAX];
	int fd;

	if (access("/dev/fuse", F_OK) != 0)
		return mount_fail(
		    "/dev/fuse is missing: load the FUSE module (modprobe fuse)");
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return mount_fail(
		    "no access to /dev/fuse (run as root or join the fuse group)");
	if (fd >= 0)
		close(fd);
	if (progs_find_in_path("fusermount3", path, sizeof(path)) != 0)
		return mount_fail("fusermount3 is missing (apt-get install fuse3)");
	return 0;
}

/* The image exists, is a file we may use, and holds a file system that
 * dvs-fs serves. */
int
mount_check_image(const char *image, int ro)
{
	enum fstype_kind kind;
	char type[64];
	struct stat st;
	int rc;

	if (stat(image, &st) != 0)
		return mount_fail("image %s does not exist", image);
	if (!S_ISREG(st.st_mode))
		return mount_fail("image %s is not a regular file", image);
	if (access(image, R_OK) != 0)
		return mount_fail("image %s is not readable", image);
	if (!ro && access(image, W_OK) != 0)
		return mount_fail("image %s is not writable (use --ro)", image);
	rc = fstype_probe(image, &kind, type, sizeof(type));
	if (rc == -EINVAL)
		return mount_fail(
		    "image %s holds signatures of more than one file system "
		    "(blkid -p %s shows them); wipe the stale one with wipefs",
		    image, image);
	if (rc < 0)
		return mount_fail("cannot read image %s: %s", image, strerror(-rc));
	switch (kind) {
	case FSTYPE_FAT:
	case FSTYPE_EXT:
		dvs_info("image %s holds a %s file system", image, type);
		return 0;
	case FSTYPE_NONE:
		return mount_fail(
		    "image %s is not a FAT file system: blkid finds no file system "
		    "on it (format it: dvs fat mkfs or mkfs.fat)",
		    image);
	case FSTYPE_OTHER:
		break;
	}
	return mount_fail("image %s holds a %s file system, which dvs-fs does not serve "
			  "(dvs mount takes FAT (vfat) and ext2/ext3/ext4 images)",
			  image, type);
}
