/*
 * req.c - helpers every handler uses to take a client's arguments
 * without trusting them.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"

int
fs_client_err(int err)
{
	if (err >= 0)
		return err;
	if (-err < EDVS_BASE)
		return err;
	switch (-err) {
	case EDVS_BADGRANT:
	case EDVS_GRANTRANGE:
	case EDVS_GRANTPEER:
	case EDVS_GRANTACCESS:
	case EDVS_REVOKED:
		return -EFAULT; /* the client's buffer is not usable */
	case EDVS_DEADPEER:
	case EDVS_NOTBOUND:
		return -ENOTCONN;
	case EDVS_LIMIT:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int
fs_normalize_path(char *path, size_t len)
{
	size_t in = 0, out = 0, start, n;

	/* Work on "/"-rooted components: out always ends without '/'. */
	while (in < len) {
		while (in < len && path[in] == '/')
			in++;
		if (in >= len)
			break;
		start = in;
		while (in < len && path[in] != '/')
			in++;
		n = in - start;
		if (n == 1 && path[start] == '.')
			continue;
		if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
			/* FAT has no links: ".." is the lexical parent, and
			 * the root's parent is the root. */
			while (out > 0 && path[out - 1] != '/')
				out--;
			if (out > 0)
				out--;
			continue;
		}
		path[out++] = '/';
		memmove(path + out, path + start, n);
		out += n;
	}
	if (out == 0)
		path[out++] = '/';
	path[out] = '\0';
	return (int)out;
}

static int
get_arg(struct fs_req *r, const struct fs_path_arg *a, size_t rq_size, char *buf,
	size_t max)
{
	uint32_t len = a->len;
	int rc;

	if (len == 0)
		return -ENOENT;
	if (len >= max)
		return -ENAMETOOLONG;
	if (a->grant == FS_GRANT_INLINE) {
		/* Compare before subtracting: len is the peer's number. */
		if (r->inline_end < rq_size || len > r->inline_end - rq_size)
			return -EINVAL;
		r->inline_end -= len;
		memcpy(buf, r->in->m_u.raw + r->inline_end, len);
	} else {
		rc = dvk_vcopy_from(r->w->h, r->src, a->grant, 0, buf, len);
		if (rc < 0)
			return fs_client_err(rc);
	}
	if (memchr(buf, '\0', len) != NULL)
		return -EINVAL;
	buf[len] = '\0';
	return (int)len;
}

int
fs_get_bytes(struct fs_req *r, const struct fs_path_arg *a, size_t rq_size, char *buf,
	     size_t max)
{
	int rc = get_arg(r, a, rq_size, buf, max);

	return rc < 0 ? rc : 0;
}

int
fs_get_path(struct fs_req *r, const struct fs_path_arg *a, size_t rq_size, char *buf)
{
	int rc;
	uint32_t len;

	rc = get_arg(r, a, rq_size, buf, FS_WIRE_PATH_MAX);
	if (rc < 0)
		return rc;
	len = (uint32_t)rc;
	if (buf[0] != '/')
		return -EINVAL; /* only absolute paths: there is no cwd */
	buf[len] = '\0';
	fs_normalize_path(buf, len);
	return 0;
}

int
fs_reply_stat(struct fs_req *r, int rc, const char *path, struct fat_file *file)
{
	struct fat_stat st;

	if (rc < 0)
		return rc;
	if ((file != NULL ? fat_fstat(file, &st) : fat_stat(r->s->vol->vol, path, &st)) == 0)
		fs_stat_to_wire(r->s->vol, &st, &r->out->m_u.fs_wire_stat);
	return rc;
}

static int64_t
ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

void
fs_stat_to_wire(const struct fs_volume *v, const struct fat_stat *st,
		struct fs_wire_stat *w)
{
	int ro = (st->attr & FAT_ATTR_RDONLY) || v->read_only;

	memset(w, 0, sizeof(*w));
	w->ino = st->ino;
	w->size = st->size;
	w->blocks = st->blocks;
	w->atime_ns = ts_ns(&st->atime);
	w->mtime_ns = ts_ns(&st->mtime);
	w->ctime_ns = ts_ns(&st->ctime);
	if (st->attr & FAT_ATTR_DIR)
		w->mode = S_IFDIR | (ro ? 0555 : 0755);
	else
		w->mode = S_IFREG | (ro ? 0444 : 0644);
	w->nlink = st->nlink > 0xffff ? 0xffff : (uint16_t)st->nlink;
	if (w->nlink == 0)
		w->nlink = 1;
	w->attr = (uint8_t)st->attr;
}
