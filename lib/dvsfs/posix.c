/*
 * posix.c - the calls of POSIX volumes (ext2/3/4, FS_VOL_POSIX): owners,
 * symbolic and hard links, FIFOs.  On a FAT volume the server answers
 * -ENOSYS; these answer -EPERM there (as vfat does for chown and links)
 * without a round trip.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* The owner the calling thread creates as (dvs_set_owner). */
static __thread uint32_t want_uid, want_gid;

void
dvs_set_owner(uid_t uid, gid_t gid)
{
	want_uid = (uint32_t)uid;
	want_gid = (uint32_t)gid;
}

int
dvsfs_call_owner(struct dvsfs_call *c)
{
	dvk_msg_t m;
	int rc;

	if (!(c->fs->vol_flags & FS_VOL_POSIX))
		return 0;
	if (c->b->owner_uid == want_uid && c->b->owner_gid == want_gid)
		return 0;
	rc = dvsfs_req_owner(c, want_uid, want_gid, &m);
	if (rc < 0)
		return rc;
	c->b->owner_uid = want_uid;
	c->b->owner_gid = want_gid;
	return 0;
}

int
dvs_chown_stat(struct dvsfs *fs, const char *path, uid_t uid, gid_t gid,
	       struct dvs_stat *st)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	if (!dvsfs_posix(fs))
		return -EPERM;
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_chown(&c, path, uid == (uid_t)-1 ? FS_ID_KEEP : (uint32_t)uid,
			     gid == (gid_t)-1 ? FS_ID_KEEP : (uint32_t)gid, &m);
	dvsfs_call_end(&c);
	return dvsfs_changed_stat(fs, rc, &m, st);
}

int
dvs_chown(struct dvsfs *fs, const char *path, uid_t uid, gid_t gid)
{
	return dvs_chown_stat(fs, path, uid, gid, NULL);
}

/* FS_LINK and FS_SYMLINK: two strings, the stat of the new name back. */
static int
two_names(struct dvsfs *fs, int call, const char *from, const char *to,
	  struct dvs_stat *st)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	if (!dvsfs_posix(fs))
		return -EPERM;
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	if (call == FS_SYMLINK)
		rc = dvsfs_call_owner(&c);
	if (rc == 0)
		rc = dvsfs_req_rename(&c, call, from, to, 0, &m);
	dvsfs_call_end(&c);
	return dvsfs_changed_stat(fs, rc, &m, st);
}

int
dvs_symlink_stat(struct dvsfs *fs, const char *target, const char *path,
		 struct dvs_stat *st)
{
	if (target == NULL || target[0] == '\0')
		return -ENOENT;
	if (strlen(target) >= FS_PATH_MAX)
		return -ENAMETOOLONG;
	return two_names(fs, FS_SYMLINK, target, path, st);
}

int
dvs_symlink(struct dvsfs *fs, const char *target, const char *path)
{
	return dvs_symlink_stat(fs, target, path, NULL);
}

int
dvs_link_stat(struct dvsfs *fs, const char *from, const char *to, struct dvs_stat *st)
{
	return two_names(fs, FS_LINK, from, to, st);
}

int
dvs_link(struct dvsfs *fs, const char *from, const char *to)
{
	return dvs_link_stat(fs, from, to, NULL);
}

ssize_t
dvs_readlink(struct dvsfs *fs, const char *path, char *buf, size_t len)
{
	struct dvsfs_call c;
	dvk_msg_t m;
	int rc;

	if (!dvsfs_posix(fs))
		return -EINVAL; /* nothing on FAT is a link */
	if (len > FS_PATH_MAX)
		len = FS_PATH_MAX;
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_readlink(&c, path, buf, len, &m);
	dvsfs_call_end(&c);
	if (rc > (int)len)
		return -EIO; /* the server wrote no more than len */
	return rc;
}

int
dvs_mknod_stat(struct dvsfs *fs, const char *path, mode_t mode, struct dvs_stat *st)
{
	dvk_msg_t m;

	if (!dvsfs_posix(fs))
		return -EPERM;
	return dvsfs_changed_stat(fs, dvsfs_path_call(fs, FS_MKNOD, path, (uint32_t)mode, &m),
				  &m, st);
}

int
dvs_mknod(struct dvsfs *fs, const char *path, mode_t mode)
{
	return dvs_mknod_stat(fs, path, mode, NULL);
}
