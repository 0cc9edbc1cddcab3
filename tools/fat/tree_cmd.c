/* tree_cmd.c - dvs-fat mkdir, rm and mv: the commands that change names. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int
mkdir_p(struct fat_vol *vol, const char *path)
{
	char *p = strdup(path);
	int err = 0;

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			err = fat_mkdir(vol, p);
			if (err == -EEXIST)
				err = 0;
			*s = c;
			if (err || c == 0)
				break;
		}
	}
	free(p);
	return err;
}

int
cmd_mkdir(int argc, char **argv)
{
	struct mounted m;
	char *img;
	const char *path;
	int rc, err, parents, i = cli_flag(argc, argv, 'p', "parents", &parents);

	if (i < 0)
		return 2;
	if (i != argc - 1) {
		fprintf(stderr, "dvs-fat: mkdir [-p] IMAGE:/dir\n");
		return 2;
	}
	if ((rc = cli_open_arg(argv[i], 0, &m, &img, &path)))
		return rc;
	err = parents ? mkdir_p(m.vol, path) : fat_mkdir(m.vol, path);
	if (err)
		rc = cli_fail("cannot make directory", path, err);
	return cli_close_arg(&m, img, rc);
}

static int
rm_tree(struct fat_vol *vol, const char *path)
{
	struct names n = {0};
	struct fat_stat st;
	int err = fat_stat(vol, path, &st);

	if (err)
		return err;
	if (!(st.attr & FAT_ATTR_DIR))
		return fat_unlink(vol, path);
	err = fat_readdir(vol, path, cli_collect_names, &n);
	for (size_t i = 0; i < n.n && !err; i++) {
		char *sub = cli_path_join(path, n.v[i]);
		err = sub ? rm_tree(vol, sub) : -ENOMEM;
		free(sub);
	}
	cli_names_free(&n);
	if (!err && strcmp(path, "/") != 0)
		err = fat_rmdir(vol, path);
	return err;
}

int
cmd_rm(int argc, char **argv)
{
	struct mounted m;
	char *img;
	const char *path;
	int rc, err, rec, i = cli_flag(argc, argv, 'r', "recursive", &rec);

	if (i < 0)
		return 2;
	if (i != argc - 1) {
		fprintf(stderr, "dvs-fat: rm [-r] IMAGE:/path\n");
		return 2;
	}
	if ((rc = cli_open_arg(argv[i], 0, &m, &img, &path)))
		return rc;
	err = rec ? rm_tree(m.vol, path) : fat_unlink(m.vol, path);
	if (err == -EISDIR && !rec)
		err = fat_rmdir(m.vol, path);
	if (err)
		rc = cli_fail("cannot remove", path, err);
	return cli_close_arg(&m, img, rc);
}

int
cmd_mv(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	char *img, *img2 = NULL, *target = NULL;
	const char *from, *to;
	int rc = 0, err;
	int i = cli_flag(argc, argv, 0, NULL, NULL);

	if (i < 0)
		return 2;
	argc -= i - 1;	/* the operands from argv[1] on */
	argv += i - 1;
	if (argc != 3) {
		fprintf(stderr, "dvs-fat: mv IMAGE:/from [IMAGE:]/to\n");
		return 2;
	}
	if ((rc = cli_need_path(argv[1], &img, &from)))
		return rc;
	if (!strstr(argv[2], ":/"))
		to = argv[2];
	else {
		if ((rc = cli_need_path(argv[2], &img2, &to))) {
			free(img);
			return rc;
		}
		if (strcmp(img, img2) != 0) {
			fprintf(stderr, "dvs-fat: mv works inside one image\n");
			free(img);
			free(img2);
			return 2;
		}
	}
	if (cli_mount(img, 0, &m)) {
		free(img);
		free(img2);
		return 1;
	}
	if (fat_stat(m.vol, to, &st) == 0 && (st.attr & FAT_ATTR_DIR)) {
		struct fat_stat fs;
		if (fat_stat(m.vol, from, &fs) == 0 && fs.ino != st.ino &&
		    (target = cli_path_join(to, cli_base_name(from))))
			to = target;
	}
	err = fat_rename(m.vol, from, to);
	if (err)
		rc = cli_fail("cannot move", from, err);
	if (cli_umount(&m, img))
		rc = 1;
	free(target);
	free(img);
	free(img2);
	return rc;
}
