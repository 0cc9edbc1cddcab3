/*
 * stub_dvk.c - see stub_dvk.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "stub_dvk.h"

/* main.c of dvs-fs is not linked here. */
struct fs_server fs_srv;

struct stub_grant {
	unsigned char *p;
	size_t len;
	dvk_ep_t grantee;
	unsigned access;
};

static struct stub_grant grants[STUB_GRANTS];

void
stub_grant_set(int g, void *p, size_t len, dvk_ep_t grantee, unsigned access)
{
	grants[g].p = p;
	grants[g].len = len;
	grants[g].grantee = grantee;
	grants[g].access = access;
}

void
stub_grants_clear(void)
{
	memset(grants, 0, sizeof(grants));
}

static int
grant_check(dvk_grant_t g, size_t off, size_t len, unsigned access,
	    struct stub_grant **out)
{
	if (g < 0 || g >= STUB_GRANTS || grants[g].len == 0)
		return -EDVS_BADGRANT;
	if (grants[g].grantee != 1)
		return -EDVS_GRANTPEER;
	if (!(grants[g].access & access))
		return -EDVS_GRANTACCESS;
	if (off > grants[g].len || len > grants[g].len - off)
		return -EDVS_GRANTRANGE;
	*out = &grants[g];
	return 0;
}

int
dvk_vcopy_from(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off, void *buf,
	       size_t len)
{
	struct stub_grant *sg;
	int rc = grant_check(g, off, len, DVK_GRANT_READ, &sg);

	if (rc < 0)
		return rc;
	memcpy(buf, sg->p + off, len);
	return 0;
}

int
dvk_vcopy_to(struct dvk *h, dvk_ep_t owner, dvk_grant_t g, size_t off, const void *buf,
	     size_t len)
{
	struct stub_grant *sg;
	int rc = grant_check(g, off, len, DVK_GRANT_WRITE, &sg);

	if (rc < 0)
		return rc;
	memcpy(sg->p + off, buf, len);
	return 0;
}

/* What the server's other DVK calls do here: nothing reachable. */
int
dvk_receive_t(struct dvk *h, dvk_ep_t src, dvk_msg_t *m, int timeout_ms)
{
	return -ETIMEDOUT;
}

int
dvk_reply(struct dvk *h, dvk_ep_t dst, const dvk_msg_t *m)
{
	return 0;
}

int
dvk_wait_unbound(struct dvk *h, dvk_ep_t ep, int timeout_ms)
{
	return -ETIMEDOUT;
}

int
dvk_wait_bound(struct dvk *h, dvk_ep_t ep, int timeout_ms)
{
	return -ETIMEDOUT;
}

/* Every stub client is one binding of generation 0, always alive. */
uint32_t
dvk_peer_gen(const struct dvk *h)
{
	return 0;
}

int
dvk_peer_alive(const struct dvk *h, dvk_ep_t ep, uint32_t gen)
{
	return 1;
}

int
dvk_sendrec_t(struct dvk *h, dvk_ep_t dst, dvk_msg_t *m, int timeout_ms)
{
	return -EDVS_NOTBOUND;
}

int
dvk_sendrec(struct dvk *h, dvk_ep_t dst, dvk_msg_t *m)
{
	return -EDVS_NOTBOUND;
}

int
dvk_grant(struct dvk *h, dvk_ep_t grantee, void *addr, size_t len, unsigned access,
	  dvk_grant_t *out)
{
	return -EDVS_LIMIT;
}

int
dvk_revoke(struct dvk *h, dvk_grant_t g)
{
	return 0;
}

const char *
dvk_strerror(int err)
{
	return err < 0 && -err < EDVS_BASE ? strerror(-err) : "dvk error";
}

/* ---- an in-memory block device and the server around it ------------- */

struct mem_dev {
	unsigned char *p;
};

static int
mem_read(struct fat_blkdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	struct mem_dev *m = dev->ctx;

	memcpy(buf, m->p + sector * dev->sector_size, (size_t)count * dev->sector_size);
	return 0;
}

static int
mem_write(struct fat_blkdev *dev, uint64_t sector, uint32_t count, const void *buf)
{
	struct mem_dev *m = dev->ctx;

	memcpy(m->p + sector * dev->sector_size, buf, (size_t)count * dev->sector_size);
	return 0;
}

static const struct fat_blkdev_ops mem_ops = {mem_read, mem_write, NULL, NULL};
static struct mem_dev mdev;
static struct fat_blkdev blkdev;

int
stub_server_init(size_t size)
{
	struct fat_format_opts fo;
	struct fat_mount_opts mo;
	struct fs_volume *v;
	struct fs_worker *w;
	int rc;

	memset(&fs_srv, 0, sizeof(fs_srv));
	pthread_mutex_init(&fs_srv.lock, NULL);
	mdev.p = calloc(1, size);
	if (mdev.p == NULL)
		return -ENOMEM;
	blkdev.ops = &mem_ops;
	blkdev.ctx = &mdev;
	blkdev.sector_size = 512;
	blkdev.sector_count = size / 512;
	memset(&fo, 0, sizeof(fo));
	rc = fat_format(&blkdev, &fo);
	if (rc < 0)
		return rc;
	v = &fs_srv.vols[0];
	snprintf(v->name, sizeof(v->name), "main");
	v->dev = &blkdev;
	memset(&mo, 0, sizeof(mo));
	mo.cache_bytes = 1 << 20;
	rc = fat_mount(&blkdev, &mo, &v->vol);
	if (rc < 0)
		return rc;
	v->cluster = 2048;
	fs_srv.nvols = 1;
	w = &fs_srv.workers[0];
	w->ep = 1;
	w->iobuf = malloc(FS_IO_MAX);
	if (w->iobuf == NULL)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	fs_srv.nworkers = 1;
	return 0;
}

void
stub_server_fini(void)
{
	struct fs_worker *w = &fs_srv.workers[0];
	unsigned k;

	fs_sessions_shutdown();
	for (k = 0; k < FS_BIND_BUCKETS; k++) {
		while (w->buckets[k] != NULL) {
			struct fs_binding *b = w->buckets[k];

			w->buckets[k] = b->next;
			fs_session_put(b->s);
			free(b);
		}
	}
	fat_unmount(fs_srv.vols[0].vol);
	fs_srv.nvols = 0;
	free(w->iobuf);
	free(mdev.p);
	mdev.p = NULL;
}

int
stub_call(dvk_ep_t ep, const dvk_msg_t *in, dvk_msg_t *out)
{
	dvk_msg_t m = *in;

	m.m_source = ep;
	return fs_dispatch(&fs_srv.workers[0], &m, out);
}
