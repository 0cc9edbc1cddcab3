/* index_cmd.c - `dvs img index` and `dvs img similarity`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dvs/clock.h"
#include "dvs/img.h"
#include "dvs/json_out.h"
#include "dvs/log.h"

static int
parse_bs(const char *s, uint32_t *bs)
{
	uint64_t v;

	if (img_parse_u64(s, &v) != 0 || v < IMG_MIN_BLOCK || v > IMG_MAX_BLOCK ||
	    (v & (v - 1))) {
		fprintf(stderr, "dvs img: --block-size must be a power of two from %u to %u\n",
			IMG_MIN_BLOCK, IMG_MAX_BLOCK);
		return -1;
	}
	*bs = (uint32_t)v;
	return 0;
}

/* The options index and similarity share: -b SIZE and -t N.  1 if c was
 * one of them, 0 if not, -1 on a bad value (said). */
static int
shared_opt(const char *cmd, int c, uint32_t *bs, int *threads)
{
	if (c == 'b')
		return parse_bs(optarg, bs) == 0 ? 1 : -1;
	if (c == 't')
		return img_cli_int(cmd, "--threads", optarg, 0, 64, threads) == 0 ? 1 : -1;
	return 0;
}

int
cmd_index(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "block-size", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "index", required_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t bs = IMG_DEFAULT_BLOCK;
	const char *idx = NULL;
	char *def = NULL;
	struct img_index *ix = NULL;
	int c, k, threads = 0, check = 0, r;
	uint64_t b, zero = 0;
	double t;

	while ((c = getopt_long(argc, argv, "b:t:i:ch", opts, NULL)) != -1) {
		if ((k = shared_opt("index", c, &bs, &threads)) != 0) {
			if (k < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'i':
			idx = optarg;
			break;
		case 'c':
			check = 1;
			break;
		case 'h':
			printf("usage: dvs img index IMAGE [--block-size N] [--threads N] "
			       "[--index FILE] [--check]\n\n"
			       "Hashes every block of IMAGE (SHA-256, on every core; zero blocks\n"
			       "marked) and writes the index to IMAGE.dvsidx (or FILE).\n"
			       "  --block-size N  block size, a power of two (default 4096)\n"
			       "  --threads N     hashing threads (default: every core)\n"
			       "  --check         only say whether the index is fresh: exit 0 if\n"
			       "                  fresh, 1 if missing or stale, 5 if corrupt\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: dvs img index IMAGE [OPTIONS] (--help for more)\n");
		return EXIT_USAGE;
	}
	if (idx == NULL)
		idx = def = img_index_path(argv[optind]);
	if (check) {
		r = img_index_load(idx, argv[optind], &ix);
		img_index_free(ix);
		if (r == 0)
			printf("%s: fresh\n", idx);
		else
			printf("%s: %s\n", idx,
			       r == -ENOENT ? "missing" : r == -ESTALE ? "stale (the image changed)" :
			       r == -EBADMSG ? "corrupt" : strerror(-r));
		free(def);
		if (r == 0)
			return EXIT_OK;
		return r == -EBADMSG || r == -EPROTONOSUPPORT ? EXIT_DATA : EXIT_FAIL;
	}
	t = (double)dvs_now_ns() / 1e9;
	r = img_index_build(argv[optind], bs, threads, &ix);
	if (r != 0) {
		free(def);
		return img_exit_code(r);
	}
	t = (double)dvs_now_ns() / 1e9 - t;
	r = img_index_save(ix, idx);
	if (r != 0) {
		fprintf(stderr, "dvs img: cannot write %s: %s\n", idx, strerror(-r));
	} else {
		for (b = 0; b < ix->nblocks; b++)
			zero += img_hash_is_zero(ix->hash[b]);
		printf("%s: %llu blocks of %u bytes, %llu zero; %.1f MB/s; index %s\n",
		       argv[optind], (unsigned long long)ix->nblocks, ix->block_size,
		       (unsigned long long)zero, t > 0 ? (double)ix->image_size / t / 1e6 : 0.0,
		       idx);
	}
	img_index_free(ix);
	free(def);
	return r ? EXIT_LOCAL : EXIT_OK;
}

/* One row of similarity --json: what one seed (or all) holds. */
static struct json_object *
similarity_row(const char *label, const struct img_similarity *one)
{
	struct json_object *row = json_object_new_object();

	dvs_json_add_str(row, "seeds", label);
	dvs_json_add_uint(row, "nonzero_blocks", one->nonzero_blocks);
	dvs_json_add_uint(row, "found_blocks", one->found_blocks);
	dvs_json_add_fixed(row, "similarity",
			   one->nonzero_blocks ? (double)one->found_blocks / (double)one->nonzero_blocks
					       : 0.0,
			   4);
	dvs_json_add_uint(row, "missing_bytes", one->missing_bytes);
	dvs_json_add_uint(row, "missing_unique_bytes", one->missing_unique_bytes);
	dvs_json_add_uint(row, "zero_blocks", one->zero_blocks);
	return row;
}

int
cmd_similarity(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "block-size", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t bs = IMG_DEFAULT_BLOCK;
	struct img_index *t = NULL, **seeds = NULL;
	struct img_similarity all = { 0 }, one;
	struct json_object *doc = NULL, *rows = NULL;
	int c, k, threads = 0, json = 0, r, i, n;

	while ((c = getopt_long(argc, argv, "b:t:jh", opts, NULL)) != -1) {
		if ((k = shared_opt("similarity", c, &bs, &threads)) != 0) {
			if (k < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("usage: dvs img similarity TARGET SEED... [--block-size N] [--json]\n\n"
			       "Shows how much of TARGET's non-zero blocks each seed, and all seeds\n"
			       "together, already hold, and the bytes a fetch would still move.\n"
			       "Indexes are read from IMAGE.dvsidx when fresh, else built.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	n = argc - optind - 1;
	if (n < 1) {
		fprintf(stderr, "usage: dvs img similarity TARGET SEED... (--help for more)\n");
		return EXIT_USAGE;
	}
	seeds = calloc((size_t)n, sizeof(*seeds));
	if (seeds == NULL)
		return EXIT_FAIL;
	r = img_index_open(argv[optind], NULL, bs, threads, 0, NULL, &t);
	for (i = 0; r == 0 && i < n; i++)
		r = img_index_open(argv[optind + 1 + i], NULL, bs, threads, 0, NULL, &seeds[i]);
	if (r != 0)
		goto out;
	if (!json) {
		printf("%-32s %-32s %10s %14s\n", "target", "seeds", "similarity",
		       "bytes to move");
	} else {
		doc = json_object_new_object();
		rows = json_object_new_array();
		dvs_json_add_str(doc, "target", argv[optind]);
		json_object_object_add(doc, "rows", rows);
	}
	for (i = 0; i <= n; i++) {
		/* One row per seed, then one with every seed (table 5.1's last row). */
		const struct img_index *const *sp = (const struct img_index *const *)seeds;
		size_t ns = (size_t)n;
		const char *label = "all seeds";

		if (i < n) {
			sp = (const struct img_index *const *)&seeds[i];
			ns = 1;
			label = argv[optind + 1 + i];
		} else if (n == 1) {
			break;
		}
		r = img_similarity(t, sp, ns, &one);
		if (r != 0)
			goto out;
		if (i == n || n == 1)
			all = one;
		if (json)
			json_object_array_add(rows, similarity_row(label, &one));
		else
			printf("%-32s %-32s %9.1f%% %14llu\n", argv[optind], label,
			       one.nonzero_blocks ? 100.0 * (double)one.found_blocks /
							    (double)one.nonzero_blocks : 0.0,
			       (unsigned long long)one.missing_bytes);
	}
	if (json) {
		dvs_json_print(stdout, doc);
		doc = NULL;
	} else {
		printf("\n%llu blocks: %llu zero, %llu non-zero; %llu found in the seeds; "
		       "%llu bytes to move (%llu after removing repeats inside the target)\n",
		       (unsigned long long)all.blocks, (unsigned long long)all.zero_blocks,
		       (unsigned long long)all.nonzero_blocks, (unsigned long long)all.found_blocks,
		       (unsigned long long)all.missing_bytes,
		       (unsigned long long)all.missing_unique_bytes);
	}
out:
	json_object_put(doc);
	img_index_free(t);
	for (i = 0; i < n; i++)
		img_index_free(seeds[i]);
	free(seeds);
	return img_exit_code(r);
}
