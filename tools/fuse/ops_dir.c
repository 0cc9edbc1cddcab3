/*
 * ops_dir.c - directories: opendir, readdir, readdirplus, releasedir,
 * fsyncdir.
 *
 * Offsets: 0 is the start, 1 follows ".", 2 follows "..", and the entry
 * whose server cookie is c (c >= 1, the cookie resuming after it) has
 * offset c + 2.  The server never lists "." and "..".  The last entry of
 * the directory also carries DIR_OFF_END, so the kernel's call after it is
 * answered "no more" without asking the server (cookies are directory
 * positions, far below 2^62).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dfuse.h"

/* Server entries per round trip at most: a directory of a hundred names
 * in one (the kernel asks for 16 KiB and more of readdirplus records). */
#define DIR_BATCH 128
#define DIR_OFF_END (1ull << 62)

/* The entries of one round trip, one array per thread (about 130 KiB:
 * no allocation and page faults per call), freed when the thread ends. */
static pthread_key_t ents_key;
static pthread_once_t ents_once = PTHREAD_ONCE_INIT;

static void
make_ents_key(void)
{
	(void)pthread_key_create(&ents_key, free);
}

static struct dvs_dirent *
thread_ents(void)
{
	struct dvs_dirent *e;

	pthread_once(&ents_once, make_ents_key);
	e = pthread_getspecific(ents_key);
	if (e == NULL) {
		e = malloc(DIR_BATCH * sizeof(*e));
		if (e != NULL && pthread_setspecific(ents_key, e) != 0) {
			free(e);
			e = NULL;
		}
	}
	return e;
}

static void
do_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dfuse *d = dfuse_of(req);
	char path[FS_WIRE_PATH_MAX];
	int r;

	r = ino_table_path(d->itab, ino, path, sizeof(path));
	if (r >= 0)
		r = dvs_open(d->fs, path, O_RDONLY | O_DIRECTORY, 0);
	if (r < 0) {
		fuse_reply_err(req, dfuse_err(r));
		return;
	}
	fi->fh = (uint64_t)r;
	/* The kernel drops its copy of a listing when a name in the
	 * directory changes through this mount; only this mount changes
	 * an exclusive volume. */
	fi->cache_readdir = d->exclusive;
	fi->keep_cache = d->exclusive;
	if (fuse_reply_open(req, fi) != 0)
		dvs_close(d->fs, r);
}

/* Inode numbers a readdirplus reply hands out, to take back if the
 * reply never reaches the kernel. */
struct handed {
	fuse_ino_t *ino;
	size_t n, cap;
};

/* Adds one entry; returns its size or 0 when it does not fit. */
static size_t
add_entry(fuse_req_t req, struct dfuse *d, fuse_ino_t dir, char *buf, size_t room,
	  const char *name, const struct dvs_stat *ds, fuse_ino_t ino, off_t next,
	  int plus, struct handed *h)
{
	struct fuse_entry_param e;
	struct stat st;
	size_t need;
	int dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;

	if (!plus) {
		memset(&st, 0, sizeof(st));
		st.st_ino = ino;
		st.st_mode = ds->st_mode;
		need = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
		if (need > room)
			return 0;
		return fuse_add_direntry(req, buf, room, name, &st, next);
	}
	need = fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0);
	if (need > room)
		return 0;
	if (dot) {
		/* The kernel takes no lookup count for "." and "..". */
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = ino;
		e.attr.st_mode = ds->st_mode;
	} else {
		if (h->n == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 32;
			fuse_ino_t *n = realloc(h->ino, cap * sizeof(*n));

			if (n == NULL)
				return 0;
			h->ino = n;
			h->cap = cap;
		}
		if (dfuse_make_entry(d, dir, name, ds, &e) < 0)
			return 0;
		h->ino[h->n++] = e.ino;
	}
	return fuse_add_direntry_plus(req, buf, room, name, &e, next);
}

static void
readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi, int plus)
{
	struct dfuse *d = dfuse_of(req);
	struct dvs_dirent *ents = NULL;
	struct dvs_stat dirst = {.st_mode = S_IFDIR | 0755};
	struct handed h = {NULL, 0, 0};
	size_t pos = 0, got, max, i, n;
	uint64_t cookie;
	char *buf;
	ssize_t r = 0;

	dfuse_req_start(d);
	if ((uint64_t)off & DIR_OFF_END) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	buf = malloc(size);
	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off == 0) {
		got = add_entry(req, d, ino, buf, size, ".", &dirst, ino, 1, plus, &h);
		if (got == 0)
			goto reply;
		pos += got;
	}
	if (off <= 1) {
		/* d_ino 0 would make readdir(3) skip the entry. */
		got = add_entry(req, d, ino, buf + pos, size - pos, "..", &dirst,
				ino_table_parent(d->itab, ino), 2, plus, &h);
		if (got == 0)
			goto reply;
		pos += got;
	}
	cookie = off <= 2 ? 0 : (uint64_t)off - 2;
	/* Ask for about as many entries as fit; extra ones are asked for
	 * again by the next call. */
	max = size / (plus ? 160 : 40) + 1;
	if (max > DIR_BATCH)
		max = DIR_BATCH;
	ents = thread_ents();
	if (ents == NULL) {
		r = -ENOMEM;
		goto reply;
	}
	for (int eof = 0; !eof;) {
		r = dvs_getdents_eof(d->fs, (int)fi->fh, cookie, ents, max, &eof);
		if (r <= 0)
			break;
		n = (size_t)r;
		for (i = 0; i < n; i++) {
			uint64_t next = ents[i].next + 2;

			if (eof && i + 1 == n && next < DIR_OFF_END)
				next |= DIR_OFF_END;
			got = add_entry(req, d, ino, buf + pos, size - pos, ents[i].name,
					&ents[i].st, ents[i].st.st_ino, (off_t)next, plus,
					&h);
			if (got == 0)
				goto reply;
			pos += got;
			cookie = ents[i].next;
		}
	}
reply:
	/* An error after some entries: give those; the next call sees it. */
	if (r < 0 && pos == 0) {
		fuse_reply_err(req, dfuse_err((int)r));
	} else if (fuse_reply_buf(req, buf, pos) != 0) {
		/* The kernel never saw these entries: no lookups to count. */
		for (i = 0; i < h.n; i++)
			ino_table_forget(d->itab, h.ino[i], 1);
	}
	free(h.ino);
	free(buf);
}

static void
do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	   struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 0);
}

static void
do_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 1);
}

static void
do_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r = dvs_close(dfuse_of(req)->fs, (int)fi->fh);

	fuse_reply_err(req, dfuse_err(r));
}

static void
do_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int r = dvs_fsync(dfuse_of(req)->fs, (int)fi->fh);

	fuse_reply_err(req, dfuse_err(r));
}

void
dfuse_dir_ops(struct fuse_lowlevel_ops *ops)
{
	ops->opendir = do_opendir;
	ops->readdir = do_readdir;
	ops->readdirplus = do_readdirplus;
	ops->releasedir = do_releasedir;
	ops->fsyncdir = do_fsyncdir;
}
