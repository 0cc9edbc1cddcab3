/* dvs-fat - FAT images from the command line, like mtools, on the DVS
 * FAT engine: mkfs, ls, get, put, mkdir, rm, mv, stat, df, label. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dvs/fat.h"
#include "dvs/imagelock.h"
#include "dvs/log.h"
#include "dvs/version.h"

static int g_partition;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvs-fat [-p N] COMMAND ARGS...\n"
		"Reads and writes FAT12/16/32 images with the DVS FAT engine.\n"
		"Paths inside an image are written IMAGE:/path.\n"
		"\n"
		"  mkfs [-F 12|16|32] [-s SIZE] [-c CLUSTER] [-S SECTOR] [-n LABEL] [-q] IMAGE\n"
		"                     make a new volume (SIZE like 64M creates or\n"
		"                     resizes the file; default: the file's size);\n"
		"                     prints what it made; warns, before writing, of a\n"
		"                     FAT32 below 65525 clusters (-q: quiet)\n"
		"  ls [-l] [-R] IMAGE[:/dir]   list a directory\n"
		"  get [-r] IMAGE:/file [LOCAL|-]  copy a file out (default: its\n"
		"                     name); -r: a directory tree (into LOCAL if\n"
		"                     it is a directory, like cp -r)\n"
		"  put [-r] LOCAL IMAGE:/path  copy a file in (into path if a dir);\n"
		"                     -r: a local directory tree\n"
		"  mkdir [-p] IMAGE:/dir       make a directory\n"
		"  rm [-r] IMAGE:/path         remove a file (or a tree with -r)\n"
		"  mv IMAGE:/from [IMAGE:]/to  rename or move\n"
		"  stat IMAGE:/path            show size, times, attributes, node id\n"
		"  df IMAGE                    show type, sizes and free space\n"
		"  label IMAGE [LABEL]         show or set ('' removes) the label\n"
		"\n"
		"  -p N   use MBR primary partition N (1-4) of the image\n"
		"  -h, --help   this help\n"
		"  --version    print the version\n"
		"Exit status: 0 success, 1 failure (with a message), 2 bad usage.\n");
}

static int
fail(const char *what, const char *path, int err)
{
	fprintf(stderr, "dvs-fat: %s%s%s: %s\n", what, path ? " " : "",
		path ? path : "", fat_strerror(err));
	return 1;
}

/* Splits "IMAGE:/path" at the first ":/" (or a final ':'). */
static int
split(const char *arg, char **img, const char **path)
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

struct mounted {
	struct fat_blkdev *dev;
	struct fat_vol *vol;
};

/* The image is in use by another DVS program: say by whom (the engine's
 * image backend locks it, shared for reading, exclusive for writing). */
static int
fail_busy(const char *img)
{
	char msg[512];

	fprintf(stderr, "dvs-fat: %s\n", dvs_image_busy_msg(img, msg, sizeof msg));
	return 1;
}

static int
do_mount(const char *img, int ro, struct mounted *m)
{
	struct fat_image_opts io = {.read_only = ro, .partition = g_partition};
	struct fat_mount_opts mo = {.read_only = ro};
	int err;

	memset(m, 0, sizeof *m);
	err = fat_image_open(img, &io, &m->dev);
	if (err == -EBUSY)
		return fail_busy(img);
	if (err)
		return fail("cannot open image", img, err);
	err = fat_mount(m->dev, &mo, &m->vol);
	if (err) {
		fat_blkdev_free(m->dev);
		return fail("cannot mount", img, err);
	}
	return 0;
}

static int
do_umount(struct mounted *m, const char *img)
{
	int err = fat_unmount(m->vol);
	fat_blkdev_free(m->dev);
	if (err)
		return fail("unmount failed on", img, err);
	return 0;
}

/* dir + "/" + name (no doubled slash); NULL if out of memory. */
static char *
path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	char *p = malloc(dl + strlen(name) + 2);

	if (p)
		sprintf(p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
	return p;
}

static const char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static uint64_t
parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;

	switch (*end) {
	case 'k': case 'K': mul = 1024; break;
	case 'm': case 'M': mul = 1024 * 1024; break;
	case 'g': case 'G': mul = 1024ull * 1024 * 1024; break;
	case 0: break;
	default: return 0;
	}
	return v > 0 ? (uint64_t)(v * (double)mul) : 0;
}

/* ---- mkfs's dry run: the layout fat_format would write, without writing --- */

struct dry {
	uint8_t boot[4096];	/* what the format wrote to sector 0 */
};

static int
dry_read(struct fat_blkdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	memset(buf, 0, (size_t)count * dev->sector_size);
	return 0;
}

static int
dry_write(struct fat_blkdev *dev, uint64_t sector, uint32_t count, const void *buf)
{
	struct dry *d = dev->ctx;
	size_t n = (size_t)count * dev->sector_size;

	if (sector == 0)
		memcpy(d->boot, buf, n < sizeof(d->boot) ? n : sizeof(d->boot));
	return 0;
}

static int
dry_flush(struct fat_blkdev *dev)
{
	return 0;
}

static const struct fat_blkdev_ops dry_ops = {
	.read = dry_read, .write = dry_write, .flush = dry_flush,
};

static uint32_t
rd16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
rd32(const uint8_t *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}

struct layout {
	int type;		/* as Linux and fsck.fat will see it */
	uint32_t clusters, cluster_bytes;
};

/* The layout of a boot sector, counted the way the specification does. */
static int
boot_layout(const uint8_t *b, struct layout *l)
{
	uint32_t bps = rd16(b + 11), spc = b[13], rsvd = rd16(b + 14), nfats = b[16];
	uint32_t fatsz = rd16(b + 22) ? rd16(b + 22) : rd32(b + 36);
	uint32_t total = rd16(b + 19) ? rd16(b + 19) : rd32(b + 32);
	uint32_t rootsecs, meta;

	if (bps == 0 || spc == 0)
		return -EINVAL;
	rootsecs = (rd16(b + 17) * 32 + bps - 1) / bps;
	meta = rsvd + nfats * fatsz + rootsecs;
	l->clusters = total > meta ? (total - meta) / spc : 0;
	l->cluster_bytes = bps * spc;
	l->type = rd16(b + 22) == 0 ? 32 : l->clusters < 4085 ? 12 : 16;
	return 0;
}

/* Formats a device that only remembers its boot sector: the layout
 * fat_format would make on dev, before anything is written to it. */
static int
mkfs_dry_run(const struct fat_blkdev *dev, const struct fat_format_opts *fo,
	     struct layout *l)
{
	struct dry d = {0};
	struct fat_blkdev nd = {
		.ops = &dry_ops, .ctx = &d, .sector_size = dev->sector_size,
		.sector_count = dev->sector_count,
	};
	int err = fat_format(&nd, fo);

	return err ? err : boot_layout(d.boot, l);
}

static int
cmd_mkfs(int argc, char **argv)
{
	struct fat_format_opts fo = {0};
	struct fat_image_opts io = {.partition = g_partition};
	struct fat_blkdev *dev;
	struct layout lay;
	uint64_t size = 0;
	int c, err, quiet = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "F:s:c:S:n:q")) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'F': fo.fat_type = atoi(optarg); break;
		case 's':
			size = parse_size(optarg);
			if (!size) {
				fprintf(stderr, "dvs-fat: bad size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c': fo.cluster_size = (uint32_t)parse_size(optarg); break;
		case 'S': fo.sector_size = (uint32_t)atoi(optarg); break;
		case 'n': fo.label = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "dvs-fat: mkfs needs one IMAGE\n");
		return 2;
	}
	/* The file is created and sized through the engine's image backend,
	 * which locks it first: a served image is refused, never truncated. */
	if (size && !g_partition) {
		io.create_size = size;
		io.size = size;
	}
	err = fat_image_open(argv[optind], &io, &dev);
	if (err == -EBUSY)
		return fail_busy(argv[optind]);
	if (err)
		return fail("cannot open image", argv[optind], err);
	/* Below 65525 clusters a FAT32 breaks the specification: mtools and
	 * some systems cannot read it.  mkfs.fat makes it with a warning, and
	 * so do we (tests and fuzz corpora make tiny FAT32s on purpose), but
	 * the warning comes before anything is written and says what to do
	 * instead; -q silences it. */
	err = mkfs_dry_run(dev, &fo, &lay);
	if (err == 0 && lay.type == 32 && lay.clusters < 65525 && !quiet)
		fprintf(stderr, "dvs-fat: warning: %s: a FAT32 of %.1f MiB with %u-byte "
			"clusters has %u clusters, fewer than the 65525 the FAT specification "
			"requires: mtools and some systems cannot read it. For a volume they "
			"can read, leave out -F 32 (a FAT12 or FAT16 fits) or make it larger "
			"(-s %lluM or more at %u-byte clusters)%s.\n", argv[optind],
			(double)dev->sector_count * dev->sector_size / 1048576.0,
			lay.cluster_bytes, lay.clusters,
			(unsigned long long)(((uint64_t)65525 * lay.cluster_bytes >> 20) + 2),
			lay.cluster_bytes,
			lay.cluster_bytes > dev->sector_size ? ", or use smaller clusters (-c)" : "");
	if (size && !g_partition) {
		/* A larger file shrinks to SIZE, as promised by --help. */
		err = truncate(argv[optind], (off_t)size) < 0 ? -errno : 0;
		if (err) {
			fat_blkdev_free(dev);
			return fail("cannot resize", argv[optind], err);
		}
	}
	err = fat_format(dev, &fo);
	if (err) {
		fat_blkdev_free(dev);
		return fail("mkfs failed on", argv[optind], err);
	}
	/* One line that says what was made, from the volume itself. */
	if (!quiet) {
		struct fat_mount_opts mo = {.read_only = 1};
		struct fat_statfs st;
		struct fat_vol *vol;
		const char *label;

		if (fat_mount(dev, &mo, &vol) == 0) {
			if (fat_statfs(vol, &st) == 0) {
				label = st.label[0] == '\0' || strcmp(st.label, "NO NAME") == 0
						? "none" : st.label;
				printf("%s: FAT%d, %.1f MiB, %llu clusters of %u bytes, label %s\n",
				       argv[optind], st.fat_type,
				       (double)dev->sector_count * dev->sector_size / 1048576.0,
				       (unsigned long long)st.total_clusters, st.cluster_size,
				       label);
			}
			fat_unmount(vol);
		}
	}
	fat_blkdev_free(dev);
	return 0;
}

static void
fmt_time(const struct timespec *t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t->tv_sec, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

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
		fmt_time(&e->st.mtime, t, sizeof t);
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
		rc = fail("cannot list", path, err);
	for (size_t i = 0; i < c.nsub; i++) {
		if (rec && !rc && c.subdirs[i]) {
			char *sub = path_join(path, c.subdirs[i]);
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

static int
cmd_ls(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	int c, l = 0, rec = 0, rc;
	char *img;
	const char *path;

	optind = 1;
	while ((c = getopt(argc, argv, "lR")) != -1) {
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
	split(argv[optind], &img, &path);
	if (!path)
		path = "/";
	if (do_mount(img, 1, &m)) {
		free(img);
		return 1;
	}
	rc = fat_stat(m.vol, path, &st);
	if (rc)
		rc = fail("cannot list", path, rc);
	else if (!(st.attr & FAT_ATTR_DIR))
		printf("%s\n", path);
	else
		rc = ls_dir(m.vol, path, l, rec, rec);
	do_umount(&m, img);
	free(img);
	return rc;
}

static int
need_path(const char *arg, char **img, const char **path)
{
	split(arg, img, path);
	if (!*path) {
		fprintf(stderr, "dvs-fat: '%s' is not IMAGE:/path\n", arg);
		free(*img);
		return 2;
	}
	return 0;
}

/* Mounts the image of IMAGE:/path (read-only if ro); returns 0, or the
 * exit status after saying what is wrong. */
static int
open_arg(const char *arg, int ro, struct mounted *m, char **img,
	 const char **path)
{
	int rc = need_path(arg, img, path);

	if (rc)
		return rc;
	if (do_mount(*img, ro, m)) {
		free(*img);
		return 1;
	}
	return 0;
}

/* Unmounts and frees what open_arg gave: rc, or 1 if the unmount failed. */
static int
close_arg(struct mounted *m, char *img, int rc)
{
	if (do_umount(m, img))
		rc = 1;
	free(img);
	return rc;
}

/* "-x" as the first argument: sets *set and gives the index after it. */
static int
flag_arg(int argc, char **argv, const char *flag, int *set)
{
	*set = argc > 1 && strcmp(argv[1], flag) == 0;
	return *set ? 2 : 1;
}

struct names {
	char **v;
	size_t n;
};

static int
collect(void *arg, const struct fat_dirent *e)
{
	struct names *n = arg;
	char **v = realloc(n->v, (n->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	n->v = v;
	n->v[n->n++] = strdup(e->name);
	return 0;
}

static void
names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

#define COPY_BUF (1 << 20)

/* Copies the image file path to the local out ("-": stdout). */
static int
get_file(struct fat_vol *vol, const char *path, const char *out, char *buf)
{
	struct fat_file *f;
	uint64_t off = 0;
	int fd, rc = 0, err;

	err = fat_open(vol, path, O_RDONLY, &f);
	if (err)
		return fail("cannot open", path, err);
	fd = strcmp(out, "-") == 0 ? 1 : open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		rc = fail("cannot create", out, -errno);
		fat_close(f);
		return rc;
	}
	for (;;) {
		ssize_t n = fat_pread(f, buf, COPY_BUF, off);
		if (n < 0) {
			rc = fail("read failed on", path, (int)n);
			break;
		}
		if (n == 0)
			break;
		if (write(fd, buf, (size_t)n) != n) {
			rc = fail("write failed on", out, -errno);
			break;
		}
		off += (uint64_t)n;
	}
	if (fd != 1 && close(fd) < 0 && !rc)
		rc = fail("write failed on", out, -errno);
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
		return fail("cannot create", out, -errno);
	err = fat_readdir(vol, path, collect, &n);
	if (err)
		rc = fail("cannot list", path, err);
	for (size_t i = 0; i < n.n && !rc; i++) {
		char *sub = path_join(path, n.v[i]), *lsub = path_join(out, n.v[i]);
		struct fat_stat st;
		if (!sub || !lsub)
			rc = fail("out of memory at", path, -ENOMEM);
		else if ((err = fat_stat(vol, sub, &st)))
			rc = fail("cannot stat", sub, err);
		else if (st.attr & FAT_ATTR_DIR)
			rc = get_tree(vol, sub, lsub, buf);
		else
			rc = get_file(vol, sub, lsub, buf);
		free(sub);
		free(lsub);
	}
	names_free(&n);
	return rc;
}

static int
cmd_get(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	struct stat lst;
	char *img, *buf, *target = NULL;
	const char *path, *out;
	int rc, err, rec, i = flag_arg(argc, argv, "-r", &rec);

	if (argc - i < 1 || argc - i > 2) {
		fprintf(stderr, "dvs-fat: get [-r] IMAGE:/path [LOCAL|-]\n");
		return 2;
	}
	if ((rc = open_arg(argv[i], 1, &m, &img, &path)))
		return rc;
	out = argc - i == 2 ? argv[i + 1] : base_name(path);
	buf = malloc(COPY_BUF);
	if (!buf) {
		rc = fail("out of memory for", path, -ENOMEM);
	} else if ((err = fat_stat(m.vol, path, &st))) {
		rc = fail("cannot stat", path, err);
	} else if ((st.attr & FAT_ATTR_DIR) && !rec) {
		fprintf(stderr, "dvs-fat: %s is a directory (use get -r)\n", path);
		rc = 1;
	} else if (st.attr & FAT_ATTR_DIR) {
		/* like cp -r: into an existing directory, under the name */
		if (stat(out, &lst) == 0 && S_ISDIR(lst.st_mode) && *base_name(path))
			out = target = path_join(out, base_name(path));
		rc = out ? get_tree(m.vol, path, out, buf)
			 : fail("out of memory for", path, -ENOMEM);
	} else {
		rc = get_file(m.vol, path, out, buf);
	}
	free(buf);
	free(target);
	return close_arg(&m, img, rc);
}

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
		return fail("cannot create", path, err);
	for (;;) {
		ssize_t n = read(fd, buf, COPY_BUF);
		if (n < 0) {
			rc = fail("read failed on", local, -errno);
			break;
		}
		if (n == 0)
			break;
		ssize_t w = fat_pwrite(f, buf, (size_t)n, off);
		if (w != n) {
			rc = fail("write failed on", path, w < 0 ? (int)w : -ENOSPC);
			break;
		}
		off += (uint64_t)n;
	}
	err = fat_close(f);
	if (err && !rc)
		rc = fail("write failed on", path, err);
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
		return fail("cannot make directory", path, err);
	d = opendir(local);
	if (!d)
		return fail("cannot open", local, -errno);
	while (!rc && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *lsub = path_join(local, de->d_name), *sub = path_join(path, de->d_name);
		if (!lsub || !sub) {
			rc = fail("out of memory at", local, -ENOMEM);
		} else if (lstat(lsub, &st) < 0) {
			rc = fail("cannot stat", lsub, -errno);
		} else if (S_ISDIR(st.st_mode)) {
			rc = put_tree(vol, lsub, sub, buf);
		} else if (S_ISREG(st.st_mode)) {
			int fd = open(lsub, O_RDONLY);
			if (fd < 0)
				rc = fail("cannot open", lsub, -errno);
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

static int
cmd_put(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	struct stat lst;
	char *img, *buf = NULL, *target = NULL;
	const char *path, *local;
	int fd = -1, rc, rec, i = flag_arg(argc, argv, "-r", &rec);

	if (argc - i != 2) {
		fprintf(stderr, "dvs-fat: put [-r] LOCAL IMAGE:/path\n");
		return 2;
	}
	local = argv[i];
	if (strcmp(local, "-") && stat(local, &lst) < 0)
		return fail("cannot open", local, -errno);
	int tree = strcmp(local, "-") && S_ISDIR(lst.st_mode);
	if (tree && !rec) {
		fprintf(stderr, "dvs-fat: %s is a directory (use put -r)\n", local);
		return 1;
	}
	if (!tree) {
		fd = strcmp(local, "-") == 0 ? 0 : open(local, O_RDONLY);
		if (fd < 0)
			return fail("cannot open", local, -errno);
	}
	if ((rc = open_arg(argv[i + 1], 0, &m, &img, &path))) {
		if (fd > 0)
			close(fd);
		return rc;
	}
	/* into path if it is a directory, under the local name (cp does) */
	if (fat_stat(m.vol, path, &st) == 0 && (st.attr & FAT_ATTR_DIR) &&
	    strcmp(local, "-") && *base_name(local)) {
		path = target = path_join(path, base_name(local));
		if (!target)
			rc = fail("out of memory for", local, -ENOMEM);
	}
	buf = malloc(COPY_BUF);
	if (!rc && !buf)
		rc = fail("out of memory for", local, -ENOMEM);
	if (!rc)
		rc = tree ? put_tree(m.vol, local, path, buf)
			  : put_file(m.vol, fd, local, path, buf);
	if (fd > 0)
		close(fd);
	free(buf);
	free(target);
	return close_arg(&m, img, rc);
}

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

static int
cmd_mkdir(int argc, char **argv)
{
	struct mounted m;
	char *img;
	const char *path;
	int rc, err, parents, i = flag_arg(argc, argv, "-p", &parents);

	if (i != argc - 1) {
		fprintf(stderr, "dvs-fat: mkdir [-p] IMAGE:/dir\n");
		return 2;
	}
	if ((rc = open_arg(argv[i], 0, &m, &img, &path)))
		return rc;
	err = parents ? mkdir_p(m.vol, path) : fat_mkdir(m.vol, path);
	if (err)
		rc = fail("cannot make directory", path, err);
	return close_arg(&m, img, rc);
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
	err = fat_readdir(vol, path, collect, &n);
	for (size_t i = 0; i < n.n && !err; i++) {
		char *sub = path_join(path, n.v[i]);
		err = sub ? rm_tree(vol, sub) : -ENOMEM;
		free(sub);
	}
	names_free(&n);
	if (!err && strcmp(path, "/") != 0)
		err = fat_rmdir(vol, path);
	return err;
}

static int
cmd_rm(int argc, char **argv)
{
	struct mounted m;
	char *img;
	const char *path;
	int rc, err, rec, i = flag_arg(argc, argv, "-r", &rec);

	if (i != argc - 1) {
		fprintf(stderr, "dvs-fat: rm [-r] IMAGE:/path\n");
		return 2;
	}
	if ((rc = open_arg(argv[i], 0, &m, &img, &path)))
		return rc;
	err = rec ? rm_tree(m.vol, path) : fat_unlink(m.vol, path);
	if (err == -EISDIR && !rec)
		err = fat_rmdir(m.vol, path);
	if (err)
		rc = fail("cannot remove", path, err);
	return close_arg(&m, img, rc);
}

static int
cmd_mv(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	char *img, *img2 = NULL, *target = NULL;
	const char *from, *to;
	int rc = 0, err;

	if (argc != 3) {
		fprintf(stderr, "dvs-fat: mv IMAGE:/from [IMAGE:]/to\n");
		return 2;
	}
	if ((rc = need_path(argv[1], &img, &from)))
		return rc;
	if (!strstr(argv[2], ":/"))
		to = argv[2];
	else {
		if ((rc = need_path(argv[2], &img2, &to))) {
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
	if (do_mount(img, 0, &m)) {
		free(img);
		free(img2);
		return 1;
	}
	if (fat_stat(m.vol, to, &st) == 0 && (st.attr & FAT_ATTR_DIR)) {
		struct fat_stat fs;
		if (fat_stat(m.vol, from, &fs) == 0 && fs.ino != st.ino &&
		    (target = path_join(to, base_name(from))))
			to = target;
	}
	err = fat_rename(m.vol, from, to);
	if (err)
		rc = fail("cannot move", from, err);
	if (do_umount(&m, img))
		rc = 1;
	free(target);
	free(img);
	free(img2);
	return rc;
}

static int
cmd_stat(int argc, char **argv)
{
	struct mounted m;
	struct fat_stat st;
	char *img, t[3][32];
	const char *path;
	int rc = 0, err;

	if (argc != 2) {
		fprintf(stderr, "dvs-fat: stat IMAGE:/path\n");
		return 2;
	}
	if ((rc = open_arg(argv[1], 1, &m, &img, &path)))
		return rc;
	err = fat_stat(m.vol, path, &st);
	if (err)
		rc = fail("cannot stat", path, err);
	else {
		fmt_time(&st.mtime, t[0], sizeof t[0]);
		fmt_time(&st.btime, t[1], sizeof t[1]);
		fmt_time(&st.atime, t[2], sizeof t[2]);
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
	return close_arg(&m, img, rc);
}

static int
cmd_df(int argc, char **argv)
{
	struct mounted m;
	struct fat_statfs s;
	char *img;
	const char *path;
	int err;

	if (argc != 2) {
		fprintf(stderr, "dvs-fat: df IMAGE\n");
		return 2;
	}
	split(argv[1], &img, &path);
	if (do_mount(img, 1, &m)) {
		free(img);
		return 1;
	}
	err = fat_statfs(m.vol, &s);
	if (!err)
		printf("type: FAT%d\nsector size: %u\ncluster size: %u\n"
		       "clusters: %u\nfree clusters: %u\ntotal bytes: %" PRIu64
		       "\nfree bytes: %" PRIu64 "\nused bytes: %" PRIu64
		       "\nvolume id: %08X\nlabel: %s\n",
		       s.fat_type, s.sector_size, s.cluster_size, s.total_clusters,
		       s.free_clusters, s.total_bytes, s.free_bytes,
		       s.total_bytes - s.free_bytes, s.volume_id, s.label);
	do_umount(&m, img);
	free(img);
	return err ? fail("df failed on", argv[1], err) : 0;
}

static int
cmd_label(int argc, char **argv)
{
	struct mounted m;
	struct fat_statfs s;
	char *img;
	const char *path;
	int err, rc = 0;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "dvs-fat: label IMAGE [LABEL]\n");
		return 2;
	}
	split(argv[1], &img, &path);
	if (do_mount(img, argc == 2, &m)) {
		free(img);
		return 1;
	}
	if (argc == 2) {
		err = fat_statfs(m.vol, &s);
		if (!err)
			printf("%s\n", s.label);
	} else
		err = fat_set_label(m.vol, argv[2]);
	if (err)
		rc = fail("label failed on", img, err);
	if (do_umount(&m, img))
		rc = 1;
	free(img);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"mkfs", cmd_mkfs}, {"ls", cmd_ls}, {"get", cmd_get},
		{"put", cmd_put}, {"mkdir", cmd_mkdir}, {"rm", cmd_rm},
		{"mv", cmd_mv}, {"stat", cmd_stat}, {"df", cmd_df},
		{"label", cmd_label},
	};
	int i = 1;

	dvs_log_init("dvs-fat");
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version"))
			return dvs_print_version("dvs-fat");
		if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			g_partition = atoi(argv[i + 1]);
			if (g_partition < 1 || g_partition > 4) {
				fprintf(stderr, "dvs-fat: -p takes 1 to 4\n");
				return 2;
			}
			i += 2;
			continue;
		}
		fprintf(stderr, "dvs-fat: unknown option %s (try --help)\n", argv[i]);
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
		if (!strcmp(argv[i], cmds[k].name)) {
			if (argc - i > 1 && (!strcmp(argv[i + 1], "--help") ||
					     !strcmp(argv[i + 1], "-h"))) {
				usage(stdout);
				return 0;
			}
			return cmds[k].fn(argc - i, argv + i);
		}
	fprintf(stderr, "dvs-fat: unknown command '%s' (try --help)\n", argv[i]);
	return 2;
}
