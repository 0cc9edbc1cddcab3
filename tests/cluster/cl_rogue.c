/*
 * cl_rogue.c - a rogue node for tests/cluster/test_rogue.sh: it holds the
 * cluster key, so it passes the handshake as node ME, then sends node
 * PEER frames whose claims PEER cannot verify or can refute, and checks
 * that each is refused the way docs/CLUSTER.md ("Trust across nodes")
 * says.  Run it in node ME's network namespace (the acceptor checks the
 * address), with node ME's own dvkd stopped.
 *
 *   cl_rogue CLUSTER-FILE ME PEER DC-SHARED DC-OTHER SRC DST
 *
 * SRC is an endpoint of DC-SHARED owned by a third node, DST one bound on
 * PEER; DC-OTHER spans PEER but not ME.  Prints one line per check and
 * "rogue: all refused" (exit 0), or what was not refused (exit 1).
 * Last, it sends an oversized frame and checks that PEER drops the link.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster.h"
#include "dvs/ipc.h"
#include "proxy_wire.h"

static int fd = -1;
static uint32_t seq;
static int bad;

static int
full_io(void *buf, size_t len, int wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = wr ? write(fd, (char *)buf + done, len - done) :
				 read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int
send_frame(unsigned type, const void *body, size_t len)
{
	uint8_t hdr[sizeof(struct px_hdr)];

	px_hdr_make_len(hdr, type, ++seq, (uint32_t)len);
	if (full_io(hdr, sizeof(hdr), 1) < 0)
		return -1;
	return len > 0 ? full_io((void *)body, len, 1) : 0;
}

/* The next frame that is not a PING or PONG, waiting up to ms; its type,
 * 0 on timeout, -1 when the link ended. */
static int
recv_frame(uint8_t *body, size_t cap, int ms)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t raw[sizeof(struct px_hdr)];
		struct px_hdr h;

		if (poll(&p, 1, ms) == 0)
			return 0;
		if (full_io(raw, sizeof(raw), 0) < 0 || px_hdr_check(raw, sizeof(raw), &h) < 0 ||
		    h.len > cap || full_io(body, h.len, 0) < 0)
			return -1;
		if (h.type == PX_PING) {
			send_frame(PX_PONG, body, h.len);
			continue;
		}
		if (h.type != PX_PONG)
			return h.type;
	}
}

static void
check(int ok, const char *what)
{
	printf("rogue: %-64s %s\n", what, ok ? "refused" : "NOT REFUSED");
	bad += !ok;
}

static void
pair(struct px_pair *p, int dc, int src, int dst)
{
	memset(p, 0, sizeof(*p));
	p->dc = htole32((uint32_t)dc);
	p->src = (int32_t)htole32((uint32_t)src);
	p->dst = (int32_t)htole32((uint32_t)dst);
	p->src_gen = htole32(1u << 6 | 2); /* a plausible generation of node 2 */
	p->dst_gen = htole32(1u << 6 | 1);
}

/* A MSG from src to dst of dc: the answer must be a NAK, dead. */
static void
forged_msg(int dc, int src, int dst, const char *what)
{
	struct px_msg m = { 0 };
	uint8_t body[PX_BODY_MAX];
	int t;

	pair(&m.p, dc, src, dst);
	{
		dvk_msg_t dm = { .m_type = 103 }; /* T_STOP of dvs-bench-peer */

		memcpy(m.msg, &dm, sizeof(dm));
	}
	if (send_frame(PX_MSG, &m, sizeof(m)) < 0) {
		check(0, what);
		return;
	}
	t = recv_frame(body, sizeof(body), 3000);
	check(t == PX_NAK && le32toh(((struct px_nak *)body)->reason) == PX_NAK_DEAD, what);
}

int
main(int argc, char **argv)
{
	struct cl_file f;
	uint8_t key[CL_KEY_MAX], body[PX_BODY_MAX];
	char err[256];
	int klen, me, peer, dcs, dco, src, dst, i, t;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct px_hello hi = { 0 };
	struct px_hello_ack ack;
	struct px_proof pr;

	/* The peer closes the link on the last check, maybe while a PONG is
	 * on its way: a write to it must fail, not end the rogue unheard. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 8) {
		fprintf(stderr, "usage: cl_rogue CLUSTER-FILE ME PEER DC-SHARED DC-OTHER SRC DST\n");
		return 2;
	}
	if (cl_file_load(argv[1], &f, err, sizeof(err)) < 0 ||
	    (klen = cl_key_load(f.key_path, key, sizeof(key), err, sizeof(err))) < 0) {
		fprintf(stderr, "cl_rogue: %s\n", err);
		return 2;
	}
	me = atoi(argv[2]);
	peer = atoi(argv[3]);
	dcs = atoi(argv[4]);
	dco = atoi(argv[5]);
	src = atoi(argv[6]);
	dst = atoi(argv[7]);
	for (i = 0; i < f.nnodes; i++)
		if (f.nodes[i].id == peer)
			sa.sin_addr = f.nodes[i].addr;
	sa.sin_port = htons(f.port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("cl_rogue: connect");
		return 2;
	}
	/* The handshake, as node `me` with the key. */
	hi.version = htole32(PX_VERSION);
	hi.node = (int32_t)htole32((uint32_t)me);
	RAND_bytes(hi.nonce, PX_NONCE);
	if (send_frame(PX_HELLO, &hi, sizeof(hi)) < 0 ||
	    recv_frame(body, sizeof(body), 3000) != PX_HELLO_ACK) {
		fprintf(stderr, "cl_rogue: no HELLO_ACK\n");
		return 2;
	}
	memcpy(&ack, body, sizeof(ack));
	px_mac(key, (size_t)klen, f.name, "dialer", me, peer, hi.nonce, ack.nonce, pr.mac);
	if (send_frame(PX_PROOF, &pr, sizeof(pr)) < 0) {
		fprintf(stderr, "cl_rogue: the link closed at PROOF\n");
		return 2;
	}
	printf("rogue: handshake done as node %d with node %d\n", me, peer);

	forged_msg(dcs, src, dst, "MSG from an endpoint another node owns");
	forged_msg(dco, src, dst, "MSG in a DC that does not span this node");
	forged_msg(4242, src, dst, "MSG in a DC that does not exist");
	forged_msg(dcs, -5, dst, "MSG from a negative endpoint");
	forged_msg(dcs, src, 1000000, "MSG to an endpoint beyond the DC");
	{
		struct px_vc_req q = { .id = htole64(7), .grant = 0, .dir = 0,
				       .off = 0, .len = htole64(4096) };

		pair(&q.p, dcs, src, dst);
		send_frame(PX_VC_REQ, &q, sizeof(q));
		t = recv_frame(body, sizeof(body), 3000);
		check(t == PX_VC_DONE && (int32_t)le32toh(((struct px_vc_done *)body)->status) < 0,
		      "VC_REQ for a copier another node owns");
	}
	{
		struct px_run r = { .id = htole64(9), .dc = (int32_t)htole32((uint32_t)dcs),
				    .n = htole32(12) };
		uint8_t run[sizeof(r) + 16];

		/* "/", "/bin/false" without the last NUL */
		memcpy(run, &r, sizeof(r));
		memcpy(run + sizeof(r), "/\0/bin/false", 12);
		send_frame(PX_RUN, run, sizeof(r) + 12);
		t = recv_frame(body, sizeof(body), 3000);
		check(t == PX_RUN_EXIT && (int32_t)le32toh(((struct px_run_exit *)body)->error) < 0,
		      "RUN with arguments not ended by a NUL");
		r.dc = (int32_t)htole32((uint32_t)dco);
		memcpy(run, &r, sizeof(r));
		memcpy(run + sizeof(r), "/\0/bin/true\0", 12);
		send_frame(PX_RUN, run, sizeof(r) + 12);
		t = recv_frame(body, sizeof(body), 3000);
		check(t == PX_RUN_EXIT &&
			      (int32_t)le32toh(((struct px_run_exit *)body)->error) == -EDVS_NODC,
		      "RUN in a DC that does not span this node");
	}
	{
		/* Frames nobody asked for: ignored (no answer, no effect). */
		struct px_reply rp = { .seq = htole32(1) };
		struct px_ack ak = { .pos = htole64(1000) };
		struct px_gone g = { .dc = htole32((uint32_t)dcs),
				     .ep = (int32_t)htole32((uint32_t)src),
				     .gen = htole32(1u << 6 | 2) };
		struct px_run_exit ex = { .id = htole64(12345) };

		pair(&rp.p, dcs, dst, src);
		pair(&ak.p, dcs, dst, src);
		send_frame(PX_REPLY, &rp, sizeof(rp));
		send_frame(PX_ACK, &ak, sizeof(ak));
		send_frame(PX_GONE, &g, sizeof(g));
		send_frame(PX_RUN_EXIT, &ex, sizeof(ex));
		t = recv_frame(body, sizeof(body), 1000);
		check(t == 0, "REPLY, ACK, GONE, RUN_EXIT nobody asked for");
	}
	{
		/* A header naming a body larger than any: the link ends. */
		uint8_t hdr[sizeof(struct px_hdr)];

		px_hdr_make_len(hdr, PX_MSG, ++seq, 1u << 30);
		full_io(hdr, sizeof(hdr), 1);
		t = recv_frame(body, sizeof(body), 3000);
		check(t < 0, "a frame of 1 GiB (the link must end)");
	}
	if (bad) {
		printf("rogue: %d forged frames were not refused\n", bad);
		return 1;
	}
	printf("rogue: all refused\n");
	return 0;
}
