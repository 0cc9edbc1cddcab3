/*
 * vddblk.c - a FAT engine block device over IPC to dvs-vdd (scenario A2).
 *
 * The engine calls these from the worker thread serving a request, so
 * each call uses that worker's own binding (fs_thread_dvk): workers talk
 * to the vdd in parallel, no lock.  The worker grants the engine's buffer
 * to the vdd endpoint for one request and revokes it after.  A vdd that
 * is gone makes every call fail with -EIO (the client sees EIO, dvs-fs
 * keeps serving; when a vdd binds the endpoint again it works again).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/blkproto.h"
#include "dvs/log.h"
#include "fs.h"

#define VDD_TIMEOUT_MS 30000

struct vdd_ctx {
	dvk_ep_t ep;
	uint32_t io_max; /* bytes per request, a multiple of the sector */
};

static int
vdd_call(struct vdd_ctx *c, int call, dvk_msg_t *m)
{
	struct dvk *h = fs_thread_dvk;
	int rc;

	if (h == NULL)
		return -EIO; /* a thread with no binding: never expected */
	m->m_type = BLK_RQ_BASE + call;
	/* A dead vdd answers at once; a stuck one must not hold the
	 * worker for ever. */
	rc = dvk_sendrec_t(h, c->ep, m, VDD_TIMEOUT_MS);
	if (rc < 0) {
		dvs_warn("dvs-vdd at endpoint %d: %s", (int)c->ep, dvk_strerror(rc));
		return -EIO;
	}
	return m->m_type;
}

/*
 * The request stubs of the block protocol (blkproto.h), one per request:
 * each fills the payload of a cleared *m, sends it and leaves the reply in
 * *m; the result is the vdd's (>= 0 or -errno) or -EIO when it did not
 * answer.
 */
static int
req_blk_io(struct vdd_ctx *c, int call, uint64_t off, uint32_t len, dvk_grant_t g,
	   dvk_msg_t *m)
{
	struct blk_rq_io *rq = &m->m_u.blk_rq_io;

	memset(m, 0, sizeof(*m));
	rq->off = off;
	rq->len = len;
	rq->grant = g;
	return vdd_call(c, call, m);
}

static int
req_blk_flush(struct vdd_ctx *c, dvk_msg_t *m)
{
	memset(m, 0, sizeof(*m));
	return vdd_call(c, BLK_FLUSH, m);
}

/* BLK_INFO, before the worker bindings exist: on h, without a timeout. */
static int
req_blk_info(struct dvk *h, dvk_ep_t ep, dvk_msg_t *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->m_type = BLK_RQ_BASE + BLK_INFO;
	rc = dvk_sendrec(h, ep, m);
	return rc < 0 ? rc : m->m_type;
}

static int
vdd_io(struct fat_blkdev *dev, int call, uint64_t sector, uint32_t count, void *buf)
{
	struct vdd_ctx *c = dev->ctx;
	struct dvk *h = fs_thread_dvk;
	uint64_t off = sector * dev->sector_size;
	size_t left = (size_t)count * dev->sector_size, len;
	unsigned char *p = buf;
	dvk_grant_t g;
	dvk_msg_t m;
	int rc;

	if (h == NULL)
		return -EIO;
	while (left > 0) {
		len = left < c->io_max ? left : c->io_max;
		rc = dvk_grant(h, c->ep, p, len,
			       call == BLK_READ ? DVK_GRANT_WRITE : DVK_GRANT_READ, &g);
		if (rc < 0)
			return -EIO;
		rc = req_blk_io(c, call, off, (uint32_t)len, g, &m);
		/* The reply overwrote m: revoke by the copy. */
		(void)dvk_revoke(h, g);
		if (rc < 0)
			return rc == -ENOSPC ? -EIO : rc;
		if ((size_t)rc != len)
			return -EIO;
		off += len;
		p += len;
		left -= len;
	}
	return 0;
}

static int
vdd_read(struct fat_blkdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	return vdd_io(dev, BLK_READ, sector, count, buf);
}

static int
vdd_write(struct fat_blkdev *dev, uint64_t sector, uint32_t count, const void *buf)
{
	/* A READ grant: the vdd only copies out of it. */
	return vdd_io(dev, BLK_WRITE, sector, count, (void *)(uintptr_t)buf);
}

static int
vdd_flush(struct fat_blkdev *dev)
{
	dvk_msg_t m;

	return req_blk_flush(dev->ctx, &m);
}

static const struct fat_blkdev_ops vdd_ops = {
    .read = vdd_read,
    .write = vdd_write,
    .flush = vdd_flush,
    .close = NULL,
};

int
fs_vdd_open(dvk_ep_t ep, struct dvk *h, int read_only, struct fat_blkdev **out)
{
	struct fat_blkdev *dev = NULL;
	struct vdd_ctx *c = NULL;
	struct blk_rp_info rp;
	dvk_msg_t m;
	int rc;

	*out = NULL;
	/* The vdd may still be starting. */
	rc = dvk_wait_bound(h, ep, 10000);
	if (rc < 0)
		return rc;
	rc = req_blk_info(h, ep, &m);
	if (rc < 0)
		return rc;
	rp = m.m_u.blk_rp_info;
	if (rp.sector < 512 || rp.sector > 4096 || (rp.sector & (rp.sector - 1)) ||
	    rp.size < rp.sector || rp.size % rp.sector != 0)
		return -EDVS_PROTO;
	c = calloc(1, sizeof(*c));
	dev = calloc(1, sizeof(*dev));
	if (c == NULL || dev == NULL) {
		free(c);
		free(dev);
		return -ENOMEM;
	}
	c->ep = ep;
	c->io_max = rp.io_max != 0 && rp.io_max <= BLK_IO_MAX ? rp.io_max : BLK_IO_MAX;
	c->io_max -= c->io_max % rp.sector;
	if (c->io_max == 0)
		c->io_max = rp.sector;
	dev->ops = &vdd_ops;
	dev->ctx = c;
	dev->sector_size = rp.sector;
	dev->sector_count = rp.size / rp.sector;
	dev->read_only = read_only || (rp.flags & BLK_F_RDONLY);
	*out = dev;
	return 0;
}

void
fs_vdd_close(struct fat_blkdev *dev)
{
	if (dev == NULL)
		return;
	free(dev->ctx);
	free(dev);
}
