/*
 * posix_ext_ops.c - one fixed script of POSIX calls on what ext holds and
 * FAT did not (modes, owners, symbolic and hard links, FIFOs, renames over
 * files and directories, unlinked open files, nanosecond times), printing
 * each result, errno names included.  test_posix_ext.sh runs it on tmpfs
 * and through an ext mount and compares the two outputs line by line.
 *
 * usage: posix_ext_ops DIR   (DIR must exist and be empty)
 * As root it also changes owners; as another user it checks that the
 * kernel refuses what that user may not do.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EXDEV: return "EXDEV";
	case EBADF: return "EBADF";
	case ELOOP: return "ELOOP";
	case EMLINK: return "EMLINK";
	default: return strerror(e);
	}
}

static void
res(const char *what, int rc)
{
	printf("%-44s %s\n", what, ename(rc < 0 ? errno : 0));
}

static char
type_of(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p'
	       : S_ISSOCK(m) ? 's' : '?';
}

/* Prints what a user sees of a file (no inode numbers, no free times). */
static void
show(const char *p, int follow)
{
	struct stat st;
	int rc = follow ? stat(p, &st) : lstat(p, &st);

	if (rc < 0) {
		printf("%s %-37s %s\n", follow ? "stat " : "lstat", p, ename(errno));
		return;
	}
	printf("%s %-37s %c %04o nlink=%lu uid=%u gid=%u", follow ? "stat " : "lstat", p,
	       type_of(st.st_mode), (unsigned)(st.st_mode & 07777),
	       (unsigned long)st.st_nlink,
	       (unsigned)st.st_uid, (unsigned)st.st_gid);
	if (!S_ISDIR(st.st_mode))
		printf(" size=%lld", (long long)st.st_size);
	printf("\n");
}

static void
put(const char *p, const char *data, int flags)
{
	char what[256];
	int fd = open(p, O_WRONLY | O_CREAT | flags, 0644);
	int rc = fd;

	if (fd >= 0) {
		rc = (int)write(fd, data, strlen(data));
		if (rc >= 0)
			rc = close(fd);
		else
			close(fd);
	}
	snprintf(what, sizeof(what), "write %s '%s'", p, data);
	res(what, rc);
}

static void
get(const char *p)
{
	char buf[256];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		printf("read %-38s %s\n", p, ename(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	printf("read %-38s '%s'\n", p, buf);
}

static void
rlink(const char *p)
{
	char buf[4200];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);

	if (n < 0) {
		printf("readlink %-34s %s\n", p, ename(errno));
		return;
	}
	buf[n] = '\0';
	if (n > 60)
		printf("readlink %-34s %zd bytes, ends '%s'\n", p, n, buf + n - 8);
	else
		printf("readlink %-34s '%s'\n", p, buf);
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list(const char *p)
{
	char *names[64];
	int n = 0, i;
	DIR *d = opendir(p);
	struct dirent *e;

	if (d == NULL) {
		printf("list %-38s %s\n", p, ename(errno));
		return;
	}
	while ((e = readdir(d)) != NULL && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp);
	printf("list %s:", p);
	for (i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

#define R(call) res(#call, call)

int
main(int argc, char **argv)
{
	char longname[300], longtarget[2100];
	struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
	struct stat st;
	int root = geteuid() == 0, fd;

	if (argc != 2 || chdir(argv[1]) < 0) {
		fprintf(stderr, "usage: posix_ext_ops EMPTY-DIR\n");
		return 2;
	}
	umask(022);

	printf("== modes\n");
	R(mkdir("d", 0750));
	show("d", 1);
	put("f", "hello", O_TRUNC);
	show("f", 1);
	R(chmod("f", 0604));
	show("f", 1);
	R(chmod("f", 04755));
	show("f", 1);
	R(chmod("f", 01777));
	show("f", 1);
	R(chmod("f", 0644));
	R(chmod("d", 02775));
	show("d", 1);
	R(chmod("d", 0755));
	R(chmod("nothere", 0644));
	fd = open("m", O_WRONLY | O_CREAT | O_EXCL, 0600);
	res("open m O_CREAT 0600", fd);
	if (fd >= 0)
		close(fd);
	show("m", 1);

	printf("== owners\n");
	R(chown("f", 1234, 5678));
	show("f", 1);
	R(chown("f", (uid_t)-1, 99));
	show("f", 1);
	R(chown("f", getuid(), getgid()));
	show("f", 1);
	R(chmod("f", 06755));
	R(chown("f", getuid(), getgid()));
	show("f", 1); /* a chown clears the set-id bits */
	R(chmod("f", 0644));
	if (root) {
		R(lchown("d", 4321, 4321));
		show("d", 1);
		R(lchown("d", 0, 0));
	}

	printf("== symbolic links\n");
	R(symlink("f", "s"));
	show("s", 0);
	show("s", 1);
	rlink("s");
	get("s");
	R(symlink("/nonexistent/x", "dangling"));
	show("dangling", 0);
	show("dangling", 1);
	R(symlink("f", "s"));
	memset(longtarget, 'x', 1000);
	memcpy(longtarget + 990, "/the-end", 9);
	R(symlink(longtarget, "longlink"));
	rlink("longlink");
	show("longlink", 0);
	R(symlink("d", "sd"));
	put("sd/through", "via link", O_TRUNC);
	get("d/through");
	rlink("f");
	R(unlink("s"));
	show("f", 1);
	R(symlink("loop2", "loop1"));
	R(symlink("loop1", "loop2"));
	get("loop1");

	printf("== hard links\n");
	R(link("f", "h"));
	show("f", 1);
	show("h", 1);
	R(link("f", "d/h2"));
	show("h", 1);
	R(unlink("f"));
	show("h", 1);
	get("h");
	get("d/h2");
	R(link("d", "dl"));
	R(link("nothere", "x"));
	R(link("h", "d/h2"));
	R(unlink("d/h2"));
	show("h", 1);

	printf("== FIFOs\n");
	R(mkfifo("p", 0620));
	show("p", 0);
	R(mkfifo("p", 0620));
	R(unlink("p"));

	printf("== renames\n");
	put("a", "A", O_TRUNC);
	put("b", "B", O_TRUNC);
	R(rename("a", "b"));
	get("b");
	show("a", 1);
	R(mkdir("x", 0755));
	R(mkdir("y", 0755));
	R(rename("x", "y"));
	show("x", 1);
	show("y", 1);
	R(mkdir("z", 0755));
	put("z/inside", "i", O_TRUNC);
	R(rename("y", "z"));
	R(rename("b", "z"));
	R(rename("z", "b"));
	R(rename("z", "z/sub"));
	R(rename("b", "b"));
	R(link("b", "b2"));
	R(rename("b", "b2"));
	show("b", 1);
	show("b2", 1);
	R(mkdir("z/deeper", 0755));
	show("z", 1);
	R(rename("z/deeper", "deeper"));
	show("z", 1);
	show("deeper", 1);
	R(rename("nothere", "q"));
	R(rename("b", "nodir/q"));
	R(rename("s", "b"));
	R(symlink("b2", "s2"));
	R(rename("s2", "moved-link"));
	rlink("moved-link");
	list(".");

	printf("== removal and errors\n");
	R(rmdir("z"));
	R(rmdir("b2"));
	R(unlink("z"));
	R(rmdir("nothere"));
	R(open("b2", O_WRONLY | O_CREAT | O_EXCL, 0644));
	R(open("nothere", O_RDONLY));
	R(open("z", O_WRONLY));
	R(open("b2/x", O_RDONLY));
	R(mkdir("b2/x", 0755));
	R(mkdir("z", 0755));
	memset(longname, 'n', 255);
	longname[255] = '\0';
	put(longname, "255", O_TRUNC);
	R(unlink(longname));
	longname[255] = 'n';
	longname[256] = '\0';
	put(longname, "256", O_TRUNC);

	printf("== unlinked open file\n");
	fd = open("open-gone", O_RDWR | O_CREAT | O_TRUNC, 0644);
	res("open open-gone", fd);
	if (fd >= 0) {
		char buf[16] = {0};

		res("write before unlink", (int)write(fd, "12345", 5));
		R(unlink("open-gone"));
		res("write after unlink", (int)write(fd, "678", 3));
		res("pread after unlink", (int)pread(fd, buf, sizeof(buf) - 1, 0));
		printf("content '%s'\n", buf);
		if (fstat(fd, &st) == 0)
			printf("fstat nlink=%lu size=%lld\n", (unsigned long)st.st_nlink,
			       (long long)st.st_size);
		close(fd);
	}
	show("open-gone", 1);

	printf("== sizes and times\n");
	put("t", "0123456789", O_TRUNC);
	R(truncate("t", 4));
	get("t");
	R(truncate("t", 100000));
	show("t", 1);
	put("t", "+tail", O_APPEND);
	show("t", 1);
	R(utimensat(AT_FDCWD, "t", ts, 0));
	if (stat("t", &st) == 0)
		printf("times of t: atime %lld.%09ld mtime %lld.%09ld\n",
		       (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	put("Case", "upper", O_TRUNC);
	put("case", "lower", O_TRUNC);
	get("Case");
	get("case");

	printf("== directory links\n");
	R(mkdir("n", 0755));
	R(mkdir("n/1", 0755));
	R(mkdir("n/2", 0755));
	show("n", 1);
	R(rmdir("n/1"));
	show("n", 1);
	list(".");
	return 0;
}
