/* io.c - volume I/O in logical sectors and bytes over the block device.
 * Every request is bounds-checked against the volume, so corrupt metadata
 * can never make the engine write outside it. */
#include <stdlib.h>

#include "fat_int.h"

/* Writes the stage out.  stage_lock held. */
static int
stage_write_locked(struct fat_vol *vol)
{
	size_t len = vol->stage_len;
	int err;

	if (len == 0)
		return 0;
	err = vol->dev->ops->write(vol->dev, vol->stage_sec,
				   (uint32_t)(len / vol->dev->sector_size), vol->stage);
	__atomic_store_n(&vol->stage_len, 0, __ATOMIC_RELEASE);
	if (err)
		vol->stage_err = err;	/* the bytes are lost: fsync says so */
	return err;
}

/* Before any device request on [sec, sec+n): staged bytes there go first,
 * so a read never sees stale data and a later write is never undone. */
static int
stage_touch(struct fat_vol *vol, uint64_t sec, uint64_t n)
{
	int err = 0;

	if (__atomic_load_n(&vol->stage_len, __ATOMIC_ACQUIRE) == 0)
		return 0;
	dvs_mutex_lock(&vol->stage_lock);
	uint64_t s0 = vol->stage_sec;
	uint64_t s1 = s0 + vol->stage_len / vol->dev->sector_size;
	if (vol->stage_len && sec < s1 && s0 < sec + n)
		err = stage_write_locked(vol);
	dvs_mutex_unlock(&vol->stage_lock);
	return err;
}

static int
dev_read(struct fat_vol *vol, uint64_t sec, uint32_t n, void *buf)
{
	int err = stage_touch(vol, sec, n);

	return err ? err : vol->dev->ops->read(vol->dev, sec, n, buf);
}

static int
dev_write(struct fat_vol *vol, uint64_t sec, uint32_t n, const void *buf)
{
	int err = stage_touch(vol, sec, n);

	return err ? err : vol->dev->ops->write(vol->dev, sec, n, buf);
}

int
fat_io_stage(struct fat_vol *vol, uint64_t off, const void *buf, uint64_t len)
{
	uint32_t ds = vol->dev->sector_size;
	uint64_t vol_bytes = (uint64_t)vol->total_secs << vol->ss_shift;
	int err = 0;

	if (vol->stage_cap == 0 || vol->read_only || len == 0 || off % ds ||
	    len % ds || len > vol->stage_cap || off > vol_bytes ||
	    len > vol_bytes - off)
		return 1;
	dvs_mutex_lock(&vol->stage_lock);
	if (!vol->stage && !(vol->stage = malloc(vol->stage_cap))) {
		dvs_mutex_unlock(&vol->stage_lock);
		return 1;
	}
	if (vol->stage_len && (off / ds != vol->stage_sec + vol->stage_len / ds ||
			       vol->stage_len + len > vol->stage_cap))
		err = stage_write_locked(vol);
	if (!err) {
		if (vol->stage_len == 0)
			vol->stage_sec = off / ds;
		memcpy(vol->stage + vol->stage_len, buf, len);
		__atomic_store_n(&vol->stage_len, vol->stage_len + len, __ATOMIC_RELEASE);
	}
	dvs_mutex_unlock(&vol->stage_lock);
	return err;
}

int
fat_io_stage_flush(struct fat_vol *vol)
{
	int err;

	dvs_mutex_lock(&vol->stage_lock);
	err = stage_write_locked(vol);
	if (!err)
		err = vol->stage_err;
	vol->stage_err = 0;
	dvs_mutex_unlock(&vol->stage_lock);
	return err;
}

int
fat_io_read_secs(struct fat_vol *vol, uint64_t lsec, uint32_t n, void *buf)
{
	if (lsec + n > vol->total_secs)
		return -EUCLEAN;
	return dev_read(vol, lsec * vol->dev_ratio, n * vol->dev_ratio, buf);
}

int
fat_io_write_secs(struct fat_vol *vol, uint64_t lsec, uint32_t n,
		  const void *buf)
{
	if (lsec + n > vol->total_secs)
		return -EUCLEAN;
	if (vol->read_only)
		return -EROFS;
	return dev_write(vol, lsec * vol->dev_ratio, n * vol->dev_ratio, buf);
}

/* Byte I/O: device-sector aligned middle goes straight through; the
 * partial edges are read-modify-written through a bounce sector. */
static int
io_bytes(struct fat_vol *vol, uint64_t off, uint64_t len, void *rbuf,
	 const void *wbuf, int zero)
{
	struct fat_blkdev *dev = vol->dev;
	uint32_t ds = dev->sector_size;
	uint64_t vol_bytes = (uint64_t)vol->total_secs << vol->ss_shift;
	uint8_t bounce[4096];
	static const uint8_t zeros[65536];
	int err;

	if (off > vol_bytes || len > vol_bytes - off)
		return -EUCLEAN;
	if (!rbuf && vol->read_only)
		return -EROFS;
	while (len > 0) {
		uint64_t sec = off / ds;
		uint32_t in = (uint32_t)(off % ds);
		if (in != 0 || len < ds) {
			uint32_t k = ds - in;
			if (k > len)
				k = (uint32_t)len;
			err = dev_read(vol, sec, 1, bounce);
			if (err)
				return err;
			if (rbuf) {
				memcpy(rbuf, bounce + in, k);
				rbuf = (uint8_t *)rbuf + k;
			} else {
				if (zero)
					memset(bounce + in, 0, k);
				else {
					memcpy(bounce + in, wbuf, k);
					wbuf = (const uint8_t *)wbuf + k;
				}
				err = dev_write(vol, sec, 1, bounce);
				if (err)
					return err;
			}
			off += k;
			len -= k;
			continue;
		}
		uint64_t nsec = len / ds;
		if (zero) {
			if (nsec > sizeof zeros / ds)
				nsec = sizeof zeros / ds;
			err = dev_write(vol, sec, (uint32_t)nsec, zeros);
		} else {
			if (nsec > (1u << 20))
				nsec = 1u << 20;
			if (rbuf)
				err = dev_read(vol, sec, (uint32_t)nsec, rbuf);
			else
				err = dev_write(vol, sec, (uint32_t)nsec, wbuf);
		}
		if (err)
			return err;
		if (rbuf)
			rbuf = (uint8_t *)rbuf + nsec * ds;
		else if (!zero)
			wbuf = (const uint8_t *)wbuf + nsec * ds;
		off += nsec * ds;
		len -= nsec * ds;
	}
	return 0;
}

int
fat_io_read_bytes(struct fat_vol *vol, uint64_t off, uint64_t len, void *buf)
{
	return io_bytes(vol, off, len, buf, NULL, 0);
}

int
fat_io_write_bytes(struct fat_vol *vol, uint64_t off, uint64_t len,
		   const void *buf)
{
	return io_bytes(vol, off, len, NULL, buf, 0);
}

int
fat_io_zero_bytes(struct fat_vol *vol, uint64_t off, uint64_t len)
{
	return io_bytes(vol, off, len, NULL, NULL, 1);
}

int
fat_io_flush(struct fat_vol *vol)
{
	if (vol->read_only || !vol->dev->ops->flush)
		return 0;
	return vol->dev->ops->flush(vol->dev);
}
