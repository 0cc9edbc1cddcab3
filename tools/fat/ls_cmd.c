/* ls_cmd.c - dvs-fat ls and stat: what a directory holds, what an entry
 * says. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct ls_ctx {
	int l;
	char **subdirs;
	size_t nsub;
};

static int
ls_cb(void *arg, const struct fat_dirent *e)
{
	struct ls_ctx *c = arg;
	if (c->l) {
		char t[32];
		cli_fmt_time(&e->st.mtime, t, sizeof t);
		printf("%c%c%c%c%c %10" PRIu64 " %s %-12s %s\n",
		       (e->st.attr & FAT_ATTR_DIR) ? 'd' : '-',
		       (e->st.attr & FAT_ATTR_RDONLY) ? 'r' : '-',
		       (e->st.attr & FAT_ATTR_HIDDEN) ? 'h' : '-',
		       (e->st.attr & FAT_ATTR_SYSTEM) ? 's' : '-',
		       (e->st.attr & FAT_ATTR_ARCHIVE) ? 'a' : '-', e->st.size, t,
		       e->short_name, e->name);
	} else {
		printf("%s%s\n", e->name, (e->st.attr & FAT_ATTR_DIR) ? "/" : "");
	}
	if (e->st.attr & FAT_ATTR_DIR) {
		char **n = realloc(c->subdirs, (c->nsub + 1) * sizeof *n);
		if (!n)
			return -ENOMEM;
		c->subdirs = n;
		c->subdirs[c->nsub++] = strdup(e->name);
	}
	return 0;
}

static int
ls_dir(struct fat_vol *vol, const char *path, int l, int rec, int header)
{
	struct ls_ctx c = {.l = l};
	int err, rc = 0;

	if (header)
		printf("%s:\n", path);
	err = fat_readdir(vol, path, ls_cb, &c);
	if (err)
		rc = cli_fail("cannot list", path, err);
	for (size_t i = 0; i < c.nsub; i++) {
		if (rec && !rc && c.subdirs[i]) {
			char *sub = cli_path_join(path, c.subdirs[i]);
			if (sub) {
				printf("\n");
				rc |= ls_dir(vol, sub, l, rec, 1);
				free(sub);
			}
		}
		free(c.subdirs[i]);
	}
	free(c.subdirs);
	return rc;
}

int
cmd_ls(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	int c, l = 0, rec = 0, rc;
	char *img;
	const char *path;

	static const struct option lo[] = {
		{"long", no_argument, NULL, 'l'},
		{"recursive", no_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};

	optind = 0;	/* main's getopt_long ran first: start afresh */
	while ((c = getopt_long(argc, argv, "lR", lo, NULL)) != -1) {
		if (c == 'l')
			l = 1;
		else if (c == 'R')
			rec = 1;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "dvs-fat: ls needs IMAGE[:/dir]\n");
		return 2;
	}
	cli_split(argv[optind], &img, &path);
	if (!path)
		path = "/";
	if (cli_mount(img, 1, &m)) {
		free(img);
		return 1;
	}
	rc = fat_stat(m.vol, path, &st);
	if (rc)
		rc = cli_fail("cannot list", path, rc);
	else if (!(st.attr & FAT_ATTR_DIR))
		printf("%s\n", path);
	else
		rc = ls_dir(m.vol, path, l, rec, rec);
	cli_umount(&m, img);
	free(img);
	return rc;
}

int
cmd_stat(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	char *img, t[3][32];
	const char *path;
	int rc = 0, err;
	int i = cli_flag(argc, argv, 0, NULL, NULL);

	if (i < 0)
		return 2;
	argc -= i - 1;	/* the operands from argv[1] on */
	argv += i - 1;
	if (argc != 2) {
		fprintf(stderr, "dvs-fat: stat IMAGE:/path\n");
		return 2;
	}
	if ((rc = cli_open_arg(argv[1], 1, &m, &img, &path)))
		return rc;
	err = fat_stat(m.vol, path, &st);
	if (err)
		rc = cli_fail("cannot stat", path, err);
	else {
		cli_fmt_time(&st.mtime, t[0], sizeof t[0]);
		cli_fmt_time(&st.btime, t[1], sizeof t[1]);
		cli_fmt_time(&st.atime, t[2], sizeof t[2]);
		printf("path: %s\ntype: %s\nsize: %" PRIu64 "\nnode: %" PRIu64
		       "\nattributes: 0x%02x%s%s%s%s\nfirst cluster: %u\n"
		       "blocks: %" PRIu64 "\nmodified: %s\ncreated: %s\n"
		       "accessed: %s\n",
		       path, (st.attr & FAT_ATTR_DIR) ? "directory" : "file",
		       st.size, st.ino, st.attr,
		       (st.attr & FAT_ATTR_RDONLY) ? " read-only" : "",
		       (st.attr & FAT_ATTR_HIDDEN) ? " hidden" : "",
		       (st.attr & FAT_ATTR_SYSTEM) ? " system" : "",
		       (st.attr & FAT_ATTR_ARCHIVE) ? " archive" : "",
		       st.first_cluster, st.blocks, t[0], t[1], t[2]);
	}
	return cli_close_arg(&m, img, rc);
}
