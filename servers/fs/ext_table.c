/*
 * ext_table.c - the call table of a session on an ext volume: the same
 * numbers as table.c, the session calls shared, the rest ext_do_*.
 */
#include "ext.h"

const struct fs_call_desc ext_table[FS_NCALLS] = {
    [FS_HELLO] = {do_hello, "hello", 0},
    [FS_JOIN] = {do_join, "join", 0},
    [FS_BYE] = {do_bye, "bye", 1},
    [FS_OPEN] = {ext_do_open, "open", 1},
    [FS_CLOSE] = {ext_do_close, "close", 1},
    [FS_READ] = {ext_do_read, "read", 1},
    [FS_WRITE] = {ext_do_write, "write", 1},
    [FS_LSEEK] = {ext_do_lseek, "lseek", 1},
    [FS_STAT] = {ext_do_stat, "stat", 1},
    [FS_FSTAT] = {ext_do_fstat, "fstat", 1},
    [FS_MKDIR] = {ext_do_mkdir, "mkdir", 1},
    [FS_RMDIR] = {ext_do_rmdir, "rmdir", 1},
    [FS_UNLINK] = {ext_do_unlink, "unlink", 1},
    [FS_RENAME] = {ext_do_rename, "rename", 1},
    [FS_READDIR] = {ext_do_readdir, "readdir", 1},
    [FS_TRUNCATE] = {ext_do_truncate, "truncate", 1},
    [FS_FTRUNCATE] = {ext_do_ftruncate, "ftruncate", 1},
    [FS_UTIMENS] = {ext_do_utimens, "utimens", 1},
    [FS_CHMOD] = {ext_do_chmod, "chmod", 1},
    [FS_FSYNC] = {ext_do_fsync, "fsync", 1},
    [FS_SYNC] = {ext_do_sync, "sync", 1},
    [FS_STATVFS] = {ext_do_statvfs, "statvfs", 1},
    [FS_STATS] = {do_stats, "stats", 0},
    [FS_CHOWN] = {ext_do_chown, "chown", 1},
    [FS_SYMLINK] = {ext_do_symlink, "symlink", 1},
    [FS_READLINK] = {ext_do_readlink, "readlink", 1},
    [FS_LINK] = {ext_do_link, "link", 1},
    [FS_MKNOD] = {ext_do_mknod, "mknod", 1},
    [FS_OWNER] = {ext_do_owner, "owner", 1},
};
