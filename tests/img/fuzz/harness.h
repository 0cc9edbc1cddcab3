/*
 * harness.h - what the session fuzz targets (fuzz_session.c, fuzz_fetch.c)
 * share: the pipes a session runs on, and the input cut into frames.
 * Header-only (static): each target is one file.
 */
#ifndef DVS_IMG_FUZZ_HARNESS_H
#define DVS_IMG_FUZZ_HARNESS_H

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "img_int.h"

/* The session reads in[0] and writes out[1].  Big pipes: the harness
 * writes everything before the session runs; out is non-blocking, so a
 * session that talks too much fails instead of hanging.  0 or -1. */
static int
harness_pipes(int in[2], int out[2])
{
	if (pipe(in) != 0)
		return -1;
	if (pipe(out) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(out[1], F_SETFL, O_NONBLOCK);
	return 0;
}

/* Sends data[i..size) as frames (type u8, length u16 LE, payload) with
 * valid headers and checksums, so every message handler sees fuzzed
 * payloads instead of stopping at the CRC. */
static void
harness_frames(struct img_conn *w, const uint8_t *data, size_t size, size_t i)
{
	while (i + 3 <= size) {
		int type = data[i];
		size_t len = (size_t)(data[i + 1] | data[i + 2] << 8);

		i += 3;
		if (len > size - i)
			len = size - i;
		img_conn_send(w, type % IMG_MSG_MAX ? type % IMG_MSG_MAX : 1, data + i, len);
		i += len;
	}
}

#endif
