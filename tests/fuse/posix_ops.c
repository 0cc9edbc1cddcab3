/*
 * posix_ops - runs one fixed script of file operations inside a directory
 * and prints one line per operation: what was done and what came back
 * (the error name, sizes, modes, contents' checksums).  The FUSE test runs
 * it in a tmpfs directory and on a dvs mount and compares the outputs: a
 * FAT volume must answer as Linux does, errors included, for everything
 * FAT can express (no owners, links, or permission bits beyond the
 * read-only one; times at FAT's resolution).
 *
 * usage: posix_ops DIR
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int failures;

static const char *
ename(int e)
{
	const char *s = strerrorname_np(e);

	return s != NULL ? s : "E?";
}

/* Prints "what: ok" or "what: ERRNAME" for a -1/errno style result. */
static int
show(const char *what, int r)
{
	if (r < 0)
		printf("%-44s %s\n", what, ename(errno));
	else
		printf("%-44s ok\n", what);
	return r;
}

static uint32_t
fnv(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

static void
show_stat(const char *path)
{
	struct stat st;
	char what[300];

	snprintf(what, sizeof(what), "stat %s", path);
	if (stat(path, &st) < 0) {
		printf("%-44s %s\n", what, ename(errno));
		return;
	}
	printf("%-44s %s size=%lld perm=%04o\n", what,
	       S_ISDIR(st.st_mode)   ? "dir"
	       : S_ISREG(st.st_mode) ? "file"
				     : "other",
	       S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size,
	       (unsigned)(st.st_mode & 0777));
}

/* Reads the whole file: size and checksum. */
static void
show_content(const char *path)
{
	static unsigned char buf[8 << 20];
	char what[300];
	ssize_t n, total = 0;
	int fd;

	snprintf(what, sizeof(what), "read %s", path);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%-44s %s\n", what, ename(errno));
		return;
	}
	while ((n = read(fd, buf + total, sizeof(buf) - (size_t)total)) > 0)
		total += n;
	if (n < 0)
		printf("%-44s %s\n", what, ename(errno));
	else
		printf("%-44s %zd bytes fnv=%08x\n", what, total,
		       fnv(buf, (size_t)total));
	close(fd);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
show_dir(const char *path)
{
	char *names[512], what[300];
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;

	snprintf(what, sizeof(what), "list %s", path);
	d = opendir(path);
	if (d == NULL) {
		printf("%-44s %s\n", what, ename(errno));
		return;
	}
	while ((de = readdir(d)) != NULL && n < 512)
		names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	printf("%-44s", what);
	for (i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static int
write_file(const char *path, int flags, const void *data, size_t len)
{
	int fd = open(path, flags, 0644), e;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	e = errno;
	if (close(fd) < 0 && n >= 0)
		return -1;
	errno = e;
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Deep trees of 255-byte names (pjdfstest style): a path argument may be
 * up to PATH_MAX - 1 bytes, and one relative to a deep working directory
 * is measured from there, not from the root of the file system.
 * Prints one line per kind of operation (and the first failure).
 */
static void
deep_paths(void)
{
	enum { LEVELS = 15 };	/* 15 * 256 - 1 = 3839 bytes */
	char name[256], rel[4200], what[100];
	struct stat st;
	int top, r = 0, i, half;
	size_t n;

	memset(name, 'd', 255);
	name[255] = '\0';
	show("mkdir deep", mkdir("deep", 0755));
	top = open(".", O_RDONLY | O_DIRECTORY);
	if (chdir("deep") != 0)
		return;
	for (half = 0; half < 2; half++) {
		/* LEVELS directories, each made by its full relative path. */
		rel[0] = '\0';
		for (i = 0, r = 0; i < LEVELS && r == 0; i++) {
			n = strlen(rel);
			snprintf(rel + n, sizeof(rel) - n, "%s%s", n ? "/" : "", name);
			r = mkdir(rel, 0755);
		}
		snprintf(what, sizeof(what), "mkdir %d levels (%zu bytes), part %d", LEVELS,
			 strlen(rel), half + 1);
		show(what, r);
		/* A file whose relative path is PATH_MAX - 1 bytes. */
		n = strlen(rel);
		snprintf(rel + n, sizeof(rel) - n, "/%.*s", (int)(4095 - n - 1), name);
		snprintf(what, sizeof(what), "create %zu-byte path, part %d", strlen(rel),
			 half + 1);
		show(what, write_file(rel, O_WRONLY | O_CREAT, "deep", 4));
		snprintf(what, sizeof(what), "stat %zu-byte path, part %d", strlen(rel),
			 half + 1);
		show(what, stat(rel, &st) == 0 && st.st_size == 4 ? 0 : -1);
		snprintf(what, sizeof(what), "unlink %zu-byte path, part %d", strlen(rel),
			 half + 1);
		show(what, unlink(rel));
		/* One byte more is too long (the kernel's PATH_MAX). */
		rel[n] = '\0';
		snprintf(rel + n, sizeof(rel) - n, "/./%.*s", (int)(4096 - n - 3), name);
		snprintf(what, sizeof(what), "create %zu-byte path, part %d", strlen(rel),
			 half + 1);
		show(what, write_file(rel, O_WRONLY | O_CREAT, "x", 1));
		rel[n] = '\0';
		/* The second part starts at the bottom of the first: its
		 * paths are 7,700 bytes and more from the root. */
		if (half == 0 && chdir(rel) != 0)
			break;
	}
	/* Back up, removing what was made, deepest first. */
	for (half = 1, r = 0; half >= 0 && r == 0; half--) {
		if (half == 0 && chdir("../../../../../../../../../../../../../../..") != 0) {
			r = -1;
			break;
		}
		for (i = LEVELS; i > 0 && r == 0; i--) {
			rel[0] = '\0';
			for (int j = 0; j < i; j++) {
				n = strlen(rel);
				snprintf(rel + n, sizeof(rel) - n, "%s%s", j ? "/" : "", name);
			}
			r = rmdir(rel);
		}
	}
	show("rmdir both parts, deepest first", r);
	if (top >= 0) {
		(void)fchdir(top);
		close(top);
	}
	show("rmdir deep", rmdir("deep"));
}

int
main(int argc, char **argv)
{
	static unsigned char big[3 << 20];
	char longname[400], what[600];
	struct timespec ts[2];
	struct stat st;
	size_t i;
	int fd;

	if (argc != 2 || chdir(argv[1]) != 0) {
		fprintf(stderr, "usage: posix_ops DIR (an empty directory)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Directories. */
	show("mkdir d", mkdir("d", 0755));
	show("mkdir d (again)", mkdir("d", 0755));
	show("mkdir missing/x", mkdir("missing/x", 0755));
	show_stat("d");

	/* Create, exclusive create, contents. */
	show("create d/f",
	     write_file("d/f", O_WRONLY | O_CREAT | O_EXCL, "hello world", 11));
	show("create d/f O_EXCL (again)",
	     write_file("d/f", O_WRONLY | O_CREAT | O_EXCL, "x", 1));
	show_stat("d/f");
	show_content("d/f");

	/* Writes past the end fill with zeros; truncate both ways. */
	fd = open("d/f", O_WRONLY);
	show("open d/f O_WRONLY", fd);
	show("pwrite d/f at 100", pwrite(fd, "x", 1, 100) == 1 ? 0 : -1);
	close(fd);
	show_stat("d/f");
	show_content("d/f");
	show("truncate d/f 5", truncate("d/f", 5));
	show_content("d/f");
	fd = open("d/f", O_RDWR);
	show("ftruncate d/f 10000", ftruncate(fd, 10000));
	close(fd);
	show_content("d/f");
	show("append to d/f", write_file("d/f", O_WRONLY | O_APPEND, "tail", 4));
	show_content("d/f");
	show("open d/f O_TRUNC", write_file("d/f", O_WRONLY | O_TRUNC, "", 0));
	show_stat("d/f");

	/* A bigger file, written in odd pieces and read back. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + i / 4099);
	fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (i = 0; i < sizeof(big); i += 12345) {
		size_t n = sizeof(big) - i < 12345 ? sizeof(big) - i : 12345;

		if (write(fd, big + i, n) != (ssize_t)n)
			break;
	}
	show("write big in 12345-byte pieces", i >= sizeof(big) ? 0 : -1);
	show("fsync big", fsync(fd));
	close(fd);
	show_content("big");

	/* Renames. */
	show("rename d/f d/g", rename("d/f", "d/g"));
	show_stat("d/f");
	show_stat("d/g");
	show("rename d/g nodir/g", rename("d/g", "nodir/g"));
	show("mkdir e", mkdir("e", 0755));
	show("rename d/g e/g", rename("d/g", "e/g"));
	show_dir("d");
	show_dir("e");
	show("create a", write_file("a", O_WRONLY | O_CREAT | O_TRUNC, "AAAA", 4));
	show("create b", write_file("b", O_WRONLY | O_CREAT | O_TRUNC, "BB", 2));
	show("rename a b (replaces b)", rename("a", "b"));
	show_stat("a");
	show_content("b");
	show("create c", write_file("c", O_WRONLY | O_CREAT | O_TRUNC, "C", 1));
	show("renameat2 c b NOREPLACE",
	     renameat2(AT_FDCWD, "c", AT_FDCWD, "b", RENAME_NOREPLACE));
	show("rename file b onto dir e", rename("b", "e"));
	show("rename dir d onto file b", rename("d", "b"));
	show("mkdir full; create full/x",
	     mkdir("full", 0755) == 0 &&
		     write_file("full/x", O_WRONLY | O_CREAT, "x", 1) == 0
		 ? 0
		 : -1);
	show("rename dir d onto non-empty full", rename("d", "full"));
	show("rename dir d onto empty dir z",
	     mkdir("z", 0755) == 0 ? rename("d", "z") : -1);
	show_stat("d");
	show_stat("z");
	show("mkdir p/q", mkdir("p", 0755) == 0 ? mkdir("p/q", 0755) : -1);
	show("rename dir p into its own child", rename("p", "p/q/r"));

	/* A rename that changes only the case renames (FAT keeps the case
	 * it is given; tmpfs has two names to begin with). */
	show("mkdir case", mkdir("case", 0755));
	show("create case/Foo", write_file("case/Foo", O_WRONLY | O_CREAT, "foo", 3));
	show("rename case/Foo case/fOO", rename("case/Foo", "case/fOO"));
	show("mkdir case/Dir; create case/Dir/x",
	     mkdir("case/Dir", 0755) == 0
		 ? write_file("case/Dir/x", O_WRONLY | O_CREAT, "x", 1)
		 : -1);
	show("rename case/Dir case/dIR", rename("case/Dir", "case/dIR"));
	show("create case/Long Name.txt",
	     write_file("case/Long Name.txt", O_WRONLY | O_CREAT, "long", 4));
	show("rename to case/long name.TXT",
	     rename("case/Long Name.txt", "case/long name.TXT"));
	show_dir("case");
	show_dir("case/dIR");
	show_content("case/fOO");
	show_content("case/long name.TXT");

	/* Wrong kinds. */
	show("rmdir e (not empty)", rmdir("e"));
	show("unlink e (a dir)", unlink("e"));
	show("rmdir e/g (a file)", rmdir("e/g"));
	show("open e/g/x", open("e/g/x", O_RDONLY));
	show_stat("e/g/x");
	show("mkdir e/g/x", mkdir("e/g/x", 0755));
	show("open e O_WRONLY", open("e", O_WRONLY));
	fd = open("e", O_RDONLY | O_DIRECTORY);
	show("read a directory", read(fd, what, sizeof(what)) < 0 ? -1 : 0);
	close(fd);
	show("open e/g O_DIRECTORY", open("e/g", O_RDONLY | O_DIRECTORY));
	show("unlink nothing", unlink("nothing"));
	show("rmdir nothing", rmdir("nothing"));
	show("rmdir e/.", rmdir("e/."));

	/* Names: 300 characters are too many (FAT: 255). */
	memset(longname, 'n', 300);
	longname[300] = '\0';
	show("create 300-char name", write_file(longname, O_WRONLY | O_CREAT, "x", 1));
	show("mkdir 300-char name", mkdir(longname, 0755));
	show("stat 300-char name", stat(longname, &st));
	longname[255] = '\0';
	show("create 255-char name", write_file(longname, O_WRONLY | O_CREAT, "x", 1));
	show("stat 255-char name", stat(longname, &st));
	show("unlink 255-char name", unlink(longname));

	/* The read-only bit is the one permission FAT keeps. */
	show("chmod e/g 0444", chmod("e/g", 0444));
	show_stat("e/g");
	show("chmod e/g 0644", chmod("e/g", 0644));
	show_stat("e/g");

	/* A directory without write bits: root may still add and remove
	 * names in it, others get EACCES. */
	show("mkdir rodir", mkdir("rodir", 0755));
	show("chmod rodir 0555", chmod("rodir", 0555));
	show_stat("rodir");
	show("create rodir/f (0555 dir)",
	     write_file("rodir/f", O_WRONLY | O_CREAT, "f", 1));
	show("unlink rodir/f (0555 dir)", unlink("rodir/f"));
	show("chmod rodir 0755", chmod("rodir", 0755));
	show("rmdir rodir", rmdir("rodir"));

	/* Removing a name changes the directory, not the file: a read-only
	 * file can be unlinked (rm -f). */
	show("create ro", write_file("ro", O_WRONLY | O_CREAT, "ro", 2));
	show("chmod ro 0444", chmod("ro", 0444));
	show("unlink ro (0444)", unlink("ro"));
	show_stat("ro");

	/* Root may write a file without write bits (CAP_DAC_OVERRIDE), any
	 * other caller gets EACCES; the read-only bit stays. */
	show("create c", write_file("c0444", O_WRONLY | O_CREAT, "cccc", 4));
	show("chmod c 0444", chmod("c0444", 0444));
	show("truncate c 0 (0444)", truncate("c0444", 0));
	show("write c (0444)", write_file("c0444", O_WRONLY, "ro", 2));
	show_stat("c0444");
	show_content("c0444");
	show("unlink c", unlink("c0444"));

	/* fallocate: mode 0 grows the file (zeros), KEEP_SIZE keeps the
	 * size; a descriptor without write access cannot. */
	fd = open("fa", O_RDWR | O_CREAT | O_TRUNC, 0644);
	show("create fa, write 3 bytes", fd >= 0 && write(fd, "abc", 3) == 3 ? 0 : -1);
	show("fallocate fa 0 0..100000", fallocate(fd, 0, 0, 100000));
	show("fallocate fa 0 inside the size", fallocate(fd, 0, 10, 100));
	show("fallocate fa KEEP_SIZE 0..1 MiB",
	     fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20));
	show("fstat fa size 100000",
	     fstat(fd, &st) == 0 && st.st_size == 100000 ? 0 : -1);
	show("fallocate fa length 0", fallocate(fd, 0, 0, 0));
	close(fd);
	show_stat("fa");
	show_content("fa");
	fd = open("fa", O_RDONLY);
	show("fallocate fa O_RDONLY", fallocate(fd, 0, 0, 200000));
	close(fd);
	fd = open("fa", O_RDWR);
	show("fallocate fa 0 to 150000 (reopened)", fallocate(fd, 0, 100000, 50000));
	close(fd);
	show_stat("fa");
	show_content("fa");

	/* Times, at FAT's resolution (even seconds). */
	ts[0].tv_sec = 1000000000;
	ts[0].tv_nsec = 0;
	ts[1] = ts[0];
	show("utimens e/g 2001-09-09", utimensat(AT_FDCWD, "e/g", ts, 0));
	printf("%-44s %lld\n", "mtime e/g",
	       stat("e/g", &st) == 0 ? (long long)st.st_mtime : -1LL);

	/* An unlinked file stays readable through an open descriptor. */
	show("create u", write_file("u", O_WRONLY | O_CREAT, "unlinked data", 13));
	fd = open("u", O_RDONLY);
	show("unlink u while open", unlink("u"));
	memset(what, 0, sizeof(what));
	show("read u after unlink", read(fd, what, 13) == 13 ? 0 : -1);
	printf("%-44s %s\n", "content of u", what);
	show("fstat u after unlink", fstat(fd, &st));
	close(fd);
	show_stat("u");

	/* Shared writable mmap: stores reach the file, as write(2) would. */
	fd = open("mapped", O_RDWR | O_CREAT | O_TRUNC, 0644);
	show("create mapped, 64 KiB", fd >= 0 && ftruncate(fd, 65536) == 0 ? 0 : -1);
	{
		unsigned char *m =
		    mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		show("mmap mapped", m == MAP_FAILED ? -1 : 0);
		if (m != MAP_FAILED) {
			for (i = 0; i < 65536; i++)
				m[i] = (unsigned char)(i % 251);
			show("msync mapped", msync(m, 65536, MS_SYNC));
			munmap(m, 65536);
		}
	}
	close(fd);
	show_content("mapped");

	/* Many names in one directory, listed. */
	show("mkdir many", mkdir("many", 0755));
	for (i = 0; i < 150; i++) {
		snprintf(what, sizeof(what), "many/file-%03zu.txt", i);
		if (write_file(what, O_WRONLY | O_CREAT, what, strlen(what)) < 0)
			break;
	}
	show("create 150 files in many", i == 150 ? 0 : -1);
	show_dir("many");
	for (i = 0; i < 150; i += 2) {
		snprintf(what, sizeof(what), "many/file-%03zu.txt", i);
		if (unlink(what) < 0)
			break;
	}
	show("unlink every other one", i >= 150 ? 0 : -1);
	show_dir("many");
	show_content("many/file-149.txt");

	deep_paths();

	show_dir(".");
	return failures ? 1 : 0;
}
