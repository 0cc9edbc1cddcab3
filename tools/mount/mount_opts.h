/*
 * mount_opts.h - what `dvs mount` was asked to do, handed from the command
 * to the supervisor.
 */
#ifndef DVS_MOUNT_OPTS_H
#define DVS_MOUNT_OPTS_H

#include <limits.h>

struct mount_opts {
	char image[PATH_MAX]; /* resolved */
	char mnt[PATH_MAX];   /* resolved */
	char run[PATH_MAX];   /* the run directory (run_dir.h) */
	int vdd;	      /* through dvs-vdd (scenario A2) */
	int ro;
	unsigned cache_mb;
	unsigned threads;
	long uid, gid; /* -1: not given */
	int allow_other;
	int quiet; /* -q: no word on success */
};

#endif
