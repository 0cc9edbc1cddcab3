/* cli.c - the pieces dvs-fat's subcommands share (cli.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dvs/parse.h"
#include "dvs/imagelock.h"

int cli_partition;

int
cli_fail(const char *what, const char *path, int err)
{
	fprintf(stderr, "dvs-fat: %s%s%s: %s\n", what, path ? " " : "",
		path ? path : "", fat_strerror(err));
	return 1;
}

/* Splits "IMAGE:/path" at the first ":/" (or a final ':'). */
int
cli_split(const char *arg, char **img, const char **path)
{
	const char *c = strstr(arg, ":/");
	size_t n;

	if (c) {
		*path = c + 1;
		n = (size_t)(c - arg);
	} else if ((n = strlen(arg)) > 0 && arg[n - 1] == ':') {
		*path = "/";
		n--;
	} else {
		*path = NULL;
	}
	*img = strndup(arg, c || *path ? n : strlen(arg));
	return *img ? 0 : -ENOMEM;
}

int
cli_need_path(const char *arg, char **img, const char **path)
{
	cli_split(arg, img, path);
	if (!*path) {
		fprintf(stderr, "dvs-fat: '%s' is not IMAGE:/path\n", arg);
		free(*img);
		return 2;
	}
	return 0;
}

/* The image is in use by another DVS program: say by whom (the engine's
 * image backend locks it, shared for reading, exclusive for writing). */
int
cli_fail_busy(const char *img)
{
	char msg[512];

	fprintf(stderr, "dvs-fat: %s\n", dvs_image_busy_msg(img, msg, sizeof msg));
	return 1;
}

int
cli_mount(const char *img, int ro, struct mounted *m)
{
	struct fat_image_opts io = {.read_only = ro, .partition = cli_partition};
	struct fat_mount_opts mo = {.read_only = ro};
	int err;

	memset(m, 0, sizeof *m);
	err = fat_image_open(img, &io, &m->dev);
	if (err == -EBUSY)
		return cli_fail_busy(img);
	if (err)
		return cli_fail("cannot open image", img, err);
	err = fat_mount(m->dev, &mo, &m->vol);
	if (err) {
		fat_blkdev_free(m->dev);
		return cli_fail("cannot mount", img, err);
	}
	return 0;
}

int
cli_umount(struct mounted *m, const char *img)
{
	int err = fat_unmount(m->vol);
	fat_blkdev_free(m->dev);
	if (err)
		return cli_fail("unmount failed on", img, err);
	return 0;
}

/* Mounts the image of IMAGE:/path (read-only if ro); returns 0, or the
 * exit status after saying what is wrong. */
int
cli_open_arg(const char *arg, int ro, struct mounted *m, char **img,
	 const char **path)
{
	int rc = cli_need_path(arg, img, path);

	if (rc)
		return rc;
	if (cli_mount(*img, ro, m)) {
		free(*img);
		return 1;
	}
	return 0;
}

/* Unmounts and frees what open_arg gave: rc, or 1 if the unmount failed. */
int
cli_close_arg(struct mounted *m, char *img, int rc)
{
	if (cli_umount(m, img))
		rc = 1;
	free(img);
	return rc;
}

/* dir + "/" + name (no doubled slash); NULL if out of memory. */
char *
cli_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	char *p = malloc(dl + strlen(name) + 2);

	if (p)
		sprintf(p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
	return p;
}

const char *
cli_base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

uint64_t
cli_parse_size(const char *s)
{
	uint64_t v;

	if (dvs_parse_size(s, UINT64_MAX, &v) != 0)
		return 0;
	return v;
}

void
cli_fmt_time(const struct timespec *t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t->tv_sec, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

int
cli_collect_names(void *arg, const struct fat_dirent *e)
{
	struct names *n = arg;
	char **v = realloc(n->v, (n->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	n->v = v;
	n->v[n->n++] = strdup(e->name);
	return 0;
}

void
cli_names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

int
cli_flag(int argc, char **argv, int ch, const char *long_name, int *set)
{
	const struct option lo[] = {
		{long_name ? long_name : "", no_argument, NULL, ch},
		{NULL, 0, NULL, 0},
	};
	const char so[2] = {(char)ch, '\0'};
	int c;

	if (set)
		*set = 0;
	optind = 0;	/* main's getopt_long ran first: start afresh */
	while ((c = getopt_long(argc, argv, so, ch ? lo : lo + 1, NULL)) != -1) {
		if (!ch || c != ch)
			return -1;	/* getopt said which option is wrong */
		*set = 1;
	}
	return optind;
}
