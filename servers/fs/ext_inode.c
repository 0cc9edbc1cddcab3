/*
 * ext_inode.c - inodes, names and links of an ext volume, the pieces the
 * handlers share.  Every function here expects the caller to hold
 * xv->lock (ext.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ext.h"

/* Bytes of the large inode that hold the nanosecond times (up to and
 * including i_atime_extra). */
#define EXTRA_TIMES_ISIZE 16

int
ext_iget(struct ext_vol *xv, uint32_t ino, struct ext2_inode_large *in)
{
	memset(in, 0, sizeof(*in));
	return ext_err(ext2fs_read_inode_full(xv->fs, ino, (struct ext2_inode *)in,
					      sizeof(*in)),
		       "reading an inode");
}

int
ext_iput(struct ext_vol *xv, uint32_t ino, struct ext2_inode_large *in)
{
	return ext_err(ext2fs_write_inode_full(xv->fs, ino, (struct ext2_inode *)in,
					       sizeof(*in)),
		       "writing an inode");
}

int
ext_lookup(struct ext_vol *xv, const char *path, uint32_t *ino)
{
	ext2_ino_t i;
	errcode_t e;

	if (strcmp(path, "/") == 0) {
		*ino = EXT2_ROOT_INO;
		return 0;
	}
	if (ext_names_get(xv, path, ino))
		return 0;
	e = ext2fs_namei(xv->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &i);
	if (e != 0)
		return ext_err(e, "looking a path up");
	*ino = i;
	ext_names_put(xv, path, i);
	return 0;
}

int
ext_parent(struct ext_vol *xv, const char *path, uint32_t *dir, const char **name)
{
	struct ext2_inode_large in;
	const char *slash = strrchr(path, '/');
	char parent[FS_WIRE_PATH_MAX];
	size_t plen;
	int rc;

	if (slash == NULL || slash[1] == '\0')
		return -EEXIST; /* the root */
	*name = slash + 1;
	if (strlen(*name) > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	plen = (size_t)(slash - path);
	if (plen == 0) {
		*dir = EXT2_ROOT_INO;
		return 0;
	}
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	rc = ext_lookup(xv, parent, dir);
	if (rc < 0)
		return rc;
	rc = ext_iget(xv, *dir, &in);
	if (rc < 0)
		return rc;
	return LINUX_S_ISDIR(in.i_mode) ? 0 : -ENOTDIR;
}

static int
has_extra_times(struct ext_vol *xv, const struct ext2_inode_large *in)
{
	return EXT2_INODE_SIZE(xv->fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
	       in->i_extra_isize >= EXTRA_TIMES_ISIZE;
}

/* An inode's time in nanoseconds since the epoch.  The image's bytes are
 * not trusted: ext4's two epoch bits reach the year 2446, past what 64-bit
 * nanoseconds hold (2262), and its 30 nanosecond bits can exceed a second;
 * both are clamped, as the kernel clamps what it cannot represent. */
static int64_t
time_ns(uint32_t sec, uint32_t extra, int has_extra)
{
	const int64_t max_s = INT64_MAX / 1000000000 - 1;
	int64_t s = (int32_t)sec;
	int64_t ns = 0;

	if (has_extra) {
		s += (int64_t)(extra & 3) << 32;
		ns = extra >> 2;
		if (ns > 999999999)
			ns = 999999999;
	}
	if (s > max_s)
		s = max_s;
	return s * 1000000000 + ns;
}

void
ext_set_time(struct ext_vol *xv, struct ext2_inode_large *in, int which,
	     const struct timespec *t)
{
	uint32_t extra = (uint32_t)(((t->tv_sec - (int32_t)t->tv_sec) >> 32) & 3) |
			 ((uint32_t)t->tv_nsec << 2);
	int x = has_extra_times(xv, in);

	switch (which) {
	case 'a':
		in->i_atime = (uint32_t)t->tv_sec;
		if (x)
			in->i_atime_extra = extra;
		break;
	case 'm':
		in->i_mtime = (uint32_t)t->tv_sec;
		if (x)
			in->i_mtime_extra = extra;
		break;
	default:
		in->i_ctime = (uint32_t)t->tv_sec;
		if (x)
			in->i_ctime_extra = extra;
		break;
	}
}

void
ext_touch_at(struct ext_vol *xv, uint32_t ino, int mtime, const struct timespec *now)
{
	struct ext2_inode_large in;

	if (ext_iget(xv, ino, &in) < 0)
		return;
	ext_set_time(xv, &in, 'c', now);
	if (mtime)
		ext_set_time(xv, &in, 'm', now);
	(void)ext_iput(xv, ino, &in);
}

void
ext_touch(struct ext_vol *xv, uint32_t ino, int mtime)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ext_touch_at(xv, ino, mtime, &now);
}

void
ext_stat_to_wire(struct ext_vol *xv, uint32_t ino, const struct ext2_inode_large *in,
		 struct fs_wire_pstat *w)
{
	int x = has_extra_times(xv, in);

	memset(w, 0, sizeof(*w));
	w->ino = ino;
	w->uid = inode_uid(*in);
	w->gid = inode_gid(*in);
	w->size = EXT2_I_SIZE(in);
	w->blocks = ext2fs_get_stat_i_blocks(xv->fs, (struct ext2_inode *)(uintptr_t)in);
	w->atime_ns = time_ns(in->i_atime, in->i_atime_extra, x);
	w->mtime_ns = time_ns(in->i_mtime, in->i_mtime_extra, x);
	w->ctime_ns = time_ns(in->i_ctime, in->i_ctime_extra, x);
	w->mode = in->i_mode;
	w->nlink = in->i_links_count;
}

int
ext_stat_ino(struct ext_vol *xv, uint32_t ino, struct fs_wire_pstat *w)
{
	struct ext2_inode_large in;
	int rc;

	rc = ext_iget(xv, ino, &in);
	if (rc == 0)
		ext_stat_to_wire(xv, ino, &in, w);
	return rc;
}

void
ext_reply_stat(struct fs_req *r, struct ext_vol *xv, uint32_t ino)
{
	struct fs_wire_pstat w;

	if (ext_stat_ino(xv, ino, &w) == 0)
		r->out->m_u.fs_wire_pstat = w;
}

int
ext_ftype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EXT2_FT_REG_FILE;
	case S_IFDIR:
		return EXT2_FT_DIR;
	case S_IFLNK:
		return EXT2_FT_SYMLINK;
	case S_IFIFO:
		return EXT2_FT_FIFO;
	case S_IFSOCK:
		return EXT2_FT_SOCK;
	case S_IFCHR:
		return EXT2_FT_CHRDEV;
	case S_IFBLK:
		return EXT2_FT_BLKDEV;
	default:
		return EXT2_FT_UNKNOWN;
	}
}

int
ext_add_link(struct ext_vol *xv, uint32_t dir, const char *name, uint32_t ino, int ftype)
{
	errcode_t e;

	e = ext2fs_link(xv->fs, dir, name, ino, ftype);
	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(xv->fs, dir);
		if (e == 0)
			e = ext2fs_link(xv->fs, dir, name, ino, ftype);
	}
	return ext_err(e, "adding a name");
}

int
ext_free_inode(struct ext_vol *xv, uint32_t ino)
{
	struct ext2_inode_large in;
	struct timespec now;
	errcode_t e;
	int rc;

	rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (ext2fs_inode_has_valid_blocks2(xv->fs, (struct ext2_inode *)&in)) {
		e = ext2fs_punch(xv->fs, ino, (struct ext2_inode *)&in, NULL, 0, ~0ULL);
		if (e != 0)
			return ext_err(e, "freeing a file's blocks");
		rc = ext_iget(xv, ino, &in);
		if (rc < 0)
			return rc;
	}
	if (ext2fs_file_acl_block(xv->fs, (struct ext2_inode *)&in) != 0) {
		e = ext2fs_free_ext_attr(xv->fs, ino, &in);
		if (e != 0)
			return ext_err(e, "freeing extended attributes");
	}
	clock_gettime(CLOCK_REALTIME, &now);
	in.i_links_count = 0;
	in.i_dtime = (uint32_t)now.tv_sec;
	rc = ext_iput(xv, ino, &in);
	if (rc < 0)
		return rc;
	ext2fs_inode_alloc_stats2(xv->fs, ino, -1, LINUX_S_ISDIR(in.i_mode));
	return 0;
}

int
ext_drop_link(struct ext_vol *xv, uint32_t ino)
{
	struct ext2_inode_large in;
	struct timespec now;
	int rc;

	rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (LINUX_S_ISDIR(in.i_mode) || in.i_links_count <= 1)
		in.i_links_count = 0;
	else
		in.i_links_count--;
	clock_gettime(CLOCK_REALTIME, &now);
	ext_set_time(xv, &in, 'c', &now);
	rc = ext_iput(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (in.i_links_count == 0 && !ext_is_open(xv, ino))
		return ext_free_inode(xv, ino);
	return 0;
}

void
ext_own_new(struct fs_req *r, struct ext_vol *xv, struct ext2_inode_large *in,
	    struct timespec *now)
{
	in->i_uid = (uint16_t)r->uid;
	ext2fs_set_i_uid_high(*in, r->uid >> 16);
	in->i_gid = (uint16_t)r->gid;
	ext2fs_set_i_gid_high(*in, r->gid >> 16);
	clock_gettime(CLOCK_REALTIME, now);
	ext_set_time(xv, in, 'a', now);
	ext_set_time(xv, in, 'm', now);
	ext_set_time(xv, in, 'c', now);
}

int
ext_finish_made(struct fs_req *r, struct ext_vol *xv, uint32_t dir, const char *name,
		uint32_t mode, const char *what)
{
	struct ext2_inode_large in;
	struct timespec now;
	ext2_ino_t ino;
	errcode_t e;
	int rc;

	e = ext2fs_lookup(xv->fs, dir, name, (int)strlen(name), NULL, &ino);
	if (e != 0)
		return ext_err(e, what);
	rc = ext_iget(xv, ino, &in);
	if (rc < 0)
		return rc;
	if (mode != 0)
		in.i_mode = (uint16_t)mode;
	ext_own_new(r, xv, &in, &now);
	return ext_put_named(r, xv, dir, ino, &in);
}

int
ext_put_named(struct fs_req *r, struct ext_vol *xv, uint32_t dir, uint32_t ino,
	      struct ext2_inode_large *in)
{
	int rc;

	rc = ext_iput(xv, ino, in);
	if (rc < 0)
		return rc;
	ext_touch(xv, dir, 1);
	ext_reply_stat(r, xv, ino);
	return 0;
}

int
ext_new_node(struct fs_req *r, struct ext_vol *xv, const char *path, uint32_t mode,
	     uint32_t *out)
{
	const char *name;
	uint32_t dir, old;
	int rc;

	rc = ext_parent(xv, path, &dir, &name);
	if (rc < 0)
		return rc;
	if (ext2fs_lookup(xv->fs, dir, name, (int)strlen(name), NULL, &old) == 0)
		return -EEXIST;
	return ext_new_node_at(r, xv, dir, name, mode, out);
}

int
ext_new_node_at(struct fs_req *r, struct ext_vol *xv, uint32_t dir, const char *name,
		uint32_t mode, uint32_t *out)
{
	struct ext2_inode_large in;
	ext2_extent_handle_t h;
	struct timespec now;
	ext2_ino_t ino;
	errcode_t e;
	int rc;

	e = ext2fs_new_inode(xv->fs, dir, (int)mode, NULL, &ino);
	if (e != 0)
		return ext_err(e, "allocating an inode");
	rc = ext_add_link(xv, dir, name, ino, ext_ftype(mode));
	if (rc < 0)
		return rc;
	ext2fs_inode_alloc_stats2(xv->fs, ino, +1, 0);
	memset(&in, 0, sizeof(in));
	in.i_mode = (uint16_t)mode;
	in.i_links_count = 1;
	if (EXT2_INODE_SIZE(xv->fs->super) > EXT2_GOOD_OLD_INODE_SIZE)
		in.i_extra_isize = sizeof(in) - EXT2_GOOD_OLD_INODE_SIZE;
	ext_own_new(r, xv, &in, &now);
	in.i_crtime = (uint32_t)now.tv_sec;
	if (ext2fs_has_feature_extents(xv->fs->super) && LINUX_S_ISREG(mode)) {
		in.i_flags |= EXT4_EXTENTS_FL;
		e = ext2fs_extent_open2(xv->fs, ino, (struct ext2_inode *)&in, &h);
		if (e != 0)
			return ext_err(e, "starting an extent tree");
		ext2fs_extent_free(h);
	}
	/* write_new_inode zeroes the whole on-disk inode (the in-inode
	 * attribute space too); the second write keeps the large fields. */
	e = ext2fs_write_new_inode(xv->fs, ino, (struct ext2_inode *)&in);
	if (e != 0)
		return ext_err(e, "writing a new inode");
	rc = ext_iput(xv, ino, &in);
	if (rc < 0)
		return rc;
	/* The directory changes at the instant the file is made, as one
	 * create: FS_O_DIRSTAT's reply tells both with one time. */
	ext_touch_at(xv, dir, 1, &now);
	*out = ino;
	return 0;
}

struct empty_ctx {
	int found;
};

static int
empty_cb(struct ext2_dir_entry *d, int offset, int blocksize, char *buf, void *priv)
{
	struct empty_ctx *c = priv;
	int len = ext2fs_dirent_name_len(d);

	if (d->inode == 0)
		return 0;
	if ((len == 1 && d->name[0] == '.') ||
	    (len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	c->found = 1;
	return DIRENT_ABORT;
}

int
ext_dir_empty(struct ext_vol *xv, uint32_t ino)
{
	struct empty_ctx c = {0};
	errcode_t e;

	e = ext2fs_dir_iterate(xv->fs, ino, 0, NULL, empty_cb, &c);
	if (e != 0)
		return ext_err(e, "reading a directory");
	return !c.found;
}
