/* vol_cmd.c - dvs-fat df and label: the volume as a whole. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int
cmd_df(int argc, char **argv)
{
	struct mounted m;
	struct fat_statfs s;
	char *img;
	const char *path;
	int err;
	int i = cli_flag(argc, argv, 0, NULL, NULL);

	if (i < 0)
		return 2;
	argc -= i - 1;	/* the operands from argv[1] on */
	argv += i - 1;
	if (argc != 2) {
		fprintf(stderr, "dvs-fat: df IMAGE\n");
		return 2;
	}
	cli_split(argv[1], &img, &path);
	if (cli_mount(img, 1, &m)) {
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
	cli_umount(&m, img);
	free(img);
	return err ? cli_fail("df failed on", argv[1], err) : 0;
}

int
cmd_label(int argc, char **argv)
{
	struct mounted m;
	struct fat_statfs s;
	char *img;
	const char *path;
	int err, rc = 0;
	int i = cli_flag(argc, argv, 0, NULL, NULL);

	if (i < 0)
		return 2;
	argc -= i - 1;	/* the operands from argv[1] on */
	argv += i - 1;
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "dvs-fat: label IMAGE [LABEL]\n");
		return 2;
	}
	cli_split(argv[1], &img, &path);
	if (cli_mount(img, argc == 2, &m)) {
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
		rc = cli_fail("label failed on", img, err);
	if (cli_umount(&m, img))
		rc = 1;
	free(img);
	return rc;
}
