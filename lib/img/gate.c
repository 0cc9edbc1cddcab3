/*
 * gate.c - the TCP listener's side of authentication (issue 8, fault 5).
 *
 * The listener used to fork a process per connection before anything was
 * proven: 1,500 idle connections made 521 processes.  Now the part of a
 * session before the key is proven (HELLO, CHALLENGE, AUTH, AUTH_OK) runs
 * here, in the listener, for every pending connection at once and without
 * blocking: each costs a small struct and a descriptor, at most
 * max_pending of them wait (a new one closes the oldest), and one that has
 * not proven the key within the gate's timeout is closed.  Only a client
 * that proved it gets a process (serve_cmd.c forks after img_gate_next).
 *
 * Frames are read byte-exact (header, then exactly its payload), so
 * nothing the client sends after AUTH is read here: the session process
 * finds it in the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dvs/log.h"
#include "img_int.h"

#define GATE_PAYLOAD_MAX 64	/* HELLO is 40 bytes, AUTH 32 */

struct pend {
	int fd;
	int stage;		/* 0: waits for HELLO, 1: for AUTH */
	uint64_t since;		/* accepted at (ns) */
	uint8_t frame[IMG_FRAME_HDR + GATE_PAYLOAD_MAX];
	size_t have, need;	/* bytes of the current frame: read, wanted */
	struct img_authed a;
};

struct img_gate {
	const struct img_serve_opts *o;
	struct pend *p;
	int n, max;
	uint64_t timeout_ns;
	struct pollfd *pfd;
	uint64_t closed_idle, closed_evicted, closed_bad;
};

int
img_gate_new(const struct img_serve_opts *o, int max_pending, int timeout_ms,
	     struct img_gate **out)
{
	struct img_gate *g = calloc(1, sizeof(*g));

	*out = NULL;
	if (g == NULL)
		return -ENOMEM;
	g->o = o;
	g->max = max_pending > 0 ? max_pending : IMG_GATE_PENDING;
	g->timeout_ns = (uint64_t)(timeout_ms > 0 ? timeout_ms : IMG_GATE_TIMEOUT_MS) * 1000000u;
	g->p = calloc((size_t)g->max, sizeof(*g->p));
	g->pfd = calloc((size_t)g->max + 1, sizeof(*g->pfd));
	if (g->p == NULL || g->pfd == NULL) {
		img_gate_free(g);
		return -ENOMEM;
	}
	*out = g;
	return 0;
}

void
img_gate_free(struct img_gate *g)
{
	int i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		close(g->p[i].fd);
	free(g->p);
	free(g->pfd);
	free(g);
}

int
img_gate_pending(const struct img_gate *g)
{
	return g->n;
}

static void
drop(struct img_gate *g, int i, uint64_t *counter)
{
	close(g->p[i].fd);
	g->p[i] = g->p[--g->n];
	(*counter)++;
}

/* Sends one small frame on a pending connection; the socket's send buffer
 * is empty at this point, so a non-blocking write does not fall short. */
static int
gate_send(struct pend *p, int type, const void *payload, size_t len)
{
	struct img_conn c;
	int r;

	img_conn_init(&c, p->fd, p->fd);
	r = img_conn_send(&c, type, payload, len);
	p->a.bytes_out += c.bytes_out;
	img_conn_fini(&c);
	return r;
}

static void
gate_error(struct pend *p, int code, const char *text)
{
	struct img_conn c;

	img_conn_init(&c, p->fd, p->fd);
	img_conn_send_error(&c, code, "%s", text);
	img_conn_fini(&c);
}

/* A whole frame is in p->frame: 1 authenticated, 0 go on, <0 close. */
static int
gate_frame(struct img_gate *g, struct pend *p)
{
	const struct img_serve_opts *o = g->o;
	const uint8_t *pl = p->frame + IMG_FRAME_HDR;
	size_t len = p->need - IMG_FRAME_HDR;
	uint8_t buf[40], proof[32];
	int type = p->frame[4];

	if (img_frame_check_crc(p->frame, pl, len) != 0)
		return -EBADMSG;
	p->have = 0;
	p->need = 0;
	if (p->stage == 0) {
		if (type != IMG_MSG_HELLO || len != 40 || img_get32(pl) != IMG_PROTO_VERSION) {
			gate_error(p, EPROTO, "expected HELLO of protocol version 1");
			return -EPROTO;
		}
		memcpy(p->a.cn, pl + 8, 32);
		if (img_random(p->a.sn, 32) != 0)
			return -EIO;
		img_put32(buf, IMG_PROTO_VERSION);
		img_put32(buf + 4, o->key != NULL);
		memcpy(buf + 8, p->a.sn, 32);
		p->stage = 1;
		return gate_send(p, IMG_MSG_CHALLENGE, buf, sizeof(buf));
	}
	if (type != IMG_MSG_AUTH || (len != 0 && len != 32)) {
		gate_error(p, EPROTO, "expected AUTH");
		return -EPROTO;
	}
	if (o->key == NULL)
		return gate_send(p, IMG_MSG_AUTH_OK, NULL, 0) == 0 ? 1 : -EPIPE;
	img_auth_proof(o->key, o->key_len, "dvs-img client", p->a.sn, p->a.cn, proof);
	if (len != 32 || !img_auth_equal(proof, pl)) {
		gate_error(p, EACCES, "authentication failed: wrong or missing key");
		img_warn("a client failed to authenticate (wrong or missing key)");
		return -EACCES;
	}
	img_auth_proof(o->key, o->key_len, "dvs-img server", p->a.cn, p->a.sn, proof);
	return gate_send(p, IMG_MSG_AUTH_OK, proof, 32) == 0 ? 1 : -EPIPE;
}

/* Reads what p's socket has: 1 authenticated, 0 go on, <0 close. */
static int
gate_read(struct img_gate *g, struct pend *p)
{
	int type, r;
	uint32_t len;
	ssize_t n;

	for (;;) {
		size_t want = p->have < IMG_FRAME_HDR ? IMG_FRAME_HDR - p->have
						      : p->need - p->have;

		n = read(p->fd, p->frame + p->have, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (n == 0)
			return -EPIPE;
		p->have += (size_t)n;
		p->a.bytes_in += (uint64_t)n;
		if (p->have == IMG_FRAME_HDR && p->need == 0) {
			/* Before the key is proven only tiny frames exist. */
			if (img_frame_check_hdr(p->frame, &type, &len) != 0 ||
			    len > GATE_PAYLOAD_MAX)
				return -EBADMSG;
			p->need = IMG_FRAME_HDR + len;
		}
		if (p->need != 0 && p->have == p->need) {
			r = gate_frame(g, p);
			if (r != 0)
				return r;
		}
	}
}

static void
gate_accept(struct img_gate *g, int lfd)
{
	struct pend *p;
	int fd, i, old;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && g->n > 0) {
		/* Out of descriptors: the oldest pending one makes room, else
		 * the listener would wake up forever for the same connection. */
		for (old = 0, i = 1; i < g->n; i++)
			if (g->p[i].since < g->p[old].since)
				old = i;
		drop(g, old, &g->closed_evicted);
		return;
	}
	if (fd < 0)
		return;	/* EAGAIN, ECONNABORTED: the next poll retries */
	if (g->n == g->max) {
		/* Full: the oldest pending connection makes room.  A real
		 * client proves its key within one round trip, so an idle
		 * flood evicts itself, not the clients behind it. */
		for (old = 0, i = 1; i < g->n; i++)
			if (g->p[i].since < g->p[old].since)
				old = i;
		drop(g, old, &g->closed_evicted);
	}
	p = &g->p[g->n++];
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->since = dvs_now_ns();
}

int
img_gate_next(struct img_gate *g, int lfd, int *fd_out, struct img_authed *a_out)
{
	uint64_t now;
	int i, r, wait_ms, npoll;

	for (;;) {
		now = dvs_now_ns();
		for (i = 0; i < g->n; i++) {
			if (now - g->p[i].since >= g->timeout_ns) {
				drop(g, i, &g->closed_idle);
				i--;
			}
		}
		wait_ms = (int)(g->timeout_ns / 1000000u);
		for (i = 0; i < g->n; i++) {
			uint64_t left = g->p[i].since + g->timeout_ns - now;

			if ((int)(left / 1000000u) + 1 < wait_ms)
				wait_ms = (int)(left / 1000000u) + 1;
			g->pfd[i] = (struct pollfd){ .fd = g->p[i].fd, .events = POLLIN };
		}
		g->pfd[g->n] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		npoll = g->n;
		r = poll(g->pfd, (nfds_t)npoll + 1, npoll ? wait_ms : -1);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		/* Pending connections first (from the end: drop() moves the
		 * last entry into the hole), then new ones. */
		for (i = npoll - 1; i >= 0; i--) {
			if (g->pfd[i].revents == 0)
				continue;
			r = gate_read(g, &g->p[i]);
			if (r < 0) {
				drop(g, i, &g->closed_bad);
			} else if (r == 1) {
				*fd_out = g->p[i].fd;
				*a_out = g->p[i].a;
				/* The session reads and writes blocking. */
				fcntl(*fd_out, F_SETFL, fcntl(*fd_out, F_GETFL) & ~O_NONBLOCK);
				g->p[i] = g->p[--g->n];
				return 0;
			}
		}
		if (g->pfd[npoll].revents & POLLIN)
			gate_accept(g, lfd);
	}
}

void
img_gate_counts(const struct img_gate *g, uint64_t *idle, uint64_t *evicted, uint64_t *bad)
{
	*idle = g->closed_idle;
	*evicted = g->closed_evicted;
	*bad = g->closed_bad;
}
