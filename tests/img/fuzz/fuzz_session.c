/*
 * fuzz_session.c - libFuzzer target: a real server session whose client
 * sends the fuzz input (through a pipe), so every message handler sees
 * hostile bytes.  The served image is a small file made once.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvs/img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char image[64];

static void
make_image(void)
{
	uint8_t buf[8 * 4096];
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
	setenv("DVS_IMG_TIMEOUT_MS", "50", 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_serve_opts o = { .image = NULL, .block_size = 4096, .nthreads = 1,
				    .max_rounds = 2, .live = 0 };
	struct img_serve_stats st;
	int in[2], out[2];

	if (image[0] == '\0')
		make_image();
	o.image = image;
	o.live = size > 0 && (data[0] & 1);
	if (size > 60000 || pipe(in) != 0)
		return 0;
	if (pipe(out) != 0) {
		close(in[0]);
		close(in[1]);
		return 0;
	}
	/* The whole input fits in the pipe buffer; then EOF. */
	fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
	if (write(in[1], data, size) != (ssize_t)size) {
		/* too big for the pipe: skip */
	}
	close(in[1]);
	fcntl(out[1], F_SETFL, O_NONBLOCK);
	(void)img_serve_session(in[0], out[1], &o, &st);
	close(in[0]);
	close(out[0]);
	close(out[1]);
	return 0;
}
