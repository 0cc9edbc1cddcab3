/* fat_test_util.h - helpers shared by the FAT engine's tests: a memory
 * block device that can cut writes off after N sector writes (a crash),
 * and fsck.fat / mtools runs on its contents. */
#ifndef FAT_TEST_UTIL_H
#define FAT_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dvs/fat.h"

struct memdev {
	struct fat_blkdev dev;
	uint8_t *data;
	size_t size;
	long writes_left;	/* -1: unlimited; else writes until the cut */
	long writes;		/* sector writes done */
	long requests;		/* write calls (one or more sectors each) */
	int cut;		/* set once a write was dropped */
};

/* A zeroed memory device of size bytes with sector_size sectors. */
struct memdev *memdev_new(size_t size, uint32_t sector_size);
void memdev_free(struct memdev *m);
/* A new memory device (512-byte sectors) formatted as FAT fat_type and
 * mounted with mo (may be NULL) in *vol; NULL if any step fails. */
struct memdev *memdev_mounted(size_t size, int fat_type,
			      const struct fat_mount_opts *mo, struct fat_vol **vol);
/* Writes the contents to a new temp file in dir; returns its path
 * (malloc'd). */
char *memdev_save(struct memdev *m, const char *dir);
/* Loads a file into a new memory device. */
struct memdev *memdev_load(const char *path, uint32_t sector_size);

/* Runs "fsck.fat -n path"; returns its exit status, output in *out
 * (malloc'd, may be NULL). */
int run_fsck(const char *path, char **out);
/* Runs "fsck.fat -n" on a copy of m's contents (in a private temp
 * directory, removed after); like run_fsck. */
int memdev_fsck(struct memdev *m, char **out);
/* A private temp directory (removed by rm_rf). */
char *make_tmpdir(void);
void rm_rf(const char *dir);
/* Runs a shell command, returns the exit status; output in *out if set. */
int run_cmd(const char *cmd, char **out);

#endif
