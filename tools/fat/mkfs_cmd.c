/* mkfs_cmd.c - dvs-fat mkfs: makes a volume, warns first of a FAT32 that
 * breaks the specification (a dry run of the same fat_format), and says in
 * one line what it made. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dvs/fat_layout.h"
#include "dvs/parse.h"

/* ---- the dry run: the layout fat_format would write, without writing ---- */

struct dry {
	union {
		union fat_boot bs;
		uint8_t bytes[4096];
	} boot;			/* what the format wrote to sector 0 */
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
		memcpy(d->boot.bytes, buf, n < sizeof d->boot.bytes ? n : sizeof d->boot.bytes);
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

struct layout {
	int type;		/* as Linux and fsck.fat will see it */
	uint32_t clusters, cluster_bytes;
};

/* The layout of a boot sector, counted the way the specification does. */
static int
boot_layout(const union fat_boot *b, struct layout *l)
{
	const struct fat_bpb *bpb = &b->bpb;
	uint32_t bps = le16toh(bpb->byts_per_sec), spc = bpb->sec_per_clus;
	uint32_t rsvd = le16toh(bpb->rsvd_sec_cnt), nfats = bpb->num_fats;
	uint32_t fatsz16 = le16toh(bpb->fat_sz16), tot16 = le16toh(bpb->tot_sec16);
	uint32_t fatsz = fatsz16 ? fatsz16 : le32toh(b->b32.fat_sz32);
	uint32_t total = tot16 ? tot16 : le32toh(bpb->tot_sec32);
	uint32_t rootsecs, meta;

	if (bps == 0 || spc == 0)
		return -EINVAL;
	rootsecs = (le16toh(bpb->root_ent_cnt) * (uint32_t)sizeof(struct fat_sfn) +
		    bps - 1) / bps;
	meta = rsvd + nfats * fatsz + rootsecs;
	l->clusters = total > meta ? (total - meta) / spc : 0;
	l->cluster_bytes = bps * spc;
	l->type = fatsz16 == 0 ? 32 : l->clusters < 4085 ? 12 : 16;
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

	return err ? err : boot_layout(&d.boot.bs, l);
}

int
cmd_mkfs(int argc, char **argv)
{
	struct fat_format_opts fo = {0};
	struct fat_image_opts io = {.partition = cli_partition};
	struct fat_blkdev *dev;
	struct layout lay;
	uint64_t size = 0, size64;
	long lv;
	int c, err, quiet = 0;

	static const struct option lo[] = {
		{"fat-type", required_argument, NULL, 'F'},
		{"size", required_argument, NULL, 's'},
		{"cluster-size", required_argument, NULL, 'c'},
		{"sector-size", required_argument, NULL, 'S'},
		{"label", required_argument, NULL, 'n'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};

	optind = 0;	/* main's getopt_long ran first: start afresh */
	while ((c = getopt_long(argc, argv, "F:s:c:S:n:q", lo, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'F':
			if (dvs_parse_long(optarg, 0, 32, &lv) != 0 ||
			    (lv != 0 && lv != 12 && lv != 16 && lv != 32)) {
				fprintf(stderr, "dvs-fat: --fat-type: 12, 16 or 32, not '%s'\n",
					optarg);
				return 2;
			}
			fo.fat_type = (int)lv;
			break;
		case 's':
			size = cli_parse_size(optarg);
			if (!size) {
				fprintf(stderr, "dvs-fat: --size: bad size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c':
			size64 = cli_parse_size(optarg);
			if (size64 == 0 || size64 > UINT32_MAX) {
				fprintf(stderr, "dvs-fat: --cluster-size: bad size '%s'\n",
					optarg);
				return 2;
			}
			fo.cluster_size = (uint32_t)size64;
			break;
		case 'S':
			if (dvs_parse_long(optarg, 1, 65536, &lv) != 0) {
				fprintf(stderr, "dvs-fat: --sector-size: 1 to 65536, not '%s'\n",
					optarg);
				return 2;
			}
			fo.sector_size = (uint32_t)lv;
			break;
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
	if (size && !cli_partition) {
		io.create_size = size;
		io.size = size;
	}
	err = fat_image_open(argv[optind], &io, &dev);
	if (err == -EBUSY)
		return cli_fail_busy(argv[optind]);
	if (err)
		return cli_fail("cannot open image", argv[optind], err);
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
			(unsigned long long)((uint64_t)65525 * lay.cluster_bytes >> 20) + 2,
			lay.cluster_bytes,
			lay.cluster_bytes > dev->sector_size ? ", or use smaller clusters (-c)" : "");
	if (size && !cli_partition) {
		/* A larger file shrinks to SIZE, as promised by --help. */
		err = truncate(argv[optind], (off_t)size) < 0 ? -errno : 0;
		if (err) {
			fat_blkdev_free(dev);
			return cli_fail("cannot resize", argv[optind], err);
		}
	}
	err = fat_format(dev, &fo);
	if (err) {
		fat_blkdev_free(dev);
		return cli_fail("mkfs failed on", argv[optind], err);
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
