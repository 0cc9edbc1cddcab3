/*
 * dir.c - directory listing of libdvsfs: dvs_getdents (one FS_READDIR
 * round trip, records checked before use) and the opendir iterator.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Average record we size the transfer buffer for (header + 40-byte name). */
#define DIR_REC_GUESS 128u
#define DIR_BATCH     64u

ssize_t
dvs_getdents_eof(struct dvsfs *fs, int dirfd, uint64_t cookie, struct dvs_dirent *ents,
		 size_t max, int *eof)
{
	struct fs_rp_readdir rp;
	struct fs_wire_dirent rec;
	struct dvsfs_call c;
	size_t len, pos = 0, n = 0;
	unsigned char *buf;
	dvk_msg_t m;
	int rc;

	if (max == 0)
		return -EINVAL;
	if (max > FS_LIST_MAX / sizeof(rec))
		max = FS_LIST_MAX / sizeof(rec);
	len = max * DIR_REC_GUESS;
	/* At least one record with the longest name must fit. */
	if (len < FS_DIRENT_RECLEN(FS_NAME_MAX))
		len = FS_DIRENT_RECLEN(FS_NAME_MAX);
	if (len > FS_LIST_MAX)
		len = FS_LIST_MAX;
	buf = malloc(len);
	if (buf == NULL)
		return -ENOMEM;
	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		goto out_free;
	rc = dvsfs_req_readdir(&c, dirfd, buf, len, (uint32_t)max, cookie, &m);
	if (rc < 0)
		goto out;
	rp = m.m_u.fs_rp_readdir;
	if (rp.bytes > len || (size_t)rc > max) {
		rc = -EIO;
		goto out;
	}
	/* The server's records are checked like any outside input. */
	while (n < (size_t)rc) {
		if (pos + sizeof(rec) > rp.bytes) {
			rc = -EIO;
			goto out;
		}
		memcpy(&rec, buf + pos, sizeof(rec));
		if (rec.name_len == 0 || rec.name_len > FS_NAME_MAX ||
		    rec.rec_len != FS_DIRENT_RECLEN(rec.name_len) ||
		    pos + rec.rec_len > rp.bytes) {
			rc = -EIO;
			goto out;
		}
		ents[n].next = rec.next;
		dvsfs_stat_from_wire(fs, &rec.st, &ents[n].st);
		memcpy(ents[n].name, buf + pos + sizeof(rec), rec.name_len);
		ents[n].name[rec.name_len] = '\0';
		pos += rec.rec_len;
		n++;
	}
	rc = (int)n;
	if (eof != NULL)
		*eof = rp.eof != 0;
out:
	dvsfs_call_end(&c);
out_free:
	free(buf);
	return rc;
}

ssize_t
dvs_getdents(struct dvsfs *fs, int dirfd, uint64_t cookie, struct dvs_dirent *ents,
	     size_t max)
{
	return dvs_getdents_eof(fs, dirfd, cookie, ents, max, NULL);
}

struct dvs_dir {
	struct dvsfs *fs;
	int fd;
	uint64_t cookie; /* after the entry last returned */
	uint64_t fetch;	 /* where the next batch starts */
	size_t n, i;
	int eof;
	struct dvs_dirent ents[DIR_BATCH];
};

int
dvs_opendir(struct dvsfs *fs, const char *path, struct dvs_dir **out)
{
	struct dvs_dir *d;
	int fd;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	fd = dvs_open(fs, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		free(d);
		return fd;
	}
	d->fs = fs;
	d->fd = fd;
	*out = d;
	return 0;
}

int
dvs_readdir(struct dvs_dir *d, const struct dvs_dirent **ent)
{
	ssize_t n;

	if (d->i >= d->n) {
		if (d->eof)
			return 0;
		n = dvs_getdents(d->fs, d->fd, d->fetch, d->ents, DIR_BATCH);
		if (n < 0)
			return (int)n;
		if (n == 0) {
			d->eof = 1;
			d->n = d->i = 0;
			return 0;
		}
		d->n = (size_t)n;
		d->i = 0;
		d->fetch = d->ents[n - 1].next;
	}
	*ent = &d->ents[d->i++];
	d->cookie = (*ent)->next;
	return 1;
}

uint64_t
dvs_telldir(const struct dvs_dir *d)
{
	return d->cookie;
}

void
dvs_seekdir(struct dvs_dir *d, uint64_t cookie)
{
	d->cookie = d->fetch = cookie;
	d->n = d->i = 0;
	d->eof = 0;
}

int
dvs_closedir(struct dvs_dir *d)
{
	int rc;

	if (d == NULL)
		return 0;
	rc = dvs_close(d->fs, d->fd);
	free(d);
	return rc;
}
