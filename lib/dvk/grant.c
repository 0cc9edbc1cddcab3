/*
 * grant.c - grants and vcopy.
 *
 * The grant table is a memfd shared only between its owner and dvkd: the
 * owner fills an entry without a system call; dvkd reads it as untrusted
 * input on every vcopy (the owner's table decides, never the copier's
 * library).  A grant id is (generation << DVK_GRANT_IDX_BITS) | index, so a
 * stale id of a reused slot is refused.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvk_int.h"

#define IDX_MASK ((1u << DVK_GRANT_IDX_BITS) - 1)
#define GEN_MAX ((1u << (31 - DVK_GRANT_IDX_BITS)) - 1)
/* 1 MiB: a copy of that size is one request, dvkd runs it in its main
 * loop (up to DVKD_INLINE_COPY), and the stage and the caller's memory
 * both fit in the L2 cache for the memcpy. */
#define DVK_STAGE_SIZE (1u << 20)

int
dvk_grant(struct dvk *h, dvk_ep_t grantee, void *addr, size_t len,
	  unsigned access, dvk_grant_t *out)
{
	unsigned i, k;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (out == NULL || addr == NULL || len == 0 || access == 0 ||
	    (access & ~(unsigned)(DVK_GRANT_READ | DVK_GRANT_WRITE)) != 0 ||
	    (uintptr_t)addr + len < (uintptr_t)addr)
		return -EINVAL;
	if (grantee < 0 || grantee >= h->dc_size)
		return -EDVS_BADEP;
	for (k = 0; k < DVK_GRANTS; k++) {
		struct dvk_grant_ent *e;
		uint32_t gen;

		i = (h->grant_next + k) % DVK_GRANTS;
		e = &h->gt[i];
		if (atomic_load_explicit(&e->state, memory_order_relaxed) ==
		    DVK_GSTATE_ACTIVE)
			continue;
		atomic_store_explicit(&e->state, DVK_GSTATE_FREE, memory_order_relaxed);
		gen = atomic_load_explicit(&e->gen, memory_order_relaxed) + 1;
		if (gen == 0 || gen > GEN_MAX)
			gen = 1;
		atomic_store_explicit(&e->gen, gen, memory_order_relaxed);
		e->grantee = grantee;
		/* The binding that owns grantee now; if none, whichever
		 * binds it after this grant. */
		e->grantee_after = atomic_load_explicit(&h->gens->last,
							memory_order_acquire);
		e->grantee_gen = atomic_load_explicit(&h->gens->gen[grantee],
						      memory_order_acquire);
		e->access = access;
		e->addr = (uint64_t)(uintptr_t)addr;
		e->len = len;
		atomic_store_explicit(&e->state, DVK_GSTATE_ACTIVE, memory_order_release);
		h->grant_next = i + 1;
		*out = (dvk_grant_t)((gen << DVK_GRANT_IDX_BITS) | i);
		return 0;
	}
	return -EDVS_LIMIT;
}

int
dvk_revoke(struct dvk *h, dvk_grant_t g)
{
	struct dvk_grant_ent *e;
	unsigned i;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (g < 0)
		return -EDVS_BADGRANT;
	i = (unsigned)g & IDX_MASK;
	e = &h->gt[i];
	if (atomic_load_explicit(&e->gen, memory_order_relaxed) !=
		    (unsigned)g >> DVK_GRANT_IDX_BITS ||
	    atomic_load_explicit(&e->state, memory_order_relaxed) != DVK_GSTATE_ACTIVE)
		return -EDVS_BADGRANT;
	atomic_store_explicit(&e->state, DVK_GSTATE_REVOKED, memory_order_release);
	return 0;
}

/* Asks dvkd for one copy between the grant and addr: an address of ours
 * (buf_id 0) or an offset in copy buffer buf_id. */
static int
vcopy_call(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
	   uintptr_t addr, size_t len, uint32_t dir, uint32_t buf_id)
{
	struct dvkd_msg req, rep;

	dvkd_msg_init(&req, DVKD_VCOPY, 0);
	req.u.vcopy.owner = owner;
	req.u.vcopy.grant = g;
	req.u.vcopy.dir = dir;
	req.u.vcopy.off = off;
	req.u.vcopy.len = len;
	req.u.vcopy.addr = addr;
	req.u.vcopy.buf = buf_id;
	/* A huge copy takes its time: allow the usual timeout plus 10 s
	 * per GB (100 MB/s, far below any machine). */
	h->ctl_timeout_ms = h->ctl_timeout_def + (int)(len / 100000 < 1000000000 ? len / 100000 : 1000000000);
	return dvk_ctl_call(h, &req, &rep, NULL, 0, NULL);
}

/* Asks dvkd for a buffer it maps too and maps it here. */
static int
buf_map(struct dvk *h, size_t len, uint32_t flags, struct dvk_buf *b)
{
	struct dvkd_msg req, rep;
	struct stat st;
	int fd = -1, nfds = 0, rc;
	void *p;

	dvkd_msg_init(&req, DVKD_BUF_ALLOC, 0);
	req.u.buf.len = len;
	req.u.buf.flags = flags;
	rc = dvk_ctl_call(h, &req, &rep, &fd, 1, &nfds);
	if (rc < 0)
		goto out;
	rc = -EDVS_PROTO;
	if (nfds != 1 || rep.u.buf.len < len || rep.u.buf.id == 0 ||
	    fstat(fd, &st) < 0 || (uint64_t)st.st_size < rep.u.buf.len)
		goto out;
	p = mmap(NULL, rep.u.buf.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	b->id = rep.u.buf.id;
	b->addr = p;
	b->len = rep.u.buf.len;
	rc = 0;
	if (flags == 0 && !h->buf_where_off) {
		/* Tell dvkd where it is, so that a grant inside it (or our
		 * own address inside it) is copied through dvkd's mapping:
		 * between two such buffers a memcpy with no page pinning.
		 * Refused: copies still work, only slower. */
		dvkd_msg_init(&req, DVKD_BUF_WHERE, 0);
		req.u.where.id = b->id;
		req.u.where.addr = (uintptr_t)p;
		if (dvk_ctl_call(h, &req, &rep, NULL, 0, NULL) == -EDVS_NODAEMON) {
			munmap(p, b->len);
			b->addr = NULL;
			rc = -EDVS_NODAEMON;
		}
	}
out:
	if (nfds > 0)
		close(fd);
	return rc;
}

/*
 * Ordinary memory through the staging buffer: the kernel pins the pages
 * of a process_vm_* copy one by one, which costs more than the copy with
 * 4 KiB pages.  dvkd's bounce buffer pays that twice (grant owner and
 * copier); here dvkd's single copy pins only the owner's pages, and the
 * copier's side is a memcpy in this process.  One request per stage-full:
 * keeping two or four smaller requests in flight, to overlap our memcpy
 * with dvkd's copy, was slower (each request costs a round trip).
 */
static int
vcopy_staged(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
	     char *buf, size_t len, uint32_t dir)
{
	size_t done, n;
	int rc;

	for (done = 0; done < len; done += n) {
		n = len - done < h->stage.len ? len - done : h->stage.len;
		/* Never touch the stage while dvkd may still copy a request
		 * that timed out. */
		rc = dvk_ctl_drain(h);
		if (rc < 0)
			return rc;
		if (dir == DVKD_VCOPY_TO)
			memcpy(h->stage.addr, buf + done, n);
		rc = vcopy_call(h, owner, g, off + done, 0, n, dir, h->stage.id);
		if (rc < 0)
			return rc;
		if (dir == DVKD_VCOPY_FROM)
			memcpy(buf + done, h->stage.addr, n);
	}
	return 0;
}

static int
stage_ready(struct dvk *h)
{
	if (h->stage.addr != NULL)
		return 1;
	if (h->stage_off || h->stage_never)
		return 0;
	if (buf_map(h, DVK_STAGE_SIZE, DVKD_BUF_STAGE, &h->stage) < 0) {
		h->stage_off = 1; /* an older dvkd, or no memory */
		return 0;
	}
	return 1;
}

static int
vcopy(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off, uintptr_t buf,
      size_t len, uint32_t dir)
{
	struct dvk_buf *b;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (owner < 0 || owner >= h->dc_size)
		return -EDVS_BADEP;
	if (len == 0)
		return 0;
	if (buf == 0)
		return -EINVAL;
	for (b = h->bufs; b != NULL; b = b->next) {
		uintptr_t base = (uintptr_t)b->addr;

		if (buf >= base && buf - base <= b->len && len <= b->len - (buf - base))
			break; /* dvkd maps this buffer too: one copy */
	}
	if (b != NULL)
		rc = vcopy_call(h, owner, g, off, buf - (uintptr_t)b->addr, len, dir, b->id);
	else if (off + len < off)
		rc = -EDVS_GRANTRANGE; /* the staged requests' offsets would wrap */
	else if (stage_ready(h))
		rc = vcopy_staged(h, owner, g, off, (char *)buf, len, dir);
	else
		rc = vcopy_call(h, owner, g, off, buf, len, dir, 0);
	if (rc < 0 && h->db != NULL)
		atomic_fetch_add_explicit(&h->db->errors, 1, memory_order_relaxed);
	return rc;
}

int
dvk_vcopy_from(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
	       void *buf, size_t len)
{
	return vcopy(h, owner, g, off, (uintptr_t)buf, len, DVKD_VCOPY_FROM);
}

int
dvk_vcopy_to(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off,
	     const void *buf, size_t len)
{
	return vcopy(h, owner, g, off, (uintptr_t)buf, len, DVKD_VCOPY_TO);
}

int
dvk_buf_alloc(struct dvk *h, size_t len, void **out)
{
	struct dvk_buf *b;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (out == NULL || len == 0)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	rc = buf_map(h, len, 0, b);
	if (rc < 0) {
		free(b);
		return rc;
	}
	b->next = h->bufs;
	h->bufs = b;
	*out = b->addr;
	return 0;
}

int
dvk_buf_free(struct dvk *h, void *p)
{
	struct dvkd_msg req, rep;
	struct dvk_buf **pp, *b;
	int rc = dvk_enter(h);

	if (p == NULL)
		return 0;
	if (rc < 0 && rc != -EDVS_NODAEMON)
		return rc;
	for (pp = &h->bufs; (b = *pp) != NULL; pp = &b->next)
		if (b->addr == p)
			break;
	if (b == NULL)
		return -EINVAL;
	*pp = b->next;
	rc = 0;
	if (!h->daemon_gone) {
		dvkd_msg_init(&req, DVKD_BUF_FREE, 0);
		req.u.buf.id = b->id;
		rc = dvk_ctl_call(h, &req, &rep, NULL, 0, NULL);
	}
	munmap(b->addr, b->len);
	free(b);
	return rc == -EDVS_NODAEMON ? 0 : rc;
}

void
dvk_bufs_unmap(struct dvk *h)
{
	struct dvk_buf *b;

	while ((b = h->bufs) != NULL) {
		h->bufs = b->next;
		munmap(b->addr, b->len);
		free(b);
	}
	if (h->stage.addr != NULL)
		munmap(h->stage.addr, h->stage.len);
	h->stage.addr = NULL;
}
