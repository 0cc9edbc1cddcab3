/*
 * fetch_recv.c - the receiver: frames from the server checked for their
 * type, GET requests for runs of needed blocks with several in flight,
 * and each DATA frame decompressed, hashed against the index and written.
 */
#include <errno.h>
#include <string.h>

#include "fetch_int.h"

#define MAX_INFLIGHT 64

struct run {
	uint64_t first, count;
};

int
fetch_recv_expect(struct fet *f, int want, const uint8_t **p, size_t *len)
{
	int type, r;

	r = img_conn_recv(&f->c, &type, p, len);
	if (r == -EBADMSG)
		img_err("corrupt frame from the server (checksum or header)");
	else if (r == -ETIMEDOUT)
		img_err("the server said nothing for %d ms", f->c.timeout_ms);
	if (r != 0)
		return r == -ETIMEDOUT ? -EPIPE : r;
	if (type == IMG_MSG_ERROR) {
		uint32_t code = *len >= 4 ? img_get32(*p) : EPROTO;

		img_err("the server says: %.*s", (int)(*len > 4 ? *len - 4 : 0), (const char *)*p + 4);
		return code == EACCES ? -EACCES : -EPROTO;
	}
	if (want && type != want) {
		img_err("the server answered out of turn (message %d where %d belongs): is it "
			"a dvs img server of this version?", type, want);
		return -EPROTO;
	}
	return type;
}

/* The next frame of a list the server ends with INDEX_END: 1 for a want
 * frame, 0 at the end (*p, *len then hold the end frame), or a negative
 * error (-EPROTO for any other type). */
int
fetch_recv_list(struct fet *f, int want, const uint8_t **p, size_t *len)
{
	int r = fetch_recv_expect(f, 0, p, len);

	if (r < 0)
		return r;
	if (r == IMG_MSG_INDEX_END)
		return 0;
	return r == want ? 1 : -EPROTO;
}

static int
take_data(struct fet *f, const struct run *q, const uint8_t *p, size_t len)
{
	uint64_t first, count, i, raw = 0, off;
	const uint8_t *hashes = NULL, *data;
	uint8_t h[IMG_HASH_LEN];
	int codec, hashed, r;
	size_t hl = 0;

	if (len < 20)
		return -EPROTO;
	first = img_get64(p);
	count = img_get32(p + 8);
	codec = p[12];
	hashed = p[13];
	if (first != q->first || count != q->count || codec >= IMG_CODEC_COUNT ||
	    hashed != f->live || img_get16(p + 14) != 0) {
		img_err("the server answered a request it was not asked");
		return -EPROTO;
	}
	for (i = 0; i < count; i++)
		raw += img_block_len(&f->ix, first + i);
	if (img_get32(p + 16) != raw)
		return -EPROTO;
	if (hashed) {
		hl = (size_t)count * IMG_HASH_LEN;
		if (len - 20 < hl)
			return -EPROTO;
		hashes = p + 20;
	}
	data = p + 20 + hl;
	if (codec == IMG_CODEC_ZSTD && f->o->codec == IMG_CODEC_ZSTD)
		r = img_zd_decompress(f->zd, data, len - 20 - hl, f->raw, raw);
	else if (codec == IMG_CODEC_ZSTD || (codec != IMG_CODEC_NONE && codec != f->o->codec))
		r = -EBADMSG; /* not what we asked for */
	else
		r = img_decompress(codec, data, len - 20 - hl, f->raw, raw);
	if (r != 0) {
		img_err("a %s block run from the server does not decompress", img_codec_name(codec));
		return -EBADMSG;
	}
	for (i = 0, off = 0; i < count; off += img_block_len(&f->ix, first + i), i++) {
		img_hash_block(f->raw + off, img_block_len(&f->ix, first + i), h);
		if (hashes) {
			if (memcmp(h, hashes + i * IMG_HASH_LEN, IMG_HASH_LEN) != 0) {
				img_err("block %llu does not match the hash sent with it",
					(unsigned long long)(first + i));
				return -EILSEQ;
			}
			memcpy(f->ix.hash[first + i], h, IMG_HASH_LEN);
		} else if (memcmp(h, f->ix.hash[first + i], IMG_HASH_LEN) != 0) {
			img_err("block %llu from the server does not match its index (did the "
				"image change while served? serve it with --live)",
				(unsigned long long)(first + i));
			return -EILSEQ;
		}
	}
	r = fetch_pwrite_full(f, f->raw, raw, first * f->ix.block_size);
	if (r != 0)
		return r;
	f->st->sent_blocks += count;
	f->st->data_raw_bytes += raw;
	f->got_bytes += raw;
	for (i = 0; i < count && r == 0; i++)
		r = fetch_mark_written(f, first + i);
	fetch_progress(f, 0);
	return r;
}

/* Asks for every ST_NEED block, in runs, with up to o->inflight requests out. */
int
fetch_needed(struct fet *f)
{
	struct run q[MAX_INFLIGHT];
	/* 256 KiB runs: big enough for the disk, small enough to resume finely. */
	uint64_t b = 0, maxrun = f->ix.block_size >= (256u << 10) ? 1 : (256u << 10) / f->ix.block_size;
	int head = 0, n = 0, k = f->o->inflight, r;
	const uint8_t *p;
	size_t len;

	if (k <= 0)
		k = 16;
	if (k > MAX_INFLIGHT)
		k = MAX_INFLIGHT;
	for (;;) {
		while (n < k) {
			uint8_t g[12];
			struct run *rn = &q[(head + n) % MAX_INFLIGHT];

			while (b < f->ix.nblocks && f->state[b] != ST_NEED)
				b++;
			if (b >= f->ix.nblocks)
				break;
			rn->first = b;
			rn->count = 0;
			while (b < f->ix.nblocks && f->state[b] == ST_NEED && rn->count < maxrun) {
				rn->count++;
				b++;
			}
			img_put64(g, rn->first);
			img_put32(g + 8, (uint32_t)rn->count);
			r = img_conn_send(&f->c, IMG_MSG_GET, g, sizeof(g));
			if (r != 0)
				return r;
			n++;
		}
		if (n == 0)
			return 0;
		r = fetch_recv_expect(f, IMG_MSG_DATA, &p, &len);
		if (r < 0)
			return r;
		r = take_data(f, &q[head], p, len);
		if (r != 0)
			return r;
		head = (head + 1) % MAX_INFLIGHT;
		n--;
	}
}
