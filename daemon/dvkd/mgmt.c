/*
 * mgmt.c - the management socket: status, stop, DCs, listings, admission.
 * The socket file is mode 0600 and the peer must have our uid (or be
 * root), so only the node's administrator manages it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cluster.h"
#include "dvkd.h"
#include "dvs/log.h"

static void
mgmt_close(struct mgmt *m)
{
	if (!dvkd_ep_close(&m->fd))
		return;
	dvkd_dir_mgmt_closed(m);
	dvkd_run_mgmt_closed(m);
	DVKD_LIST_DEL(dvkd.mgmts, m);
	dvkd.nmgmt--;
	dvkd_defer(free, m);
}

void
dvkd_mgmt_close_all(void)
{
	while (dvkd.mgmts != NULL)
		mgmt_close(dvkd.mgmts);
}

void
dvkd_mgmt_accept(void)
{
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct mgmt *m;
	int fd;

	fd = accept4(dvkd.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid()) ||
	    dvkd.nmgmt >= DVKD_MAX_MGMT) {
		close(fd);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		close(fd);
		return;
	}
	/* Listings are written blocking, but never for ever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	m->ev.kind = EV_MGMT;
	m->ev.obj = m;
	m->fd = fd;
	if (dvkd_ep_add(fd, &m->ev) < 0) {
		close(fd);
		free(m);
		return;
	}
	DVKD_LIST_ADD(dvkd.mgmts, m);
	dvkd.nmgmt++;
}

struct dc *
dvkd_dc_find(int id)
{
	int i;

	for (i = 0; i < dvkd.ndc; i++)
		if (dvkd.dcs[i]->id == id)
			return dvkd.dcs[i];
	return NULL;
}

static void
dc_free(struct dc *dc)
{
	dvkd_remote_dc_gone(dc);
	if (dc->gens != NULL)
		munmap((void *)dc->gens, DVK_GEN_TABLE_SIZE);
	if (dc->gen_fd >= 0)
		close(dc->gen_fd);
	free(dc->eps);
	free(dc);
}

void
dvkd_dc_free_all(void)
{
	while (dvkd.ndc > 0)
		dc_free(dvkd.dcs[--dvkd.ndc]);
}

static int
dc_create(int id, int nep, int max_bind, int max_rings, int call_timeout_ms)
{
	struct dc *dc;
	int i, sum_bind = 0, sum_rings = 0;
	void *p;

	if (id < 0 || id > 65535 || nep < 1 || nep > DVK_MAX_DC_EPS ||
	    max_bind < 0 || max_rings < 0 || call_timeout_ms < 0)
		return -EINVAL;
	if (dvkd_dc_find(id) != NULL)
		return -EEXIST;
	if (dvkd.ndc >= DVKD_MAX_DCS)
		return -EDVS_LIMIT;
	/* Defaults: every endpoint bound, and four rings each. */
	if (max_bind == 0)
		max_bind = nep;
	if (max_rings == 0)
		max_rings = 4 * nep < DVKD_DC_RINGS_DEFAULT_MAX ? 4 * nep
								 : DVKD_DC_RINGS_DEFAULT_MAX;
	for (i = 0; i < dvkd.ndc; i++) {
		sum_bind += dvkd.dcs[i]->max_bind;
		sum_rings += dvkd.dcs[i]->max_rings;
	}
	if (max_bind > DVKD_MAX_BINDINGS - sum_bind ||
	    max_rings > DVKD_MAX_RINGS - sum_rings) {
		dvs_info("dc %d: quotas of %d bindings and %d rings do not fit "
			 "(%d and %d left on this node)", id, max_bind, max_rings,
			 DVKD_MAX_BINDINGS - sum_bind, DVKD_MAX_RINGS - sum_rings);
		return -EDVS_LIMIT;
	}
	dc = calloc(1, sizeof(*dc));
	if (dc == NULL)
		return -ENOMEM;
	dc->gen_fd = -1;
	dc->eps = calloc((size_t)nep, sizeof(*dc->eps));
	if (dc->eps == NULL) {
		free(dc);
		return -ENOMEM;
	}
	dc->id = id;
	dc->nep = nep;
	dc->max_bind = max_bind;
	dc->max_rings = max_rings;
	dc->call_timeout_ms = call_timeout_ms;
	dc->gen_fd = dvkd_memfd("dvk-gens", DVK_GEN_TABLE_SIZE);
	if (dc->gen_fd < 0) {
		dc_free(dc);
		return -ENOMEM;
	}
	p = mmap(NULL, DVK_GEN_TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 dc->gen_fd, 0);
	if (p == MAP_FAILED) {
		dc_free(dc);
		return -ENOMEM;
	}
	dc->gens = p;
	dvkd.dcs[dvkd.ndc++] = dc;
	dvs_info("dc %d created with %d endpoints (quotas: %d bindings, %d rings)",
		 id, nep, max_bind, max_rings);
	return 0;
}

static int
dc_destroy(int id)
{
	struct dc *dc = dvkd_dc_find(id);
	int i;

	if (dc == NULL)
		return -EDVS_NODC;
	dvkd_dc_drop_all(dc);
	dvkd_remote_dc_gone(dc);
	for (i = 0; i < dvkd.ndc; i++) {
		if (dvkd.dcs[i] == dc) {
			dvkd.dcs[i] = dvkd.dcs[--dvkd.ndc];
			break;
		}
	}
	/* Bindings freed after this batch still point to dc. */
	dvkd_defer((void (*)(void *))dc_free, dc);
	dvs_info("dc %d destroyed", id);
	return 0;
}

int
dvkd_dc_create(int id, int nep, int max_bind, int max_rings, int call_timeout_ms)
{
	return dc_create(id, nep, max_bind, max_rings, call_timeout_ms);
}

int
dvkd_dc_destroy(int id)
{
	return dc_destroy(id);
}

static int
send_rec(struct mgmt *m, struct dvkd_msg *r)
{
	return dvkd_send(m->fd, r, NULL, 0, 0);
}

static int
list_dcs(struct mgmt *m, uint32_t seq)
{
	struct dvkd_msg r;
	int i, k, rc;

	for (i = 0; i < dvkd.ndc; i++) {
		struct dc *dc = dvkd.dcs[i];

		dvkd_msg_init(&r, DVKD_REC_DC, seq);
		r.u.dcrec.dc = dc->id;
		r.u.dcrec.nep = dc->nep;
		r.u.dcrec.nadmit = dc->nadmit;
		r.u.dcrec.nbind = dc->nbind;
		r.u.dcrec.max_bind = dc->max_bind;
		r.u.dcrec.nrings = dc->nrings;
		r.u.dcrec.max_rings = dc->max_rings;
		r.u.dcrec.call_timeout_ms = dc->call_timeout_ms;
		r.u.dcrec.nodes = dc->nodes;
		for (k = 0; k < dc->nep; k++)
			r.u.dcrec.nbound += dc->eps[k].b != NULL;
		rc = send_rec(m, &r);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
list_eps(struct mgmt *m, uint32_t seq, int id, int wait_ms)
{
	struct dvkd_msg r;
	int i, k, rc;

	if (id >= 0 && dvkd_dc_find(id) == NULL)
		return -EDVS_NODC;
	for (i = 0; i < dvkd.ndc; i++) {
		struct dc *dc = dvkd.dcs[i];

		if (id >= 0 && dc->id != id)
			continue;
		for (k = 0; k < dc->nep; k++) {
			struct epslot *s = &dc->eps[k];

			int node, unreach;
			uint32_t gen;

			dvkd_msg_init(&r, DVKD_REC_EP, seq);
			if (dvkd_dir_entry(dc, k, &node, &gen, &unreach)) {
				/* Owned on another node: where, not how busy. */
				memset(&r.u.eprec, 0, sizeof(r.u.eprec));
				r.u.eprec.dc = dc->id;
				r.u.eprec.ep = k;
				r.u.eprec.node = node;
				r.u.eprec.gen = gen;
				r.u.eprec.flags = unreach ? DVKD_EPF_UNREACHABLE : 0;
				rc = send_rec(m, &r);
				if (rc < 0)
					return rc;
				continue;
			}
			if (s->b == NULL && s->backup == NULL && s->sent == 0 &&
			    s->recv == 0 && s->errors == 0)
				continue;
			dvkd_ep_stats(dc, k, wait_ms, &r.u.eprec);
			r.u.eprec.node = dvkd_cluster_on() ? cl.self : -1;
			rc = send_rec(m, &r);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static void
read_comm(pid_t pid, char *buf, size_t n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(buf, (int)n, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int
list_ps(struct mgmt *m, uint32_t seq)
{
	struct dvkd_msg r;
	struct binding *b;
	int rc;

	for (b = dvkd.bindings; b != NULL; b = b->next) {
		dvkd_msg_init(&r, DVKD_REC_PS, seq);
		r.u.psrec.pid = b->pid;
		r.u.psrec.dc = b->dc->id;
		r.u.psrec.ep = b->ep;
		r.u.psrec.backup = b->backup;
		read_comm(b->pid, r.u.psrec.comm, sizeof(r.u.psrec.comm));
		rc = send_rec(m, &r);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
list_nodes(struct mgmt *m, uint32_t seq)
{
	struct dvkd_node_rec recs[CL_MAX_NODES];
	struct dvkd_msg r;
	int i, n, rc;

	n = dvkd_cluster_nodes(recs, CL_MAX_NODES);
	for (i = 0; i < n; i++) {
		dvkd_msg_init(&r, DVKD_REC_NODE, seq);
		r.u.noderec = recs[i];
		rc = send_rec(m, &r);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
admit(struct mgmt *m, const struct dvkd_msg *req)
{
	const struct dvkd_admit_req *a = &req->u.admit;
	struct dc *dc = dvkd_dc_find(a->dc);
	struct dvkd_msg r;
	int fd, rc;

	if (dc == NULL)
		return -EDVS_NODC;
	if (a->lo < 0 || a->hi < a->lo || a->hi >= dc->nep)
		return -EDVS_BADEP;
	{
		struct ucred cred;
		socklen_t len = sizeof(cred);

		/* The requester (dvsctl run) execs the admitted program. */
		if (getsockopt(m->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
			cred.pid = 0;
		rc = dvkd_admit_new(dc, a->lo, a->hi, cred.pid, &fd);
	}
	if (rc < 0)
		return rc;
	dvkd_msg_init(&r, DVKD_REPLY, req->h.seq);
	rc = dvkd_send(m->fd, &r, &fd, 1, 0);
	close(fd);
	return rc < 0 ? rc : 1;
}

/*
 * The management calls (dvsctl), dispatched through mgmt_table as the
 * servers dispatch theirs (Minix's table.c).  One reply convention for
 * every handler: it returns a status (0, or -EDVS_* / -errno) that
 * dvkd_mgmt_input() sends in the header of one packet: a DVKD_REPLY
 * whose body the handler filled in *r, or for a listing (mgmt_call.list)
 * the DVKD_END after the records the handler sent.  MGMT_REPLIED means
 * the handler answered itself (a reply with fds) or will answer later,
 * when the work is done (a DC over several nodes, a program run on
 * another node): nothing is sent now.
 */
#define MGMT_REPLIED 1

typedef int (*mgmt_fn)(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
		       struct dvkd_msg *r);

struct mgmt_call {
	mgmt_fn fn;
	int list; /* records, then DVKD_END with the status */
};

static int
do_ping(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds, struct dvkd_msg *r)
{
	r->u.status.pid = getpid();
	r->u.status.ndc = (uint32_t)dvkd.ndc;
	r->u.status.nbind = (uint32_t)dvkd.nbind;
	r->u.status.nadmit = (uint32_t)dvkd.nadmit;
	r->u.status.nrings = (uint32_t)dvkd.nrings;
	r->u.status.ncopies = atomic_load(&dvkd.copies_now);
	r->u.status.uptime_ms = (dvs_now_ns() - dvkd.start_ns) / 1000000;
	r->u.status.copied_bytes = atomic_load(&dvkd.copied);
	return 0;
}

static int
do_stop(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds, struct dvkd_msg *r)
{
	dvs_info("stop requested");
	dvkd.stopping = 1;
	return 0;
}

static int
do_dc_create(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
	     struct dvkd_msg *r)
{
	const struct dvkd_dc_req *q = &req->u.dc;

	/* A DC over several nodes: created where the total order says,
	 * answered then (MGMT_REPLIED). */
	if (q->nodes != 0)
		return dvkd_dir_dc_create(m, req->h.seq, q->dc, q->nep, q->nodes);
	return dc_create(q->dc, q->nep, q->max_bind, q->max_rings, q->call_timeout_ms);
}

static int
do_dc_destroy(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
	      struct dvkd_msg *r)
{
	int rc = dvkd_dir_dc_destroy(m, req->h.seq, dvkd_dc_find(req->u.dc.dc));

	return rc == MGMT_REPLIED ? rc : dc_destroy(req->u.dc.dc);
}

static int
do_dc_list(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
	   struct dvkd_msg *r)
{
	return list_dcs(m, req->h.seq);
}

static int
do_ep_list(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
	   struct dvkd_msg *r)
{
	return list_eps(m, req->h.seq, req->u.dc.dc, req->u.dc.wait_ms);
}

static int
do_ps(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds, struct dvkd_msg *r)
{
	return list_ps(m, req->h.seq);
}

static int
do_node_list(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
	     struct dvkd_msg *r)
{
	return list_nodes(m, req->h.seq);
}

static int
do_admit(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
	 struct dvkd_msg *r)
{
	return admit(m, req); /* MGMT_REPLIED: the reply carries the fd */
}

static int
do_run_node(struct mgmt *m, const struct dvkd_msg *req, int *fds, int nfds,
	    struct dvkd_msg *r)
{
	/* Owns the fds; answers when the program ends (MGMT_REPLIED). */
	return dvkd_run_remote_start(m, req, fds, nfds);
}

/* An empty slot is not a management call: that connection is dropped. */
static const struct mgmt_call mgmt_table[DVKD_TYPE_MAX] = {
	[DVKD_PING] = {do_ping, 0},
	[DVKD_STOP] = {do_stop, 0},
	[DVKD_DC_CREATE] = {do_dc_create, 0},
	[DVKD_DC_DESTROY] = {do_dc_destroy, 0},
	[DVKD_DC_LIST] = {do_dc_list, 1},
	[DVKD_EP_LIST] = {do_ep_list, 1},
	[DVKD_PS] = {do_ps, 1},
	[DVKD_NODE_LIST] = {do_node_list, 1},
	[DVKD_ADMIT] = {do_admit, 0},
	[DVKD_RUN_NODE] = {do_run_node, 0},
};

void
dvkd_mgmt_input(struct mgmt *m)
{
	const struct mgmt_call *call = NULL;
	struct dvkd_msg req, r;
	int rc, fds[3], nfds = 0;

	if (m->fd < 0)
		return;
	rc = dvkd_recv(m->fd, &req, fds, 3, &nfds, MSG_DONTWAIT);
	if (rc == 0 && nfds > 0 && req.h.type != DVKD_RUN_NODE) {
		while (nfds > 0)
			close(fds[--nfds]);
		rc = -EDVS_PROTO;
	}
	if (rc == -EAGAIN)
		return;
	if (rc < 0) {
		if (rc != -EDVS_NODAEMON)
			dvs_warn("garbage on the management socket; dropping that connection");
		mgmt_close(m);
		return;
	}
	/* dvkd_recv checked the type against the protocol's. */
	if (req.h.type < DVKD_TYPE_MAX)
		call = &mgmt_table[req.h.type];
	if (call == NULL || call->fn == NULL) {
		dvs_warn("request %u is not for this socket; dropping that connection",
			 req.h.type);
		mgmt_close(m);
		return;
	}
	dvkd_msg_init(&r, DVKD_REPLY, req.h.seq);
	rc = call->fn(m, &req, fds, nfds, &r);
	if (rc == MGMT_REPLIED)
		return;
	if (call->list)
		dvkd_msg_init(&r, DVKD_END, req.h.seq);
	r.h.status = rc;
	if (dvkd_send(m->fd, &r, NULL, 0, 0) < 0)
		mgmt_close(m);
}
