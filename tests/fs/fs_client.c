/*
 * fs_client.c - a test client of dvs-fs built on libdvsfs.  Run inside
 * the DC (dvsctl run).  Modes:
 *
 *   posix                  every call once, with the errors a user sees
 *   multi TAG THREADS SIZE each thread writes /TAG-i (SIZE bytes of its
 *                          own pattern) and reads it back, and all read
 *                          /shared.bin (pattern 999) byte by byte
 *   mkshared SIZE          writes /shared.bin with pattern 999
 *   hold TAG N             opens N files, writes into them slowly for ever
 *                          (prints "holding" once they are open)
 *   loop TAG               writes and reads until an error; prints it and
 *                          exits 1 (a dead server must end this quickly)
 *   fds                    prints "fds N sessions M" of the server
 *
 * Exit 0 when every check passed, 1 otherwise, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvs/dvsfs.h"

static struct dvsfs *fs;
static int failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void
check(const char *what, long got, long want)
{
	pthread_mutex_lock(&out_lock);
	if (got == want) {
		printf("ok   %s\n", what);
	} else {
		printf("FAIL %s: got %ld (%s), want %ld\n", what, got,
		       got < 0 ? strerror((int)-got) : "", want);
		failures++;
	}
	pthread_mutex_unlock(&out_lock);
}

static void
pattern(unsigned seed, unsigned char *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = (off + i) * 2654435761u + seed * 40503u;

		buf[i] = (unsigned char)(x ^ (x >> 13) ^ (x >> 7));
	}
}

static int
write_pattern(const char *path, unsigned seed, size_t size)
{
	unsigned char *buf = malloc(256 << 10);
	size_t done = 0, n;
	ssize_t w;
	int fd, rc = 0;

	fd = dvs_open(fs, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	while (done < size) {
		n = size - done < (256u << 10) ? size - done : (256u << 10);
		/* Odd-sized pieces cross every cluster boundary. */
		if (n > 1000 && (done / 1000) % 3 == 1)
			n -= 333;
		pattern(seed, buf, n, done);
		w = dvs_write(fs, fd, buf, n);
		if (w != (ssize_t)n) {
			rc = w < 0 ? (int)w : -EIO;
			break;
		}
		done += n;
	}
	if (rc == 0)
		rc = dvs_fsync(fs, fd);
	dvs_close(fs, fd);
	free(buf);
	return rc;
}

/* Returns 0 when the file holds exactly the pattern, else -EIO or error. */
static int
verify_pattern(const char *path, unsigned seed, size_t size)
{
	unsigned char *buf = malloc(300 << 10), *want = malloc(300 << 10);
	size_t done = 0;
	ssize_t n;
	int fd, rc = 0;

	fd = dvs_open(fs, path, O_RDONLY, 0);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	for (;;) {
		n = dvs_pread(fs, fd, buf, 300 << 10, (off_t)done);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		pattern(seed, want, (size_t)n, done);
		if (memcmp(buf, want, (size_t)n) != 0) {
			rc = -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (rc == 0 && done != size)
		rc = -EIO;
	dvs_close(fs, fd);
out:
	free(buf);
	free(want);
	return rc;
}

struct job {
	const char *tag;
	int idx;
	size_t size;
	size_t shared_size;
};

static void *
multi_thread(void *arg)
{
	struct job *j = arg;
	char path[256], what[300];
	int rc, k;

	snprintf(path, sizeof(path), "/%s-%d.bin", j->tag, j->idx);
	rc = write_pattern(path, (unsigned)j->idx + 1, j->size);
	snprintf(what, sizeof(what), "thread %d writes %s", j->idx, path);
	check(what, rc, 0);
	for (k = 0; k < 2; k++) {
		rc = verify_pattern("/shared.bin", 999, j->shared_size);
		snprintf(what, sizeof(what), "thread %d reads /shared.bin (%d)", j->idx,
			 k);
		check(what, rc, 0);
	}
	rc = verify_pattern(path, (unsigned)j->idx + 1, j->size);
	snprintf(what, sizeof(what), "thread %d reads back %s", j->idx, path);
	check(what, rc, 0);
	return NULL;
}

static int
mode_multi(const char *tag, int nthreads, size_t size)
{
	pthread_t tid[64];
	struct job jobs[64];
	struct dvs_stat st;
	int i, rc;

	rc = dvs_stat(fs, "/shared.bin", &st);
	check("stat /shared.bin", rc, 0);
	if (rc < 0)
		return 1;
	if (nthreads > 64)
		nthreads = 64;
	for (i = 0; i < nthreads; i++) {
		jobs[i].tag = tag;
		jobs[i].idx = i;
		jobs[i].size = size + (size_t)i * 4099;
		jobs[i].shared_size = st.st_size;
		pthread_create(&tid[i], NULL, multi_thread, &jobs[i]);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return failures ? 1 : 0;
}

static int
mode_posix(void)
{
	const struct dvs_dirent *e;
	struct dvs_stat st;
	struct statvfs sv;
	struct dvs_dir *d;
	char buf[64];
	int fd, rc, n, seen_a = 0, seen_b = 0;
	struct timespec ts[2] = {{1000000000, 0}, {1200000000, 0}};

	dvs_rmdir(fs, "/px/sub");
	dvs_unlink(fs, "/px/a.txt");
	dvs_unlink(fs, "/px/b.txt");
	dvs_unlink(fs, "/px/Long file name with spaces.txt");
	dvs_rmdir(fs, "/px");
	check("mkdir /px", dvs_mkdir(fs, "/px", 0755), 0);
	check("mkdir /px again", dvs_mkdir(fs, "/px", 0755), -EEXIST);
	check("mkdir /nope/x", dvs_mkdir(fs, "/nope/x", 0755), -ENOENT);
	fd = dvs_open(fs, "/px/a.txt", O_RDWR | O_CREAT | O_EXCL, 0644);
	check("create /px/a.txt", fd >= 0, 1);
	check("create it again O_EXCL",
	      dvs_open(fs, "/px/a.txt", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
	check("write 11 bytes", dvs_write(fs, fd, "hello world", 11), 11);
	check("lseek to 6", dvs_lseek(fs, fd, 6, SEEK_SET), 6);
	memset(buf, 0, sizeof(buf));
	check("read 5 from 6", dvs_read(fs, fd, buf, 5), 5);
	check("the bytes are 'world'", memcmp(buf, "world", 5), 0);
	check("read at end", dvs_read(fs, fd, buf, 5), 0);
	check("read of 0 bytes", dvs_read(fs, fd, buf, 0), 0);
	check("write of 0 bytes", dvs_write(fs, fd, buf, 0), 0);
	check("read of 0 bytes, bad fd", dvs_read(fs, 999, buf, 0), -EBADF);
	check("lseek SEEK_END", dvs_lseek(fs, fd, 0, SEEK_END), 11);
	check("pwrite at 20 (gap)", dvs_pwrite(fs, fd, "!", 1, 20), 1);
	check("fstat size 21", (dvs_fstat(fs, fd, &st), (long)st.st_size), 21);
	check("pread of the gap is zeros",
	      (dvs_pread(fs, fd, buf, 4, 12), buf[0] | buf[3]), 0);
	check("ftruncate to 5", dvs_ftruncate(fs, fd, 5), 0);
	check("fstat size 5", (dvs_fstat(fs, fd, &st), (long)st.st_size), 5);
	check("S_ISREG", S_ISREG(st.st_mode), 1);
	check("fsync", dvs_fsync(fs, fd), 0);
	check("close", dvs_close(fs, fd), 0);
	check("close again", dvs_close(fs, fd), -EBADF);
	check("truncate by path to 3", dvs_truncate(fs, "/px/a.txt", 3), 0);
	check("stat size 3", (dvs_stat(fs, "/px/a.txt", &st), (long)st.st_size), 3);
	check("utimens", dvs_utimens(fs, "/px/a.txt", ts), 0);
	check("mtime kept", (dvs_stat(fs, "/px/a.txt", &st), (long)st.st_mtim.tv_sec),
	      1200000000);
	check("chmod 0444", dvs_chmod(fs, "/px/a.txt", 0444), 0);
	check("mode is read-only",
	      (dvs_stat(fs, "/px/a.txt", &st), (long)(st.st_mode & 0222)), 0);
	check("open read-only file for writing", dvs_open(fs, "/px/a.txt", O_WRONLY, 0),
	      -EACCES);
	check("chmod 0644", dvs_chmod(fs, "/px/a.txt", 0644), 0);
	check("rename a -> b", dvs_rename(fs, "/px/a.txt", "/px/b.txt"), 0);
	check("stat a gone", dvs_stat(fs, "/px/a.txt", &st), -ENOENT);
	check("stat b", dvs_stat(fs, "/px/b.txt", &st), 0);
	fd = dvs_creat(fs, "/px/Long file name with spaces.txt", 0644);
	check("creat a long name", fd >= 0, 1);
	dvs_close(fs, fd);
	check("rename NOREPLACE onto existing",
	      dvs_rename2(fs, "/px/b.txt", "/px/Long file name with spaces.txt", 1),
	      -EEXIST);
	check("mkdir /px/sub", dvs_mkdir(fs, "/px/sub", 0755), 0);
	check("rmdir non-empty /px", dvs_rmdir(fs, "/px"), -ENOTEMPTY);
	check("unlink a directory", dvs_unlink(fs, "/px/sub"), -EISDIR);
	check("open file as directory",
	      dvs_open(fs, "/px/b.txt", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
	check("path through a file", dvs_stat(fs, "/px/b.txt/x", &st), -ENOTDIR);
	check("open a directory for writing", dvs_open(fs, "/px", O_WRONLY, 0), -EISDIR);
	check("dot-dot path", dvs_stat(fs, "/px/sub/../b.txt", &st), 0);
	rc = dvs_opendir(fs, "/px", &d);
	check("opendir /px", rc, 0);
	n = 0;
	while (rc == 0 && dvs_readdir(d, &e) > 0) {
		n++;
		if (strcmp(e->name, "b.txt") == 0 && S_ISREG(e->st.st_mode))
			seen_a = 1;
		if (strcmp(e->name, "sub") == 0 && S_ISDIR(e->st.st_mode))
			seen_b = 1;
	}
	dvs_closedir(d);
	check("readdir lists 3 entries", n, 3);
	check("readdir b.txt as a file", seen_a, 1);
	check("readdir sub as a directory", seen_b, 1);
	check("statvfs", dvs_statvfs(fs, &sv), 0);
	check("statvfs has free blocks", sv.f_bfree > 0 && sv.f_bsize >= 512, 1);
	check("sync", dvs_sync(fs), 0);
	check("rmdir sub", dvs_rmdir(fs, "/px/sub"), 0);
	check("unlink b", dvs_unlink(fs, "/px/b.txt"), 0);
	check("unlink long", dvs_unlink(fs, "/px/Long file name with spaces.txt"), 0);
	check("rmdir /px", dvs_rmdir(fs, "/px"), 0);
	check("empty path", dvs_stat(fs, "", &st), -ENOENT);
	return failures ? 1 : 0;
}

static int
mode_hold(const char *tag, int n)
{
	static unsigned char buf[4096];
	char path[256];
	int fds[64], i, rc;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/%s-%d.bin", tag, i);
		fds[i] = dvs_open(fs, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fds[i] < 0) {
			printf("open %s: %s\n", path, strerror(-fds[i]));
			return 1;
		}
	}
	memset(buf, 'h', sizeof(buf));
	printf("holding %d\n", n);
	fflush(stdout);
	for (;;) {
		for (i = 0; i < n; i++) {
			rc = (int)dvs_write(fs, fds[i], buf, sizeof(buf));
			if (rc < 0) {
				printf("write: %s\n", strerror(-rc));
				return 1;
			}
		}
		usleep(50000);
	}
}

static int
mode_loop(const char *tag)
{
	static unsigned char buf[256 << 10];
	char path[256];
	int fd;
	ssize_t rc;
	long i;

	snprintf(path, sizeof(path), "/%s.bin", tag);
	fd = dvs_open(fs, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("open: %s\n", strerror(-fd));
		return 1;
	}
	printf("looping\n");
	fflush(stdout);
	for (i = 0;; i++) {
		rc =
		    dvs_pwrite(fs, fd, buf, sizeof(buf), (off_t)((i % 16) * sizeof(buf)));
		if (rc >= 0)
			rc = dvs_pread(fs, fd, buf, sizeof(buf), 0);
		if (rc < 0) {
			printf("error after %ld rounds: %s\n", i, strerror((int)-rc));
			return 1;
		}
	}
}

int
main(int argc, char **argv)
{
	struct dvsfs_server_stats st;
	int rc, ret = 2;

	if (argc < 2) {
		fprintf(stderr, "usage: fs_client MODE ARGS (see the source)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = dvsfs_connect(NULL, &fs);
	if (rc < 0) {
		fprintf(stderr, "fs_client: connect: %s\n", dvk_strerror(rc));
		return 2;
	}
	if (strcmp(argv[1], "posix") == 0)
		ret = mode_posix();
	else if (strcmp(argv[1], "multi") == 0 && argc == 5)
		ret = mode_multi(argv[2], atoi(argv[3]), (size_t)atol(argv[4]));
	else if (strcmp(argv[1], "mkshared") == 0 && argc == 3)
		ret =
		    write_pattern("/shared.bin", 999, (size_t)atol(argv[2])) == 0 ? 0 : 1;
	else if (strcmp(argv[1], "hold") == 0 && argc == 4)
		ret = mode_hold(argv[2], atoi(argv[3]));
	else if (strcmp(argv[1], "loop") == 0 && argc == 3)
		ret = mode_loop(argv[2]);
	else if (strcmp(argv[1], "fds") == 0) {
		rc = dvsfs_stats(fs, &st, NULL, 0, NULL);
		if (rc == 0)
			printf("fds %u sessions %u\n", st.fds, st.sessions);
		ret = rc == 0 ? 0 : 1;
	}
	dvsfs_disconnect(fs);
	return ret;
}
