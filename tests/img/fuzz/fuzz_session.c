/*
 * fuzz_session.c - libFuzzer target: a real server session driven by a
 * hostile client.  The input is cut into frames (type u8, length u16,
 * payload) that the harness sends with valid headers and checksums after a
 * valid handshake, so the fuzzer reaches every message handler instead of
 * stopping at the CRC.  The first input byte picks live mode and the codec.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "img_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char image[64];

static void
make_image(void)
{
	uint8_t buf[8 * 4096 + 100];
	size_t i;
	int fd;

	snprintf(image, sizeof(image), "/tmp/dvs-img-fuzz.%d", (int)getpid());
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i / 4096 == 2 ? 0 : i * 31);
	fd = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		abort();
	close(fd);
	signal(SIGPIPE, SIG_IGN);
	setenv("DVS_IMG_TIMEOUT_MS", "20", 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_serve_opts o = { .block_size = 4096, .nthreads = 1, .max_rounds = 2 };
	struct img_serve_stats st;
	struct img_conn w;
	uint8_t hello[40] = { 0 }, opt[8];
	size_t i = 1;
	int in[2], out[2];

	if (image[0] == '\0')
		make_image();
	if (size < 1 || size > 60000)
		return 0;
	o.image = image;
	o.live = data[0] & 1;
	if (harness_pipes(in, out) != 0)
		return 0;
	img_conn_init(&w, -1, in[1]);
	img_put32(hello, IMG_PROTO_VERSION);
	img_conn_send(&w, IMG_MSG_HELLO, hello, sizeof(hello));
	img_conn_send(&w, IMG_MSG_AUTH, NULL, 0);
	img_put32(opt, (uint32_t)((data[0] >> 1) % IMG_CODEC_COUNT));
	img_put32(opt + 4, 1);
	img_conn_send(&w, IMG_MSG_OPTIONS, opt, sizeof(opt));
	harness_frames(&w, data, size, i);
	close(in[1]);
	img_conn_fini(&w);
	(void)img_serve_session(in[0], out[1], &o, &st);
	close(in[0]);
	close(out[0]);
	close(out[1]);
	return 0;
}
