/* io.c - volume I/O in logical sectors and bytes over the block device.
 * Every request is bounds-checked against the volume, so corrupt metadata
 * can never make the engine write outside it. */
#include <stdlib.h>

#include "fat_int.h"

int
fat_io_read_secs(struct fat_vol *vol, uint64_t lsec, uint32_t n, void *buf)
{
	if (lsec + n > vol->total_secs)
		return -EUCLEAN;
	return vol->dev->ops->read(vol->dev, lsec * vol->dev_ratio,
				   n * vol->dev_ratio, buf);
}

int
fat_io_write_secs(struct fat_vol *vol, uint64_t lsec, uint32_t n,
		  const void *buf)
{
	if (lsec + n > vol->total_secs)
		return -EUCLEAN;
	if (vol->read_only)
		return -EROFS;
	return vol->dev->ops->write(vol->dev, lsec * vol->dev_ratio,
				    n * vol->dev_ratio, buf);
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
			err = dev->ops->read(dev, sec, 1, bounce);
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
				err = dev->ops->write(dev, sec, 1, bounce);
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
			err = dev->ops->write(dev, sec, (uint32_t)nsec, zeros);
		} else {
			if (nsec > (1u << 20))
				nsec = 1u << 20;
			if (rbuf)
				err = dev->ops->read(dev, sec, (uint32_t)nsec, rbuf);
			else
				err = dev->ops->write(dev, sec, (uint32_t)nsec,
						      wbuf);
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
