/*
 * table.c - the call table of dvs-fs, indexed by call number.  An empty
 * slot answers -ENOSYS; need_session says whether the caller must be a
 * binding that said FS_HELLO or FS_JOIN.
 */
#include "fs.h"

const struct fs_call_desc fs_table[FS_NCALLS] = {
    [FS_HELLO] = {do_hello, "hello", 0},
    [FS_JOIN] = {do_join, "join", 0},
    [FS_BYE] = {do_bye, "bye", 1},
    [FS_OPEN] = {do_open, "open", 1},
    [FS_CLOSE] = {do_close, "close", 1},
    [FS_READ] = {do_read, "read", 1},
    [FS_WRITE] = {do_write, "write", 1},
    [FS_LSEEK] = {do_lseek, "lseek", 1},
    [FS_STAT] = {do_stat, "stat", 1},
    [FS_FSTAT] = {do_fstat, "fstat", 1},
    [FS_MKDIR] = {do_mkdir, "mkdir", 1},
    [FS_RMDIR] = {do_rmdir, "rmdir", 1},
    [FS_UNLINK] = {do_unlink, "unlink", 1},
    [FS_RENAME] = {do_rename, "rename", 1},
    [FS_READDIR] = {do_readdir, "readdir", 1},
    [FS_TRUNCATE] = {do_truncate, "truncate", 1},
    [FS_FTRUNCATE] = {do_ftruncate, "ftruncate", 1},
    [FS_UTIMENS] = {do_utimens, "utimens", 1},
    [FS_CHMOD] = {do_chmod, "chmod", 1},
    [FS_FSYNC] = {do_fsync, "fsync", 1},
    [FS_SYNC] = {do_sync, "sync", 1},
    [FS_STATVFS] = {do_statvfs, "statvfs", 1},
    [FS_STATS] = {do_stats, "stats", 0},
    [FS_FALLOCATE] = {do_fallocate, "fallocate", 1},
};
