/*
 * proto.c - framing of dvkd's socket protocol (see dvs/dvkd_proto.h).
 * Shared by libdvk, dvsctl and dvkd, so all three check packets the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dvs/dvkd_proto.h"

#define BODY(m) ((int)sizeof(((struct dvkd_msg *)0)->u.m))

static const int body_size[DVKD_TYPE_MAX] = {
	[DVKD_PING] = 0,
	[DVKD_STOP] = 0,
	[DVKD_DC_CREATE] = BODY(dc),
	[DVKD_DC_DESTROY] = BODY(dc),
	[DVKD_DC_LIST] = 0,
	[DVKD_EP_LIST] = BODY(dc),
	[DVKD_PS] = 0,
	[DVKD_ADMIT] = BODY(admit),
	[DVKD_BIND] = BODY(bind),
	[DVKD_OPEN] = BODY(open),
	[DVKD_VCOPY] = BODY(vcopy),
	[DVKD_QUERY] = BODY(query),
	[DVKD_UNBIND] = 0,
	[DVKD_BUF_ALLOC] = BODY(buf),
	[DVKD_BUF_FREE] = BODY(buf),
	[DVKD_EV_RING] = BODY(ring),
	[DVKD_EV_PROMOTED] = 0,
	[DVKD_REPLY] = BODY(raw),
	[DVKD_REC_DC] = BODY(dcrec),
	[DVKD_REC_EP] = BODY(eprec),
	[DVKD_REC_PS] = BODY(psrec),
	[DVKD_END] = 0,
	[DVKD_BUF_WHERE] = BODY(where),
	[DVKD_EV_GONE] = BODY(gone),
	[DVKD_NODE_LIST] = 0,
	[DVKD_REC_NODE] = BODY(noderec),
	[DVKD_RUN_NODE] = BODY(run),
};

int
dvkd_body_size(unsigned type)
{
	if (type == 0 || type >= DVKD_TYPE_MAX)
		return -1;
	return body_size[type];
}

int
dvkd_msg_check(const void *buf, size_t n)
{
	struct dvkd_hdr h;
	int bs;

	if (n < sizeof(h))
		return -EDVS_PROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != DVKD_MAGIC)
		return -EDVS_PROTO;
	bs = dvkd_body_size(h.type);
	if (bs < 0 || h.len != sizeof(h) + (size_t)bs || h.len != n)
		return -EDVS_PROTO;
	return 0;
}

void
dvkd_msg_init(struct dvkd_msg *m, unsigned type, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->h.magic = DVKD_MAGIC;
	m->h.type = (uint16_t)type;
	m->h.seq = seq;
}

int
dvkd_send(int sock, struct dvkd_msg *m, const int *fds, int nfds, int flags)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { 0 };
	struct iovec iov;
	int bs = dvkd_body_size(m->h.type);
	ssize_t n;

	if (bs < 0 || nfds < 0 || nfds > 4)
		return -EINVAL;
	m->h.magic = DVKD_MAGIC;
	m->h.len = (uint16_t)(sizeof(m->h) + (size_t)bs);
	iov.iov_base = m;
	iov.iov_len = m->h.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EPIPE || errno == ECONNRESET ? -EDVS_NODAEMON
							      : -errno;
	if ((size_t)n != iov.iov_len)
		return -EDVS_PROTO;
	return 0;
}

int
dvkd_recv(int sock, struct dvkd_msg *m, int *fds, int max_fds, int *nfds,
	  int flags)
{
	return dvkd_recv_cred(sock, m, fds, max_fds, nfds, flags, NULL);
}

int
dvkd_recv_cred(int sock, struct dvkd_msg *m, int *fds, int max_fds, int *nfds,
	       int flags, struct ucred *cred)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	struct iovec iov;
	int got = 0, rc = 0;
	ssize_t n;

	*nfds = 0;
	if (cred != NULL)
		cred->pid = 0;
	iov.iov_base = m;
	iov.iov_len = sizeof(*m);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EDVS_NODAEMON : -errno;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		int k, cnt;

		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS && cred != NULL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*cred))) {
			memcpy(cred, CMSG_DATA(c), sizeof(*cred));
			continue;
		}
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + (size_t)k * sizeof(int),
			       sizeof(int));
			if (got < max_fds)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0)
		rc = -EDVS_NODAEMON;
	else if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
		rc = -EDVS_PROTO;
	else
		rc = dvkd_msg_check(m, (size_t)n);
	if (rc < 0) {
		while (got > 0)
			close(fds[--got]);
		return rc;
	}
	*nfds = got;
	return 0;
}

const char *
dvkd_socket_path(void)
{
	const char *s = getenv(DVKD_SOCKET_ENV);

	return s != NULL && *s != '\0' ? s : DVKD_DEFAULT_SOCKET;
}
