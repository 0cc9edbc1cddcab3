/*
 * fsproto.h - the file protocol between clients (libdvsfs) and dvs-fs.
 *
 * Minix style: a request is one dvk_msg_t whose m_type is a call number
 * FS_RQ_BASE + FS_<CALL>; its payload is the named struct fs_rq_<call>,
 * the member m_u.fs_rq_<call> of the message.  The reply's m_type is the
 * result: >= 0 on success (a count, a descriptor, 0), or a negative errno
 * value; its payload is struct fs_rp_<call> (m_u.fs_rp_<call>) where the
 * call returns more than one number.  Every payload struct is padded to
 * exactly DVK_PAYLOAD_SIZE bytes (DVK_PAYLOAD_ASSERT below); a new one is
 * also added to the union of dvk_msg_t in ipc.h.
 *
 * Paths and bulk data never travel inside a message.  The client grants
 * the server endpoint it talks to (see "Sessions") read access to a path
 * (exactly len bytes, no terminating NUL needed) or read/write access to a
 * data buffer, puts the grant id and the length in the request, and revokes
 * the grant when the reply came.  The server vcopies from/to the grant and
 * trusts none of these numbers: a bad grant gives -EFAULT, a length beyond
 * the limits below -EINVAL or -ENAMETOOLONG, a NUL inside a path -EINVAL.
 *
 * Sessions.  A client binding first sends FS_HELLO (or FS_JOIN, for more
 * threads of the same client) to the server's well-known endpoint; the
 * reply names the worker endpoint this binding must send every further
 * request to, and grant its buffers to.  Descriptors belong to the session,
 * so every thread of a client (every binding that joined) may use them; the
 * session and its descriptors are freed when its last binding says FS_BYE,
 * unbinds or dies.  The token of FS_HELLO is a 64-bit random secret that
 * FS_JOIN must show: it is what keeps other processes of the DC out of a
 * session.
 *
 * All integers are in host order (every peer of a DC runs the same build on
 * the same architecture; a proxy between nodes would translate).
 */
#ifndef DVS_FSPROTO_H
#define DVS_FSPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_types.h"

#define FS_PROTO_VERSION 1

/* Default well-known endpoint of dvs-fs in its DC (dvs-fs --ep). */
#define FS_EP_DEFAULT 1

/*
 * A path on the wire is 1..FS_WIRE_PATH_MAX-1 bytes (no NUL) after the
 * grant copy.  It is the path from the root of the volume, which Linux
 * does not bound: a program may chdir as deep as it likes and pass a path
 * of PATH_MAX - 1 bytes from there, and dvs-fuse sends what the kernel
 * looked up as one path from the root.  So the protocol takes 16 times
 * PATH_MAX, and ENAMETOOLONG comes only from paths deeper than any tree
 * made with path arguments of PATH_MAX a few times over (docs/FS.md,
 * "POSIX on a DVS FAT volume").
 */
#define FS_WIRE_PATH_MAX 65536
/* A path a program names, as Linux's PATH_MAX (with the NUL): what a client
 * that builds paths itself (dvs cp) may size its buffers with. */
#define FS_PATH_MAX    4096
/* A volume name in FS_HELLO is 0..FS_VOLNAME_MAX bytes (0: the first). */
#define FS_VOLNAME_MAX 63
/* One name in a directory, in UTF-8 bytes (255 UTF-16 units of VFAT). */
#define FS_NAME_MAX    1020
/* The most bytes one FS_READ/FS_WRITE moves; libdvsfs splits larger I/O. */
#define FS_IO_MAX      (1u << 20)
/* The most bytes of one FS_READDIR or FS_STATS buffer. */
#define FS_LIST_MAX    (256u << 10)
/* Descriptors one session may hold open. */
#define FS_FD_MAX      1024

/* Call numbers.  m_type of a request is FS_RQ_BASE + one of these. */
#define FS_RQ_BASE 0x4600
enum fs_call {
	FS_HELLO = 1, /* open a session on a volume                */
	FS_JOIN,      /* attach another binding to a session      */
	FS_BYE,	      /* detach this binding                      */
	FS_OPEN,      /* path, flags, mode -> fd (creat is OPEN)  */
	FS_CLOSE,     /* fd                                       */
	FS_READ,      /* fd, grant(W), len [, off] -> count       */
	FS_WRITE,     /* fd, grant(R), len [, off] -> count       */
	FS_LSEEK,     /* fd, off, whence -> new offset            */
	FS_STAT,      /* path -> stat                             */
	FS_FSTAT,     /* fd -> stat                               */
	FS_MKDIR,     /* path, mode                               */
	FS_RMDIR,     /* path                                     */
	FS_UNLINK,    /* path                                     */
	FS_RENAME,    /* path, path, flags                        */
	FS_READDIR,   /* fd, cookie, grant(W) -> records          */
	FS_TRUNCATE,  /* path, length                             */
	FS_FTRUNCATE, /* fd, length                               */
	FS_UTIMENS,   /* path, atime, mtime                       */
	FS_CHMOD,     /* path, mode (only the write bits count)   */
	FS_FSYNC,     /* fd                                       */
	FS_SYNC,      /* the whole volume                         */
	FS_STATVFS,   /* -> volume figures                        */
	FS_STATS,     /* server statistics, sessions in grant(W)  */
	FS_FALLOCATE, /* fd, mode, off, len                       */
	/* POSIX volumes (ext2/3/4) only; a FAT volume answers -ENOSYS. */
	FS_CHOWN,     /* path, uid, gid                           */
	FS_SYMLINK,   /* target, path                             */
	FS_READLINK,  /* path, grant(W), len -> bytes             */
	FS_LINK,      /* existing path, new path                  */
	FS_MKNOD,     /* path, mode (S_IFIFO or S_IFSOCK)         */
	FS_OWNER,     /* uid, gid of this binding's new files     */
	FS_NCALLS
};

/* Open flags of the protocol (libdvsfs maps the Linux O_ flags). */
#define FS_O_ACCMODE   0x3
#define FS_O_RDONLY    0x0
#define FS_O_WRONLY    0x1
#define FS_O_RDWR      0x2
#define FS_O_CREAT     0x10
#define FS_O_EXCL      0x20
#define FS_O_TRUNC     0x40
#define FS_O_APPEND    0x80
#define FS_O_DIRECTORY 0x100
/* The client's kernel already checked the caller's right to write against
 * the modes this server reports, with the caller's capabilities (dvs-fuse
 * mounts with default_permissions): the FAT read-only attribute does not
 * refuse the open, as vfat does not refuse root.  See docs/FS.md
 * "Who the caller is". */
#define FS_O_ACCESS_CHECKED 0x200
/* FS_OPEN: reply with the file's whole struct fs_wire_stat instead of
 * struct fs_rp_open (saves an FS_FSTAT after a create). */
#define FS_O_STAT      0x400
#define FS_O_ALL       0x7f3
/* POSIX volumes, with FS_O_CREAT | FS_O_EXCL | FS_O_STAT: reply with
 * struct fs_rp_create (the new file and its directory after the create)
 * instead of the stat.  A FAT volume refuses the flag (-EINVAL). */
#define FS_O_DIRSTAT   0x800
#define FS_O_ALL_POSIX (FS_O_ALL | FS_O_DIRSTAT)

/* FS_READ/FS_WRITE flags. */
#define FS_IO_AT 0x1 /* use off, leave the descriptor's position alone */

/* FS_LSEEK whence. */
#define FS_SEEK_SET 0
#define FS_SEEK_CUR 1
#define FS_SEEK_END 2

/* FS_RENAME flags. */
#define FS_RENAME_NOREPLACE 0x1

/* FS_UTIMENS special times. */
#define FS_UTIME_OMIT INT64_MIN
#define FS_UTIME_NOW  (INT64_MIN + 1)

/* FAT attribute bits in fs_wire_stat.attr. */
#define FS_ATTR_RDONLY	0x01
#define FS_ATTR_HIDDEN	0x02
#define FS_ATTR_SYSTEM	0x04
#define FS_ATTR_DIR	0x10
#define FS_ATTR_ARCHIVE 0x20

/*
 * A path argument: a grant the server may read, exactly len bytes.  Or,
 * with grant FS_GRANT_INLINE, the len bytes travel in the message itself,
 * in the padding of the request struct, so the server needs no grant copy
 * (a round trip to dvkd) to read them: the first inline path of a request
 * ends at the end of the payload (byte DVK_PAYLOAD_SIZE), each further one
 * ends where the one before began.  A path that would reach into the
 * request's fields (before FS_RQ_END) is refused (-EINVAL); longer paths
 * go by grant.  A sender fills the fields first and the inline paths after
 * (a whole-struct assignment would clear the padding).
 */
struct fs_path_arg {
	dvk_grant_t grant;
	uint32_t len;
};
#define FS_GRANT_INLINE ((dvk_grant_t)-2)

/* Where the fields of request struct t end and its padding, the room for
 * inline paths, begins. */
#define FS_RQ_END(t) offsetof(struct t, padding)

/* File attributes as they travel (reply of FS_STAT/FS_FSTAT, readdir). */
struct fs_wire_stat {
	uint64_t ino;	  /* stable node id from the FAT engine */
	uint64_t size;	  /* bytes */
	uint64_t blocks;  /* 512-byte units allocated */
	int64_t atime_ns; /* since the epoch */
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint32_t mode; /* S_IFREG/S_IFDIR | permission bits */
	uint16_t nlink;
	uint8_t attr; /* FS_ATTR_* */
	uint8_t pad;
};

/*
 * File attributes on a POSIX volume (FS_VOL_POSIX): the same 56 bytes as
 * struct fs_wire_stat, wherever one travels (replies, readdir records),
 * laid out to hold an owner.  ino is never 0 in a stat that was filled.
 * No device number travels: FS_MKNOD makes only FIFOs and sockets.
 */
struct fs_wire_pstat {
	uint32_t ino; /* the inode number (ext inode numbers are 32-bit) */
	uint32_t uid;
	uint64_t size;
	uint64_t blocks; /* 512-byte units allocated */
	int64_t atime_ns;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint32_t gid;
	uint16_t mode; /* S_IFMT | 07777 */
	uint16_t nlink;
};

/* --- FS_HELLO ----------------------------------------------------------- */
struct fs_rq_hello {
	uint32_t version;	/* FS_PROTO_VERSION */
	uint32_t flags;		/* 0 */
	struct fs_path_arg vol; /* volume name; len 0 (grant ignored): the first */
	uint8_t padding[40];
};
struct fs_rp_hello {
	uint64_t token;	    /* secret for FS_JOIN */
	uint32_t session;   /* session id */
	dvk_ep_t worker;    /* send every further request here */
	uint32_t io_max;    /* FS_IO_MAX of this server */
	uint32_t vol_flags; /* FS_VOL_* */
	uint32_t cluster;   /* cluster size in bytes (st_blksize) */
	uint32_t pad;
	uint8_t padding[24];
};
#define FS_VOL_RDONLY 0x1
/* The volume keeps owners, modes and links (ext2/3/4): every stat of this
 * session travels as struct fs_wire_pstat, and the FS_CHOWN ... FS_OWNER
 * calls work. */
#define FS_VOL_POSIX  0x2

/* --- FS_JOIN ------------------------------------------------------------ */
struct fs_rq_join {
	uint64_t token;
	uint32_t session;
	uint32_t pad;
	uint8_t padding[40];
};
struct fs_rp_join {
	dvk_ep_t worker;
	uint32_t io_max;
	uint8_t padding[48];
};

/* --- FS_OPEN ------------------------------------------------------------ */
struct fs_rq_open {
	struct fs_path_arg path;
	uint32_t flags; /* FS_O_* */
	uint32_t mode;	/* for FS_O_CREAT: no write bit -> read-only file */
	uint8_t padding[40];
};
struct fs_rp_open {
	uint64_t ino;
	uint64_t size;
	uint32_t mode;
	uint32_t pad;
	uint8_t padding[32];
};
/* m_type of the reply is the descriptor. */

/*
 * The reply of FS_OPEN with FS_O_DIRSTAT (POSIX volumes): the file it made
 * and what the create did to the directory, so that a client that keeps
 * the directory's attributes (dvs-fuse) needs no FS_STAT of it after each
 * create.  A new file is empty (size 0) and its access, modification and
 * change times are one instant, time_ns.  With FS_CREATE_DIR_TIMES in
 * dir_flags the server set the directory's modification and change times
 * to time_ns as well and dir_size and dir_blocks are the directory's after
 * the create (its type, mode, owner, links and access time did not
 * change); without it (the times could not be told, e.g. a directory
 * without nanosecond times) the client must ask.  dir_ino is the
 * directory the server made the file in.
 */
#define FS_CREATE_DIR_TIMES 0x1
struct fs_rp_create {
	uint32_t ino;
	uint32_t uid;
	uint32_t gid;
	uint16_t mode;
	uint16_t nlink;
	uint64_t blocks;
	int64_t time_ns;
	uint32_t dir_ino;
	uint32_t dir_flags; /* FS_CREATE_DIR_* */
	uint64_t dir_size;
	uint64_t dir_blocks;
};

/* --- FS_CLOSE, FS_FSTAT, FS_FSYNC --------------------------------------- */
/*
 * FS_CLOSE with FS_CLOSE_TIMES sets the file's access and modification
 * times (atime_ns, mtime_ns as in FS_UTIMENS, OMIT and NOW included) and
 * its change time to now just before the descriptor closes (both OMIT:
 * the change time only, as FS_UTIMENS with both OMIT): a client that
 * kept back a SETATTR of the times of an open file, or a chown or chmod
 * that changed nothing but the change time (dvs-fuse on an exclusive
 * POSIX mount), sends it with the release, one round trip less.
 * The descriptor closes even when the times cannot be set (the error is
 * the reply).  A server that does not take the times answers -EOPNOTSUPP
 * (FAT) or, older, ignores the flag: a client asks first with
 * FS_CLOSE_PROBE, fd -1, which such a server answers -EOPNOTSUPP or
 * -EBADF and one that takes the times answers 0.
 */
#define FS_CLOSE_TIMES 0x1
#define FS_CLOSE_PROBE 0x2
struct fs_rq_fd {
	int32_t fd;
	uint32_t flags;	  /* FS_FSYNC: 1 = data only; FS_CLOSE: FS_CLOSE_*;
			   * FS_FSTAT 0 */
	int64_t atime_ns; /* FS_CLOSE with FS_CLOSE_TIMES; else 0 */
	int64_t mtime_ns;
	uint8_t padding[32];
};

/* --- FS_READ, FS_WRITE -------------------------------------------------- */
struct fs_rq_io {
	int32_t fd;
	uint32_t flags;	   /* FS_IO_AT */
	dvk_grant_t grant; /* READ: the server writes; WRITE: it reads */
	uint32_t len;	   /* <= FS_IO_MAX */
	int64_t off;	   /* with FS_IO_AT */
	uint8_t padding[32];
};
/*
 * After an FS_WRITE that wrote something on a POSIX volume, ino is the
 * file's inode number and size, blocks, mtime_ns and ctime_ns its
 * attributes after the write (a write changes no other): a client that
 * keeps the file's attributes needs no FS_FSTAT after it.  ino 0 (FAT,
 * FS_READ, nothing written): the fields say nothing.
 */
struct fs_rp_io {
	int64_t pos; /* descriptor position after the call; -1 with FS_IO_AT */
	uint64_t size;
	uint64_t blocks;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint32_t ino;
	uint32_t pad;
	uint8_t padding[8];
};
/* m_type of the reply is the byte count. */

/* --- FS_LSEEK ----------------------------------------------------------- */
struct fs_rq_lseek {
	int32_t fd;
	int32_t whence;
	int64_t off;
	uint8_t padding[40];
};
struct fs_rp_lseek {
	int64_t pos;
	uint8_t padding[48];
};

/* --- FS_STAT, FS_RMDIR, FS_UNLINK --------------------------------------- */
struct fs_rq_path {
	struct fs_path_arg path;
	uint8_t padding[48];
};
/* FS_STAT and FS_FSTAT reply: struct fs_wire_stat. */
/*
 * The reply of an FS_UNLINK that removed a name on a POSIX volume: dir_ino
 * is the directory it was removed from and size, blocks, mtime_ns and
 * ctime_ns the directory's after the unlink (an unlink changes no other
 * attribute of it), so a client that keeps the directory's attributes
 * needs no FS_STAT of it after each unlink.  dir_ino 0 (FAT, an error, or
 * the directory could not be read back): the fields say nothing.
 */
struct fs_rp_unlink {
	uint64_t size;
	uint64_t blocks;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint32_t dir_ino;
	uint32_t pad;
	uint8_t padding[16];
};

/* FS_MKDIR, FS_CHMOD, FS_UTIMENS, FS_TRUNCATE and FS_FTRUNCATE reply on
 * success with the struct fs_wire_stat of the file after the change (ino 0
 * if the server could not stat it), so a client needs no FS_STAT after. */

/* --- FS_MKDIR, FS_CHMOD ------------------------------------------------- */
struct fs_rq_path_mode {
	struct fs_path_arg path;
	uint32_t mode;
	uint32_t pad;
	uint8_t padding[40];
};

/* --- FS_RENAME ---------------------------------------------------------- */
struct fs_rq_rename {
	struct fs_path_arg from;
	struct fs_path_arg to;
	uint32_t flags; /* FS_RENAME_* */
	uint32_t pad;
	uint8_t padding[32];
};

/* --- FS_READDIR --------------------------------------------------------- */
struct fs_rq_readdir {
	int32_t fd;	   /* opened with FS_O_DIRECTORY */
	dvk_grant_t grant; /* the server writes records here */
	uint32_t len;	   /* <= FS_LIST_MAX */
	uint32_t max;	   /* most records to send; 0: as many as fit */
	uint64_t cookie;   /* 0: from the start; else a record's next */
	uint8_t padding[32];
};
struct fs_rp_readdir {
	uint64_t next;	/* cookie after the last record sent */
	uint32_t bytes; /* bytes written into the grant */
	uint32_t eof;	/* 1: no entry after next */
	uint8_t padding[40];
};
/* m_type of the reply is the number of records.  Records are packed, each
 * starting at a multiple of 8; "." and ".." are never listed. */
struct fs_wire_dirent {
	struct fs_wire_stat st;
	uint64_t next;	   /* cookie that resumes after this entry */
	uint16_t name_len; /* bytes of name, no NUL */
	uint16_t rec_len;  /* whole record, a multiple of 8 */
	uint32_t pad;
	/* char name[name_len] follows */
};
#define FS_DIRENT_RECLEN(name_len)                                                       \
	((sizeof(struct fs_wire_dirent) + (name_len) + 7u) & ~7u)

/* --- FS_TRUNCATE, FS_FTRUNCATE ------------------------------------------ */
struct fs_rq_truncate {
	struct fs_path_arg path; /* FS_TRUNCATE */
	int32_t fd;		 /* FS_FTRUNCATE */
	uint32_t flags;		 /* FS_TRUNCATE: FS_O_ACCESS_CHECKED or 0 */
	int64_t len;
	uint8_t padding[32];
};

/* --- FS_FALLOCATE ------------------------------------------------------- */
/* Linux's fallocate for the modes FAT can hold (as vfat): 0 (allocate,
 * grow to off + len) and FS_FALLOC_KEEP_SIZE (allocate past the size,
 * freed when a writer closes); any other bit -EOPNOTSUPP; a descriptor
 * without write access -EBADF, a directory -EISDIR, len <= 0 or off < 0
 * -EINVAL. */
#define FS_FALLOC_KEEP_SIZE 0x1 /* FALLOC_FL_KEEP_SIZE */
struct fs_rq_falloc {
	int32_t fd;
	uint32_t mode;
	int64_t off;
	int64_t len;
	uint8_t padding[32];
};

/* --- FS_UTIMENS --------------------------------------------------------- */
struct fs_rq_utimens {
	struct fs_path_arg path;
	int64_t atime_ns; /* or FS_UTIME_OMIT / FS_UTIME_NOW */
	int64_t mtime_ns;
	uint8_t padding[32];
};

/* --- FS_CHOWN --------------------------------------------------------- */
/* uid or gid FS_ID_KEEP leaves that one as it is.  Replies with the stat
 * after the change, as FS_CHMOD. */
#define FS_ID_KEEP UINT32_MAX
struct fs_rq_chown {
	struct fs_path_arg path;
	uint32_t uid;
	uint32_t gid;
	uint8_t padding[40];
};

/* --- FS_SYMLINK, FS_LINK ------------------------------------------------ */
/* FS_SYMLINK: from is the link's target, taken as bytes (not a path of
 * the volume: 1..FS_PATH_MAX-1 bytes, any content but NUL); to is the new
 * link.  FS_LINK: from is an existing file, to the new name.  Both reply
 * with the stat of the new name.  The layout is struct fs_rq_rename's
 * (flags must be 0). */

/* --- FS_READLINK -------------------------------------------------------- */
struct fs_rq_readlink {
	struct fs_path_arg path;
	dvk_grant_t grant; /* the server writes the target here, no NUL */
	uint32_t len;	   /* <= FS_PATH_MAX */
	uint8_t padding[40];
};
/* m_type of the reply is the target's length; a target longer than len
 * is cut to len bytes (as readlink(2)). */

/* --- FS_MKNOD ----------------------------------------------------------- */
/* struct fs_rq_path_mode; mode is S_IFIFO or S_IFSOCK | permission bits.
 * Replies with the stat of the new node. */

/* --- FS_OWNER ----------------------------------------------------------- */
/* The owner this binding's next creations get (open with FS_O_CREAT,
 * mkdir, mknod, symlink) until the next FS_OWNER; a binding that never
 * sent one creates as uid 0, gid 0.  The server takes the numbers as the
 * client's word: see docs/EXT.md, "Who the caller is". */
struct fs_rq_owner {
	uint32_t uid;
	uint32_t gid;
	uint8_t padding[48];
};

/* --- FS_STATVFS --------------------------------------------------------- */
struct fs_rp_statvfs {
	uint64_t blocks; /* in units of bsize */
	uint64_t bfree;
	uint64_t bavail;
	uint64_t files;
	uint64_t ffree;
	uint32_t bsize;
	uint32_t namemax;
	uint32_t flags; /* FS_VOL_* */
	uint32_t pad;
};

/* --- FS_STATS ----------------------------------------------------------- */
struct fs_rq_stats {
	dvk_grant_t grant; /* the server writes fs_wire_session records; or -1 */
	uint32_t len;	   /* <= FS_LIST_MAX */
	uint8_t padding[48];
};
struct fs_rp_stats {
	uint64_t requests; /* served since start */
	uint64_t errors;   /* replies with a negative result */
	uint32_t sessions;
	uint32_t bindings;
	uint32_t fds; /* open descriptors of all sessions */
	uint32_t workers;
	uint32_t nrec; /* records written into the grant */
	uint32_t pad;
	uint8_t padding[16];
};
struct fs_wire_session {
	uint64_t requests;
	uint32_t session;
	dvk_ep_t first_ep; /* endpoint of the binding that said hello */
	uint32_t bindings;
	uint32_t fds;
};

/* Every payload is exactly one message payload (ipc_types.h). */
DVK_PAYLOAD_ASSERT(fs_wire_stat);
DVK_PAYLOAD_ASSERT(fs_wire_pstat);
DVK_PAYLOAD_ASSERT(fs_rq_hello);
DVK_PAYLOAD_ASSERT(fs_rp_hello);
DVK_PAYLOAD_ASSERT(fs_rq_join);
DVK_PAYLOAD_ASSERT(fs_rp_join);
DVK_PAYLOAD_ASSERT(fs_rq_open);
DVK_PAYLOAD_ASSERT(fs_rp_open);
DVK_PAYLOAD_ASSERT(fs_rp_create);
DVK_PAYLOAD_ASSERT(fs_rq_fd);
DVK_PAYLOAD_ASSERT(fs_rq_io);
DVK_PAYLOAD_ASSERT(fs_rp_io);
DVK_PAYLOAD_ASSERT(fs_rq_lseek);
DVK_PAYLOAD_ASSERT(fs_rp_lseek);
DVK_PAYLOAD_ASSERT(fs_rq_path);
DVK_PAYLOAD_ASSERT(fs_rp_unlink);
DVK_PAYLOAD_ASSERT(fs_rq_path_mode);
DVK_PAYLOAD_ASSERT(fs_rq_rename);
DVK_PAYLOAD_ASSERT(fs_rq_readdir);
DVK_PAYLOAD_ASSERT(fs_rp_readdir);
DVK_PAYLOAD_ASSERT(fs_rq_truncate);
DVK_PAYLOAD_ASSERT(fs_rq_falloc);
DVK_PAYLOAD_ASSERT(fs_rq_utimens);
DVK_PAYLOAD_ASSERT(fs_rq_chown);
DVK_PAYLOAD_ASSERT(fs_rq_readlink);
DVK_PAYLOAD_ASSERT(fs_rq_owner);
DVK_PAYLOAD_ASSERT(fs_rq_stats);
DVK_PAYLOAD_ASSERT(fs_rp_stats);
DVK_PAYLOAD_ASSERT(fs_rp_statvfs);
_Static_assert(sizeof(struct fs_wire_dirent) % 8 == 0, "records stay aligned");

#endif

/* After the guard: <dvs/ipc.h> includes this file for the payloads of its
 * message union, and a program that includes only this one gets it. */
#include "ipc.h"
