/* fuzz_mount.c - libFuzzer target: the input is a whole volume image.
 * It is mounted read-write on a memory device, walked (every directory
 * listed, every file read, a few written, renamed and removed) and
 * unmounted.  Any crash, hang, leak or out-of-bounds access is a bug. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/fat.h"
#include "dvs/log.h"

struct mem {
	uint8_t *d;
	size_t n;
};

static int
mread(struct fat_blkdev *dev, uint64_t s, uint32_t c, void *b)
{
	struct mem *m = dev->ctx;
	if ((s + c) * 512 > m->n)
		abort();	/* the engine must never ask past the device */
	memcpy(b, m->d + s * 512, (size_t)c * 512);
	return 0;
}

static int
mwrite(struct fat_blkdev *dev, uint64_t s, uint32_t c, const void *b)
{
	struct mem *m = dev->ctx;
	if ((s + c) * 512 > m->n)
		abort();
	memcpy(m->d + s * 512, b, (size_t)c * 512);
	return 0;
}

static const struct fat_blkdev_ops ops = {.read = mread, .write = mwrite};

static void
walk(struct fat_vol *vol, const char *path, int depth, int *budget)
{
	struct fat_dir *d;
	struct fat_dirent *e;
	if (depth > 16 || fat_dir_open(vol, path, &d))
		return;
	e = malloc(sizeof *e);
	while (--*budget > 0 && fat_dir_read(d, e) == 1) {
		char sub[1100];
		if (strlen(path) + strlen(e->name) > 1000)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", strcmp(path, "/") ? path : "", e->name);
		if (e->st.attr & FAT_ATTR_DIR) {
			walk(vol, sub, depth + 1, budget);
			continue;
		}
		struct fat_file *f;
		char buf[2048];
		if (fat_open(vol, sub, O_RDWR, &f) == 0) {
			for (uint64_t off = 0; off < 65536; off += sizeof buf)
				if (fat_pread(f, buf, sizeof buf, off) <= 0)
					break;
			fat_pwrite(f, "fuzz", 4, 100);
			fat_ftruncate(f, 50);
			fat_close(f);
		}
	}
	free(e);
	fat_dir_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m;
	struct fat_blkdev dev = {.ops = &ops, .ctx = &m, .sector_size = 512};
	struct fat_vol *vol;
	struct fat_file *f;
	int budget = 2000;

	dvs_log_set_level(DVS_LOG_ERROR);
	if (size < 512 || size > (4u << 20))
		return 0;
	m.n = size & ~(size_t)511;
	m.d = malloc(m.n);
	memcpy(m.d, data, m.n);
	dev.sector_count = m.n / 512;
	if (fat_mount(&dev, NULL, &vol) == 0) {
		walk(vol, "/", 0, &budget);
		if (fat_open(vol, "/new file.txt", O_RDWR | O_CREAT, &f) == 0) {
			fat_pwrite(f, data, size < 3000 ? size : 3000, 0);
			fat_close(f);
		}
		fat_mkdir(vol, "/New Dir");
		fat_rename(vol, "/new file.txt", "/New Dir/moved");
		fat_unlink(vol, "/New Dir/moved");
		fat_rmdir(vol, "/New Dir");
		fat_sync(vol);
		fat_unmount(vol);
	}
	free(m.d);
	return 0;
}
