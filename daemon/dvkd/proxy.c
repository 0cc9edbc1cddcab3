/*
 * proxy.c - the proxy links between this dvkd and the other nodes' (TCP).
 *
 * One link per pair of member nodes; the lower node id dials, the higher
 * accepts.  A link is used only once both ends proved they hold the
 * cluster key (proxy_wire.h); a connection that fails the proof, comes
 * from an address that is not the claimed node's, or does not finish the
 * handshake within PX_HANDSHAKE_NS is closed and logged.  Links are
 * non-blocking and live in dvkd's epoll loop; a timer (every 100 ms)
 * dials, redials with back-off, ends slow handshakes and sends a PING a
 * second on every link.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cluster.h"
#include "dvs/log.h"
#include "proxy_wire.h"

#define PX_TICK_NS 100000000ull
#define PX_HANDSHAKE_NS 3000000000ull
#define PX_PING_NS 1000000000ull
#define PX_BACKOFF_MIN_MS 100u
#define PX_BACKOFF_MAX_MS 2000u
#define PX_MAX_PENDING 16	  /* unauthenticated connections at once */
#define PX_WBUF_MAX (8u << 20) /* a peer that reads nothing is dropped */
#define PX_RBUF (128 * 1024) /* holds at least one frame of any type */

enum px_phase {
	PX_CONNECTING, /* dialer: connect() in progress */
	PX_WAIT_HELLO, /* acceptor */
	PX_WAIT_ACK,   /* dialer */
	PX_WAIT_PROOF, /* acceptor */
	PX_UP,
};

struct px_link {
	struct cl_ev ev;
	int fd;
	int dialer;		/* we dialed */
	enum px_phase phase;
	struct cl_node *node;	/* NULL until an acceptor knows who it is */
	struct in_addr peer;	/* address the connection comes from */
	uint8_t nonce_d[PX_NONCE], nonce_a[PX_NONCE];
	uint64_t deadline_ns;	/* of the handshake */
	uint64_t next_ping_ns;
	uint32_t seq_tx;
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, wcap;
	uint32_t events;	/* registered with epoll */
	struct px_link *next;	/* pending (unauthenticated) list */
};

static struct px_link *pending;
static int npending;

struct cl_node *
cl_node_find(int id)
{
	int k;

	for (k = 0; k < cl.nnodes; k++)
		if (cl.nodes[k].id == id)
			return &cl.nodes[k];
	return NULL;
}

static struct cl_node *
node_by_addr(struct in_addr a)
{
	int k;

	for (k = 0; k < cl.nnodes; k++)
		if (cl.nodes[k].addr.s_addr == a.s_addr)
			return &cl.nodes[k];
	return NULL;
}

int
cl_ev_add(int fd, struct cl_ev *e, uint32_t events, void (*fn)(void *, uint32_t),
	  void *self)
{
	struct epoll_event ee = { .events = events, .data.ptr = &e->ev };

	e->ev.kind = EV_CLUSTER;
	e->ev.obj = e;
	e->fn = fn;
	e->self = self;
	if (epoll_ctl(dvkd.epfd, EPOLL_CTL_ADD, fd, &ee) < 0)
		return -errno;
	return 0;
}

static void
want_events(struct px_link *l, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = &l->ev.ev };

	if (l->events != events && epoll_ctl(dvkd.epfd, EPOLL_CTL_MOD, l->fd, &ee) == 0)
		l->events = events;
}

static void
unlink_pending(struct px_link *l)
{
	struct px_link **pp;

	for (pp = &pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			npending--;
			return;
		}
	}
}

static void
link_free(void *p)
{
	struct px_link *l = p;

	free(l->rbuf);
	free(l->wbuf);
	free(l);
}

/* Closes l; why is logged unless NULL.  The memory goes after the batch
 * of events (a later event of the batch may name l). */
static void
link_close(struct px_link *l, const char *why)
{
	struct cl_node *n = l->node;

	if (l->fd < 0)
		return;
	if (why != NULL) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &l->peer, a, sizeof(a));
		if (n != NULL)
			dvs_warn("proxy link to node %d (%s): %s", n->id, a, why);
		else
			dvs_warn("proxy connection from %s: %s", a, why);
	}
	epoll_ctl(dvkd.epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	l->fd = -1;
	if (l->phase != PX_UP)
		unlink_pending(l);
	if (n != NULL && n->link == l) {
		n->link = NULL;
		if (l->phase == PX_UP)
			dvkd_remote_link_down(n->id);
		if (n->link_state != DVKD_LINK_REFUSED)
			n->link_state = DVKD_LINK_NONE;
		if (l->dialer) {
			n->next_dial_ns = dvs_now_ns() + (uint64_t)n->backoff_ms * 1000000u;
			n->backoff_ms = n->backoff_ms * 2 > PX_BACKOFF_MAX_MS ?
						PX_BACKOFF_MAX_MS : n->backoff_ms * 2;
		}
	}
	dvkd_defer(link_free, l);
}

static int
flush(struct px_link *l)
{
	while (l->wlen > 0) {
		ssize_t w = send(l->fd, l->wbuf, l->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		memmove(l->wbuf, l->wbuf + w, l->wlen - (size_t)w);
		l->wlen -= (size_t)w;
	}
	want_events(l, l->wlen > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
	return 0;
}

/* Queues one frame; flush() writes it. */
static int
px_queue(struct px_link *l, unsigned type, const void *body, size_t len)
{
	size_t need = l->wlen + sizeof(struct px_hdr) + len;

	if (need > PX_WBUF_MAX)
		return -ENOBUFS;
	if (need > l->wcap) {
		size_t cap = l->wcap ? l->wcap : 4096;
		uint8_t *b;

		while (cap < need)
			cap *= 2;
		b = realloc(l->wbuf, cap);
		if (b == NULL)
			return -ENOMEM;
		l->wbuf = b;
		l->wcap = cap;
	}
	px_hdr_make_len(l->wbuf + l->wlen, type, ++l->seq_tx, (uint32_t)len);
	memcpy(l->wbuf + l->wlen + sizeof(struct px_hdr), body, len);
	l->wlen = need;
	if (l->phase == PX_UP && l->node != NULL) {
		l->node->msgs_tx++;
		l->node->bytes_tx += sizeof(struct px_hdr) + len;
	}
	return 0;
}

/* Queues one frame and writes what the socket takes. */
static int
px_send(struct px_link *l, unsigned type, const void *body, size_t len)
{
	int rc = px_queue(l, type, body, len);

	return rc < 0 ? rc : flush(l);
}

int
cl_px_up(int node)
{
	struct cl_node *n = cl_node_find(node);

	return n != NULL && n->link != NULL && n->link->phase == PX_UP && n->link->fd >= 0;
}

size_t
cl_px_queued(int node)
{
	struct cl_node *n = cl_node_find(node);

	return cl_px_up(node) ? n->link->wlen : 0;
}

int
cl_px_queue(int node, unsigned type, const void *body, size_t len)
{
	struct cl_node *n = cl_node_find(node);

	if (!cl_px_up(node))
		return -ENOTCONN;
	return px_queue(n->link, type, body, len);
}

void
cl_px_flush_all(void)
{
	int k;

	for (k = 0; k < cl.nnodes; k++) {
		struct px_link *l = cl.nodes[k].link;

		/* The loop closes a link that fails; here we only write. */
		if (l != NULL && l->fd >= 0 && l->phase == PX_UP && l->wlen > 0)
			flush(l);
	}
}

static void
link_up(struct px_link *l)
{
	struct cl_node *n = l->node;

	unlink_pending(l);
	l->phase = PX_UP;
	/* One link per pair: a newer proven one replaces an older one (the
	 * peer restarted and dialed again). */
	if (n->link != NULL && n->link != l)
		link_close(n->link, NULL);
	n->link = l;
	n->link_state = DVKD_LINK_UP;
	n->backoff_ms = PX_BACKOFF_MIN_MS;
	n->link_ups++;
	l->next_ping_ns = dvs_now_ns() + PX_PING_NS;
	dvs_info("proxy link to node %d is up (%s)", n->id,
		 l->dialer ? "dialed" : "accepted");
	dvkd_remote_link_up(n->id);
}

static void
refuse(struct px_link *l, const char *why)
{
	if (l->node != NULL)
		l->node->link_state = DVKD_LINK_REFUSED;
	link_close(l, why);
}

/* Handles one whole frame; returns < 0 when the link was closed. */
static int
on_frame(struct px_link *l, const struct px_hdr *h, const uint8_t *body)
{
	uint8_t mac[PX_MAC];

	switch (l->phase) {
	case PX_WAIT_HELLO: {
		struct px_hello hi;
		struct px_hello_ack ack = { 0 };
		struct cl_node *n;

		if (h->type != PX_HELLO)
			break;
		memcpy(&hi, body, sizeof(hi));
		n = cl_node_find((int32_t)le32toh((uint32_t)hi.node));
		if (le32toh(hi.version) != PX_VERSION) {
			link_close(l, "speaks another proxy version");
			return -1;
		}
		if (n == NULL || n->id == cl.self || n->id > cl.self ||
		    n->addr.s_addr != l->peer.s_addr) {
			link_close(l, "claims a node id that is not its address's in the "
				      "cluster file; refused");
			return -1;
		}
		l->node = n;
		memcpy(l->nonce_d, hi.nonce, PX_NONCE);
		if (RAND_bytes(l->nonce_a, PX_NONCE) != 1) {
			link_close(l, "no random bytes for a nonce");
			return -1;
		}
		ack.node = (int32_t)htole32((uint32_t)cl.self);
		memcpy(ack.nonce, l->nonce_a, PX_NONCE);
		px_mac(cl.key, cl.keylen, cl.file.name, "acceptor", n->id, cl.self,
		       l->nonce_d, l->nonce_a, ack.mac);
		l->phase = PX_WAIT_PROOF;
		if (px_send(l, PX_HELLO_ACK, &ack, sizeof(ack)) < 0) {
			link_close(l, "cannot send");
			return -1;
		}
		return 0;
	}
	case PX_WAIT_ACK: {
		struct px_hello_ack ack;
		struct px_proof pr;

		if (h->type != PX_HELLO_ACK)
			break;
		memcpy(&ack, body, sizeof(ack));
		if ((int32_t)le32toh((uint32_t)ack.node) != l->node->id) {
			link_close(l, "another node answered at that address; refused");
			return -1;
		}
		memcpy(l->nonce_a, ack.nonce, PX_NONCE);
		/* Our proof goes first, whatever we think of theirs, so that a
		 * node with the wrong key learns it on both ends of the link
		 * (proxy_wire.h says what that costs). */
		px_mac(cl.key, cl.keylen, cl.file.name, "dialer", cl.self, l->node->id,
		       l->nonce_d, l->nonce_a, pr.mac);
		if (px_send(l, PX_PROOF, &pr, sizeof(pr)) < 0) {
			link_close(l, "cannot send");
			return -1;
		}
		px_mac(cl.key, cl.keylen, cl.file.name, "acceptor", cl.self, l->node->id,
		       l->nonce_d, l->nonce_a, mac);
		if (CRYPTO_memcmp(mac, ack.mac, PX_MAC) != 0) {
			refuse(l, "does not hold the cluster key (or has another "
				  "cluster's); link refused");
			return -1;
		}
		link_up(l);
		return 0;
	}
	case PX_WAIT_PROOF: {
		struct px_proof pr;

		if (h->type != PX_PROOF)
			break;
		memcpy(&pr, body, sizeof(pr));
		px_mac(cl.key, cl.keylen, cl.file.name, "dialer", l->node->id, cl.self,
		       l->nonce_d, l->nonce_a, mac);
		if (CRYPTO_memcmp(mac, pr.mac, PX_MAC) != 0) {
			refuse(l, "does not hold the cluster key (or has another "
				  "cluster's); link refused");
			return -1;
		}
		link_up(l);
		return 0;
	}
	case PX_UP:
		l->node->msgs_rx++;
		l->node->bytes_rx += sizeof(*h) + h->len;
		if (h->type == PX_PING) {
			if (px_send(l, PX_PONG, body, sizeof(struct px_ping)) < 0) {
				link_close(l, "cannot send");
				return -1;
			}
			return 0;
		}
		if (h->type == PX_PONG)
			return 0;
		if (h->type >= PX_MSG) {
			dvkd_remote_frame(l->node->id, h->type, body, h->len);
			return l->fd < 0 ? -1 : 0;
		}
		break;
	case PX_CONNECTING:
		break;
	}
	link_close(l, "sent a frame out of turn; closed");
	return -1;
}

static void
link_input(struct px_link *l)
{
	struct px_hdr h;
	static _Alignas(max_align_t) uint8_t aligned[PX_BODY_MAX];
	const uint8_t *body;
	size_t off = 0;
	ssize_t r;

	r = recv(l->fd, l->rbuf + l->rlen, PX_RBUF - l->rlen, MSG_DONTWAIT);
	if (r == 0) {
		link_close(l, l->phase == PX_UP ? "closed by the peer" :
						  "closed during the handshake");
		return;
	}
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			link_close(l, strerror(errno));
		return;
	}
	l->rlen += (size_t)r;
	while (l->rlen - off >= sizeof(struct px_hdr)) {
		if (px_hdr_check(l->rbuf + off, l->rlen - off, &h) < 0) {
			link_close(l, "sent a malformed frame; closed");
			return;
		}
		if (l->rlen - off < sizeof(h) + h.len)
			break;
		body = l->rbuf + off + sizeof(h);
		/* After a frame of odd length (VC_DATA, RUN_OUT) the next body
		 * is not aligned for its struct: read it from a copy. */
		if ((uintptr_t)body % _Alignof(max_align_t) != 0) {
			memcpy(aligned, body, h.len);
			body = aligned;
		}
		if (on_frame(l, &h, body) < 0)
			return;
		off += sizeof(h) + h.len;
	}
	memmove(l->rbuf, l->rbuf + off, l->rlen - off);
	l->rlen -= off;
	if (l->phase == PX_UP)
		dvkd_remote_rx_done(l->node->id);
}

static void
link_event(void *self, uint32_t events)
{
	struct px_link *l = self;

	if (l->fd < 0)
		return;
	if (l->phase == PX_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);
		struct px_hello hi = { 0 };

		if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
			link_close(l, err ? strerror(err) : "cannot connect");
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		hi.version = htole32(PX_VERSION);
		hi.node = (int32_t)htole32((uint32_t)cl.self);
		memcpy(hi.nonce, l->nonce_d, PX_NONCE);
		l->phase = PX_WAIT_ACK;
		if (px_send(l, PX_HELLO, &hi, sizeof(hi)) < 0)
			link_close(l, "cannot send");
		return;
	}
	if (events & EPOLLOUT) {
		if (flush(l) < 0) {
			link_close(l, "cannot send");
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		link_input(l);
}

static struct px_link *
link_new(int fd, int dialer, struct in_addr peer)
{
	struct px_link *l = calloc(1, sizeof(*l));

	if (l == NULL || (l->rbuf = malloc(PX_RBUF)) == NULL) {
		free(l);
		return NULL;
	}
	l->fd = fd;
	l->dialer = dialer;
	l->peer = peer;
	l->deadline_ns = dvs_now_ns() + PX_HANDSHAKE_NS;
	l->next = pending;
	pending = l;
	npending++;
	return l;
}

static void
set_socket_opts(int fd)
{
	int one = 1;

	/* Small frames must not wait for Nagle plus a delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
dial(struct cl_node *n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cl.file.port),
				  .sin_addr = n->addr };
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct cl_node *self = cl_node_find(cl.self);
	struct px_link *l;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	set_socket_opts(fd);
	/* From our own address, which is what the acceptor checks. */
	me.sin_addr = self->addr;
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		dvs_warn("proxy: cannot bind to this node's address: %s", strerror(errno));
		close(fd);
		return;
	}
	l = link_new(fd, 1, n->addr);
	if (l == NULL || RAND_bytes(l->nonce_d, PX_NONCE) != 1) {
		close(fd);
		if (l != NULL) {
			unlink_pending(l);
			link_free(l);
		}
		return;
	}
	l->node = n;
	l->phase = PX_CONNECTING;
	if (n->link != NULL)
		link_close(n->link, NULL);
	n->link = l;
	n->link_state = DVKD_LINK_CONNECTING;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		link_close(l, strerror(errno));
		return;
	}
	l->events = EPOLLIN | EPOLLOUT;
	if (cl_ev_add(fd, &l->ev, l->events, link_event, l) < 0)
		link_close(l, "cannot watch the socket");
}

static void
accept_input(void *self, uint32_t events)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct px_link *l;
	struct cl_node *n;
	int fd;

	(void)self;
	(void)events;
	while ((fd = accept4(cl.listen_fd, (struct sockaddr *)&sa, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a));
		n = node_by_addr(sa.sin_addr);
		if (n == NULL || n->id == cl.self) {
			dvs_warn("proxy: connection from %s, not a node of the cluster file; "
				 "refused", a);
			close(fd);
			continue;
		}
		if (npending >= PX_MAX_PENDING) {
			dvs_warn("proxy: %d handshakes already under way; connection from %s "
				 "refused", npending, a);
			close(fd);
			continue;
		}
		set_socket_opts(fd);
		l = link_new(fd, 0, sa.sin_addr);
		if (l == NULL) {
			close(fd);
			continue;
		}
		l->phase = PX_WAIT_HELLO;
		l->events = EPOLLIN;
		if (cl_ev_add(fd, &l->ev, l->events, link_event, l) < 0)
			link_close(l, "cannot watch the socket");
		sl = sizeof(sa);
	}
}

void
cl_proxy_member_changed(struct cl_node *n)
{
	if (!n->in_cpg) {
		if (n->link != NULL)
			link_close(n->link, "its node left the membership");
		n->link_state = DVKD_LINK_NONE;
		n->backoff_ms = PX_BACKOFF_MIN_MS;
		return;
	}
	n->next_dial_ns = 0; /* the timer dials at once if it is ours to */
}

static void
tick(void *self, uint32_t events)
{
	uint64_t exp, now = dvs_now_ns();
	struct px_link *l, *next;
	int k;

	(void)self;
	(void)events;
	if (read(cl.timer_fd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		dvs_warn("proxy timer: %s", strerror(errno));
	cl_member_tick(now);
	dvkd_run_host_tick();
	for (l = pending; l != NULL; l = next) {
		next = l->next;
		if (now > l->deadline_ns)
			link_close(l, "did not finish the handshake in time; closed");
	}
	for (k = 0; k < cl.nnodes; k++) {
		struct cl_node *n = &cl.nodes[k];
		struct px_ping p = { .sent_ns = now };

		if (n->id == cl.self)
			continue;
		if (n->link == NULL && n->in_cpg && cl.self < n->id && now >= n->next_dial_ns)
			dial(n);
		else if (n->link != NULL && n->link->phase == PX_UP &&
			 now >= n->link->next_ping_ns) {
			n->link->next_ping_ns = now + PX_PING_NS;
			if (px_send(n->link, PX_PING, &p, sizeof(p)) < 0)
				link_close(n->link, "cannot send (the peer reads nothing)");
		}
	}
}

int
cl_proxy_start(void)
{
	struct cl_node *self = cl_node_find(cl.self);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cl.file.port) };
	struct itimerspec its = { .it_interval = { 0, PX_TICK_NS },
				  .it_value = { 0, PX_TICK_NS } };
	int one = 1, k;

	if (self == NULL) /* the cluster file was checked to name this node */
		return -EINVAL;
	sa.sin_addr = self->addr;
	for (k = 0; k < cl.nnodes; k++)
		cl.nodes[k].backoff_ms = PX_BACKOFF_MIN_MS;
	cl.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cl.listen_fd < 0)
		return -errno;
	setsockopt(cl.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(cl.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(cl.listen_fd, 64) < 0) {
		char a[INET_ADDRSTRLEN];
		int rc = -errno;

		inet_ntop(AF_INET, &self->addr, a, sizeof(a));
		dvs_err("proxy: cannot listen on %s:%u (node %d's address in the cluster "
			"file): %s", a, cl.file.port, cl.self, strerror(-rc));
		return rc;
	}
	cl.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (cl.timer_fd < 0 || timerfd_settime(cl.timer_fd, 0, &its, NULL) < 0)
		return -errno;
	if (cl_ev_add(cl.listen_fd, &cl.listen_ev, EPOLLIN, accept_input, NULL) < 0 ||
	    cl_ev_add(cl.timer_fd, &cl.timer_ev, EPOLLIN, tick, NULL) < 0)
		return -EIO;
	return 0;
}

void
cl_proxy_stop(void)
{
	int k;

	while (pending != NULL)
		link_close(pending, NULL);
	for (k = 0; k < cl.nnodes; k++)
		if (cl.nodes[k].link != NULL)
			link_close(cl.nodes[k].link, NULL);
	if (cl.listen_fd >= 0)
		close(cl.listen_fd);
	if (cl.timer_fd >= 0)
		close(cl.timer_fd);
	cl.listen_fd = cl.timer_fd = -1;
}
