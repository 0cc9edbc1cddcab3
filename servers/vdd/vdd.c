/*
 * vdd.c - the requests of dvs-vdd, dispatched through a call table.
 * Every number in a request is checked before it is used: the offset and
 * length must be sector-aligned, non-empty, at most BLK_IO_MAX and inside
 * the device, and the data moves only through the client's grant.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vdd.h"

typedef int (*vdd_fn)(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out);

static int
io_check(const struct vdd *v, const struct blk_rq_io *rq)
{
	if (rq->len == 0 || rq->len > BLK_IO_MAX)
		return -EINVAL;
	if (rq->off % v->sector != 0 || rq->len % v->sector != 0)
		return -EINVAL;
	if (rq->off > v->size || rq->len > v->size - rq->off)
		return -ENOSPC;
	return 0;
}

static int
do_info(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out)
{
	struct blk_rp_info *rp = &out->m_u.blk_rp_info;

	rp->size = v->size;
	rp->sector = v->sector;
	rp->flags = v->read_only ? BLK_F_RDONLY : 0;
	rp->io_max = BLK_IO_MAX;
	return 0;
}

static int
grant_err(int rc)
{
	if (rc <= -EDVS_BADGRANT && rc >= -EDVS_REVOKED)
		return -EFAULT;
	return rc < -EDVS_BASE ? -EIO : rc;
}

/* Copies in the request and checks it. */
static int
io_rq(const struct vdd *v, const dvk_msg_t *in, struct blk_rq_io *rq)
{
	*rq = in->m_u.blk_rq_io;
	return io_check(v, rq);
}

/* Reads or writes len bytes of v->buf at off; *done says how many moved
 * (short only for a read past an image that shrank under us). */
static int
file_io(struct vdd *v, int wr, size_t len, uint64_t off, size_t *done)
{
	ssize_t n;

	*done = 0;
	while (*done < len) {
		n = wr ? pwrite(v->fd, v->buf + *done, len - *done, (off_t)(off + *done))
		       : pread(v->fd, v->buf + *done, len - *done, (off_t)(off + *done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return wr ? -EIO : 0;
		*done += (size_t)n;
	}
	return 0;
}

/* v->buf is shared with dvkd (dvs/srv.h): the grant copy is one copy. */
static int
do_read(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out)
{
	struct blk_rq_io rq;
	size_t done;
	int rc;

	rc = io_rq(v, in, &rq);
	if (rc == 0)
		rc = file_io(v, 0, rq.len, rq.off, &done);
	if (rc < 0)
		return rc;
	memset(v->buf + done, 0, rq.len - done); /* shrunk image: zeros, like a hole */
	rc = dvk_vcopy_to(v->h, in->m_source, rq.grant, 0, v->buf, rq.len);
	if (rc < 0)
		return grant_err(rc);
	v->st.reads++;
	v->st.bytes_read += rq.len;
	return (int)rq.len;
}

static int
do_write(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out)
{
	struct blk_rq_io rq;
	size_t done;
	int rc;

	if (v->read_only)
		return -EROFS;
	rc = io_rq(v, in, &rq);
	if (rc < 0)
		return rc;
	rc = dvk_vcopy_from(v->h, in->m_source, rq.grant, 0, v->buf, rq.len);
	if (rc < 0)
		return grant_err(rc);
	rc = file_io(v, 1, rq.len, rq.off, &done);
	if (rc < 0)
		return rc;
	v->st.writes++;
	v->st.bytes_written += rq.len;
	return (int)rq.len;
}

static int
do_flush(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out)
{
	if (!v->read_only && fdatasync(v->fd) < 0)
		return -errno;
	v->st.flushes++;
	return 0;
}

static int
do_stats(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out)
{
	out->m_u.blk_rp_stats = v->st;
	return 0;
}

static const vdd_fn vdd_table[BLK_NCALLS] = {
    [BLK_INFO] = do_info,   [BLK_READ] = do_read,   [BLK_WRITE] = do_write,
    [BLK_FLUSH] = do_flush, [BLK_STATS] = do_stats,
};

static void
note_client(struct vdd *v, dvk_ep_t ep)
{
	uint32_t i, n = v->st.clients;

	for (i = 0; i < n; i++)
		if (v->seen[i] == ep)
			return;
	if (n < sizeof(v->seen) / sizeof(v->seen[0])) {
		v->seen[n] = ep;
		v->st.clients++;
	}
}

int
vdd_dispatch(struct vdd *v, const dvk_msg_t *in, dvk_msg_t *out)
{
	vdd_fn fn = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	note_client(v, in->m_source);
	if (in->m_type > BLK_RQ_BASE && in->m_type < BLK_RQ_BASE + BLK_NCALLS)
		fn = vdd_table[in->m_type - BLK_RQ_BASE];
	rc = fn != NULL ? fn(v, in, out) : -ENOSYS;
	if (rc < 0)
		v->st.errors++;
	return rc;
}
