/*
 * ring.c - dvkd's side of the rings: creating one for a pair of bound
 * endpoints of one DC, and killing it (dead flag + wake-ups) when either
 * side goes away.  One side may be a stand-in for an endpoint of another
 * node (remote.c), whose pump thread reads or fills the ring: dvkd maps
 * the whole ring, and rings are made and freed under dvkd_rlock().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"

int
dvkd_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), rc;

	if (fd < 0)
		return -errno;
	/* Sealed size: no peer can truncate it under another's feet. */
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static void
wake(_Atomic uint32_t *w)
{
	atomic_fetch_add(w, 1);
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int
ring_add(struct binding *b, struct ring *r)
{
	if (b->nrings == b->cap_rings) {
		int cap = b->cap_rings ? b->cap_rings * 2 : 8;
		struct ring **v = realloc(b->rings, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		b->rings = v;
		b->cap_rings = cap;
	}
	b->rings[b->nrings++] = r;
	return 0;
}

static void
ring_del(struct binding *b, struct ring *r)
{
	int i;

	for (i = 0; i < b->nrings; i++) {
		if (b->rings[i] == r) {
			b->rings[i] = b->rings[--b->nrings];
			return;
		}
	}
}

static struct ring *
ring_find(struct binding *src, struct binding *dst)
{
	int i;

	for (i = 0; i < src->nrings; i++)
		if (src->rings[i]->src == src && src->rings[i]->dst == dst)
			return src->rings[i];
	return NULL;
}

static struct ring *
ring_new(struct binding *src, struct binding *dst)
{
	uint32_t nslots = src->remote ? DVKD_RING_SLOTS_IN : DVK_RING_SLOTS;
	size_t size = dvk_ring_size(nslots);
	struct ring *r;
	void *p;

	/* The DC's quota first: others' rings were promised to them. */
	if (src->dc->nrings >= src->dc->max_rings || dvkd.nrings >= DVKD_MAX_RINGS ||
	    src->nrings >= 2 * src->dc->nep || dst->nrings >= 2 * dst->dc->nep)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->fd = dvkd_memfd("dvk-ring", size);
	if (r->fd < 0)
		goto fail;
	r->rslot = -1;
	r->nslots = nslots;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->hdr = p;
	if (ring_add(src, r) < 0)
		goto fail;
	if (ring_add(dst, r) < 0) {
		ring_del(src, r);
		goto fail;
	}
	r->id = ++dvkd.next_ring_id;
	r->src = src;
	r->dst = dst;
	dvkd.nrings++;
	src->dc->nrings++;
	if (src->remote || dst->remote)
		dvkd_remote_ring_added(r);
	return r;
fail:
	if (r->hdr != NULL)
		munmap(r->hdr, size);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
	return NULL;
}

void
dvkd_ring_kill(struct ring *r)
{
	struct dvk_doorbell *db = r->dst->db;
	struct dc *dc = r->src->dc;
	unsigned ep = (unsigned)r->src->ep;

	dvkd_rlock();
	if (r->rslot >= 0)
		dvkd_remote_ring_removed(r);
	atomic_store(&r->hdr->dead, 1);
	wake(&r->hdr->reply_futex);
	wake(&r->hdr->space_futex);
	/* The receiver looks at this ring again and finds it dead. */
	atomic_fetch_or(&db->hint[ep / 64], 1ull << (ep % 64));
	wake(&db->futex);
	dc->eps[r->src->ep].sent += atomic_load(&r->hdr->tail);
	dc->eps[r->src->ep].recv += atomic_load(&r->hdr->replies);
	dc->eps[r->dst->ep].recv += atomic_load(&r->hdr->head);
	dc->eps[r->dst->ep].sent += atomic_load(&r->hdr->replies);
	ring_del(r->src, r);
	ring_del(r->dst, r);
	munmap(r->hdr, dvk_ring_size(r->nslots));
	close(r->fd);
	dvkd.nrings--;
	dc->nrings--;
	free(r);
	dvkd_runlock();
}

static void
fill_rep(struct dvkd_ring_rep *rep, struct ring *r, const struct binding *pb,
	 uint32_t dir)
{
	memset(rep, 0, sizeof(*rep));
	rep->peer = pb->ep;
	rep->peer_gen = pb->gen;
	rep->dir = dir;
	rep->nslots = r->nslots;
	rep->ring_id = r->id;
}

struct ring *
dvkd_ring_inbound(struct binding *sb, struct binding *d)
{
	struct ring *r = ring_find(sb, d);
	struct dvkd_msg m;

	if (r != NULL)
		return r;
	r = ring_new(sb, d);
	if (r == NULL)
		return NULL;
	dvkd_msg_init(&m, DVKD_EV_RING, 0);
	fill_rep(&m.u.ring, r, sb, DVKD_DIR_IN);
	if (dvkd_bind_send(d, &m, &r->fd, 1) < 0) {
		dvs_warn("dc %d ep %d does not read its events; dropping it", d->dc->id, d->ep);
		dvkd_bind_gone(d);
		return NULL;
	}
	dvkd_ring_ctl(d);
	return r;
}

static int ring_open(struct binding *b, const struct dvkd_msg *req);

int
dvkd_ring_open(struct binding *b, const struct dvkd_msg *req)
{
	int rc;

	dvkd_rlock();
	rc = ring_open(b, req);
	dvkd_runlock();
	return rc;
}

static int
ring_open(struct binding *b, const struct dvkd_msg *req)
{
	int peer = req->u.open.peer, fds[2];
	uint32_t dir = req->u.open.dir;
	struct binding *pb, *src, *dst;
	struct dvkd_msg m;
	struct ring *r;
	int fresh = 0;

	if (dir > DVKD_DIR_IN)
		return -EINVAL;
	if (peer < 0 || peer >= b->dc->nep)
		return -EDVS_BADEP;
	if (b->backup)
		return -EDVS_NOTBOUND;
	/* Only endpoints bound in the caller's own DC can be reached: here,
	 * or on another node of the DC through a stand-in. */
	pb = b->dc->eps[peer].b;
	if (pb == NULL)
		pb = dvkd_standin_get(b->dc, peer);
	if (pb == NULL || pb->dead)
		return -EDVS_NOTBOUND;
	src = dir == DVKD_DIR_OUT ? b : pb;
	dst = dir == DVKD_DIR_OUT ? pb : b;
	r = ring_find(src, dst);
	if (r == NULL) {
		r = ring_new(src, dst);
		if (r == NULL)
			return -EDVS_LIMIT;
		fresh = 1;
	}
	if (fresh && pb != b && !pb->remote) {
		/* The peer hears of the ring before we can use it. */
		dvkd_msg_init(&m, DVKD_EV_RING, 0);
		fill_rep(&m.u.ring, r, b, dir == DVKD_DIR_OUT ? DVKD_DIR_IN : DVKD_DIR_OUT);
		fds[0] = r->fd;
		fds[1] = b->db_fd;
		if (dvkd_bind_send(pb, &m, fds, dir == DVKD_DIR_OUT ? 1 : 2) < 0) {
			dvs_warn("dc %d ep %d does not read its events; dropping it",
				 pb->dc->id, pb->ep);
			dvkd_bind_gone(pb);
			return -EDVS_DEADPEER;
		}
		dvkd_ring_ctl(pb);
	}
	if (fresh && pb == b) {
		/* A ring to ourselves: both directions in one process. */
		dvkd_msg_init(&m, DVKD_EV_RING, 0);
		fill_rep(&m.u.ring, r, b, dir == DVKD_DIR_OUT ? DVKD_DIR_IN : DVKD_DIR_OUT);
		fds[0] = r->fd;
		fds[1] = b->db_fd;
		if (dvkd_bind_send(b, &m, fds, dir == DVKD_DIR_OUT ? 1 : 2) == 0)
			dvkd_ring_ctl(b);
	}
	dvkd_msg_init(&m, DVKD_REPLY, req->h.seq);
	fill_rep(&m.u.ring, r, pb, dir);
	fds[0] = r->fd;
	fds[1] = pb->db_fd;
	if (dvkd_bind_send(b, &m, fds, dir == DVKD_DIR_OUT ? 2 : 1) < 0)
		dvkd_bind_gone(b);
	return 0;
}
