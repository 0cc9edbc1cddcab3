/* cli.h - what the subcommands of dvs-fat share (cli.c): the image:/path
 * arguments, mounting an image, messages and exit statuses, small path
 * and size helpers.  Each subcommand returns the exit status: 0, 1 after
 * a message that names the path and the reason, or 2 for bad usage. */
#ifndef DVS_FAT_CLI_H
#define DVS_FAT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dvs/fat.h"

#define COPY_BUF (1 << 20)	/* get and put move this much per call */

/* -p N: the MBR primary partition to use (0: the whole image). */
extern int cli_partition;

void usage(FILE *f);

/* "dvs-fat: WHAT PATH: reason"; returns 1. */
int cli_fail(const char *what, const char *path, int err);
/* The image is locked by another program: says which; returns 1. */
int cli_fail_busy(const char *img);

/* Splits "IMAGE:/path" at the first ":/" (or a final ':'): *img is
 * malloc'd, *path points into arg (NULL when there is no path). */
int cli_split(const char *arg, char **img, const char **path);
/* The same, refusing an argument without a path (returns 2 then). */
int cli_need_path(const char *arg, char **img, const char **path);

struct mounted {
	struct fat_blkdev *dev;
	struct fat_vol *vol;
};

/* Opens and mounts img (read-only if ro); 0 or 1 after a message. */
int cli_mount(const char *img, int ro, struct mounted *m);
/* Unmounts and closes; 0 or 1 after a message. */
int cli_umount(struct mounted *m, const char *img);
/* cli_need_path and cli_mount of IMAGE:/path: 0 or the exit status
 * (*img freed on failure). */
int cli_open_arg(const char *arg, int ro, struct mounted *m, char **img,
		 const char **path);
/* Unmounts and frees what cli_open_arg gave: rc, or 1 if the unmount
 * failed. */
int cli_close_arg(struct mounted *m, char *img, int rc);

/* dir + "/" + name (no doubled slash), malloc'd; NULL if out of memory. */
char *cli_path_join(const char *dir, const char *name);
/* The last component of path (borrowed from it). */
const char *cli_base_name(const char *path);
/* "64M", "1G", "512K", "4096": bytes, 0 if not a size. */
uint64_t cli_parse_size(const char *s);
/* "YYYY-MM-DD HH:MM:SS" (UTC) of t into buf. */
void cli_fmt_time(const struct timespec *t, char *buf, size_t n);

/* The names of a directory, collected by fat_readdir (cli_collect_names
 * as the callback); cli_names_free frees them. */
struct names {
	char **v;
	size_t n;
};
int cli_collect_names(void *arg, const struct fat_dirent *e);
void cli_names_free(struct names *n);

/* The options of a command with at most one flag, -CH / --LONG_NAME (ch
 * 0: none, set may then be NULL), before or among its operands; -- ends
 * them.  Returns the index of the first operand in argv, or -1 after
 * getopt's message about a bad option (exit status 2). */
int cli_flag(int argc, char **argv, int ch, const char *long_name, int *set);

int cmd_mkfs(int argc, char **argv);	/* mkfs_cmd.c */
int cmd_ls(int argc, char **argv);	/* ls_cmd.c */
int cmd_stat(int argc, char **argv);
int cmd_get(int argc, char **argv);	/* get_cmd.c */
int cmd_put(int argc, char **argv);	/* put_cmd.c */
int cmd_mkdir(int argc, char **argv);	/* tree_cmd.c */
int cmd_rm(int argc, char **argv);
int cmd_mv(int argc, char **argv);
int cmd_df(int argc, char **argv);	/* vol_cmd.c */
int cmd_label(int argc, char **argv);

#endif
