/*
 * serve.c - the sending side of one session (Algorithm 1 of the thesis,
 * pipelined, plus the iterative "live" rounds of its section 4.5.3).
 *
 * The server answers requests in order; it trusts nothing the client says:
 * every range is checked against the index, every length against the frame.
 * In live mode it keeps "view", the hash of what the client holds of each
 * block, and after each round re-hashes the image to find what changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dvs/log.h"
#include "img_int.h"

extern char **environ;

#define CHANGE_ENTRY (8u + IMG_HASH_LEN)
#define CHANGES_PER_FRAME 65536u
#define INDEX_PER_FRAME 65536u

struct srv {
	const struct img_serve_opts *o;
	struct img_serve_stats *st;
	struct img_conn c;
	struct img_index *ix;	/* the index; in live mode the client's view */
	uint8_t (*cur)[IMG_HASH_LEN]; /* live: hashes of the latest scan */
	int fd;
	int codec, level;
	uint8_t cn[32], sn[32];
	uint8_t *raw, *cbuf;
	size_t cbuf_cap;
	void *zs;		/* zstd: one stream for the session */
	int paused;
	uint64_t pause_start;
};

/* Runs a user's shell command with its stdout on our stderr (stdout may
 * be the protocol in --stdio mode). */
static int
run_cmd(const char *what, const char *cmd)
{
	posix_spawn_file_actions_t fa;
	const char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t pid;
	int r, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	r = posix_spawn(&pid, "/bin/sh", &fa, NULL, (char *const *)argv, environ); /* not written */
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		img_err("cannot run the %s command: %s", what, strerror(r));
		return -r;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		img_err("the %s command '%s' failed (status %d)", what, cmd,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -ECHILD;
	}
	return 0;
}

static int
send_index_range(struct srv *s, uint64_t first, uint64_t count)
{
	uint8_t hdr[12], *bm;
	struct iovec iov[3];
	uint8_t *hs = NULL;
	uint64_t i, nz = 0;
	size_t bml = (size_t)(count + 7) / 8;
	int r;

	bm = calloc(bml ? bml : 1, 1);
	hs = malloc((size_t)count * IMG_HASH_LEN + 1);
	if (bm == NULL || hs == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (img_hash_is_zero(s->ix->hash[first + i]))
			bm[i / 8] |= (uint8_t)(1u << (i % 8));
		else
			memcpy(hs + IMG_HASH_LEN * nz++, s->ix->hash[first + i], IMG_HASH_LEN);
	}
	img_put64(hdr, first);
	img_put32(hdr + 8, (uint32_t)count);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ bm, bml };
	iov[2] = (struct iovec){ hs, (size_t)nz * IMG_HASH_LEN };
	r = img_conn_sendv(&s->c, IMG_MSG_INDEX, iov, 3);
out:
	free(bm);
	free(hs);
	return r;
}

static int
send_index_end(struct srv *s, int round, int final)
{
	uint8_t p[8 + 64];

	img_put32(p, (uint32_t)round);
	img_put32(p + 4, (uint32_t)final);
	img_index_digest(s->ix, p + 8);
	memset(p + 40, 0, 32);
	if (s->o->key)
		img_auth_proof(s->o->key, s->o->key_len, "dvs-img index", p + 8, s->cn,
			       p + 40);
	return img_conn_send(&s->c, IMG_MSG_INDEX_END, p, sizeof(p));
}

static int
recv_options(struct srv *s)
{
	const uint8_t *p;
	size_t len;
	int type, r;

	r = img_conn_recv(&s->c, &type, &p, &len);
	if (r != 0)
		return r;
	if (type != IMG_MSG_OPTIONS || len != 8 || img_get32(p) >= IMG_CODEC_COUNT ||
	    (int32_t)img_get32(p + 4) < -100 || (int32_t)img_get32(p + 4) > 22) {
		img_conn_send_error(&s->c, EPROTO, "bad OPTIONS");
		return -EPROTO;
	}
	s->codec = (int)img_get32(p);
	s->level = (int32_t)img_get32(p + 4);
	return 0;
}

/* The key exchange on a session's own connection (--stdio, --once); the
 * TCP listener does the same in gate.c. */
static int
handshake(struct srv *s)
{
	const uint8_t *p;
	uint8_t buf[40], proof[32];
	size_t len;
	int type, r;

	r = img_conn_recv(&s->c, &type, &p, &len);
	if (r != 0)
		return r;
	if (type != IMG_MSG_HELLO || len != 40 || img_get32(p) != IMG_PROTO_VERSION) {
		img_conn_send_error(&s->c, EPROTO, "expected HELLO of protocol version %u",
				    IMG_PROTO_VERSION);
		return -EPROTO;
	}
	memcpy(s->cn, p + 8, 32);
	if (img_random(s->sn, 32) != 0)
		return -EIO;
	img_put32(buf, IMG_PROTO_VERSION);
	img_put32(buf + 4, s->o->key != NULL);
	memcpy(buf + 8, s->sn, 32);
	r = img_conn_send(&s->c, IMG_MSG_CHALLENGE, buf, sizeof(buf));
	if (r != 0)
		return r;
	r = img_conn_recv(&s->c, &type, &p, &len);
	if (r != 0)
		return r;
	if (type != IMG_MSG_AUTH || (len != 0 && len != 32)) {
		img_conn_send_error(&s->c, EPROTO, "expected AUTH");
		return -EPROTO;
	}
	if (s->o->key) {
		img_auth_proof(s->o->key, s->o->key_len, "dvs-img client", s->sn, s->cn,
			       proof);
		if (len != 32 || !img_auth_equal(proof, p)) {
			img_conn_send_error(&s->c, EACCES,
					    "authentication failed: wrong or missing key");
			img_err("a client failed to authenticate (wrong or missing key)");
			return -EACCES;
		}
		img_auth_proof(s->o->key, s->o->key_len, "dvs-img server", s->cn, s->sn,
			       proof);
		r = img_conn_send(&s->c, IMG_MSG_AUTH_OK, proof, 32);
	} else {
		r = img_conn_send(&s->c, IMG_MSG_AUTH_OK, NULL, 0);
	}
	if (r != 0)
		return r;
	return recv_options(s);
}

static int
do_get(struct srv *s, const uint8_t *p, size_t len)
{
	uint8_t hdr[20];
	struct iovec iov[3];
	uint64_t first, count, i, raw = 0, got = 0;
	size_t clen;
	int codec = s->codec, r;
	ssize_t n;

	if (len != 12) {
		img_conn_send_error(&s->c, EPROTO, "bad GET");
		return -EPROTO;
	}
	first = img_get64(p);
	count = img_get32(p + 8);
	if (count == 0 || first >= s->ix->nblocks || count > s->ix->nblocks - first ||
	    count * s->ix->block_size > IMG_RUN_BYTES) {
		img_conn_send_error(&s->c, ERANGE, "GET of blocks out of range");
		return -EPROTO;
	}
	for (i = 0; i < count; i++)
		raw += img_block_len(s->ix, first + i);
	while (got < raw) {
		n = pread(s->fd, s->raw + got, raw - got,
			  (off_t)(first * s->ix->block_size + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ESTALE;
			img_err("reading %s failed: %s", s->o->image,
				n < 0 ? strerror(errno) : "the image became shorter");
			img_conn_send_error(&s->c, EIO, "the server cannot read its image");
			return r;
		}
		got += (uint64_t)n;
	}
	if (s->o->live) {
		/* What the client will hold: the view follows every block sent. */
		for (i = 0; i < count; i++)
			img_hash_block(s->raw + i * s->ix->block_size,
				       img_block_len(s->ix, first + i), s->ix->hash[first + i]);
	}
	if (codec == IMG_CODEC_ZSTD) {
		/* The stream's history is shared: always send what it produced. */
		r = img_zs_compress(s->zs, s->raw, raw, s->cbuf, s->cbuf_cap, &clen);
		if (r != 0) {
			img_conn_send_error(&s->c, EIO, "compression failed");
			return r;
		}
		iov[2] = (struct iovec){ s->cbuf, clen };
	} else if (codec != IMG_CODEC_NONE &&
	    img_compress(codec, s->level, s->raw, raw, s->cbuf, s->cbuf_cap, &clen) == 0 &&
	    clen < raw) {
		iov[2] = (struct iovec){ s->cbuf, clen };
	} else {
		codec = IMG_CODEC_NONE;
		iov[2] = (struct iovec){ s->raw, raw };
	}
	img_put64(hdr, first);
	img_put32(hdr + 8, (uint32_t)count);
	hdr[12] = (uint8_t)codec;
	hdr[13] = (uint8_t)(s->o->live != 0);
	img_put16(hdr + 14, 0);
	img_put32(hdr + 16, (uint32_t)raw);
	iov[0] = (struct iovec){ hdr, sizeof(hdr) };
	iov[1] = (struct iovec){ s->ix->hash[first],
				 s->o->live ? (size_t)count * IMG_HASH_LEN : 0 };
	s->st->blocks_sent += count;
	return img_conn_sendv(&s->c, IMG_MSG_DATA, iov, 3);
}

static uint64_t
scan_changes(struct srv *s, int *err)
{
	uint64_t b, n = 0;

	*err = img_hash_blocks(s->fd, s->ix->image_size, s->ix->block_size, 0,
			       s->ix->nblocks, s->cur, s->o->nthreads);
	if (*err != 0)
		return 0;
	for (b = 0; b < s->ix->nblocks; b++)
		n += memcmp(s->cur[b], s->ix->hash[b], IMG_HASH_LEN) != 0;
	return n;
}

static int
send_changes(struct srv *s)
{
	uint8_t *buf;
	uint64_t b, n = 0;
	int r = 0;

	buf = malloc(4 + (size_t)CHANGES_PER_FRAME * CHANGE_ENTRY);
	if (buf == NULL)
		return -ENOMEM;
	for (b = 0; b < s->ix->nblocks && r == 0; b++) {
		if (memcmp(s->cur[b], s->ix->hash[b], IMG_HASH_LEN) == 0)
			continue;
		memcpy(s->ix->hash[b], s->cur[b], IMG_HASH_LEN);
		img_put64(buf + 4 + n * CHANGE_ENTRY, b);
		memcpy(buf + 4 + n * CHANGE_ENTRY + 8, s->cur[b], IMG_HASH_LEN);
		if (++n == CHANGES_PER_FRAME) {
			img_put32(buf, (uint32_t)n);
			r = img_conn_send(&s->c, IMG_MSG_CHANGES, buf, 4 + n * CHANGE_ENTRY);
			n = 0;
		}
	}
	if (r == 0 && n > 0) {
		img_put32(buf, (uint32_t)n);
		r = img_conn_send(&s->c, IMG_MSG_CHANGES, buf, 4 + n * CHANGE_ENTRY);
	}
	free(buf);
	return r;
}

/* One live round: decide whether to go on or pause, then send what changed. */
static int
do_round(struct srv *s, int *final)
{
	uint64_t changed, prev;
	int r, round = s->st->rounds + 1;

	changed = scan_changes(s, &r);
	if (r != 0)
		return r;
	prev = s->st->rounds > 0 ? s->st->round_changed[s->st->rounds - 1] : UINT64_MAX;
	*final = changed == 0 || changed >= prev || round >= s->o->max_rounds ||
		 round >= 63;
	if (*final) {
		if (s->o->pause_cmd) {
			s->pause_start = dvs_now_ns();
			r = run_cmd("pause", s->o->pause_cmd);
			if (r != 0) {
				img_conn_send_error(&s->c, EIO, "the server could not pause the writer");
				return r;
			}
			s->paused = 1;
		} else {
			s->pause_start = dvs_now_ns();
			img_warn("live: no --pause-cmd: the last round races with the writer");
		}
		changed = scan_changes(s, &r);
		if (r != 0)
			return r;
	}
	s->st->round_changed[s->st->rounds++] = changed;
	dvs_info("live round %d: %llu blocks changed%s", round,
		 (unsigned long long)changed, *final ? " (writer paused, last round)" : "");
	r = send_changes(s);
	if (r == 0)
		r = send_index_end(s, round, *final);
	return r;
}

static int
open_index(struct srv *s)
{
	int r;

	if (!s->o->live)
		return img_index_open(s->o->image, s->o->index_path, s->o->block_size,
				      s->o->nthreads, 0, NULL, &s->ix);
	/* Live: hash in memory; the image may change while we do. */
	s->ix = calloc(1, sizeof(*s->ix));
	if (s->ix == NULL)
		return -ENOMEM;
	s->ix->block_size = s->o->block_size;
	s->ix->image_size = (uint64_t)lseek(s->fd, 0, SEEK_END);
	s->ix->nblocks = (s->ix->image_size + s->ix->block_size - 1) / s->ix->block_size;
	s->ix->hash = malloc(s->ix->nblocks * IMG_HASH_LEN + 1);
	s->cur = malloc(s->ix->nblocks * IMG_HASH_LEN + 1);
	if (s->ix->hash == NULL || s->cur == NULL)
		return -ENOMEM;
	r = img_hash_blocks(s->fd, s->ix->image_size, s->ix->block_size, 0,
			    s->ix->nblocks, s->ix->hash, s->o->nthreads);
	return r;
}

static int
serve_session(int rfd, int wfd, const struct img_serve_opts *o, const struct img_authed *a,
	      struct img_serve_stats *st)
{
	struct srv s = { .o = o, .st = st, .fd = -1 };
	uint8_t info[24];
	const uint8_t *p;
	uint64_t b, n;
	size_t len;
	int type, r, final = !o->live;

	memset(st, 0, sizeof(*st));
	img_conn_init(&s.c, rfd, wfd);
	/* Every client message is small: refuse big frames before reading them. */
	s.c.max_in = 4096;
	s.c.drop_after = o->drop_after;
	s.c.corrupt_at = o->corrupt_at;
	s.fd = open(o->image, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0) {
		r = -errno;
		img_err("cannot open %s: %s", o->image, strerror(-r));
		goto out;
	}
	if (a != NULL) {
		/* The gate proved the key: go on from OPTIONS, counting bytes
		 * (and the test hooks) from the start of the connection. */
		memcpy(s.cn, a->cn, 32);
		memcpy(s.sn, a->sn, 32);
		s.c.bytes_in = a->bytes_in;
		s.c.bytes_out = a->bytes_out;
		r = recv_options(&s);
	} else {
		r = handshake(&s);
	}
	if (r != 0)
		goto out;
	r = open_index(&s);
	if (r != 0) {
		img_conn_send_error(&s.c, EIO, "the server has no usable index of its image");
		goto out;
	}
	if (s.ix->nblocks >= UINT32_MAX) {
		img_conn_send_error(&s.c, EFBIG, "image too large");
		r = -EFBIG;
		goto out;
	}
	s.raw = malloc(IMG_RUN_BYTES);
	s.cbuf_cap = img_codec_bound(s.codec, IMG_RUN_BYTES) + (64u << 10);
	s.cbuf = malloc(s.cbuf_cap);
	if (s.codec == IMG_CODEC_ZSTD)
		s.zs = img_zs_new(s.level);
	if (s.raw == NULL || s.cbuf == NULL || (s.codec == IMG_CODEC_ZSTD && s.zs == NULL)) {
		r = -ENOMEM;
		goto out;
	}
	img_put32(info, s.ix->block_size);
	img_put32(info + 4, o->live ? IMG_INFO_LIVE : 0);
	img_put64(info + 8, s.ix->image_size);
	img_put64(info + 16, s.ix->nblocks);
	r = img_conn_send(&s.c, IMG_MSG_INFO, info, sizeof(info));
	for (b = 0; r == 0 && b < s.ix->nblocks; b += n) {
		n = s.ix->nblocks - b < INDEX_PER_FRAME ? s.ix->nblocks - b : INDEX_PER_FRAME;
		r = send_index_range(&s, b, n);
	}
	if (r == 0)
		r = send_index_end(&s, 0, final);
	while (r == 0) {
		r = img_conn_recv(&s.c, &type, &p, &len);
		if (r != 0)
			break;
		if (type == IMG_MSG_GET) {
			r = do_get(&s, p, len);
		} else if (type == IMG_MSG_ROUND && o->live && !final && len == 0) {
			r = do_round(&s, &final);
		} else if (type == IMG_MSG_DONE && final && len == 0) {
			uint8_t bye[12];

			if (s.paused) {
				st->pause_ms = (double)(dvs_now_ns() - s.pause_start) / 1e6;
				s.paused = 0;
				if (o->resume_cmd)
					r = run_cmd("resume", o->resume_cmd);
			} else if (o->live) {
				st->pause_ms = (double)(dvs_now_ns() - s.pause_start) / 1e6;
			}
			img_put32(bye, (uint32_t)st->rounds);
			img_put64(bye + 4, (uint64_t)(st->pause_ms * 1000.0));
			img_conn_send(&s.c, IMG_MSG_BYE, bye, sizeof(bye));
			break;
		} else if (type == IMG_MSG_ERROR) {
			img_err("the client gave up: %.*s", (int)(len > 4 ? len - 4 : 0),
				(const char *)p + 4);
			r = -ECONNABORTED;
		} else {
			img_conn_send_error(&s.c, EPROTO, "unexpected message type %d", type);
			img_err("client sent an unexpected message (type %d)", type);
			r = -EPROTO;
		}
	}
out:
	if (s.paused) {
		/* Never leave the user's writer stopped. */
		if (o->resume_cmd)
			run_cmd("resume", o->resume_cmd);
		st->pause_ms = (double)(dvs_now_ns() - s.pause_start) / 1e6;
	}
	st->bytes_in = s.c.bytes_in;
	st->bytes_out = s.c.bytes_out;
	img_conn_fini(&s.c);
	free(s.raw);
	free(s.cbuf);
	img_zs_free(s.zs);
	free(s.cur);
	img_index_free(s.ix);
	if (s.fd >= 0)
		close(s.fd);
	return r;
}

int
img_serve_session(int rfd, int wfd, const struct img_serve_opts *o,
		  struct img_serve_stats *st)
{
	return serve_session(rfd, wfd, o, NULL, st);
}

int
img_serve_session_authed(int fd, const struct img_serve_opts *o, const struct img_authed *a,
			 struct img_serve_stats *st)
{
	return serve_session(fd, fd, o, a, st);
}
