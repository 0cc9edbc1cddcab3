/*
 * fetch_index.c - the server's index as the client receives it: INFO, the
 * INDEX frames, INDEX_END with the digest (and its signature when a key
 * is shared); in live mode, each later round's CHANGES.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fetch_int.h"

/* Reads the round's INDEX_END and checks the index we hold against it. */
int
fetch_check_index_end(struct fet *f, const uint8_t *p, size_t len)
{
	uint8_t d[32], mac[32];

	if (len != 72)
		return -EPROTO;
	f->round = (int)img_get32(p);
	f->final = img_get32(p + 4) != 0;
	img_index_digest(&f->ix, d);
	if (memcmp(d, p + 8, 32) != 0) {
		img_err("the index does not match its digest: corrupt transfer");
		return -EBADMSG;
	}
	if (f->o->key) {
		img_auth_proof(f->o->key, f->o->key_len, "dvs-img index", p + 8, f->cn, mac);
		if (!img_auth_equal(mac, p + 40)) {
			img_err("the index is not signed with the shared key");
			return -EACCES;
		}
	}
	if (!f->final && !f->live)
		return -EPROTO;
	return 0;
}

int
fetch_recv_index(struct fet *f)
{
	const uint8_t *p;
	size_t len;
	uint64_t next = 0, first, count, bs, size, n;
	int r;

	r = fetch_recv_expect(f, IMG_MSG_INFO, &p, &len);
	if (r < 0)
		return r;
	if (len != 24)
		return -EPROTO;
	bs = img_get32(p);
	f->live = (img_get32(p + 4) & IMG_INFO_LIVE) != 0;
	size = img_get64(p + 8);
	n = img_get64(p + 16);
	if (bs < IMG_MIN_BLOCK || bs > IMG_MAX_BLOCK || (bs & (bs - 1)) ||
	    n != size / bs + (size % bs != 0) || n >= UINT32_MAX) {
		img_err("the server describes an impossible image");
		return -EPROTO;
	}
	f->ix.block_size = (uint32_t)bs;
	f->ix.image_size = size;
	f->ix.nblocks = n;
	f->ix.hash = malloc(n * IMG_HASH_LEN + 1);
	if (f->ix.hash == NULL)
		return -ENOMEM;
	while ((r = fetch_recv_list(f, IMG_MSG_INDEX, &p, &len)) > 0) {
		r = img_index_frame_decode(p, len, n, f->ix.hash, &first, &count);
		if (r != 0 || first != next) {
			img_err("malformed index from the server");
			return -EPROTO;
		}
		next += count;
	}
	if (r < 0)
		return r;
	if (next != n) {
		img_err("the server sent an incomplete index");
		return -EPROTO;
	}
	r = fetch_check_index_end(f, p, len);
	if (r == 0)
		img_index_digest(&f->ix, f->ident);
	return r;
}

/* Live: applies one round's CHANGES frames and checks its INDEX_END. */
int
fetch_next_round(struct fet *f)
{
	const uint8_t *p;
	size_t len;
	uint64_t i, n, b;
	int r;

	if (f->round >= 64) {
		img_err("the server keeps sending rounds; giving up");
		return -EPROTO;
	}
	r = img_conn_send(&f->c, IMG_MSG_ROUND, NULL, 0);
	if (r != 0)
		return r;
	while ((r = fetch_recv_list(f, IMG_MSG_CHANGES, &p, &len)) > 0) {
		if (len < 4)
			return -EPROTO;
		n = img_get32(p);
		if (len != 4 + n * (8 + IMG_HASH_LEN))
			return -EPROTO;
		for (i = 0; i < n; i++) {
			const uint8_t *e = p + 4 + i * (8 + IMG_HASH_LEN);

			b = img_get64(e);
			if (b >= f->ix.nblocks)
				return -EPROTO;
			memcpy(f->ix.hash[b], e + 8, IMG_HASH_LEN);
			fetch_bit_set(f->done, b, 0);
			fetch_bit_set(f->pending, b, 0);
			if (img_hash_is_zero(e + 8)) {
				r = fetch_punch_zero(f, b);
				if (r != 0)
					return r;
				f->state[b] = ST_ZERO;
			} else {
				f->state[b] = ST_NEED;
				f->need_bytes += img_block_len(&f->ix, b);
			}
		}
	}
	if (r < 0)
		return r;
	return fetch_check_index_end(f, p, len);
}
