/*
 * fuzz_dispatch.c - libFuzzer target over dvs-fs's request decoder and
 * handlers: the input is a sequence of 64-byte messages followed by the
 * bytes the client "granted"; each message goes through fs_dispatch with
 * the stub DVK (grants 0..3 point into the granted bytes with varying
 * access) on a real FAT volume in memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "stub_dvk.h"

#define NMSG_MAX 16

static int ready;

static void
reset_descriptors(void)
{
	struct fs_session *s;
	int i;

	/* Keep the volume, forget every descriptor of the last input. */
	pthread_mutex_lock(&fs_srv.lock);
	for (s = fs_srv.sessions; s != NULL; s = s->next)
		for (i = 0; i < FS_FD_MAX; i++)
			fs_fd_put(fs_session_take_fd(s, i));
	pthread_mutex_unlock(&fs_srv.lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char mem[8192];
	dvk_msg_t in, out, hello;
	size_t nmsg, i, rest;

	if (!ready) {
		if (stub_server_init(4u << 20) < 0)
			abort();
		ready = 1;
	}
	nmsg = size / sizeof(dvk_msg_t);
	if (nmsg > NMSG_MAX)
		nmsg = NMSG_MAX;
	rest = size - nmsg * sizeof(dvk_msg_t);
	if (rest > sizeof(mem))
		rest = sizeof(mem);
	memset(mem, 0, sizeof(mem));
	memcpy(mem, data + nmsg * sizeof(dvk_msg_t), rest);
	stub_grants_clear();
	stub_grant_set(0, mem, rest, 1, DVK_GRANT_READ);
	stub_grant_set(1, mem, sizeof(mem), 1, DVK_GRANT_READ | DVK_GRANT_WRITE);
	stub_grant_set(2, mem, 16, 1, DVK_GRANT_WRITE);
	stub_grant_set(3, mem, sizeof(mem), 2, DVK_GRANT_READ);
	/* A session for client 40, so inputs reach past -ENOTCONN. */
	memset(&hello, 0, sizeof(hello));
	hello.m_type = FS_RQ_BASE + FS_HELLO;
	hello.m_u.fs_rq_hello.version = FS_PROTO_VERSION;
	hello.m_u.fs_rq_hello.vol.grant = -1;
	stub_call(40, &hello, &out);
	for (i = 0; i < nmsg; i++) {
		memcpy(&in, data + i * sizeof(dvk_msg_t), sizeof(in));
		/* Mostly valid call numbers, so handlers get exercised. */
		if ((in.m_type & 0x10000) == 0)
			in.m_type =
			    FS_RQ_BASE + (int32_t)((uint32_t)in.m_type % (FS_NCALLS + 1));
		stub_call(40, &in, &out);
	}
	reset_descriptors();
	return 0;
}
