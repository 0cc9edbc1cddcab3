/*
 * buf.c - copy buffers: memfds mapped both in dvkd and in a binding's
 * process, so that a vcopy into or out of one is a single kernel copy
 * between the grant owner and this mapping (no bounce buffer).  Bounded
 * per binding; freed with the binding.  A process may say where it mapped
 * one (BUF_WHERE): then a grant inside it, or its own address inside it,
 * is reached through our mapping too (see copy.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dvkd.h"

int
dvkd_buf_alloc(struct binding *b, const struct dvkd_msg *req)
{
	uint64_t len = req->u.buf.len;
	int stage = req->u.buf.flags == DVKD_BUF_STAGE;
	struct dvkd_msg m;
	struct dbuf *d;
	int fd, rc;

	if (len == 0 || len > DVKD_MAX_BUF_BYTES ||
	    (req->u.buf.flags != 0 && !stage) || (stage && len > DVKD_STAGE_MAX))
		return -EINVAL;
	len = (len + 4095) & ~(uint64_t)4095;
	if (stage ? b->has_stage
		  : b->nbufs >= DVKD_MAX_BUFS || b->buf_bytes + len > DVKD_MAX_BUF_BYTES)
		return -EDVS_LIMIT;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	fd = dvkd_memfd("dvk-buf", len);
	if (fd < 0) {
		free(d);
		return fd;
	}
	d->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (d->map == MAP_FAILED) {
		rc = -errno;
		close(fd);
		free(d);
		return rc;
	}
	d->len = len;
	d->stage = stage;
	d->id = ++b->next_buf_id;
	if (d->id == 0)
		d->id = ++b->next_buf_id;
	d->next = b->bufs;
	b->bufs = d;
	if (stage) {
		b->has_stage = 1;
	} else {
		b->nbufs++;
		b->buf_bytes += len;
	}
	dvkd_msg_init(&m, DVKD_REPLY, req->h.seq);
	m.u.buf.len = len;
	m.u.buf.id = d->id;
	rc = dvkd_bind_send(b, &m, &fd, 1);
	close(fd);
	if (rc < 0)
		dvkd_bind_gone(b);
	return 0;
}

int
dvkd_buf_free(struct binding *b, uint32_t id)
{
	struct dbuf **pp, *d;

	for (pp = &b->bufs; (d = *pp) != NULL; pp = &d->next) {
		if (d->id == id) {
			/* A copy thread may be using it: as this binding's
			 * buffer (a client frees only between its own calls,
			 * so this is a misbehaving one), or as the owner's side
			 * of another binding's queued copy (only this thread
			 * adds users, so no race).  The library unmaps its side
			 * anyway, so forget where it was: new memory at that
			 * address must not be taken for this buffer. */
			if (atomic_load(&b->copies) > 0 || atomic_load(&d->users) > 0) {
				d->uaddr = 0;
				return -EBUSY;
			}
			*pp = d->next;
			if (d->stage) {
				b->has_stage = 0;
			} else {
				b->nbufs--;
				b->buf_bytes -= d->len;
			}
			munmap(d->map, d->len);
			free(d);
			return 0;
		}
	}
	return -EINVAL;
}

int
dvkd_buf_where(struct binding *b, uint32_t id, uint64_t addr)
{
	struct dbuf *d;

	for (d = b->bufs; d != NULL; d = d->next) {
		if (d->id != id)
			continue;
		/* The whole claimed range must be a valid address range. */
		if (d->stage || addr == 0 || addr + d->len < addr)
			return -EINVAL;
		d->uaddr = addr;
		return 0;
	}
	return -EINVAL;
}

struct dbuf *
dvkd_buf_at(struct binding *b, uint64_t addr, uint64_t len, char **map)
{
	struct dbuf *d;

	for (d = b->bufs; d != NULL; d = d->next) {
		if (d->uaddr == 0 || addr < d->uaddr)
			continue;
		if (addr - d->uaddr <= d->len && len <= d->len - (addr - d->uaddr)) {
			*map = d->map + (addr - d->uaddr);
			return d;
		}
	}
	return NULL;
}

char *
dvkd_buf_find(struct binding *b, uint32_t id, uint64_t off, uint64_t len)
{
	struct dbuf *d;

	for (d = b->bufs; d != NULL; d = d->next)
		if (d->id == id)
			return off <= d->len && len <= d->len - off ? d->map + off : NULL;
	return NULL;
}

void
dvkd_bufs_free(struct binding *b)
{
	struct dbuf *d;

	while ((d = b->bufs) != NULL) {
		b->bufs = d->next;
		munmap(d->map, d->len);
		free(d);
	}
	b->nbufs = 0;
	b->has_stage = 0;
	b->buf_bytes = 0;
}
