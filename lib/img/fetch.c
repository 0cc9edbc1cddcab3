/*
 * fetch.c - the receiving side (Algorithm 2 of the thesis, pipelined): one
 * session from the handshake to the rename, in the order the steps run.
 *
 * The receiver plans every block: a zero block stays a hole, a block found
 * in a seed is copied and re-hashed, a block equal to another block of the
 * image is fetched once and copied, the rest is asked for in runs with
 * several requests in flight.  It writes OUTPUT.partial and a resume state
 * (which blocks are on disk and synced), verifies the whole image against
 * the index, and only then renames the partial file to OUTPUT.  Each step
 * lives in a fetch_*.c file of its own (lib/img/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch_int.h"

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
	r = fetch_handshake(&f);
	if (r == 0)
		r = fetch_recv_index(&f);
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
	resumed = !f.live && fetch_state_load(&f);
	/* A partial file we cannot vouch for starts over as holes. */
	if ((!resumed && ftruncate(f.fd, 0) != 0) || ftruncate(f.fd, (off_t)f.ix.image_size) != 0) {
		r = -errno;
		img_err("cannot size %s: %s", f.partial, strerror(-r));
		if (r != -ENOSPC && r != -EFBIG)
			r = -EIO;
		goto out;
	}
	r = fetch_plan(&f, resumed);
	if (r != 0)
		goto out;
	r = fetch_copy_from_seeds(&f);
	for (;;) {
		if (r == 0)
			r = fetch_needed(&f);
		if (r == 0)
			r = fetch_copy_dups(&f, &left);
		if (r != 0)
			goto out;
		if (left > 0)
			continue;
		if (f.final)
			break;
		r = fetch_next_round(&f);
		if (r != 0)
			goto out;
	}
	fetch_progress(&f, 1);
	r = fetch_state_save(&f);
	if (r == 0)
		r = fetch_verify_all(&f);
	if (r != 0)
		goto out;
	r = img_conn_send(&f.c, IMG_MSG_DONE, NULL, 0);
	if (r == 0)
		r = fetch_recv_expect(&f, IMG_MSG_BYE, &p, &len);
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
		r = fetch_finish(&f);
out:
	if (r != 0 && f.fd >= 0 && f.state != NULL)
		fetch_state_save(&f); /* keep what is on disk for the next attempt */
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
