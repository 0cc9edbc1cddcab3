/* dvs-fat - FAT images from the command line, like mtools, on the DVS
 * FAT engine: mkfs, ls, get, put, mkdir, rm, mv, stat, df, label.  This
 * file: the global options and the dispatch; each command is in a
 * *_cmd.c file, what they share in cli.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dvs/log.h"
#include "dvs/parse.h"
#include "dvs/version.h"

void
usage(FILE *f)
{
	fprintf(f,
		"usage: dvs-fat [-v|-q] [-p N] COMMAND ARGS...\n"
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
		"  -p, --partition N   use MBR primary partition N (1-4) of the image\n"
		"  -v, --verbose       log more (again: debug)\n"
		"  -q, --quiet         log errors only (before COMMAND; mkfs -q is\n"
		"                      mkfs's own: no summary)\n"
		"  -h, --help          this help\n"
		"Long forms: mkfs --fat-type --size --cluster-size --sector-size --label\n"
		"--quiet; ls --long --recursive; get, put, rm --recursive; mkdir\n"
		"--parents.  A command's options may follow its operands; -- ends them.\n"
		"  --version           print the version\n"
		"Exit status: 0 success, 1 failure (with a message), 2 bad usage.\n");
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
	/* "+": the options before the command are dvs-fat's own; the
	 * command parses the rest */
	static const struct option lo[] = {
		{"partition", required_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c, i;
	long lv;

	dvs_log_init("dvs-fat");
	opterr = 0;	/* our own words, below */
	while ((c = getopt_long(argc, argv, "+p:vqh", lo, NULL)) != -1) {
		switch (c) {
		case 'v':
			dvs_log_more();
			break;
		case 'q':
			dvs_log_quiet();
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return dvs_print_version("dvs-fat");
		case 'p':
			if (dvs_parse_long(optarg, 1, 4, &lv) != 0) {
				fprintf(stderr, "dvs-fat: -p (--partition) takes 1 to 4, not '%s'\n", optarg);
				return 2;
			}
			cli_partition = (int)lv;
			break;
		default:
			fprintf(stderr, "dvs-fat: unknown option %s (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	opterr = 1;	/* the commands let getopt name a bad option */
	i = optind;
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
