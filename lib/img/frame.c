/*
 * frame.c - the framed connection.
 *
 * Every frame: magic u32, type u8, flags u8 (0), reserved u16 (0), payload
 * length u32, CRC-32 u32 over the header (with the CRC field zero) and the
 * payload.  The length is checked against IMG_FRAME_MAX before anything is
 * allocated, unknown types are refused, and a peer that goes silent for
 * timeout_ms ends the session instead of hanging it.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <zlib.h>

#include "dvs/log.h"
#include "dvs/parse.h"
#include "img_int.h"

static const char *log_prefix = "dvs img";

void
img_log_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void
img_log(int warn, const char *fmt, ...)
{
	char buf[1024];
	int saved = errno;
	va_list ap;

	if (!dvs_log_enabled(warn ? DVS_LOG_WARN : DVS_LOG_ERROR))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s%s\n", log_prefix, warn ? "warning: " : "", buf);
	errno = saved;
}

int
img_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

void
img_conn_init(struct img_conn *c, int rfd, int wfd)
{
	const char *t = getenv("DVS_IMG_TIMEOUT_MS");
	long v;

	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->max_in = IMG_FRAME_MAX;
	c->timeout_ms = t != NULL && dvs_parse_long(t, 1, INT_MAX, &v) == 0 ? (int)v : 120000;
	/* Requests are small and latency-bound (fails harmlessly on pipes). */
	setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (c->timeout_ms <= 0)
		c->timeout_ms = 120000;
}

void
img_conn_fini(struct img_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

static uint32_t
frame_crc(const uint8_t hdr[IMG_FRAME_HDR], const uint8_t *payload, size_t len)
{
	uint8_t h[IMG_FRAME_HDR];
	uLong crc;

	memcpy(h, hdr, IMG_FRAME_HDR);
	memset(h + 12, 0, 4);
	crc = crc32(0L, h, IMG_FRAME_HDR);
	while (len > 0) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = crc32(crc, payload, n);
		payload += n;
		len -= n;
	}
	return (uint32_t)crc;
}

int
img_frame_check_hdr(const uint8_t hdr[IMG_FRAME_HDR], int *type, uint32_t *len)
{
	uint32_t l;

	if (img_get32(hdr) != IMG_FRAME_MAGIC || hdr[5] != 0 || img_get16(hdr + 6) != 0)
		return -EBADMSG;
	if (hdr[4] == 0 || hdr[4] >= IMG_MSG_MAX)
		return -EBADMSG;
	l = img_get32(hdr + 8);
	if (l > IMG_FRAME_MAX)
		return -EBADMSG;
	*type = hdr[4];
	*len = l;
	return 0;
}

int
img_frame_check_crc(const uint8_t hdr[IMG_FRAME_HDR], const uint8_t *payload,
		    size_t len)
{
	return frame_crc(hdr, payload, len) == img_get32(hdr + 12) ? 0 : -EBADMSG;
}

/* Accounts for a read or write that moved n bytes: nothing (or an error)
 * breaks the connection for good, else counter grows.  0 or -EPIPE. */
static int
conn_moved(struct img_conn *c, ssize_t n, uint64_t *counter)
{
	if (n <= 0) {
		c->broken = 1;
		return -EPIPE;
	}
	*counter += (uint64_t)n;
	return 0;
}

/* Writes with the test hooks applied: a cut or a flipped byte. */
static int
conn_write(struct img_conn *c, const uint8_t *p, size_t len)
{
	uint8_t tmp;
	ssize_t w;
	size_t n;

	while (len > 0) {
		n = len;
		if (c->drop_after && c->bytes_out + n > c->drop_after)
			n = (size_t)(c->drop_after - c->bytes_out);
		if (n == 0) {
			c->broken = 1;
			return -EPIPE;
		}
		if (c->corrupt_at && c->bytes_out <= c->corrupt_at - 1 &&
		    c->bytes_out + n > c->corrupt_at - 1) {
			size_t at = (size_t)(c->corrupt_at - 1 - c->bytes_out);

			/* Send the bytes before it, then the flipped byte. */
			if (at > 0)
				n = at;
			else {
				tmp = p[0] ^ 0x5a;
				w = write(c->wfd, &tmp, 1);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					return -EPIPE;
				c->corrupt_at = 0;
				c->bytes_out++;
				p++;
				len--;
				continue;
			}
		}
		w = write(c->wfd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (conn_moved(c, w, &c->bytes_out))
			return -EPIPE;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One writev per frame: a request must not wait for Nagle's timer. */
static int
conn_writev(struct img_conn *c, uint8_t *hdr, const struct iovec *iov, int n)
{
	struct iovec v[8];
	int cnt = 0, i;
	ssize_t w;

	v[cnt++] = (struct iovec){ hdr, IMG_FRAME_HDR };
	for (i = 0; i < n; i++)
		if (iov[i].iov_len)
			v[cnt++] = iov[i];
	while (cnt > 0) {
		w = writev(c->wfd, v, cnt);
		if (w < 0 && errno == EINTR)
			continue;
		if (conn_moved(c, w, &c->bytes_out))
			return -EPIPE;
		for (i = 0; i < cnt && (size_t)w >= v[i].iov_len; i++)
			w -= (ssize_t)v[i].iov_len;
		memmove(v, v + i, (size_t)(cnt - i) * sizeof(v[0]));
		cnt -= i;
		if (cnt > 0) {
			v[0].iov_base = (uint8_t *)v[0].iov_base + w;
			v[0].iov_len -= (size_t)w;
		}
	}
	return 0;
}

int
img_conn_sendv(struct img_conn *c, int type, const struct iovec *iov, int n)
{
	uint8_t hdr[IMG_FRAME_HDR];
	size_t len = 0;
	uLong crc;
	int i, r;

	if (c->broken)
		return -EPIPE;
	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (len > IMG_FRAME_MAX)
		return -EMSGSIZE;
	memset(hdr, 0, sizeof(hdr));
	img_put32(hdr, IMG_FRAME_MAGIC);
	hdr[4] = (uint8_t)type;
	img_put32(hdr + 8, (uint32_t)len);
	crc = crc32(0L, hdr, IMG_FRAME_HDR);
	for (i = 0; i < n; i++)
		crc = crc32(crc, iov[i].iov_base, (uInt)iov[i].iov_len);
	img_put32(hdr + 12, (uint32_t)crc);
	if (c->drop_after == 0 && c->corrupt_at == 0 && n < 8)
		return conn_writev(c, hdr, iov, n);
	r = conn_write(c, hdr, sizeof(hdr));
	for (i = 0; r == 0 && i < n; i++)
		r = conn_write(c, iov[i].iov_base, iov[i].iov_len);
	return r;
}

int
img_conn_send(struct img_conn *c, int type, const void *p, size_t len)
{
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };

	return img_conn_sendv(c, type, &iov, len ? 1 : 0);
}

void
img_conn_send_error(struct img_conn *c, int code, const char *fmt, ...)
{
	uint8_t buf[256];
	va_list ap;
	int n;

	img_put32(buf, (uint32_t)code);
	va_start(ap, fmt);
	n = vsnprintf((char *)buf + 4, sizeof(buf) - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 5)
		n = (int)sizeof(buf) - 5;
	img_conn_send(c, IMG_MSG_ERROR, buf, 4 + (size_t)n);
}

static int
read_full(struct img_conn *c, uint8_t *p, size_t len)
{
	struct pollfd pfd = { .fd = c->rfd, .events = POLLIN };
	ssize_t r;
	int pr;

	while (len > 0) {
		pr = poll(&pfd, 1, c->timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			return -ETIMEDOUT;
		r = read(c->rfd, p, len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (conn_moved(c, r, &c->bytes_in))
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int
img_conn_recv(struct img_conn *c, int *type, const uint8_t **payload, size_t *len)
{
	uint8_t hdr[IMG_FRAME_HDR];
	uint32_t l;
	uint8_t *nb;
	int r;

	if (c->broken)
		return -EPIPE;
	r = read_full(c, hdr, sizeof(hdr));
	if (r != 0)
		return r;
	r = img_frame_check_hdr(hdr, type, &l);
	if (r != 0)
		return r;
	if (l > c->max_in)
		return -EBADMSG;
	if (l > c->cap) {
		nb = realloc(c->buf, l);
		if (nb == NULL)
			return -ENOMEM;
		c->buf = nb;
		c->cap = l;
	}
	r = read_full(c, c->buf, l);
	if (r != 0)
		return r;
	r = img_frame_check_crc(hdr, c->buf, l);
	if (r != 0)
		return r;
	*payload = c->buf;
	*len = l;
	return 0;
}

int
img_index_frame_decode(const uint8_t *p, size_t len, uint64_t nblocks,
		       uint8_t (*hashes)[IMG_HASH_LEN], uint64_t *first_out,
		       uint64_t *count_out)
{
	uint64_t first, count, i, nz = 0;
	const uint8_t *bm, *h;
	size_t bml;

	if (len < 12)
		return -EBADMSG;
	first = img_get64(p);
	count = img_get32(p + 8);
	if (first > nblocks || count > nblocks - first || count > IMG_FRAME_MAX * 8ull)
		return -EBADMSG;
	bml = (size_t)(count + 7) / 8;
	if (len - 12 < bml)
		return -EBADMSG;
	bm = p + 12;
	for (i = 0; i < count; i++)
		nz += !((bm[i / 8] >> (i % 8)) & 1);
	if (len - 12 - bml != nz * IMG_HASH_LEN)
		return -EBADMSG;
	h = bm + bml;
	for (i = 0; i < count; i++) {
		if ((bm[i / 8] >> (i % 8)) & 1) {
			memset(hashes[first + i], 0, IMG_HASH_LEN);
		} else {
			/* A non-zero block must not claim the zero hash. */
			if (img_hash_is_zero(h))
				return -EBADMSG;
			memcpy(hashes[first + i], h, IMG_HASH_LEN);
			h += IMG_HASH_LEN;
		}
	}
	*first_out = first;
	*count_out = count;
	return 0;
}
