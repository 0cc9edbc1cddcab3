/* put_cmd.c - dvs-fat put: a file (or stdin) or (-r) a local tree into an
 * image. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Copies the local file (fd, named local) to the image path. */
static int
put_file(struct fat_vol *vol, int fd, const char *local, const char *path,
	 char *buf)
{
	struct fat_file *f;
	uint64_t off = 0;
	int rc = 0, err;

	err = fat_open(vol, path, O_WRONLY | O_CREAT | O_TRUNC, &f);
	if (err)
		return cli_fail("cannot create", path, err);
	for (;;) {
		ssize_t n = read(fd, buf, COPY_BUF);
		if (n < 0) {
			rc = cli_fail("read failed on", local, -errno);
			break;
		}
		if (n == 0)
			break;
		ssize_t w = fat_pwrite(f, buf, (size_t)n, off);
		if (w != n) {
			rc = cli_fail("write failed on", path, w < 0 ? (int)w : -ENOSPC);
			break;
		}
		off += (uint64_t)n;
	}
	err = fat_close(f);
	if (err && !rc)
		rc = cli_fail("write failed on", path, err);
	return rc;
}

/* Copies the local directory local to the image directory path (made if
 * missing), recursively; other kinds of files are skipped with a word. */
static int
put_tree(struct fat_vol *vol, const char *local, const char *path, char *buf)
{
	DIR *d;
	struct dirent *de;
	int rc = 0, err;

	err = fat_mkdir(vol, path);
	if (err && err != -EEXIST)
		return cli_fail("cannot make directory", path, err);
	d = opendir(local);
	if (!d)
		return cli_fail("cannot open", local, -errno);
	while (!rc && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *lsub = cli_path_join(local, de->d_name), *sub = cli_path_join(path, de->d_name);
		if (!lsub || !sub) {
			rc = cli_fail("out of memory at", local, -ENOMEM);
		} else if (lstat(lsub, &st) < 0) {
			rc = cli_fail("cannot stat", lsub, -errno);
		} else if (S_ISDIR(st.st_mode)) {
			rc = put_tree(vol, lsub, sub, buf);
		} else if (S_ISREG(st.st_mode)) {
			int fd = open(lsub, O_RDONLY);
			if (fd < 0)
				rc = cli_fail("cannot open", lsub, -errno);
			else {
				rc = put_file(vol, fd, lsub, sub, buf);
				close(fd);
			}
		} else {
			fprintf(stderr, "dvs-fat: skipping %s: not a file or directory\n", lsub);
		}
		free(lsub);
		free(sub);
	}
	closedir(d);
	return rc;
}

int
cmd_put(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	struct stat lst;
	char *img, *buf = NULL, *target = NULL;
	const char *path, *local;
	int fd = -1, rc, rec, i = cli_flag(argc, argv, 'r', "recursive", &rec);

	if (i < 0)
		return 2;
	if (argc - i != 2) {
		fprintf(stderr, "dvs-fat: put [-r] LOCAL IMAGE:/path\n");
		return 2;
	}
	local = argv[i];
	if (strcmp(local, "-") && stat(local, &lst) < 0)
		return cli_fail("cannot open", local, -errno);
	int tree = strcmp(local, "-") && S_ISDIR(lst.st_mode);
	if (tree && !rec) {
		fprintf(stderr, "dvs-fat: %s is a directory (use put -r)\n", local);
		return 1;
	}
	if (!tree) {
		fd = strcmp(local, "-") == 0 ? 0 : open(local, O_RDONLY);
		if (fd < 0)
			return cli_fail("cannot open", local, -errno);
	}
	if ((rc = cli_open_arg(argv[i + 1], 0, &m, &img, &path))) {
		if (fd > 0)
			close(fd);
		return rc;
	}
	/* into path if it is a directory, under the local name (cp does) */
	if (fat_stat(m.vol, path, &st) == 0 && (st.attr & FAT_ATTR_DIR) &&
	    strcmp(local, "-") && *cli_base_name(local)) {
		path = target = cli_path_join(path, cli_base_name(local));
		if (!target)
			rc = cli_fail("out of memory for", local, -ENOMEM);
	}
	buf = malloc(COPY_BUF);
	if (!rc && !buf)
		rc = cli_fail("out of memory for", local, -ENOMEM);
	if (!rc)
		rc = tree ? put_tree(m.vol, local, path, buf)
			  : put_file(m.vol, fd, local, path, buf);
	if (fd > 0)
		close(fd);
	free(buf);
	free(target);
	return cli_close_arg(&m, img, rc);
}
