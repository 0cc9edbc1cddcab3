/*
 * fetch.c - the receiving side (Algorithm 2 of the thesis, pipelined).
 *
 * The receiver plans every block: a zero block stays a hole, a block found
 * in a seed is copied and re-hashed, a block equal to another block of the
 * image is fetched once and copied, the rest is asked for in runs with
 * several requests in flight.  It writes OUTPUT.partial and a resume state
 * (which blocks are on disk and synced), verifies the whole image against
 * the index, and only then renames the partial file to OUTPUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dvs/log.h"
#include "hset.h"
#include "img_int.h"

enum { ST_ZERO, ST_DONE, ST_NEED, ST_SEED, ST_DUP };

#define RES_MAGIC "DVSRES1\0"
#define MAX_INFLIGHT 64

struct run {
	uint64_t first, count;
};

struct fet {
	const struct img_fetch_opts *o;
	struct img_fetch_stats *st;
	struct img_conn c;
	struct img_index ix;	/* the server's index (hash owned here) */
	uint8_t ident[32];	/* digest of the round-0 index */
	uint8_t cn[32], sn[32];
	int live, final, round;
	uint8_t *state;		/* ST_* per block */
	uint32_t *leader;	/* first block with the same hash */
	uint8_t *src_seed;	/* 1-based seed of a leader, 0 = none */
	uint32_t *src_blk;
	uint8_t *done;		/* bitmap: on disk and synced */
	uint8_t *pending;	/* bitmap: written, not yet synced */
	char *partial, *statep;
	int fd;
	uint8_t *raw, *blk;
	void *zd;		/* zstd: the session's stream */
	uint64_t need_bytes, got_bytes, t0, last_sync, last_prog, unsynced;
};

char *
img_partial_path(const char *output)
{
	char *p;

	return asprintf(&p, "%s.partial", output) < 0 ? NULL : p;
}

char *
img_state_path(const char *output)
{
	char *p;

	return asprintf(&p, "%s.partial.state", output) < 0 ? NULL : p;
}

static int
bit(const uint8_t *bm, uint64_t b)
{
	return (bm[b / 8] >> (b % 8)) & 1;
}

static void
bit_set(uint8_t *bm, uint64_t b, int v)
{
	if (v)
		bm[b / 8] |= (uint8_t)(1u << (b % 8));
	else
		bm[b / 8] &= (uint8_t)~(1u << (b % 8));
}

static int
pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		got += (size_t)n;
	}
	return 0;
}

static int
pwrite_full(struct fet *f, const void *buf, size_t len, uint64_t off)
{
	size_t put = 0;
	ssize_t n;

	while (put < len) {
		n = pwrite(f->fd, (const uint8_t *)buf + put, len - put, (off_t)(off + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			img_err("writing %s failed: %s%s", f->partial, strerror(e),
				e == ENOSPC ? " (free some space and run the same command "
					      "again: it resumes)" : "");
			return -e;
		}
		put += (size_t)n;
	}
	return 0;
}

/* ---- resume state ---- */

static int
state_save(struct fet *f)
{
	size_t bml = (size_t)(f->ix.nblocks + 7) / 8;
	size_t len = 8 + 32 + 4 + 8 + bml + 4;
	uint8_t *buf;
	char *tmp = NULL;
	uint64_t b;
	int fd = -1, r = 0;

	if (fdatasync(f->fd) != 0) {
		r = -errno;
		img_err("syncing %s failed: %s", f->partial, strerror(-r));
		return r;
	}
	/* Only synced blocks count as done for a later run. */
	for (b = 0; b < bml; b++)
		f->done[b] |= f->pending[b];
	memset(f->pending, 0, bml);
	f->unsynced = 0;
	if (f->live)
		return 0; /* a live transfer starts over: its index keeps changing */
	buf = malloc(len);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, RES_MAGIC, 8);
	memcpy(buf + 8, f->ident, 32);
	img_put32(buf + 40, f->ix.block_size);
	img_put64(buf + 44, f->ix.nblocks);
	memcpy(buf + 52, f->done, bml);
	img_put32(buf + 52 + bml, (uint32_t)crc32(0, buf, (uInt)(52 + bml)));
	if (asprintf(&tmp, "%s.tmp", f->statep) < 0) {
		r = -ENOMEM;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0) {
		r = -errno;
		goto out;
	}
	if (rename(tmp, f->statep) != 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0) {
		img_err("cannot write the resume state %s: %s", f->statep, strerror(-r));
		if (tmp)
			unlink(tmp);
		if (r != -ENOSPC && r != -ENOMEM)
			r = -EIO;
	}
	free(tmp);
	free(buf);
	return r;
}

/* Loads a previous run's state; returns 1 if it belongs to this image. */
static int
state_load(struct fet *f)
{
	size_t bml = (size_t)(f->ix.nblocks + 7) / 8;
	size_t len = 8 + 32 + 4 + 8 + bml + 4;
	uint8_t *buf;
	int fd, ok = 0;

	fd = open(f->statep, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	buf = malloc(len + 1);
	if (buf != NULL && read(fd, buf, len + 1) == (ssize_t)len &&
	    memcmp(buf, RES_MAGIC, 8) == 0 && memcmp(buf + 8, f->ident, 32) == 0 &&
	    img_get32(buf + 40) == f->ix.block_size && img_get64(buf + 44) == f->ix.nblocks &&
	    img_get32(buf + 52 + bml) == (uint32_t)crc32(0, buf, (uInt)(52 + bml))) {
		memcpy(f->done, buf + 52, bml);
		ok = 1;
	}
	free(buf);
	close(fd);
	if (!ok)
		dvs_info("resume state %s does not match this image: starting over", f->statep);
	return ok;
}

/* ---- the protocol ---- */

static int
recv_expect(struct fet *f, int want, const uint8_t **p, size_t *len)
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
static int
recv_list(struct fet *f, int want, const uint8_t **p, size_t *len)
{
	int r = recv_expect(f, 0, p, len);

	if (r < 0)
		return r;
	if (r == IMG_MSG_INDEX_END)
		return 0;
	return r == want ? 1 : -EPROTO;
}

static int
handshake(struct fet *f)
{
	uint8_t buf[40], proof[32];
	const uint8_t *p;
	uint32_t opt[2];
	size_t len;
	int r, need;

	if (img_random(f->cn, 32) != 0)
		return -EIO;
	img_put32(buf, IMG_PROTO_VERSION);
	img_put32(buf + 4, 0);
	memcpy(buf + 8, f->cn, 32);
	r = img_conn_send(&f->c, IMG_MSG_HELLO, buf, sizeof(buf));
	if (r != 0)
		return r;
	r = recv_expect(f, IMG_MSG_CHALLENGE, &p, &len);
	if (r < 0)
		return r;
	if (len != 40 || img_get32(p) != IMG_PROTO_VERSION) {
		img_err("server speaks another protocol version");
		return -EPROTO;
	}
	need = img_get32(p + 4) != 0;
	memcpy(f->sn, p + 8, 32);
	if (need && f->o->key == NULL) {
		img_err("the server requires a shared key: pass --key-file FILE");
		img_conn_send_error(&f->c, EACCES, "client has no key");
		return -EACCES;
	}
	if (!need && f->o->key != NULL) {
		img_err("the server does not prove it holds the key (it runs without one); "
			"refusing: drop --key-file to accept an unauthenticated server");
		img_conn_send_error(&f->c, EACCES, "client requires authentication");
		return -EACCES;
	}
	if (need) {
		img_auth_proof(f->o->key, f->o->key_len, "dvs-img client", f->sn, f->cn, proof);
		r = img_conn_send(&f->c, IMG_MSG_AUTH, proof, 32);
	} else {
		r = img_conn_send(&f->c, IMG_MSG_AUTH, NULL, 0);
	}
	if (r != 0)
		return r;
	r = recv_expect(f, IMG_MSG_AUTH_OK, &p, &len);
	if (r < 0) {
		if (r == -EACCES)
			img_err("authentication failed: check that both sides use the same key");
		return r;
	}
	if (need) {
		img_auth_proof(f->o->key, f->o->key_len, "dvs-img server", f->cn, f->sn, proof);
		if (len != 32 || !img_auth_equal(proof, p)) {
			img_err("the server failed to prove it holds the key");
			return -EACCES;
		}
	}
	img_put32((uint8_t *)&opt[0], (uint32_t)f->o->codec);
	img_put32((uint8_t *)&opt[1], (uint32_t)f->o->level);
	return img_conn_send(&f->c, IMG_MSG_OPTIONS, opt, sizeof(opt));
}

/* Reads the round's INDEX_END and checks the index we hold against it. */
static int
check_index_end(struct fet *f, const uint8_t *p, size_t len)
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

static int
recv_index(struct fet *f)
{
	const uint8_t *p;
	size_t len;
	uint64_t next = 0, first, count, bs, size, n;
	int r;

	r = recv_expect(f, IMG_MSG_INFO, &p, &len);
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
	while ((r = recv_list(f, IMG_MSG_INDEX, &p, &len)) > 0) {
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
	r = check_index_end(f, p, len);
	if (r == 0)
		img_index_digest(&f->ix, f->ident);
	return r;
}

static void
progress(struct fet *f, int force)
{
	uint64_t now = dvs_now_ns();
	double el, rate, eta;

	if (!f->o->progress || (!force && now - f->last_prog < 250000000u))
		return;
	f->last_prog = now;
	el = (double)(now - f->t0) / 1e9;
	rate = el > 0 ? (double)f->got_bytes / el : 0;
	eta = rate > 0 && f->need_bytes > f->got_bytes ?
		      (double)(f->need_bytes - f->got_bytes) / rate : 0;
	fprintf(stderr, "\r\033[Kdvs img fetch: %.1f / %.1f MiB  %.1f MiB/s  ETA %d:%02d",
		(double)f->got_bytes / 1048576.0, (double)f->need_bytes / 1048576.0,
		rate / 1048576.0, (int)eta / 60, (int)eta % 60);
	if (force)
		fputc('\n', stderr);
}

static int
mark_written(struct fet *f, uint64_t b)
{
	f->state[b] = ST_DONE;
	bit_set(f->pending, b, 1);
	f->unsynced += f->ix.block_size;
	if (f->unsynced >= (64u << 20) || dvs_now_ns() - f->last_sync > 2000000000u) {
		f->last_sync = dvs_now_ns();
		return state_save(f);
	}
	return 0;
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
	r = pwrite_full(f, f->raw, raw, first * f->ix.block_size);
	if (r != 0)
		return r;
	f->st->sent_blocks += count;
	f->st->data_raw_bytes += raw;
	f->got_bytes += raw;
	for (i = 0; i < count && r == 0; i++)
		r = mark_written(f, first + i);
	progress(f, 0);
	return r;
}

/* Asks for every ST_NEED block, in runs, with up to o->inflight requests out. */
static int
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
		r = recv_expect(f, IMG_MSG_DATA, &p, &len);
		if (r < 0)
			return r;
		r = take_data(f, &q[head], p, len);
		if (r != 0)
			return r;
		head = (head + 1) % MAX_INFLIGHT;
		n--;
	}
}

/* Copies a block we already hold (seed or output) after re-hashing it. */
static int
copy_verified(struct fet *f, int sfd, uint64_t sblk, uint64_t b, int *ok)
{
	size_t len = (size_t)img_block_len(&f->ix, b);
	uint8_t h[IMG_HASH_LEN];
	int r;

	*ok = 0;
	r = pread_full(sfd, f->blk, len, sblk * f->ix.block_size);
	if (r == -ENODATA)
		return 0; /* the seed got shorter: treat as a mismatch */
	if (r != 0)
		return r;
	img_hash_block(f->blk, len, h);
	if (memcmp(h, f->ix.hash[b], IMG_HASH_LEN) != 0)
		return 0;
	r = pwrite_full(f, f->blk, len, b * f->ix.block_size);
	if (r != 0)
		return r;
	*ok = 1;
	return mark_written(f, b);
}

/* Copies n target blocks from consecutive seed blocks: one read, one
 * write when every block still matches (the usual case). */
static int
copy_seed_run(struct fet *f, int sfd, uint64_t b, uint64_t n, int *bad)
{
	uint8_t h[IMG_HASH_LEN];
	uint64_t i, ok = 0;
	size_t len = (size_t)n * f->ix.block_size;
	int r;

	*bad = 0;
	r = pread_full(sfd, f->raw, len, (uint64_t)f->src_blk[b] * f->ix.block_size);
	if (r == -ENODATA) {
		/* The seed got shorter: fall back to one block at a time. */
		for (i = 0; i < n; i++) {
			int one;

			r = copy_verified(f, sfd, f->src_blk[b + i], b + i, &one);
			if (r != 0)
				return r;
			if (one) {
				f->st->seed_blocks++;
			} else {
				f->state[b + i] = ST_NEED;
				(*bad)++;
			}
		}
		return 0;
	}
	if (r != 0)
		return r;
	for (i = 0; i < n; i++) {
		img_hash_block(f->raw + i * f->ix.block_size, f->ix.block_size, h);
		if (memcmp(h, f->ix.hash[b + i], IMG_HASH_LEN) == 0) {
			ok++;
			continue;
		}
		f->state[b + i] = ST_NEED;
		(*bad)++;
	}
	if (ok == n) {
		r = pwrite_full(f, f->raw, len, b * f->ix.block_size);
		for (i = 0; r == 0 && i < n; i++)
			r = mark_written(f, b + i);
	} else {
		for (i = 0; r == 0 && i < n; i++) {
			if (f->state[b + i] == ST_NEED)
				continue;
			r = pwrite_full(f, f->raw + i * f->ix.block_size, f->ix.block_size,
					(b + i) * f->ix.block_size);
			if (r == 0)
				r = mark_written(f, b + i);
		}
	}
	f->st->seed_blocks += ok;
	return r;
}

static int
copy_from_seeds(struct fet *f)
{
	int *fds = calloc(f->o->nseeds + 1, sizeof(int));
	uint64_t b, n, i, maxrun = IMG_RUN_BYTES / f->ix.block_size;
	size_t s;
	int r = 0, bad;

	if (fds == NULL)
		return -ENOMEM;
	for (s = 0; s < f->o->nseeds; s++)
		fds[s] = open(f->o->seeds[s], O_RDONLY | O_CLOEXEC);
	for (b = 0; b < f->ix.nblocks && r == 0; b += n) {
		n = 1;
		if (f->state[b] != ST_SEED)
			continue;
		while (b + n < f->ix.nblocks && n < maxrun && f->state[b + n] == ST_SEED &&
		       f->src_seed[b + n] == f->src_seed[b] &&
		       f->src_blk[b + n] == f->src_blk[b] + n)
			n++;
		s = f->src_seed[b] - 1u;
		bad = (int)n;
		if (fds[s] >= 0)
			r = copy_seed_run(f, fds[s], b, n, &bad);
		else
			for (i = 0; i < n; i++)
				f->state[b + i] = ST_NEED;
		if (r != 0 || bad == 0)
			continue;
		if (f->st->seed_mismatch == 0)
			img_warn("seed %s changed since it was indexed: its stale "
				 "blocks are fetched from the server instead", f->o->seeds[s]);
		f->st->seed_mismatch += (uint64_t)bad;
		for (i = 0; i < n; i++)
			if (f->state[b + i] == ST_NEED)
				f->need_bytes += img_block_len(&f->ix, b + i);
	}
	for (s = 0; s < f->o->nseeds; s++)
		if (fds[s] >= 0)
			close(fds[s]);
	free(fds);
	return r;
}

static int
copy_dups(struct fet *f, uint64_t *left)
{
	uint64_t b;
	int r = 0, ok;

	*left = 0;
	for (b = 0; b < f->ix.nblocks && r == 0; b++) {
		if (f->state[b] != ST_DUP)
			continue;
		ok = 0;
		if (f->state[f->leader[b]] == ST_DONE)
			r = copy_verified(f, f->fd, f->leader[b], b, &ok);
		if (r == 0 && ok) {
			f->st->dup_blocks++;
		} else if (r == 0) {
			f->state[b] = ST_NEED;
			f->need_bytes += img_block_len(&f->ix, b);
			(*left)++;
		}
	}
	return r;
}

/* Finds each block's source: nothing (zero), earlier run, seed, twin, server. */
static int
plan(struct fet *f, int resumed)
{
	struct img_hset set;
	uint64_t b, i, kept = 0;
	size_t s;
	int r;

	r = img_hset_init(&set, (const uint8_t (*)[IMG_HASH_LEN])f->ix.hash, f->ix.nblocks);
	if (r != 0)
		return r;
	for (b = 0; b < f->ix.nblocks; b++) {
		f->leader[b] = (uint32_t)b;
		if (img_hash_is_zero(f->ix.hash[b])) {
			f->state[b] = ST_ZERO;
			f->st->zero_blocks++;
			continue;
		}
		f->leader[b] = img_hset_insert(&set, (uint32_t)b);
		f->state[b] = f->leader[b] == b ? ST_NEED : ST_DUP;
	}
	if (resumed) {
		/* Re-verify what the earlier run left: a crash may have torn it. */
		for (b = 0; b < f->ix.nblocks; b++) {
			int ok = 0;

			if (!bit(f->done, b) || f->state[b] == ST_ZERO)
				continue;
			bit_set(f->done, b, 0);
			r = pread_full(f->fd, f->blk, (size_t)img_block_len(&f->ix, b),
				       b * f->ix.block_size);
			if (r == 0) {
				uint8_t h[IMG_HASH_LEN];

				img_hash_block(f->blk, (size_t)img_block_len(&f->ix, b), h);
				ok = memcmp(h, f->ix.hash[b], IMG_HASH_LEN) == 0;
			}
			if (ok) {
				f->state[b] = ST_DONE;
				bit_set(f->done, b, 1);
				kept++;
			}
		}
		f->st->resumed_blocks += kept;
		dvs_info("resuming: %llu blocks of the earlier run verified",
			 (unsigned long long)kept);
	}
	for (s = 0; s < f->o->nseeds; s++) {
		struct img_index *sx = NULL;
		int rebuilt;

		r = img_index_open(f->o->seeds[s], NULL, f->ix.block_size, f->o->nthreads, 1,
				   &rebuilt, &sx);
		if (r != 0) {
			img_err("cannot index seed %s", f->o->seeds[s]);
			goto out;
		}
		for (i = 0; i < sx->nblocks; i++) {
			uint32_t l;

			if (img_hash_is_zero(sx->hash[i]) || img_block_len(sx, i) != f->ix.block_size)
				continue;
			l = img_hset_find(&set, sx->hash[i]);
			if (l == IMG_HSET_NONE || f->src_seed[l] != 0 ||
			    img_block_len(&f->ix, l) != f->ix.block_size)
				continue;
			f->src_seed[l] = (uint8_t)(s + 1);
			f->src_blk[l] = (uint32_t)i;
		}
		img_index_free(sx);
	}
	for (b = 0; b < f->ix.nblocks; b++) {
		uint32_t l = f->leader[b];

		if (f->state[b] == ST_DONE || f->state[b] == ST_ZERO)
			continue;
		if (f->state[b] == ST_DUP && f->state[l] == ST_DONE)
			continue; /* copy from the resumed leader */
		if (f->src_seed[l] != 0) {
			/* Every block with a seed source copies from the seed. */
			f->state[b] = ST_SEED;
			f->src_seed[b] = f->src_seed[l];
			f->src_blk[b] = f->src_blk[l];
		} else if (f->state[b] == ST_NEED) {
			f->need_bytes += img_block_len(&f->ix, b);
		}
	}
	r = 0;
out:
	img_hset_fini(&set);
	return r;
}

static int
punch_zero(struct fet *f, uint64_t b)
{
	uint64_t len = img_block_len(&f->ix, b);

	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(b * f->ix.block_size), (off_t)len) == 0)
		return 0;
	memset(f->blk, 0, (size_t)len);
	return pwrite_full(f, f->blk, (size_t)len, b * f->ix.block_size);
}

/* Live: applies one round's CHANGES frames and checks its INDEX_END. */
static int
next_round(struct fet *f)
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
	while ((r = recv_list(f, IMG_MSG_CHANGES, &p, &len)) > 0) {
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
			bit_set(f->done, b, 0);
			bit_set(f->pending, b, 0);
			if (img_hash_is_zero(e + 8)) {
				r = punch_zero(f, b);
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
	return check_index_end(f, p, len);
}

static int
verify_all(struct fet *f)
{
	uint8_t (*h)[IMG_HASH_LEN];
	uint64_t b, bad = 0;
	int r;

	h = malloc(f->ix.nblocks * IMG_HASH_LEN + 1);
	if (h == NULL)
		return -ENOMEM;
	r = img_hash_blocks(f->fd, f->ix.image_size, f->ix.block_size, 0, f->ix.nblocks, h,
			    f->o->nthreads);
	for (b = 0; r == 0 && b < f->ix.nblocks; b++) {
		if (memcmp(h[b], f->ix.hash[b], IMG_HASH_LEN) != 0) {
			bad++;
			bit_set(f->done, b, 0);
		}
	}
	free(h);
	if (r == 0 && bad) {
		img_err("verification failed: %llu blocks of %s do not match the index",
			(unsigned long long)bad, f->partial);
		r = -EILSEQ;
	}
	return r;
}

static int
finish(struct fet *f)
{
	char *d = NULL, *dir;
	int dfd, r = 0;

	if (rename(f->partial, f->o->output) != 0) {
		img_err("cannot rename %s to %s: %s", f->partial, f->o->output, strerror(errno));
		return -EIO;
	}
	unlink(f->statep);
	d = strdup(f->o->output);
	if (d) {
		dir = dirname(d);
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(d);
	return r;
}

int
img_fetch_session(int rfd, int wfd, const struct img_fetch_opts *o,
		  struct img_fetch_stats *st)
{
	struct fet f = { .o = o, .st = st, .fd = -1 };
	uint64_t n, left = 0;
	int r, resumed = 0;
	const uint8_t *p;
	size_t len, bml;

	f.t0 = f.last_sync = dvs_now_ns();
	img_conn_init(&f.c, rfd, wfd);
	f.partial = img_partial_path(o->output);
	f.statep = img_state_path(o->output);
	f.raw = malloc(IMG_RUN_BYTES);
	f.blk = malloc(IMG_MAX_BLOCK);
	if (o->codec == IMG_CODEC_ZSTD)
		f.zd = img_zd_new();
	if (f.partial == NULL || f.statep == NULL || f.raw == NULL || f.blk == NULL ||
	    (o->codec == IMG_CODEC_ZSTD && f.zd == NULL)) {
		r = -ENOMEM;
		goto out;
	}
	r = handshake(&f);
	if (r == 0)
		r = recv_index(&f);
	if (r != 0)
		goto out;
	n = f.ix.nblocks;
	bml = (size_t)(n + 7) / 8;
	f.state = malloc(n + 1);
	f.leader = malloc(n * sizeof(uint32_t) + 1);
	f.src_seed = calloc(n + 1, 1);
	f.src_blk = malloc(n * sizeof(uint32_t) + 1);
	f.done = calloc(bml + 1, 1);
	f.pending = calloc(bml + 1, 1);
	if (!f.state || !f.leader || !f.src_seed || !f.src_blk || !f.done || !f.pending) {
		r = -ENOMEM;
		goto out;
	}
	st->image_bytes = f.ix.image_size;
	st->blocks = n;
	f.fd = open(f.partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (f.fd < 0) {
		img_err("cannot create %s: %s", f.partial, strerror(errno));
		r = -EIO; /* a local failure, whatever errno said (EACCES is not auth) */
		goto out;
	}
	resumed = !f.live && state_load(&f);
	/* A partial file we cannot vouch for starts over as holes. */
	if ((!resumed && ftruncate(f.fd, 0) != 0) || ftruncate(f.fd, (off_t)f.ix.image_size) != 0) {
		r = -errno;
		img_err("cannot size %s: %s", f.partial, strerror(-r));
		if (r != -ENOSPC && r != -EFBIG)
			r = -EIO;
		goto out;
	}
	r = plan(&f, resumed);
	if (r != 0)
		goto out;
	r = copy_from_seeds(&f);
	for (;;) {
		if (r == 0)
			r = fetch_needed(&f);
		if (r == 0)
			r = copy_dups(&f, &left);
		if (r != 0)
			goto out;
		if (left > 0)
			continue;
		if (f.final)
			break;
		r = next_round(&f);
		if (r != 0)
			goto out;
	}
	progress(&f, 1);
	r = state_save(&f);
	if (r == 0)
		r = verify_all(&f);
	if (r != 0)
		goto out;
	r = img_conn_send(&f.c, IMG_MSG_DONE, NULL, 0);
	if (r == 0)
		r = recv_expect(&f, IMG_MSG_BYE, &p, &len);
	if (r >= 0) {
		r = 0;
		if (len == 12) {
			st->rounds = (int)img_get32(p);
			st->pause_ms = (double)img_get64(p + 4) / 1000.0;
		}
	} else if (!f.live) {
		/* The image is complete and verified: the goodbye is a courtesy. */
		img_warn("the server did not say goodbye; the image is verified anyway");
		r = 0;
	}
	if (r == 0)
		r = finish(&f);
out:
	if (r != 0 && f.fd >= 0 && f.state != NULL)
		state_save(&f); /* keep what is on disk for the next attempt */
	if (f.fd >= 0)
		close(f.fd);
	if (r != 0 && f.c.broken == 0 && r != -EPIPE && r != -EACCES)
		img_conn_send_error(&f.c, (uint32_t)-r, "client stopped: %s", strerror(-r));
	st->bytes_in += f.c.bytes_in;
	st->bytes_out += f.c.bytes_out;
	st->seconds += (double)(dvs_now_ns() - f.t0) / 1e9;
	img_conn_fini(&f.c);
	free(f.ix.hash);
	free(f.state);
	free(f.leader);
	free(f.src_seed);
	free(f.src_blk);
	free(f.done);
	free(f.pending);
	free(f.partial);
	free(f.statep);
	free(f.raw);
	free(f.blk);
	img_zd_free(f.zd);
	return r;
}
