/*
 * client.c - sessions, per-thread bindings and round trips of libdvsfs.
 *
 * Each thread that calls into a handle gets its own DVK binding the first
 * time (FS_JOIN to the server's well-known endpoint tells it which worker
 * endpoint to use), so threads never wait for each other here; a thread
 * that cannot bind (no free endpoint in the process's admission) falls
 * back to the connecting thread's binding, serialised by prim_lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static __thread int last_dvk_error;

int
dvsfs_last_dvk_error(void)
{
	return last_dvk_error;
}

int
dvsfs_map_dvk(int err)
{
	if (err >= 0)
		return err;
	if (-err < EDVS_BASE) {
		/* -errno from the library (-ETIMEDOUT, -EINTR, -ENOMEM). */
		last_dvk_error = err;
		return err;
	}
	last_dvk_error = err;
	switch (-err) {
	case EDVS_DEADPEER:
	case EDVS_NOTBOUND:
	case EDVS_NODAEMON:
		return -ENOTCONN;
	case EDVS_LIMIT:
		return -EAGAIN;
	case EDVS_NOTADMITTED:
	case EDVS_EPRANGE:
		return -EPERM;
	default:
		return -EIO;
	}
}

void
dvsfs_opts_init(struct dvsfs_opts *o)
{
	const char *s;
	char *end;
	long v;

	memset(o, 0, sizeof(*o));
	o->server_ep = FS_EP_DEFAULT;
	o->self_ep = DVK_ANY;
	o->timeout_ms = -1;
	s = getenv("DVS_FS_EP");
	if (s != NULL && *s != '\0') {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0 && v < INT32_MAX)
			o->server_ep = (dvk_ep_t)v;
	}
	s = getenv("DVS_FS_VOLUME");
	if (s != NULL && *s != '\0')
		o->volume = s;
	s = getenv("DVS_FS_TIMEOUT_MS");
	if (s != NULL && *s != '\0') {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno == 0 && *end == '\0' && v >= -1 && v < INT32_MAX)
			o->timeout_ms = (int)v;
	}
}

static int
rpc_raw(struct dvk *h, dvk_ep_t dst, int timeout_ms, int call, dvk_msg_t *m)
{
	int rc;

	m->m_type = FS_RQ_BASE + call;
	rc = dvk_sendrec_t(h, dst, m, timeout_ms);
	if (rc < 0)
		return dvsfs_map_dvk(rc);
	return m->m_type;
}

/* Sends FS_JOIN for a new binding of this session. */
static int
bind_join(struct dvsfs *fs, struct dvsfs_bind *b)
{
	struct fs_rq_join *rq;
	struct fs_rp_join rp;
	dvk_msg_t m;
	int rc;

	memset(&m, 0, sizeof(m));
	rq = &m.m_u.fs_rq_join;
	rq->session = fs->session;
	rq->token = fs->token;
	rc = rpc_raw(b->h, fs->server_ep, fs->timeout_ms, FS_JOIN, &m);
	if (rc < 0)
		return rc;
	rp = m.m_u.fs_rp_join;
	b->worker = rp.worker;
	return 0;
}

static void
bind_link(struct dvsfs *fs, struct dvsfs_bind *b)
{
	pthread_mutex_lock(&fs->lock);
	b->next = fs->binds;
	fs->binds = b;
	pthread_mutex_unlock(&fs->lock);
}

static void
bind_unlink(struct dvsfs *fs, struct dvsfs_bind *b)
{
	struct dvsfs_bind **pp;

	pthread_mutex_lock(&fs->lock);
	for (pp = &fs->binds; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Says goodbye and unbinds; the server frees the session with its last
 * binding. */
static void
bind_release(struct dvsfs_bind *b)
{
	dvk_msg_t m;

	memset(&m, 0, sizeof(m));
	(void)rpc_raw(b->h, b->worker, 2000, FS_BYE, &m);
	dvk_unbind(b->h);
	free(b);
}

/* pthread key destructor: the thread ends, so does its binding. */
static void
bind_thread_exit(void *p)
{
	struct dvsfs_bind *b = p;

	if (b == NULL || b->shared)
		return;
	bind_unlink(b->fs, b);
	bind_release(b);
}

static struct dvsfs_bind *
bind_for_thread(struct dvsfs *fs, int *err)
{
	struct dvsfs_bind *b = pthread_getspecific(fs->key);
	int rc;

	if (b != NULL)
		return b;
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	b->fs = fs;
	rc = dvk_bind(DVK_ANY, 0, &b->h);
	if (rc < 0) {
		/* No endpoint left for this thread: share the primary. */
		free(b);
		b = fs->primary;
		goto out;
	}
	rc = bind_join(fs, b);
	if (rc < 0) {
		dvk_unbind(b->h);
		free(b);
		*err = rc;
		return NULL;
	}
	bind_link(fs, b);
out:
	if (pthread_setspecific(fs->key, b) != 0) {
		/* Not remembered: still correct, only binds again next time
		 * (and the binding is released at disconnect). */
	}
	return b;
}

int
dvsfs_call_begin(struct dvsfs *fs, struct dvsfs_call *c)
{
	int err = -EINVAL;

	memset(c, 0, sizeof(*c));
	c->inline_end = DVK_PAYLOAD_SIZE;
	if (fs == NULL || fs->magic != DVSFS_MAGIC)
		return -EINVAL;
	c->fs = fs;
	c->b = bind_for_thread(fs, &err);
	if (c->b == NULL)
		return err;
	if (c->b->shared)
		pthread_mutex_lock(&fs->prim_lock);
	return 0;
}

void
dvsfs_call_end(struct dvsfs_call *c)
{
	int i;

	if (c->b == NULL)
		return;
	for (i = 0; i < c->ngrants; i++)
		(void)dvk_revoke(c->b->h, c->grants[i]);
	c->ngrants = 0;
	if (c->b->shared)
		pthread_mutex_unlock(&c->fs->prim_lock);
	c->b = NULL;
}

int
dvsfs_call_grant(struct dvsfs_call *c, const void *addr, size_t len, unsigned access,
		 dvk_grant_t *out)
{
	int rc;

	if (c->ngrants >= (int)(sizeof(c->grants) / sizeof(c->grants[0])))
		return -EINVAL;
	/* The DVK API takes void *: READ-only grants never write through it. */
	rc = dvk_grant(c->b->h, c->b->worker, (void *)(uintptr_t)addr, len, access, out);
	if (rc < 0)
		return dvsfs_map_dvk(rc);
	c->grants[c->ngrants++] = *out;
	return 0;
}

int
dvsfs_call_path(struct dvsfs_call *c, dvk_msg_t *m, size_t rq_size, const char *path,
		struct fs_path_arg *arg)
{
	size_t len;

	if (path == NULL)
		return -EFAULT;
	len = strnlen(path, FS_WIRE_PATH_MAX);
	if (len == 0)
		return -ENOENT;
	if (len >= FS_WIRE_PATH_MAX)
		return -ENAMETOOLONG;
	arg->len = (uint32_t)len;
	if (c->inline_end >= rq_size && len <= c->inline_end - rq_size) {
		c->inline_end -= len;
		memcpy(m->m_u.raw + c->inline_end, path, len);
		arg->grant = FS_GRANT_INLINE;
		return 0;
	}
	return dvsfs_call_grant(c, path, len, DVK_GRANT_READ, &arg->grant);
}

int
dvsfs_call_rpc(struct dvsfs_call *c, int call, dvk_msg_t *m)
{
	return rpc_raw(c->b->h, c->b->worker, c->fs->timeout_ms, call, m);
}

int
dvsfs_simple(struct dvsfs *fs, int call, dvk_msg_t *m)
{
	struct dvsfs_call c;
	int rc;

	rc = dvsfs_call_begin(fs, &c);
	if (rc < 0)
		return rc;
	rc = dvsfs_req_none(&c, call, m);
	dvsfs_call_end(&c);
	return rc;
}

static int
hello(struct dvsfs *fs, struct dvsfs_bind *b, const char *volume)
{
	struct fs_rq_hello *rq;
	struct fs_rp_hello rp;
	dvk_grant_t g = -1;
	size_t vlen = volume != NULL ? strlen(volume) : 0;
	dvk_msg_t m;
	int rc;

	if (vlen > FS_VOLNAME_MAX)
		return -ENAMETOOLONG;
	memset(&m, 0, sizeof(m));
	rq = &m.m_u.fs_rq_hello;
	rq->version = FS_PROTO_VERSION;
	rq->vol.grant = -1;
	if (vlen > 0) {
		rc = dvk_grant(b->h, fs->server_ep, (void *)(uintptr_t)volume, vlen,
			       DVK_GRANT_READ, &g);
		if (rc < 0)
			return rc;
		rq->vol.grant = g;
		rq->vol.len = (uint32_t)vlen;
	}
	m.m_type = FS_RQ_BASE + FS_HELLO;
	rc = dvk_sendrec_t(b->h, fs->server_ep, &m, fs->timeout_ms);
	if (g >= 0)
		(void)dvk_revoke(b->h, g);
	if (rc < 0)
		return rc; /* a DVK code: connect reports those as they are */
	if (m.m_type < 0)
		return m.m_type;
	rp = m.m_u.fs_rp_hello;
	fs->session = rp.session;
	fs->token = rp.token;
	fs->io_max = rp.io_max;
	if (fs->io_max == 0 || fs->io_max > FS_IO_MAX)
		fs->io_max = FS_IO_MAX;
	fs->vol_flags = rp.vol_flags;
	fs->cluster = rp.cluster;
	b->worker = rp.worker;
	return 0;
}

int
dvsfs_connect(const struct dvsfs_opts *o, struct dvsfs **out)
{
	struct dvsfs_opts def;
	struct dvsfs *fs;
	struct dvsfs_bind *b = NULL;
	int rc;

	*out = NULL;
	if (o == NULL) {
		dvsfs_opts_init(&def);
		o = &def;
	}
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return -ENOMEM;
	fs->magic = DVSFS_MAGIC;
	fs->server_ep = o->server_ep;
	fs->timeout_ms = o->timeout_ms;
	fs->access_checked = o->access_checked ? FS_O_ACCESS_CHECKED : 0;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->prim_lock, NULL);
	rc = -pthread_key_create(&fs->key, bind_thread_exit);
	if (rc < 0)
		goto fail_locks;
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		rc = -ENOMEM;
		goto fail_key;
	}
	b->fs = fs;
	b->shared = 1;
	rc = dvk_bind(o->self_ep, 0, &b->h);
	if (rc < 0)
		goto fail_b;
	rc = hello(fs, b, o->volume);
	if (rc < 0)
		goto fail_unbind;
	fs->primary = b;
	bind_link(fs, b);
	(void)pthread_setspecific(fs->key, b);
	*out = fs;
	return 0;

fail_unbind:
	dvk_unbind(b->h);
fail_b:
	free(b);
fail_key:
	pthread_key_delete(fs->key);
fail_locks:
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->prim_lock);
	free(fs);
	return rc;
}

int
dvsfs_disconnect(struct dvsfs *fs)
{
	struct dvsfs_bind *b, *next;

	if (fs == NULL)
		return 0;
	if (fs->magic != DVSFS_MAGIC)
		return -EINVAL;
	/* No destructor may run for this handle from now on. */
	pthread_key_delete(fs->key);
	pthread_mutex_lock(&fs->lock);
	b = fs->binds;
	fs->binds = NULL;
	pthread_mutex_unlock(&fs->lock);
	/* Other bindings first: the primary's BYE may end the session. */
	for (; b != NULL; b = next) {
		next = b->next;
		if (b != fs->primary)
			bind_release(b);
	}
	bind_release(fs->primary);
	fs->magic = 0;
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->prim_lock);
	free(fs);
	return 0;
}

dvk_ep_t
dvsfs_server_ep(const struct dvsfs *fs)
{
	return fs->server_ep;
}

dvk_ep_t
dvsfs_self_ep(struct dvsfs *fs)
{
	int err = 0;
	struct dvsfs_bind *b = bind_for_thread(fs, &err);

	return b != NULL ? dvk_self(b->h) : err;
}

int
dvsfs_posix(const struct dvsfs *fs)
{
	return (fs->vol_flags & FS_VOL_POSIX) != 0;
}

uint32_t
dvsfs_session(const struct dvsfs *fs)
{
	return fs->session;
}

size_t
dvsfs_io_max(const struct dvsfs *fs)
{
	return fs->io_max;
}

void
dvsfs_ts_from_ns(int64_t ns, struct timespec *t)
{
	t->tv_sec = ns / 1000000000;
	t->tv_nsec = ns % 1000000000;
	if (t->tv_nsec < 0) {
		t->tv_nsec += 1000000000;
		t->tv_sec--;
	}
}

void
dvsfs_stat_from_wire(const struct dvsfs *fs, const struct fs_wire_stat *w,
		     struct dvs_stat *st)
{
	struct fs_wire_pstat p;

	memset(st, 0, sizeof(*st));
	st->st_blksize = fs->cluster != 0 ? fs->cluster : 4096;
	if (fs->vol_flags & FS_VOL_POSIX) {
		/* The same 56 bytes, laid out with an owner (fsproto.h). */
		memcpy(&p, w, sizeof(p));
		st->st_ino = p.ino;
		st->st_size = p.size;
		st->st_blocks = p.blocks;
		st->st_mode = p.mode;
		st->st_nlink = p.nlink;
		st->st_uid = p.uid;
		st->st_gid = p.gid;
		dvsfs_ts_from_ns(p.atime_ns, &st->st_atim);
		dvsfs_ts_from_ns(p.mtime_ns, &st->st_mtim);
		dvsfs_ts_from_ns(p.ctime_ns, &st->st_ctim);
		return;
	}
	st->st_ino = w->ino;
	st->st_size = w->size;
	st->st_blocks = w->blocks;
	st->st_mode = w->mode;
	st->st_nlink = w->nlink;
	st->fat_attr = w->attr;
	dvsfs_ts_from_ns(w->atime_ns, &st->st_atim);
	dvsfs_ts_from_ns(w->mtime_ns, &st->st_mtim);
	dvsfs_ts_from_ns(w->ctime_ns, &st->st_ctim);
}
