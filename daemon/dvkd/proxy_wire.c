/*
 * proxy_wire.c - checking and making proxy frame headers, and the MAC of
 * the handshake (see proxy_wire.h).  No I/O: the fuzz target and the unit
 * tests drive these directly.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proxy_wire.h"

static const uint32_t body_len[PX_TYPE_MAX] = {
	[PX_HELLO] = sizeof(struct px_hello),
	[PX_HELLO_ACK] = sizeof(struct px_hello_ack),
	[PX_PROOF] = sizeof(struct px_proof),
	[PX_PING] = sizeof(struct px_ping),
	[PX_PONG] = sizeof(struct px_ping),
	[PX_MSG] = sizeof(struct px_msg),
	[PX_ACK] = sizeof(struct px_ack),
	[PX_NAK] = sizeof(struct px_nak),
	[PX_REPLY] = sizeof(struct px_reply),
	[PX_NOTIFY] = sizeof(struct px_notify),
	[PX_VC_REQ] = sizeof(struct px_vc_req),
	[PX_VC_DATA] = sizeof(struct px_vc_data), /* at least */
	[PX_VC_ACK] = sizeof(struct px_vc_ack),
	[PX_VC_DONE] = sizeof(struct px_vc_done),
	[PX_GONE] = sizeof(struct px_gone),
	[PX_RUN] = sizeof(struct px_run), /* at least */
	[PX_RUN_OUT] = sizeof(struct px_run_out), /* at least */
	[PX_RUN_EXIT] = sizeof(struct px_run_exit),
	[PX_RUN_KILL] = sizeof(struct px_run_kill),
	[PX_RUN_ACK] = sizeof(struct px_run_ack),
};

int
px_type_variable(unsigned type)
{
	return type == PX_VC_DATA || type == PX_RUN || type == PX_RUN_OUT;
}

int
px_hdr_check(const void *buf, size_t n, struct px_hdr *h)
{
	struct px_hdr w;

	if (n < sizeof(w))
		return -EPROTO;
	memcpy(&w, buf, sizeof(w));
	h->magic = le32toh(w.magic);
	h->type = le16toh(w.type);
	h->flags = le16toh(w.flags);
	h->len = le32toh(w.len);
	h->seq = le32toh(w.seq);
	if (h->magic != PX_MAGIC || h->type == 0 || h->type >= PX_TYPE_MAX || h->flags != 0)
		return -EPROTO;
	if (px_type_variable(h->type) ? h->len < body_len[h->type] || h->len > PX_BODY_MAX
				       : h->len != body_len[h->type])
		return -EPROTO;
	return 0;
}

void
px_hdr_make_len(void *out, unsigned type, uint32_t seq, uint32_t len)
{
	struct px_hdr w = {
		.magic = htole32(PX_MAGIC),
		.type = htole16((uint16_t)type),
		.flags = 0,
		.len = htole32(len),
		.seq = htole32(seq),
	};

	memcpy(out, &w, sizeof(w));
}

void
px_hdr_make(void *out, unsigned type, uint32_t seq)
{
	px_hdr_make_len(out, type, seq, type < PX_TYPE_MAX ? body_len[type] : 0);
}

void
px_mac(const uint8_t *key, size_t klen, const char *cluster, const char *role,
       int32_t dialer, int32_t acceptor, const uint8_t nd[PX_NONCE],
       const uint8_t na[PX_NONCE], uint8_t out[PX_MAC])
{
	static const char label[] = "DVS proxy 1";
	uint8_t msg[sizeof(label) + 33 + 16 + 8 + 2 * PX_NONCE];
	size_t n = 0, cl = strnlen(cluster, 32), rl = strnlen(role, 15);
	uint32_t d = htole32((uint32_t)dialer), a = htole32((uint32_t)acceptor);
	unsigned int outlen = PX_MAC;

	/* Every variable-length part is followed by a NUL, so no two inputs
	 * give the same bytes. */
	memcpy(msg + n, label, sizeof(label));
	n += sizeof(label);
	memcpy(msg + n, cluster, cl);
	n += cl;
	msg[n++] = 0;
	memcpy(msg + n, role, rl);
	n += rl;
	msg[n++] = 0;
	memcpy(msg + n, &d, 4);
	n += 4;
	memcpy(msg + n, &a, 4);
	n += 4;
	memcpy(msg + n, nd, PX_NONCE);
	n += PX_NONCE;
	memcpy(msg + n, na, PX_NONCE);
	n += PX_NONCE;
	HMAC(EVP_sha256(), key, (int)klen, msg, n, out, &outlen);
}
