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

#include "dvk_int.h"

#define IDX_MASK ((1u << DVK_GRANT_IDX_BITS) - 1)
#define GEN_MAX ((1u << (31 - DVK_GRANT_IDX_BITS)) - 1)

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

static int
vcopy(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off, uintptr_t buf,
      size_t len, uint32_t dir)
{
	struct dvkd_msg req, rep;
	int rc = dvk_enter(h);

	if (rc < 0)
		return rc;
	if (owner < 0 || owner >= h->dc_size)
		return -EDVS_BADEP;
	if (len == 0)
		return 0;
	if (buf == 0)
		return -EINVAL;
	dvkd_msg_init(&req, DVKD_VCOPY, 0);
	req.u.vcopy.owner = owner;
	req.u.vcopy.grant = g;
	req.u.vcopy.dir = dir;
	req.u.vcopy.off = off;
	req.u.vcopy.len = len;
	req.u.vcopy.addr = buf;
	rc = dvk_ctl_call(h, &req, &rep, NULL, 0, NULL);
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
