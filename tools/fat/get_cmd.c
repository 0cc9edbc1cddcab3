/* get_cmd.c - dvs-fat get: a file or (-r) a tree out of an image. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Copies the image file path to the local out ("-": stdout). */
static int
get_file(struct fat_vol *vol, const char *path, const char *out, char *buf)
{
	struct fat_file *f;
	uint64_t off = 0;
	int fd, rc = 0, err;

	err = fat_open(vol, path, O_RDONLY, &f);
	if (err)
		return cli_fail("cannot open", path, err);
	fd = strcmp(out, "-") == 0 ? 1 : open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		rc = cli_fail("cannot create", out, -errno);
		fat_close(f);
		return rc;
	}
	for (;;) {
		ssize_t n = fat_pread(f, buf, COPY_BUF, off);
		if (n < 0) {
			rc = cli_fail("read failed on", path, (int)n);
			break;
		}
		if (n == 0)
			break;
		if (write(fd, buf, (size_t)n) != n) {
			rc = cli_fail("write failed on", out, -errno);
			break;
		}
		off += (uint64_t)n;
	}
	if (fd != 1 && close(fd) < 0 && !rc)
		rc = cli_fail("write failed on", out, -errno);
	fat_close(f);
	return rc;
}

/* Copies the image directory path into the local directory out (made
 * if missing), recursively. */
static int
get_tree(struct fat_vol *vol, const char *path, const char *out, char *buf)
{
	struct names n = {0};
	int rc = 0, err;

	if (mkdir(out, 0755) < 0 && errno != EEXIST)
		return cli_fail("cannot create", out, -errno);
	err = fat_readdir(vol, path, cli_collect_names, &n);
	if (err)
		rc = cli_fail("cannot list", path, err);
	for (size_t i = 0; i < n.n && !rc; i++) {
		char *sub = cli_path_join(path, n.v[i]), *lsub = cli_path_join(out, n.v[i]);
		struct fat_stat st;
		if (!sub || !lsub)
			rc = cli_fail("out of memory at", path, -ENOMEM);
		else if ((err = fat_stat(vol, sub, &st)))
			rc = cli_fail("cannot stat", sub, err);
		else if (st.attr & FAT_ATTR_DIR)
			rc = get_tree(vol, sub, lsub, buf);
		else
			rc = get_file(vol, sub, lsub, buf);
		free(sub);
		free(lsub);
	}
	cli_names_free(&n);
	return rc;
}

int
cmd_get(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	struct stat lst;
	char *img, *buf, *target = NULL;
	const char *path, *out;
	int rc, err, rec, i = cli_flag(argc, argv, 'r', "recursive", &rec);

	if (i < 0)
		return 2;
	if (argc - i < 1 || argc - i > 2) {
		fprintf(stderr, "dvs-fat: get [-r] IMAGE:/path [LOCAL|-]\n");
		return 2;
	}
	if ((rc = cli_open_arg(argv[i], 1, &m, &img, &path)))
		return rc;
	out = argc - i == 2 ? argv[i + 1] : cli_base_name(path);
	buf = malloc(COPY_BUF);
	if (!buf) {
		rc = cli_fail("out of memory for", path, -ENOMEM);
	} else if ((err = fat_stat(m.vol, path, &st))) {
		rc = cli_fail("cannot stat", path, err);
	} else if ((st.attr & FAT_ATTR_DIR) && !rec) {
		fprintf(stderr, "dvs-fat: %s is a directory (use get -r)\n", path);
		rc = 1;
	} else if (st.attr & FAT_ATTR_DIR) {
		/* like cp -r: into an existing directory, under the name */
		if (stat(out, &lst) == 0 && S_ISDIR(lst.st_mode) && *cli_base_name(path))
			out = target = cli_path_join(out, cli_base_name(path));
		rc = out ? get_tree(m.vol, path, out, buf)
			 : cli_fail("out of memory for", path, -ENOMEM);
	} else {
		rc = get_file(m.vol, path, out, buf);
	}
	free(buf);
	free(target);
	return cli_close_arg(&m, img, rc);
}
