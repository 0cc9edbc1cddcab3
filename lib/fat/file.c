/* file.c - open files: reads and writes go straight between the caller's
 * buffer and the device through the node's extent map (no chain walk, no
 * copy through a cache); the directory entry is updated in the metadata
 * cache.  Lock order: node->rw, then vol->lock. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

#include "fat_int.h"

#define FAT_MAX_FILE 0xFFFFFFFFull

static int wb_before_read(struct fat_vol *vol, struct fat_node *n,
			  uint64_t off, uint64_t len);

static int
check_file(struct fat_file *f)
{
	return f && f->magic == FAT_FILE_MAGIC ? 0 : -EINVAL;
}

#define ACC_WRITES 1	/* check_access: needs a writable volume */
#define ACC_NO_DIR 2	/* check_access: not on a directory */

/* The checks a data call starts with: a live handle, opened for this
 * access (denied: the O_ACCMODE that may not do it), then what how says. */
static int
check_access(struct fat_file *f, int denied, int how)
{
	if (check_file(f))
		return -EINVAL;
	if ((f->flags & O_ACCMODE) == denied)
		return -EBADF;
	if ((how & ACC_WRITES) && f->vol->read_only)
		return -EROFS;
	if ((how & ACC_NO_DIR) && f->node->is_dir)
		return -EISDIR;
	return 0;
}

int
fat_open(struct fat_vol *vol, const char *path, int flags, struct fat_file **out)
{
	struct fat_node *p = NULL, *n = NULL;
	struct fat_file *f;
	uint16_t name[FAT_LFN_MAX + 1];
	int nlen, rec, err, acc = flags & O_ACCMODE;
	int wr = acc == O_WRONLY || acc == O_RDWR;

	if (!vol || vol->magic != FAT_VOL_MAGIC || !out)
		return -EINVAL;
	*out = NULL;
	if (vol->read_only && (wr || (flags & (O_CREAT | O_TRUNC))))
		return -EROFS;
	f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	dvs_mutex_lock(&vol->lock);
	fat_cache_trim(vol);
	err = fat_walk(vol, path, &p, name, &nlen);
	if (err)
		goto out;
	if (!p) {
		if (wr) {
			err = -EISDIR;
			goto out;
		}
		n = vol->root;
		n->refs++;
		goto opened;
	}
	err = fat_dir_load(vol, p);
	if (err)
		goto out;
	rec = fat_dir_find(vol, p, name, nlen);
	if (rec >= 0 && (flags & O_CREAT) && (flags & O_EXCL)) {
		err = -EEXIST;
		goto out;
	}
	if (rec < 0) {
		struct fat_sfn e;
		struct timespec now;
		uint16_t d, t;
		uint8_t c10;
		if (!(flags & O_CREAT)) {
			err = rec;
			goto out;
		}
		clock_gettime(CLOCK_REALTIME, &now);
		memset(&e, 0, sizeof e);
		e.attr = FAT_ATTR_ARCHIVE;
		fat_time_to_dos(vol, now.tv_sec, &d, &t, &c10);
		e.crt_time = htole16(t);
		e.crt_date = htole16(d);
		e.crt_time_tenth = (uint8_t)(c10 + now.tv_nsec / 10000000);
		e.lst_acc_date = htole16(d);
		e.wrt_time = htole16(t);
		e.wrt_date = htole16(d);
		rec = fat_dir_add(vol, p, name, nlen, &e);
		if (rec < 0) {
			err = rec;
			goto out;
		}
	}
	uint8_t attr = fat_dir_slot(p, p->dd->recs[rec].short_slot)->attr;
	if ((attr & FAT_ATTR_DIR) && wr) {
		err = -EISDIR;
		goto out;
	}
	if ((attr & FAT_ATTR_RDONLY) && (wr || (flags & O_TRUNC)) &&
	    !(flags & FAT_O_OVERRIDE_RO)) {
		err = -EACCES;
		goto out;
	}
	n = fat_node_get(vol, p, rec, &err);
	if (!n)
		goto out;
opened:
	f->magic = FAT_FILE_MAGIC;
	f->vol = vol;
	f->node = n;
	f->flags = flags;
	*out = f;
	f = NULL;
out:
	if (p)
		fat_node_put(vol, p);
	dvs_mutex_unlock(&vol->lock);
	free(f);
	if (!err && (flags & O_TRUNC) && wr && !(*out)->node->is_dir) {
		err = fat_ftruncate(*out, 0);
		if (err) {
			fat_close(*out);
			*out = NULL;
		}
	}
	return err;
}

ssize_t
fat_pread(struct fat_file *f, void *buf, size_t len, uint64_t off)
{
	struct fat_vol *vol;
	struct fat_node *n;
	uint8_t *dst = buf;
	size_t done = 0;
	int err = 0;

	err = check_access(f, O_WRONLY, ACC_NO_DIR);
	if (err)
		return err;
	vol = f->vol;
	n = f->node;
	dvs_rw_rdlock(&n->rw);
	if (off >= n->size)
		goto out;
	if (len > n->size - off)
		len = (size_t)(n->size - off);
	err = wb_before_read(vol, n, off, len);
	if (err)
		goto out;
	while (done < len) {
		uint32_t dcl, run;
		uint64_t pos = off + done;
		if (fat_emap_lookup(&n->map, (uint32_t)(pos >> vol->cs_shift), &dcl,
				    &run)) {
			err = -EUCLEAN;
			break;
		}
		uint64_t in = pos & (vol->cs - 1);
		uint64_t avail = ((uint64_t)run << vol->cs_shift) - in;
		size_t k = len - done < avail ? len - done : (size_t)avail;
		err = fat_io_read_bytes(vol, fat_clus_off(vol, dcl) + in, k, dst + done);
		if (err)
			break;
		done += k;
	}
out:
	dvs_rw_unlock(&n->rw);
	if (err && done == 0)
		return err;
	return (ssize_t)done;
}

/* Writes (or zeroes, buf NULL) [off, off+len) which must be mapped. */
static int
put_range(struct fat_vol *vol, struct fat_node *n, const uint8_t *buf,
	  uint64_t off, uint64_t len)
{
	uint64_t done = 0;
	int err;

	while (done < len) {
		uint32_t dcl, run;
		uint64_t pos = off + done;
		if (fat_emap_lookup(&n->map, (uint32_t)(pos >> vol->cs_shift), &dcl,
				    &run))
			return -EUCLEAN;
		uint64_t in = pos & (vol->cs - 1);
		uint64_t avail = ((uint64_t)run << vol->cs_shift) - in;
		uint64_t k = len - done < avail ? len - done : avail;
		if (buf)
			err = fat_io_write_bytes(vol, fat_clus_off(vol, dcl) + in, k,
						 buf + done);
		else
			err = fat_io_zero_bytes(vol, fat_clus_off(vol, dcl) + in, k);
		if (err)
			return err;
		done += k;
	}
	return 0;
}

int
fat_wb_flush(struct fat_vol *vol, struct fat_node *n)
{
	int err = 0;

	dvs_mutex_lock(&n->wb_lock);
	if (n->wb_len) {
		err = put_range(vol, n, n->wb, n->wb_off, n->wb_len);
		if (!err)
			n->wb_len = 0;
	}
	dvs_mutex_unlock(&n->wb_lock);
	return err;
}

/* At the close of a writable handle: the buffered run goes to the
 * volume's stage when it lies in one extent (whole device sectors), so
 * many small files written one after another leave in one device write
 * (10,000 files of 4 KiB: ~40 writes instead of 10,000); else it is
 * written now.  Caller holds n->rw for writing. */
static int
wb_close(struct fat_vol *vol, struct fat_node *n)
{
	uint32_t dcl, run;
	int err = 0;

	dvs_mutex_lock(&n->wb_lock);
	if (n->wb_len) {
		err = 1;
		if (!fat_emap_lookup(&n->map, (uint32_t)(n->wb_off >> vol->cs_shift),
				     &dcl, &run)) {
			uint64_t in = n->wb_off & (vol->cs - 1);
			if (n->wb_len <= ((uint64_t)run << vol->cs_shift) - in)
				err = fat_io_stage(vol, fat_clus_off(vol, dcl) + in,
						   n->wb, n->wb_len);
		}
		if (err == 1)
			err = put_range(vol, n, n->wb, n->wb_off, n->wb_len);
		if (!err)
			n->wb_len = 0;
	}
	dvs_mutex_unlock(&n->wb_lock);
	return err;
}

void
fat_wb_free(struct fat_vol *vol, struct fat_node *n)
{
	if (!n->wb)
		return;
	free(n->wb);
	__atomic_store_n(&n->wb, NULL, __ATOMIC_RELEASE);
	n->wb_len = 0;
	__atomic_sub_fetch(&vol->wb_bytes, vol->wb_cap, __ATOMIC_SEQ_CST);
}

/* Gets n a buffer if the volume's budget allows.  n->wb_lock held. */
static int
wb_get(struct fat_vol *vol, struct fat_node *n)
{
	if (n->wb)
		return 1;
	if (vol->wb_cap == 0)
		return 0;
	if (__atomic_add_fetch(&vol->wb_bytes, vol->wb_cap, __ATOMIC_SEQ_CST) >
	    vol->wb_budget) {
		__atomic_sub_fetch(&vol->wb_bytes, vol->wb_cap, __ATOMIC_SEQ_CST);
		return 0;
	}
	/* stored atomically: fat_flush_all peeks at it without wb_lock */
	__atomic_store_n(&n->wb, malloc(vol->wb_cap), __ATOMIC_RELEASE);
	if (!n->wb) {
		__atomic_sub_fetch(&vol->wb_bytes, vol->wb_cap, __ATOMIC_SEQ_CST);
		return 0;
	}
	return 1;
}

/* Writes buf at off through the write-behind buffer: appends to the
 * buffered run stay in memory (small writes become one device write);
 * anything else flushes the run first.  Caller holds n->rw for writing;
 * [off, off+len) is allocated. */
static int
wb_write(struct fat_vol *vol, struct fat_node *n, const uint8_t *buf,
	 uint64_t off, uint64_t len)
{
	int err = 0;

	dvs_mutex_lock(&n->wb_lock);
	if (n->wb_len && off == n->wb_off + n->wb_len &&
	    n->wb_len + len <= vol->wb_cap) {
		memcpy(n->wb + n->wb_len, buf, len);
		n->wb_len += (uint32_t)len;
		goto out;
	}
	if (n->wb_len) {
		err = put_range(vol, n, n->wb, n->wb_off, n->wb_len);
		if (err)
			goto out;
		n->wb_len = 0;
	}
	if (len < vol->wb_cap && wb_get(vol, n)) {
		memcpy(n->wb, buf, len);
		n->wb_off = off;
		n->wb_len = (uint32_t)len;
	} else {
		err = put_range(vol, n, buf, off, len);
	}
out:
	dvs_mutex_unlock(&n->wb_lock);
	return err;
}

/* Before reading [off, off+len): buffered bytes there go to the device. */
static int
wb_before_read(struct fat_vol *vol, struct fat_node *n, uint64_t off,
	       uint64_t len)
{
	int err = 0;

	dvs_mutex_lock(&n->wb_lock);
	if (n->wb_len && off < n->wb_off + n->wb_len && n->wb_off < off + len) {
		err = put_range(vol, n, n->wb, n->wb_off, n->wb_len);
		if (!err)
			n->wb_len = 0;
	}
	dvs_mutex_unlock(&n->wb_lock);
	return err;
}

/* Gives back clusters past the size after a failed or short growth, so
 * the chain never outgrows the entry's size.  Caller holds n->rw. */
static void
shrink_to_size(struct fat_vol *vol, struct fat_node *n)
{
	uint32_t keep = (uint32_t)((n->size + vol->cs - 1) >> vol->cs_shift);

	if (n->map.nclusters <= keep)
		return;
	dvs_mutex_lock(&vol->lock);
	fat_chain_cut(vol, &n->map, keep);
	if (keep == 0) {
		n->first_cluster = 0;
		fat_node_update_ent(vol, n, 0);
	}
	dvs_mutex_unlock(&vol->lock);
}

/* Makes sure clusters cover [0, end); *end is lowered if the volume is
 * full.  Caller holds n->rw for writing. */
static int
grow_map(struct fat_vol *vol, struct fat_node *n, uint64_t *end)
{
	uint64_t need = (*end + vol->cs - 1) >> vol->cs_shift;
	uint32_t got = 0;
	int err = 0;

	if (need <= n->map.nclusters)
		return 0;
	dvs_mutex_lock(&vol->lock);
	err = fat_alloc(vol, &n->map, (uint32_t)(need - n->map.nclusters), &got, 0);
	if (n->first_cluster == 0 && n->map.nclusters > 0) {
		n->first_cluster = n->map.v[0].dcl;
		fat_node_update_ent(vol, n, 0);
	}
	dvs_mutex_unlock(&vol->lock);
	if (err)
		return err;
	if (n->map.nclusters < need) {
		uint64_t have = (uint64_t)n->map.nclusters << vol->cs_shift;
		*end = have;
	}
	return 0;
}

ssize_t
fat_pwrite(struct fat_file *f, const void *buf, size_t len, uint64_t off)
{
	struct fat_vol *vol;
	struct fat_node *n;
	uint64_t end;
	ssize_t ret;
	int err;

	ret = check_access(f, O_RDONLY, ACC_WRITES);
	if (ret)
		return ret;
	vol = f->vol;
	n = f->node;
	if (len == 0)
		return 0;
	dvs_rw_wrlock(&n->rw);
	if (f->flags & O_APPEND)
		off = n->size;
	if (off >= FAT_MAX_FILE) {
		ret = -EFBIG;
		goto out;
	}
	if (len > FAT_MAX_FILE - off)
		len = (size_t)(FAT_MAX_FILE - off);
	end = off + len;
	err = grow_map(vol, n, &end);
	if (err) {
		ret = err;
		goto fail;
	}
	if (end <= off) {
		ret = -ENOSPC;
		goto fail;
	}
	len = (size_t)(end - off);
	if (off > n->size) {
		/* FAT has no holes: the gap reads as zeros */
		err = put_range(vol, n, NULL, n->size, off - n->size);
		if (err) {
			ret = err;
			goto fail;
		}
	}
	err = wb_write(vol, n, buf, off, len);
	if (err) {
		ret = err;
		goto fail;
	}
	if (end > n->size)
		n->size = end;
	dvs_mutex_lock(&vol->lock);
	fat_node_update_ent(vol, n, 1);
	dvs_mutex_unlock(&vol->lock);
	ret = (ssize_t)len;
	goto out;
fail:
	shrink_to_size(vol, n);
out:
	dvs_rw_unlock(&n->rw);
	return ret;
}

int
fat_ftruncate(struct fat_file *f, uint64_t size)
{
	struct fat_vol *vol;
	struct fat_node *n;
	int err = 0;

	err = check_access(f, O_RDONLY, ACC_WRITES | ACC_NO_DIR);
	if (err)
		return err;
	vol = f->vol;
	n = f->node;
	if (size > FAT_MAX_FILE)
		return -EFBIG;
	dvs_rw_wrlock(&n->rw);
	/* buffered bytes first, so nothing lands past a new end later */
	err = fat_wb_flush(vol, n);
	if (err) {
		dvs_rw_unlock(&n->rw);
		return err;
	}
	if (size < n->size) {
		uint32_t keep = (uint32_t)((size + vol->cs - 1) >> vol->cs_shift);
		dvs_mutex_lock(&vol->lock);
		n->size = size;
		fat_node_update_ent(vol, n, 1);
		/* The smaller size reaches the disk before the chain's new
		 * end does: a cut in between leaves clusters past the size
		 * (lost clusters), never a size the chain cannot hold.  A
		 * cut to nothing needs no flush: the entry loses its first
		 * cluster before the chain is freed (fat_flush_all). */
		if (keep > 0 && keep < n->map.nclusters && !n->unlinked)
			err = fat_flush_all(vol);
		if (!err)
			err = fat_chain_cut(vol, &n->map, keep);
		if (keep == 0) {
			n->first_cluster = 0;
			fat_node_update_ent(vol, n, 0);
		}
		dvs_mutex_unlock(&vol->lock);
	} else if (size > n->size) {
		uint64_t end = size;
		err = grow_map(vol, n, &end);
		if (!err && end < size)
			err = -ENOSPC;
		if (!err)
			err = put_range(vol, n, NULL, n->size, size - n->size);
		if (!err) {
			n->size = size;
			dvs_mutex_lock(&vol->lock);
			fat_node_update_ent(vol, n, 1);
			dvs_mutex_unlock(&vol->lock);
		} else
			shrink_to_size(vol, n);
	} else {
		dvs_mutex_lock(&vol->lock);
		fat_node_update_ent(vol, n, 1);
		dvs_mutex_unlock(&vol->lock);
	}
	dvs_rw_unlock(&n->rw);
	return err;
}

int
fat_fallocate(struct fat_file *f, int mode, uint64_t off, uint64_t len)
{
	struct fat_vol *vol;
	struct fat_node *n;
	uint64_t end;
	int err;

	err = check_access(f, O_RDONLY, ACC_WRITES | ACC_NO_DIR);
	if (err)
		return err;
	/* FAT has no holes and no unwritten extents: what cannot be said
	 * is refused as vfat refuses it. */
	if (mode & ~FAT_FALLOC_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (len == 0)
		return -EINVAL;
	if (off >= FAT_MAX_FILE || len > FAT_MAX_FILE - off)
		return -EFBIG;
	vol = f->vol;
	n = f->node;
	end = off + len;
	if (!(mode & FAT_FALLOC_KEEP_SIZE)) {
		/* Clusters below the size exist already: only a longer file
		 * allocates, which is a truncation that grows (zeros). */
		if (end <= n->size)
			return 0;
		return fat_ftruncate(f, end);
	}
	dvs_rw_wrlock(&n->rw);
	/* Clusters past the size; they hold whatever was there (never
	 * read: reads stop at the size, a write that grows the file
	 * zeroes the gap) and go at the close (fat_close). */
	err = fat_wb_flush(vol, n);
	if (!err)
		err = grow_map(vol, n, &end);
	if (!err && end < off + len)
		err = -ENOSPC;
	if (err)
		shrink_to_size(vol, n);
	dvs_rw_unlock(&n->rw);
	return err;
}

int
fat_fsync(struct fat_file *f)
{
	int err;

	if (check_file(f))
		return -EINVAL;
	if (f->vol->read_only)
		return 0;
	dvs_mutex_lock(&f->vol->lock);
	err = fat_flush_all(f->vol);
	dvs_mutex_unlock(&f->vol->lock);
	return err;
}

int
fat_fstat(struct fat_file *f, struct fat_stat *st)
{
	struct fat_vol *vol;
	struct fat_node *n;

	if (check_file(f) || !st)
		return -EINVAL;
	vol = f->vol;
	n = f->node;
	dvs_rw_rdlock(&n->rw);
	dvs_mutex_lock(&vol->lock);
	if (n == vol->root) {
		memset(st, 0, sizeof *st);
		st->ino = 1;
		st->attr = FAT_ATTR_DIR;
		st->nlink = 1;
		st->blksize = vol->cs;
	} else if (!n->unlinked && n->parent && n->parent->dd) {
		fat_ent_stat(vol, fat_dir_slot(n->parent, n->short_slot), n->ino, st);
	} else {
		memset(st, 0, sizeof *st);
		st->ino = n->ino;
		st->nlink = 0;
		st->blksize = vol->cs;
	}
	st->size = n->is_dir ? 0 : n->size;
	st->first_cluster = n->first_cluster;
	st->blocks = (uint64_t)n->map.nclusters * (vol->cs / 512);
	dvs_mutex_unlock(&vol->lock);
	dvs_rw_unlock(&n->rw);
	return 0;
}

int
fat_close(struct fat_file *f)
{
	struct fat_vol *vol;
	int err = 0;

	if (!f)
		return 0;
	if (check_file(f))
		return -EINVAL;
	vol = f->vol;
	if (!f->node->is_dir && (f->flags & O_ACCMODE) != O_RDONLY) {
		dvs_rw_wrlock(&f->node->rw);
		err = wb_close(vol, f->node);
		/* Clusters preallocated past the size (fallocate with
		 * FAT_FALLOC_KEEP_SIZE) go when a writer closes, as on vfat:
		 * on disk a chain longer than its file is an error. */
		shrink_to_size(vol, f->node);
		dvs_rw_unlock(&f->node->rw);
	}
	dvs_mutex_lock(&vol->lock);
	fat_node_put(vol, f->node);
	dvs_mutex_unlock(&vol->lock);
	f->magic = 0;
	free(f);
	return err;
}
