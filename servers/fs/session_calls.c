/*
 * session_calls.c - FS_HELLO, FS_JOIN, FS_BYE and FS_STATS.
 */
#include <errno.h>
#include <string.h>

#include "dvs/log.h"
#include "fs.h"

static void
hello_reply(struct fs_req *r, struct fs_session *s, struct fs_worker *w)
{
	struct fs_rp_hello *rp = &r->out->m_u.fs_rp_hello;

	rp->token = s->token;
	rp->session = s->id;
	rp->worker = w->ep;
	rp->io_max = FS_IO_MAX;
	rp->vol_flags = s->vol->read_only ? FS_VOL_RDONLY : 0;
	if (s->vol->ext != NULL)
		rp->vol_flags |= FS_VOL_POSIX;
	rp->cluster = s->vol->cluster;
}

/* A hello that was still queued when its client went: the DVK's event may
 * have come and gone before the binding existed, so look now (after the
 * binding was added: a death from now on brings an event). */
static void
gone_check(struct fs_req *r)
{
	uint32_t gen = dvk_peer_gen(r->w->h);

	if (gen != 0 && !dvk_peer_alive(r->w->h, r->src, gen))
		fs_bindings_gone(r->src, gen);
}

int
do_hello(struct fs_req *r)
{
	const struct fs_rq_hello *rq = &r->in->m_u.fs_rq_hello;
	char name[FS_VOLNAME_MAX + 1];
	struct fs_volume *v;
	struct fs_session *s;
	struct fs_worker *w;
	uint32_t len = rq->vol.len;
	int rc;

	if (rq->version != FS_PROTO_VERSION)
		return -EPROTO;
	if (len > FS_VOLNAME_MAX)
		return -ENAMETOOLONG;
	if (len > 0) {
		rc = dvk_vcopy_from(r->w->h, r->src, rq->vol.grant, 0, name, len);
		if (rc < 0)
			return fs_client_err(rc);
	}
	v = fs_volume_find(name, len);
	if (v == NULL)
		return -ENODEV;
	rc = fs_session_new(v, r->src, &s);
	if (rc < 0)
		return rc;
	w = fs_binding_add(r->src, dvk_peer_gen(r->w->h), s);
	if (w == NULL) {
		fs_session_put(s);
		return -ENOMEM;
	}
	gone_check(r);
	hello_reply(r, s, w);
	dvs_info("session %u on %s for endpoint %d (worker %d)", s->id, v->name,
		 (int)r->src, w->idx);
	fs_session_put(s); /* the binding holds it now */
	return 0;
}

int
do_join(struct fs_req *r)
{
	const struct fs_rq_join *rq = &r->in->m_u.fs_rq_join;
	struct fs_rp_join *rp = &r->out->m_u.fs_rp_join;
	struct fs_session *s;
	struct fs_worker *w;

	s = fs_session_find(rq->session, rq->token);
	if (s == NULL)
		return -EACCES; /* no such session, or the wrong token */
	w = fs_binding_add(r->src, dvk_peer_gen(r->w->h), s);
	fs_session_put(s);
	if (w == NULL)
		return -ENOMEM;
	gone_check(r);
	rp->worker = w->ep;
	rp->io_max = FS_IO_MAX;
	return 0;
}

int
do_bye(struct fs_req *r)
{
	fs_binding_remove(r->w, r->src);
	return 0;
}

int
do_stats(struct fs_req *r)
{
	const struct fs_rq_stats *rq = &r->in->m_u.fs_rq_stats;
	struct fs_rp_stats *rp = &r->out->m_u.fs_rp_stats;
	struct fs_wire_session *recs = (struct fs_wire_session *)(void *)r->w->iobuf;
	size_t max = 0, n = 0;
	struct fs_session *s;
	int rc;

	if (rq->grant >= 0 || rq->len > 0) {
		if (rq->len > FS_LIST_MAX)
			return -EINVAL;
		max = rq->len / sizeof(*recs);
	}
	rp->requests = atomic_load(&fs_srv.requests);
	rp->errors = atomic_load(&fs_srv.errors);
	dvs_mutex_lock(&fs_srv.lock);
	for (s = fs_srv.sessions; s != NULL; s = s->next) {
		dvs_mutex_lock(&s->lock);
		rp->sessions++;
		rp->bindings += (uint32_t)s->bindings;
		rp->fds += (uint32_t)s->nfds;
		if (n < max) {
			memset(&recs[n], 0, sizeof(recs[n]));
			recs[n].requests = atomic_load(&s->requests);
			recs[n].session = s->id;
			recs[n].first_ep = s->first_ep;
			recs[n].bindings = (uint32_t)s->bindings;
			recs[n].fds = (uint32_t)s->nfds;
			n++;
		}
		dvs_mutex_unlock(&s->lock);
	}
	dvs_mutex_unlock(&fs_srv.lock);
	rp->workers = (uint32_t)fs_srv.nworkers;
	rp->nrec = (uint32_t)n;
	if (n > 0) {
		rc = dvk_vcopy_to(r->w->h, r->src, rq->grant, 0, recs, n * sizeof(*recs));
		if (rc < 0)
			return fs_client_err(rc);
	}
	return 0;
}
