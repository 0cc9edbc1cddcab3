/*
 * dfuse.h - shared state of dvs-fuse, the libfuse3 low-level adapter.
 *
 * One struct dfuse per mount, passed to every handler as the session's
 * userdata.  Its fields are set before the session starts and read-only
 * afterwards, except the inode table, which has its own lock.  The libdvsfs
 * handle is shared by all FUSE worker threads: libdvsfs gives each thread
 * its own DVK binding on first use, joined to one session, so no lock of
 * ours is ever held around IPC.  See docs/FUSE.md.
 */
#ifndef DVS_FUSE_DFUSE_H
#define DVS_FUSE_DFUSE_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include "dvs/dvsfs.h"
#include "inode_table.h"

/* The largest request the kernel sends us and we send the server. */
#define DFUSE_IO_MAX (1u << 20)

/* All names of the directories made through an exclusive mount
 * (dir_names.c): a lookup of a name that is not there answered without a
 * round trip.  Every call takes NULL and locks itself. */
struct dir_names;
int dir_names_new(struct dir_names **out);
void dir_names_free(struct dir_names *c);
/* dir was just made (empty) through this mount: track its names. */
void dir_names_track(struct dir_names *c, uint64_t dir);
/* The server made or removed name in dir. */
void dir_names_add(struct dir_names *c, uint64_t dir, const char *name);
void dir_names_remove(struct dir_names *c, uint64_t dir, const char *name);
/* 1 when dir is tracked and holds no name FAT would match with name. */
int dir_names_absent(struct dir_names *c, uint64_t dir, const char *name);
void dir_names_clear(struct dir_names *c);

/* Attributes on an exclusive mount (attr_cache.c), one table for regular
 * files, one for directories: GETATTR, and a SETATTR that changes
 * nothing, answered without a round trip.  Every call takes NULL (no
 * cache: nothing kept, nothing found) and locks itself.  A handler that
 * changes a file on the server marks it stale or drops it after the
 * change. */
struct attr_cache;
/* type: S_IFREG or S_IFDIR, what the table keeps. */
int attr_cache_new(uint32_t type, struct attr_cache **out);
void attr_cache_free(struct attr_cache *c);
/* The epoch to read before asking the server for attributes to put. */
uint64_t attr_cache_epoch(struct attr_cache *c);
/* Keeps st for ino if it is of the table's type (a regular file with one
 * link when posix) and nothing of its slot was dropped, nor the table
 * cleared, since epoch `since`; forgets ino otherwise. */
void attr_cache_put(struct attr_cache *c, uint64_t ino, const struct dvs_stat *st,
		    uint64_t since, int posix);
/* 0 and *st, or -ENOENT (also when stale). */
int attr_cache_get(struct attr_cache *c, uint64_t ino, struct dvs_stat *st);
/* 0, *st and *fresh (0: from before a change to the file), or -ENOENT. */
int attr_cache_get_last(struct attr_cache *c, uint64_t ino, struct dvs_stat *st, int *fresh);
/* After a change of ino's size, blocks or times on the server. */
void attr_cache_stale(struct attr_cache *c, uint64_t ino);
/* After a change of ino, or when its number may have come to name another
 * file. */
void attr_cache_drop(struct attr_cache *c, uint64_t ino);
void attr_cache_clear(struct attr_cache *c);
/* A change of the server's inode server_ino that set exactly these (a
 * write: the file; a create: its directory, mtime = ctime). */
struct attr_patch {
	uint64_t server_ino;
	uint64_t size;
	uint64_t blocks;
	struct timespec mtime;
	struct timespec ctime;
};
/* After a change of ino that the server described in p, asked for when
 * the epoch was since: patches a fresh copy untouched since then and
 * returns 1; else marks it stale (attr_cache_stale) and returns 0.  Puts begun before are void
 * either way. */
int attr_cache_patch(struct attr_cache *c, uint64_t ino, uint64_t since,
		     const struct attr_patch *p);

/* Times of open files kept back for their release (times_defer.c):
 * exclusive POSIX mounts whose server takes them with FS_CLOSE.  Every
 * call takes NULL (nothing kept) and locks itself.  ts[i] UTIME_OMIT: not
 * set; never UTIME_NOW (the caller reads the clock). */
struct times_defer;
int times_defer_new(struct times_defer **out);
void times_defer_free(struct times_defer *t);
/* Keeps ts for ino over what is kept; 0 or -EBUSY (not kept: send it). */
int times_defer_put(struct times_defer *t, uint64_t ino, const struct timespec ts[2]);
/* 1 and what was kept for ino (no longer kept), or 0. */
int times_defer_take(struct times_defer *t, uint64_t ino, struct timespec ts[2]);
/* Shows in st what is kept for ino; 1 if anything was. */
int times_defer_apply(struct times_defer *t, uint64_t ino, struct dvs_stat *st);

struct dfuse {
	struct dvsfs *fs;	/* shared by every thread (see above) */
	struct ino_table *itab; /* inode numbers; locks itself */
	struct attr_cache *dattr; /* NULL unless exclusive; locks itself */
	struct dir_names *dnames; /* NULL unless exclusive; locks itself */
	struct attr_cache *fattr;  /* NULL unless exclusive; locks itself */
	struct times_defer *tdefer; /* NULL unless exclusive, POSIX and the
				     * server takes times at close */
	int exclusive;		/* this mount is the volume's only client */
	int posix;		/* an ext volume: owners, modes, links (fsproto.h
				 * FS_VOL_POSIX); names are case-sensitive */
	int ro;			/* mounted read-only */
	int debug;
	double attr_timeout;	 /* seconds the kernel may cache attributes */
	double entry_timeout;	 /* ... and names */
	double negative_timeout; /* ... and "no such name" */
	uid_t uid;		 /* owner shown for every file (FAT has none;
				  * a POSIX volume shows its own) */
	gid_t gid;
	struct fuse_session *se; /* for cache invalidations */
};

/* The state of the session a request came through. */
static inline struct dfuse *
dfuse_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Fills a struct stat for the kernel from the server's attributes. */
void dfuse_fill_stat(const struct dfuse *d, const struct dvs_stat *ds, fuse_ino_t ino,
		     struct stat *st);

/*
 * Checks a name the kernel gave us against FAT's limit of 255 UTF-16 units
 * (the server checks too; this gives ENAMETOOLONG before any IPC, as
 * Linux's vfat does).  Returns 0 or -ENAMETOOLONG.
 */
int dfuse_check_name(const char *name);
/* Set before the session starts: names are checked as ext's (255 bytes). */
extern int dfuse_posix_names;
/* mknod of a FIFO or a socket on a POSIX volume (ops_link.c); replies. */
void dfuse_mknod_special(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);

/*
 * Registers (parent, name) -> server attributes ds in the inode table and
 * replies to req with the entry (one lookup count handed out).  Replies
 * with an error when the table is out of memory.  Always replies.
 */
void dfuse_reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
		       const struct dvs_stat *ds);
/* Marks the start of a request whose server attributes dfuse_make_entry
 * may keep (lookup, create, mknod, mkdir, readdirplus): reads the epochs
 * of both attribute tables into the calling thread. */
void dfuse_req_start(struct dfuse *d);
/* Fills e for (parent, name) -> ds, counting one lookup; 0 or -errno. */
int dfuse_make_entry(struct dfuse *d, fuse_ino_t parent, const char *name,
		     const struct dvs_stat *ds, struct fuse_entry_param *e);

/*
 * The FAT engine releases the clusters of removed files at its next flush,
 * so a full volume may have room again after one: on -ENOSPC a handler
 * calls this (a volume sync) and, if it returns 1, tries once more.
 */
int dfuse_flush_for_space(struct dfuse *d);

/*
 * An inode that is another case spelling of a name (ino_table_alias_of):
 * returns 1 and the main inode number (or 0) in *primary.  The kernel
 * keeps nothing of an alias (timeouts 0, direct I/O); after a change
 * through it dfuse_alias_changed drops the main inode's cached pages and
 * attributes.
 */
int dfuse_is_alias(struct dfuse *d, fuse_ino_t ino, fuse_ino_t *primary);
void dfuse_alias_changed(struct dfuse *d, fuse_ino_t ino);

/* Before a call that creates a file on a POSIX volume: the file will
 * belong to the caller of req (its fsuid/fsgid as the kernel gives them). */
void dfuse_set_owner(fuse_req_t req);

/* Sends the times kept back for ino (times_defer.c) now, before a request
 * that changes the file's times on the server or needs them there; 0 or
 * -errno. */
int dfuse_times_flush(struct dfuse *d, fuse_ino_t ino);

/* A name in directory dir was made or removed on the server (call it
 * after the change): on a POSIX volume the directory's size, times and
 * links changed, so its kept attributes go (FAT's do not change). */
void dfuse_dir_changed(struct dfuse *d, fuse_ino_t dir);

/* Error for the kernel from a libdvsfs result (negative errno). */
int dfuse_err(int r);

/* Handler tables, one file per group of calls. */
void dfuse_entry_ops(struct fuse_lowlevel_ops *ops);
void dfuse_file_ops(struct fuse_lowlevel_ops *ops);
void dfuse_dir_ops(struct fuse_lowlevel_ops *ops);
void dfuse_link_ops(struct fuse_lowlevel_ops *ops);

#endif
