/*
 * grant.c - checking a vcopy against the owner's grant table.  The table
 * is shared with its owner, who may write anything there at any time: it
 * is untrusted input, read once and checked.
 */
#include <errno.h>
#include <stdatomic.h>

#include "dvkd.h"

int
dvkd_grant_check(const struct dvk_grant_ent *table, int32_t grant,
		 int copier_ep, uint32_t copier_gen, uint32_t dir, uint64_t off,
		 uint64_t len, uint64_t *addr)
{
	const volatile struct dvk_grant_ent *e;
	uint32_t idx, gen, s1, s2, g1, g2, access, ggen, after;
	uint64_t a, l;
	int32_t grantee;

	if (grant < 0)
		return -EDVS_BADGRANT;
	idx = (uint32_t)grant & ((1u << DVK_GRANT_IDX_BITS) - 1);
	gen = (uint32_t)grant >> DVK_GRANT_IDX_BITS;
	if (idx >= DVK_GRANTS || gen == 0)
		return -EDVS_BADGRANT;
	/* The owner may change the entry while we read it: read once, then
	 * check state and generation did not move. */
	e = (const volatile struct dvk_grant_ent *)&table[idx];
	s1 = atomic_load_explicit(&table[idx].state, memory_order_acquire);
	g1 = atomic_load_explicit(&table[idx].gen, memory_order_relaxed);
	grantee = e->grantee;
	access = e->access;
	ggen = e->grantee_gen;
	after = e->grantee_after;
	a = e->addr;
	l = e->len;
	atomic_thread_fence(memory_order_acquire);
	s2 = atomic_load_explicit(&table[idx].state, memory_order_relaxed);
	g2 = atomic_load_explicit(&table[idx].gen, memory_order_relaxed);
	if (g1 != gen || g2 != gen)
		return -EDVS_BADGRANT;
	if (s1 == DVK_GSTATE_REVOKED || s2 == DVK_GSTATE_REVOKED)
		return -EDVS_REVOKED;
	if (s1 != DVK_GSTATE_ACTIVE || s2 != DVK_GSTATE_ACTIVE)
		return -EDVS_BADGRANT;
	/* The endpoint and the binding: a grant made to a process that is
	 * gone is void for whoever binds its endpoint next.  A grant made
	 * while the endpoint was free is for bindings made after it. */
	if (grantee != copier_ep)
		return -EDVS_GRANTPEER;
	if (ggen != 0 ? ggen != copier_gen : copier_gen <= after)
		return -EDVS_GRANTPEER;
	if (!(access & (dir == DVKD_VCOPY_FROM ? DVK_GRANT_READ : DVK_GRANT_WRITE)))
		return -EDVS_GRANTACCESS;
	if (off > l || len > l - off || a + l < a)
		return -EDVS_GRANTRANGE;
	*addr = a + off;
	return 0;
}
