/* fat_test_util.c - see fat_test_util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fat_test_util.h"

static int
mem_read(struct fat_blkdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	struct memdev *m = dev->ctx;
	memcpy(buf, m->data + sector * dev->sector_size,
	       (size_t)count * dev->sector_size);
	return 0;
}

static int
mem_write(struct fat_blkdev *dev, uint64_t sector, uint32_t count,
	  const void *buf)
{
	struct memdev *m = dev->ctx;
	__atomic_add_fetch(&m->requests, 1, __ATOMIC_SEQ_CST);
	for (uint32_t i = 0; i < count; i++) {
		/* one sector at a time, so a cut can fall inside a request;
		 * the counters are atomic for the thread tests */
		long left = __atomic_load_n(&m->writes_left, __ATOMIC_SEQ_CST);
		if (left == 0) {
			__atomic_store_n(&m->cut, 1, __ATOMIC_SEQ_CST);
			return -EIO;	/* the "machine" is gone */
		}
		if (left > 0)
			__atomic_sub_fetch(&m->writes_left, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&m->writes, 1, __ATOMIC_SEQ_CST);
		memcpy(m->data + (sector + i) * dev->sector_size,
		       (const uint8_t *)buf + (size_t)i * dev->sector_size,
		       dev->sector_size);
	}
	return 0;
}

static int
mem_flush(struct fat_blkdev *dev)
{
	struct memdev *m = dev->ctx;
	return __atomic_load_n(&m->cut, __ATOMIC_SEQ_CST) ? -EIO : 0;
}

static const struct fat_blkdev_ops mem_ops = {
	.read = mem_read, .write = mem_write, .flush = mem_flush,
};

struct memdev *
memdev_new(size_t size, uint32_t sector_size)
{
	struct memdev *m = calloc(1, sizeof *m);
	m->data = calloc(1, size);
	m->size = size;
	m->writes_left = -1;
	m->dev.ops = &mem_ops;
	m->dev.ctx = m;
	m->dev.sector_size = sector_size;
	m->dev.sector_count = size / sector_size;
	return m;
}

struct memdev *
memdev_mounted(size_t size, int fat_type, const struct fat_mount_opts *mo,
	       struct fat_vol **vol)
{
	struct fat_format_opts fo = {.fat_type = fat_type};
	struct memdev *m = memdev_new(size, 512);

	if (fat_format(&m->dev, &fo) || fat_mount(&m->dev, mo, vol)) {
		memdev_free(m);
		return NULL;
	}
	return m;
}

void
memdev_free(struct memdev *m)
{
	if (!m)
		return;
	free(m->data);
	free(m);
}

char *
memdev_save(struct memdev *m, const char *dir)
{
	char *path;
	if (asprintf(&path, "%s/img-XXXXXX", dir) < 0)
		return NULL;
	int fd = mkstemp(path);
	if (fd < 0) {
		free(path);
		return NULL;
	}
	size_t off = 0;
	while (off < m->size) {
		ssize_t w = write(fd, m->data + off, m->size - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	return path;
}

struct memdev *
memdev_load(const char *path, uint32_t sector_size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	struct memdev *m = memdev_new((size_t)n, sector_size);
	if (fread(m->data, 1, (size_t)n, f) != (size_t)n) {
		memdev_free(m);
		m = NULL;
	}
	fclose(f);
	return m;
}

int
run_cmd(const char *cmd, char **out)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	char tmp[4096];
	size_t n;

	if (!p)
		return -1;
	while ((n = fread(tmp, 1, sizeof tmp, p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
		}
		memcpy(buf + len, tmp, n);
		len += n;
	}
	if (!buf)
		buf = calloc(1, 1);
	buf[len] = 0;
	int st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
run_fsck(const char *path, char **out)
{
	char *cmd;
	if (asprintf(&cmd, "PATH=/usr/sbin:/sbin:$PATH fsck.fat -n '%s' 2>&1", path) < 0)
		return -1;
	int r = run_cmd(cmd, out);
	free(cmd);
	return r;
}

char *
make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t;
	if (asprintf(&t, "%s/dvs-fat-test-XXXXXX", base ? base : "/tmp") < 0)
		return NULL;
	if (!mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

void
rm_rf(const char *dir)
{
	char *cmd;
	if (!dir || asprintf(&cmd, "rm -rf '%s'", dir) < 0)
		return;
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

int
memdev_fsck(struct memdev *m, char **out)
{
	char *dir = make_tmpdir(), *img = dir ? memdev_save(m, dir) : NULL;
	int rc = img ? run_fsck(img, out) : -1;

	if (rc < 0 && out)
		*out = strdup("cannot save the image for fsck.fat");
	rm_rf(dir);
	free(img);
	free(dir);
	return rc;
}
