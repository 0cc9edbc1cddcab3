/*
 * dispatch.c - decodes one request and calls its handler (from fs_table,
 * or ext_table for a session on an ext volume).  Kept apart
 * from the receive loop so the fuzz target drives exactly this.
 */
#include <errno.h>
#include <string.h>

#include "dvs/log.h"
#include "ext.h"
#include "fs.h"

int
fs_dispatch(struct fs_worker *w, const dvk_msg_t *in, dvk_msg_t *out)
{
	const struct fs_call_desc *d;
	struct fs_binding *b = NULL;
	struct fs_req r;
	int32_t call;
	int rc;

	memset(out, 0, sizeof(*out));
	atomic_fetch_add(&fs_srv.requests, 1);
	/* Compare before subtracting: m_type is any int32 from the peer. */
	if (in->m_type <= FS_RQ_BASE || in->m_type >= FS_RQ_BASE + FS_NCALLS) {
		rc = -ENOSYS;
		goto out;
	}
	call = in->m_type - FS_RQ_BASE;
	d = &fs_table[call];
	if (d->fn == NULL && ext_table[call].fn == NULL) {
		rc = -ENOSYS;
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.w = w;
	r.src = in->m_source;
	r.in = in;
	r.out = out;
	r.inline_end = DVK_PAYLOAD_SIZE;
	/* Calls of POSIX volumes only (no FAT handler) need a session too:
	 * it says which table answers. */
	if (d->need_session || d->fn == NULL) {
		dvs_mutex_lock(&w->lock);
		b = fs_binding_find(w, in->m_source);
		if (b != NULL) {
			r.s = b->s;
			r.uid = b->uid;
			r.gid = b->gid;
			fs_session_ref(r.s);
		}
		dvs_mutex_unlock(&w->lock);
		if (r.s == NULL) {
			/* Never said hello here, or its session ended. */
			rc = -ENOTCONN;
			goto out;
		}
		atomic_fetch_add(&r.s->requests, 1);
		/* An ext volume has a call table of its own (ext.h). */
		if (r.s->vol->ext != NULL)
			d = &ext_table[call];
	}
	rc = d->fn != NULL ? d->fn(&r) : -ENOSYS;
	if (r.s != NULL)
		fs_session_put(r.s);
	if (rc < 0)
		dvs_debug("%s from %d: %s", d->name, (int)in->m_source, strerror(-rc));
out:
	if (rc < 0)
		atomic_fetch_add(&fs_srv.errors, 1);
	return rc;
}
