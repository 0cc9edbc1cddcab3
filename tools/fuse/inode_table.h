/*
 * inode_table.h - the FUSE inode numbers dvs-fuse hands to the kernel.
 *
 * The kernel names files by a 64-bit inode number and counts how many
 * times each was handed out by lookup/create/mkdir (its "lookup count");
 * FORGET gives the counts back.  The table maps each number to the file
 * server's node id and to (parent, name), so a path can be rebuilt for the
 * path-based file protocol.
 *
 * Numbers: a file's inode number is its server node id, so `ls -i` shows
 * the same number on every mount, unless that number is reserved (0 and 1,
 * the FUSE root) or held by another live entry (a deleted file the kernel
 * still has open whose node id was reused by a new file): then a number
 * from a private range is used.  Unlinked entries leave the name and node
 * indexes at once, so a new file on the same slot never aliases an open
 * deleted one (which would mix their page caches).
 *
 * Locking: one mutex protects the whole table and is held only for the
 * hash operations in these calls, never across IPC.  All calls are
 * thread-safe.
 */
#ifndef DVS_FUSE_INODE_TABLE_H
#define DVS_FUSE_INODE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define INO_ROOT 1u

struct ino_table;

/* Creates a table holding the root (INO_ROOT) with server node id root_node.
 * *out is freed with ino_table_free(). */
int ino_table_new(uint64_t root_node, struct ino_table **out);
/* Names compare byte for byte from now on (a POSIX volume): no case
 * aliases.  Call before any entry is added. */
void ino_table_case_sensitive(struct ino_table *t);
/* Frees t and every entry.  NULL ok. */
void ino_table_free(struct ino_table *t);

/*
 * Records that name in directory parent is server node `node` and was
 * handed to the kernel once more (lookup count + 1).  An existing entry of
 * (parent, name) with the same node is reused; one with another node is
 * detached first (the name now means another file).  Another linked name
 * of the same node (FAT's short-name alias) gives that entry's number.
 * Names compare ASCII-case-insensitively, as FAT does, but another
 * spelling of a name already in the table (case only) gets an alias entry
 * with a number of its own (see ino_table_alias_of).  name is copied.
 * Returns 0 and the inode number in *ino, -ENOENT if parent is unknown,
 * -ENOMEM.
 */
int ino_table_add(struct ino_table *t, uint64_t parent, const char *name, uint64_t node,
		  uint64_t *ino);

/* Gives back n lookups of ino; the entry goes when its count reaches 0
 * (the root never goes).  Unknown numbers are ignored. */
void ino_table_forget(struct ino_table *t, uint64_t ino, uint64_t n);

/*
 * Writes the absolute path of ino ("/" for the root, "/a/b" otherwise) into
 * buf.  Returns the length, -ENOENT for an unknown or unlinked entry (or
 * one under an unlinked directory), -ENAMETOOLONG if buf is too small.
 */
int ino_table_path(struct ino_table *t, uint64_t ino, char *buf, size_t len);
/* The same for name inside directory parent ("/a/b/name"). */
int ino_table_child_path(struct ino_table *t, uint64_t parent, const char *name,
			 char *buf, size_t len);

/* Inode number of the directory holding ino (the root for the root and
 * for unknown numbers). */
uint64_t ino_table_parent(struct ino_table *t, uint64_t ino);

/* Server node id of ino into *node; -ENOENT if unknown. */
int ino_table_node(struct ino_table *t, uint64_t ino, uint64_t *node);

/* (parent, name) was removed on the server: detach its entry (it stays
 * valid for its inode number until forgotten, but has no path any more). */
void ino_table_unlinked(struct ino_table *t, uint64_t parent, const char *name);

/*
 * (parent, name) was renamed to (newparent, newname) on the server, where
 * it is now node new_node (FAT node ids may follow the directory entry).
 * An entry that held the target name is detached first.  Returns 0,
 * -ENOMEM.
 */
int ino_table_renamed(struct ino_table *t, uint64_t parent, const char *name,
		      uint64_t newparent, const char *newname, uint64_t new_node);

/*
 * 1 if ino is an alias entry (another case spelling of a name the table
 * holds), with the inode number of the node's main entry in *primary (0
 * when it has none); 0 otherwise.  The kernel must not cache an alias
 * (timeouts 0, direct I/O), and changes through it make the main entry's
 * caches stale.
 */
int ino_table_alias_of(struct ino_table *t, uint64_t ino, uint64_t *primary);

/*
 * Open descriptors of an inode, so that an open file whose name is gone
 * (unlinked) can still be stat'ed when the kernel asks without a file
 * handle.  ino_table_opened returns 0 or -ENOMEM (then only that lookup
 * path is lost); ino_table_closed forgets fd; ino_table_open_fd gives one
 * of the inode's open descriptors or -1.
 */
int ino_table_opened(struct ino_table *t, uint64_t ino, int fd);
void ino_table_closed(struct ino_table *t, uint64_t ino, int fd);
int ino_table_open_fd(struct ino_table *t, uint64_t ino);

/* Number of live entries, root included (for tests and statistics). */
size_t ino_table_count(struct ino_table *t);

#endif
