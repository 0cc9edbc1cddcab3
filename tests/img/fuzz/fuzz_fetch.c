/*
 * fuzz_fetch.c - libFuzzer target: a real fetch session facing a hostile
 * server.  After a valid CHALLENGE and AUTH_OK the input is cut into frames
 * (type u8, length u16, payload) sent with valid headers and checksums, so
 * INFO, INDEX, DATA, CHANGES and the rest all see fuzzed payloads.  The
 * output goes to a private temp folder and is removed after each input.
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

static char dir[64], output[128];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_fetch_opts o = { .codec = IMG_CODEC_NONE, .nthreads = 1, .inflight = 4 };
	struct img_fetch_stats st;
	struct img_conn w;
	uint8_t ch[40] = { 0 };
	size_t i = 1;
	int in[2], out[2];
	char *p;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/dvs-img-fuzzf.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(output, sizeof(output), "%s/out.img", dir);
		signal(SIGPIPE, SIG_IGN);
		setenv("DVS_IMG_TIMEOUT_MS", "20", 1);
	}
	if (size < 1 || size > 60000)
		return 0;
	o.output = output;
	o.codec = data[0] % IMG_CODEC_COUNT;
	if (harness_pipes(in, out) != 0)
		return 0;
	img_conn_init(&w, -1, in[1]);
	img_put32(ch, IMG_PROTO_VERSION);
	img_conn_send(&w, IMG_MSG_CHALLENGE, ch, sizeof(ch));
	img_conn_send(&w, IMG_MSG_AUTH_OK, NULL, 0);
	harness_frames(&w, data, size, i);
	close(in[1]);
	img_conn_fini(&w);
	memset(&st, 0, sizeof(st));
	(void)img_fetch_session(in[0], out[1], &o, &st);
	close(in[0]);
	close(out[0]);
	close(out[1]);
	unlink(output);
	p = img_partial_path(output);
	unlink(p);
	free(p);
	p = img_state_path(output);
	unlink(p);
	free(p);
	return 0;
}
