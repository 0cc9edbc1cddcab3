/*
 * fetch_handshake.c - the client's side of the session's opening: HELLO
 * with a nonce, the server's CHALLENGE, the HMAC proofs both ways when a
 * key is shared (and a refusal when only one side has one), then OPTIONS
 * (codec and level).
 */
#include <errno.h>
#include <string.h>

#include "fetch_int.h"

int
fetch_handshake(struct fet *f)
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
	r = fetch_recv_expect(f, IMG_MSG_CHALLENGE, &p, &len);
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
	r = fetch_recv_expect(f, IMG_MSG_AUTH_OK, &p, &len);
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
