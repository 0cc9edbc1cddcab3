/*
 * test_unit.c - unit tests of lib/img's parsers and helpers: frame headers,
 * index files, INDEX frames, codecs, the hash set and similarity counts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dvs/img.h"
#include "hset.h"
#include "img_int.h"

static void
make_hdr(uint8_t h[IMG_FRAME_HDR], int type, uint32_t len)
{
	memset(h, 0, IMG_FRAME_HDR);
	img_put32(h, IMG_FRAME_MAGIC);
	h[4] = (uint8_t)type;
	img_put32(h + 8, len);
}

static void
test_frame_header(void **state)
{
	static const struct {
		int type;
		uint32_t len;
		int magic_ok;
		int want;
	} cases[] = {
		{ IMG_MSG_HELLO, 40, 1, 0 },
		{ IMG_MSG_DATA, IMG_FRAME_MAX, 1, 0 },
		{ IMG_MSG_DATA, IMG_FRAME_MAX + 1, 1, -EBADMSG },
		{ IMG_MSG_GET, UINT32_MAX, 1, -EBADMSG },
		{ 0, 4, 1, -EBADMSG },
		{ IMG_MSG_MAX, 4, 1, -EBADMSG },
		{ 200, 4, 1, -EBADMSG },
		{ IMG_MSG_HELLO, 40, 0, -EBADMSG },
	};
	uint8_t h[IMG_FRAME_HDR];
	uint32_t len;
	size_t i;
	int type;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_hdr(h, cases[i].type, cases[i].len);
		if (!cases[i].magic_ok)
			h[0] ^= 1;
		assert_int_equal(img_frame_check_hdr(h, &type, &len), cases[i].want);
		if (cases[i].want == 0) {
			assert_int_equal(type, cases[i].type);
			assert_int_equal(len, cases[i].len);
		}
	}
	make_hdr(h, IMG_MSG_HELLO, 4);
	h[6] = 1; /* reserved must be zero */
	assert_int_equal(img_frame_check_hdr(h, &type, &len), -EBADMSG);
}

/* A frame sent over a pipe comes back intact; one flipped byte is caught. */
static void
test_frame_roundtrip(void **state)
{
	struct img_conn a, b;
	const uint8_t *p;
	uint8_t msg[100];
	size_t len;
	int fds[2], type;

	(void)state;
	memset(msg, 7, sizeof(msg));
	assert_int_equal(pipe(fds), 0);
	img_conn_init(&a, -1, fds[1]);
	img_conn_init(&b, fds[0], -1);
	assert_int_equal(img_conn_send(&a, IMG_MSG_GET, msg, sizeof(msg)), 0);
	assert_int_equal(img_conn_recv(&b, &type, &p, &len), 0);
	assert_int_equal(type, IMG_MSG_GET);
	assert_int_equal(len, sizeof(msg));
	assert_memory_equal(p, msg, sizeof(msg));
	a.corrupt_at = a.bytes_out + IMG_FRAME_HDR + 10;
	assert_int_equal(img_conn_send(&a, IMG_MSG_GET, msg, sizeof(msg)), 0);
	assert_int_equal(img_conn_recv(&b, &type, &p, &len), -EBADMSG);
	/* A cut connection reports EPIPE on the sender and EOF on the reader. */
	a.drop_after = a.bytes_out + 5;
	assert_int_equal(img_conn_send(&a, IMG_MSG_GET, msg, sizeof(msg)), -EPIPE);
	close(fds[1]);
	img_conn_fini(&a);
	assert_int_equal(img_conn_recv(&b, &type, &p, &len), -EPIPE);
	close(fds[0]);
	img_conn_fini(&b);
}

static char *
tmp_image(size_t size, int zero_every)
{
	char *path = strdup("/tmp/dvs-img-unit.XXXXXX");
	uint8_t *buf = malloc(size);
	size_t i;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	for (i = 0; zero_every && i < size / 4096; i += (size_t)zero_every)
		memset(buf + i * 4096, 0, 4096);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
	return path;
}

static void
test_index_file(void **state)
{
	char *img = tmp_image(40 * 4096 + 100, 3), *idx;
	struct img_index *ix, *back;
	uint8_t *buf;
	size_t len, i;
	FILE *f;

	(void)state;
	assert_int_equal(img_index_build(img, 4096, 2, &ix), 0);
	assert_int_equal(ix->nblocks, 41);
	assert_true(img_hash_is_zero(ix->hash[0]));
	assert_false(img_hash_is_zero(ix->hash[1]));
	assert_true(img_hash_is_zero(ix->hash[39]));
	idx = img_index_path(img);
	assert_int_equal(img_index_save(ix, idx), 0);
	assert_int_equal(img_index_load(idx, img, &back), 0);
	assert_memory_equal(back->hash, ix->hash, 41 * IMG_HASH_LEN);
	img_index_free(back);
	/* Every single flipped byte of the file is detected. */
	f = fopen(idx, "rb");
	assert_non_null(f);
	buf = malloc(1 << 16);
	len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	assert_int_equal(img_index_parse(buf, len, &back), 0);
	img_index_free(back);
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x10;
		assert_int_not_equal(img_index_parse(buf, len, &back), 0);
		assert_null(back);
		buf[i] ^= 0x10;
	}
	/* Truncated or extended files are refused. */
	assert_int_equal(img_index_parse(buf, len - 1, &back), -EBADMSG);
	assert_int_equal(img_index_parse(buf, 10, &back), -EBADMSG);
	free(buf);
	unlink(idx);
	unlink(img);
	free(idx);
	free(img);
	img_index_free(ix);
}

static void
test_index_frame(void **state)
{
	uint8_t (*h)[IMG_HASH_LEN] = calloc(10, IMG_HASH_LEN);
	uint8_t p[12 + 1 + 2 * IMG_HASH_LEN];
	uint64_t first, count;

	(void)state;
	img_put64(p, 3);
	img_put32(p + 8, 4);
	p[12] = 0x5; /* blocks 3 and 5 zero, 4 and 6 have hashes */
	memset(p + 13, 0xaa, IMG_HASH_LEN);
	memset(p + 13 + IMG_HASH_LEN, 0xbb, IMG_HASH_LEN);
	assert_int_equal(img_index_frame_decode(p, sizeof(p), 10, h, &first, &count), 0);
	assert_int_equal(first, 3);
	assert_int_equal(count, 4);
	assert_true(img_hash_is_zero(h[3]));
	assert_int_equal(h[4][0], 0xaa);
	assert_int_equal(h[6][0], 0xbb);
	/* Out of range, wrong length, a zero hash for a data block. */
	assert_int_equal(img_index_frame_decode(p, sizeof(p), 6, h, &first, &count), -EBADMSG);
	assert_int_equal(img_index_frame_decode(p, sizeof(p) - 1, 10, h, &first, &count), -EBADMSG);
	memset(p + 13, 0, IMG_HASH_LEN);
	assert_int_equal(img_index_frame_decode(p, sizeof(p), 10, h, &first, &count), -EBADMSG);
	img_put32(p + 8, UINT32_MAX);
	assert_int_equal(img_index_frame_decode(p, sizeof(p), 10, h, &first, &count), -EBADMSG);
	free(h);
}

static void
test_codecs(void **state)
{
	uint8_t src[65536], dst[70000], back[65536];
	size_t i, dlen;
	int c;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i % 251 < 100 ? 'a' : i * 7);
	for (c = 0; c < IMG_CODEC_COUNT; c++) {
		assert_int_equal(img_codec_from_name(img_codec_name(c)), c);
		assert_int_equal(img_compress(c, 0, src, sizeof(src), dst, sizeof(dst), &dlen), 0);
		assert_int_equal(img_decompress(c, dst, dlen, back, sizeof(back)), 0);
		assert_memory_equal(src, back, sizeof(src));
		/* Wrong announced size or garbage: an error, never a short block. */
		assert_int_not_equal(img_decompress(c, dst, dlen, back, sizeof(back) - 1), 0);
		if (c != IMG_CODEC_NONE) {
			memset(dst, 0xff, 64);
			assert_int_not_equal(img_decompress(c, dst, dlen, back, sizeof(back)), 0);
		}
	}
	assert_int_equal(img_codec_from_name("brotli"), -EINVAL);
}

/* The session-wide zstd stream: runs decode in order; garbage is refused. */
static void
test_zstd_stream(void **state)
{
	static uint8_t src[3][65536], dst[80000], back[65536];
	void *zs = img_zs_new(3), *zd = img_zd_new(), *zd2 = img_zd_new();
	size_t i, k, dlen;

	(void)state;
	for (k = 0; k < 3; k++)
		for (i = 0; i < sizeof(src[k]); i++)
			src[k][i] = (uint8_t)(k == 2 ? src[0][i] : (i * 7 + k) % 253 ^ (i >> 9));
	for (k = 0; k < 3; k++) {
		assert_int_equal(img_zs_compress(zs, src[k], sizeof(src[k]), dst, sizeof(dst), &dlen), 0);
		if (k == 2)
			assert_true(dlen < 1000); /* refers back to run 0 */
		assert_int_equal(img_zd_decompress(zd, dst, dlen, back, sizeof(back)), 0);
		assert_memory_equal(back, src[k], sizeof(back));
	}
	/* A context that missed the earlier runs cannot decode run 2. */
	assert_int_not_equal(img_zd_decompress(zd2, dst, dlen, back, sizeof(back)), 0);
	memset(dst, 0x33, 100);
	assert_int_not_equal(img_zd_decompress(zd, dst, 100, back, sizeof(back)), 0);
	img_zs_free(zs);
	img_zd_free(zd);
	img_zd_free(zd2);
}

static void
test_hset_similarity(void **state)
{
	struct img_index t = { .block_size = 4096, .image_size = 6 * 4096, .nblocks = 6 };
	struct img_index s = { .block_size = 4096, .image_size = 2 * 4096, .nblocks = 2 };
	const struct img_index *seeds[] = { &s };
	uint8_t th[6][IMG_HASH_LEN], sh[2][IMG_HASH_LEN];
	struct img_similarity sim;
	struct img_hset set;

	(void)state;
	memset(th, 0, sizeof(th));
	memset(sh, 0, sizeof(sh));
	th[0][0] = 1; /* A */
	th[1][0] = 2; /* B */
	th[2][0] = 1; /* A again */
	/* th[3] zero */
	th[4][0] = 3; /* C */
	th[5][0] = 4; /* D */
	sh[0][0] = 2; /* B */
	sh[1][0] = 1; /* A */
	t.hash = th;
	s.hash = sh;
	assert_int_equal(img_hset_init(&set, (const uint8_t (*)[IMG_HASH_LEN])th, 6), 0);
	assert_int_equal(img_hset_insert(&set, 0), 0);
	assert_int_equal(img_hset_insert(&set, 2), 0);
	assert_int_equal(img_hset_insert(&set, 1), 1);
	assert_int_equal(img_hset_find(&set, th[2]), 0);
	assert_int_equal(img_hset_find(&set, th[5]), IMG_HSET_NONE);
	img_hset_fini(&set);
	assert_int_equal(img_similarity(&t, seeds, 1, &sim), 0);
	assert_int_equal(sim.zero_blocks, 1);
	assert_int_equal(sim.nonzero_blocks, 5);
	assert_int_equal(sim.found_blocks, 3);
	assert_int_equal(sim.missing_blocks, 2);
	assert_int_equal(sim.missing_bytes, 2 * 4096);
}

static void
test_auth(void **state)
{
	uint8_t a[32] = { 1 }, b[32] = { 2 }, p1[32], p2[32], p3[32];

	(void)state;
	img_auth_proof((const uint8_t *)"0123456789abcdef", 16, "x", a, b, p1);
	img_auth_proof((const uint8_t *)"0123456789abcdef", 16, "x", b, a, p2);
	img_auth_proof((const uint8_t *)"0123456789abcdeF", 16, "x", a, b, p3);
	assert_false(img_auth_equal(p1, p2)); /* not reflectable */
	assert_false(img_auth_equal(p1, p3)); /* key matters */
	assert_true(img_auth_equal(p1, p1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_header),
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_index_file),
		cmocka_unit_test(test_index_frame),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_zstd_stream),
		cmocka_unit_test(test_hset_similarity),
		cmocka_unit_test(test_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
