/*
 * smallio.h - the workloads of `dvs-bench smallio`, run the same way on
 * every contender (a dvs mount, the kernel's ext4 on a loop device, tmpfs).
 *
 * Each takes the directory to work in (borrowed for the call) and returns
 * its figure (operations per second, or seconds), or NAN when an
 * operation failed; the failure is said on stderr once, in the user's
 * words.  None of them drops caches: the driver does that between them.
 */
#ifndef DVS_BENCH_SMALLIO_H
#define DVS_BENCH_SMALLIO_H

/* nfiles files of 4 KiB in ndirs directories DIR/dNN/fNNNNN, each
 * written and closed, then syncfs: files per second. */
double sio_create(const char *dir, unsigned nfiles, unsigned ndirs);

/* A walk of the tree as ls -l, find and du do it (readdir, then fstatat
 * of each name): files per second.  *count gets the files seen. */
double sio_stat_walk(const char *dir, unsigned ndirs, unsigned *count);

/* stat of each file by its path, without listing the directories first
 * (as make checks its targets): files per second. */
double sio_stat_named(const char *dir, unsigned nfiles, unsigned ndirs);

/* The walk, opening, reading whole and closing each file: files per
 * second.  Every file must hold 4 KiB of the pattern sio_create wrote. */
double sio_read_walk(const char *dir, unsigned ndirs);

/* Writes a file of mib MiB (1 MiB writes, then fsync); 0 or -1. */
int sio_make_big(const char *path, unsigned mib);

/* 4 KiB preads at random aligned offsets of path for secs seconds from
 * nthreads threads: reads per second. */
double sio_randread(const char *path, unsigned nthreads, double secs);

/*
 * A built-in PostMark (postmark is not packaged here): nfiles files of
 * 500..9,999 bytes in 10 directories, then ntx transactions, each a read
 * or an append of a random file and a create or a delete, then every
 * file deleted.  Transactions per second of the transaction phase.
 */
double sio_postmark(const char *dir, unsigned nfiles, unsigned ntx, unsigned seed);

#endif
