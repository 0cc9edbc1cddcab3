/* vol.c - mounting: boot sector checks, the FAT read into memory, the
 * dirty flag, FSInfo, sync, statfs, the label. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dvs/log.h"
#include "fat_int.h"

static int
is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static uint32_t
log2u(uint32_t v)
{
	uint32_t s = 0;
	while ((1u << s) < v)
		s++;
	return s;
}

/* Checks the boot sector and fills the geometry.  Every number that
 * later bounds an access is validated here. */
static int
parse_boot(struct fat_vol *vol, const union fat_boot *b, uint64_t dev_bytes)
{
	const struct fat_bpb *bpb = &b->bpb;
	uint32_t ss = le16toh(bpb->byts_per_sec), spc = bpb->sec_per_clus, tot, fatsz;
	uint64_t need;

	/* either mark will do: old DOS disks lack the signature */
	if (b->b16.signature[0] != FAT_BOOT_SIG0 ||
	    b->b16.signature[1] != FAT_BOOT_SIG1) {
		if (bpb->jmp_boot[0] != FAT_JMP_SHORT && bpb->jmp_boot[0] != FAT_JMP_NEAR)
			return -EUCLEAN;
	}
	if (ss < 512 || ss > 4096 || !is_pow2(ss) || !is_pow2(spc) || spc > 128)
		return -EUCLEAN;
	if (ss % vol->dev->sector_size)
		return -EUCLEAN;
	vol->ss = ss;
	vol->ss_shift = log2u(ss);
	vol->spc = spc;
	vol->cs = ss * spc;
	if (vol->cs > (1u << 21))
		return -EUCLEAN;
	vol->cs_shift = log2u(vol->cs);
	vol->dev_ratio = ss / vol->dev->sector_size;
	vol->rsvd = le16toh(bpb->rsvd_sec_cnt);
	vol->nfats = bpb->num_fats;
	vol->root_ents = le16toh(bpb->root_ent_cnt);
	tot = le16toh(bpb->tot_sec16);
	if (tot == 0)
		tot = le32toh(bpb->tot_sec32);
	fatsz = le16toh(bpb->fat_sz16);
	if (vol->rsvd < 1 || vol->nfats < 1 || vol->nfats > 4 || tot == 0)
		return -EUCLEAN;
	if (fatsz == 0) {
		vol->type = 32;
		fatsz = le32toh(b->b32.fat_sz32);
		if (vol->root_ents != 0 || fatsz == 0)
			return -EUCLEAN;
		vol->root_clus = le32toh(b->b32.root_clus);
		vol->fsinfo_sec = le16toh(b->b32.fs_info);
		if (vol->fsinfo_sec == 0 || vol->fsinfo_sec >= vol->rsvd)
			vol->fsinfo_sec = 0;
		vol->volume_id = le32toh(b->b32.ext.vol_id);
	} else {
		vol->volume_id = le32toh(b->b16.ext.vol_id);
		if (vol->root_ents == 0)
			return -EUCLEAN;
	}
	vol->fatsz = fatsz;
	vol->total_secs = tot;
	vol->root_start = vol->rsvd + vol->nfats * fatsz;
	vol->root_secs = (uint32_t)(((uint64_t)vol->root_ents * FAT_DIRENT_SIZE +
				     ss - 1) / ss);
	need = (uint64_t)vol->rsvd + (uint64_t)vol->nfats * fatsz + vol->root_secs;
	if (need >= tot)
		return -EUCLEAN;
	vol->data_start = (uint32_t)need;
	vol->nclusters = (tot - vol->data_start) / spc;
	if (vol->nclusters == 0)
		return -EUCLEAN;
	if (vol->type != 32) {
		if (vol->nclusters < 4085)
			vol->type = 12;
		else if (vol->nclusters <= 65524)
			vol->type = 16;
		else
			return -EUCLEAN;
	} else if (vol->nclusters > 0x0FFFFFF5) {
		return -EUCLEAN;
	}
	/* a FAT too small for the clusters: only what it maps is usable */
	uint64_t ents = (uint64_t)fatsz * ss * 8 / (uint64_t)vol->type;
	if (ents < 3)
		return -EUCLEAN;
	if (ents - 2 < vol->nclusters)
		vol->nclusters = (uint32_t)(ents - 2);
	if ((uint64_t)tot * ss > dev_bytes) {
		dvs_warn("volume of %llu bytes does not fit in the device of %llu "
			"bytes (truncated image?)",
			(unsigned long long)tot * ss, (unsigned long long)dev_bytes);
		return -EUCLEAN;
	}
	if (vol->type == 32 && !fat_valid_clus(vol, vol->root_clus))
		return -EUCLEAN;
	return 0;
}

static int
write_boot(struct fat_vol *vol)
{
	return fat_io_write_secs(vol, 0, 1, vol->boot);
}

/* Writes FSInfo's free count (free, or FAT_FSI_UNKNOWN) and next-free
 * hint. */
static int
write_fsinfo(struct fat_vol *vol, uint32_t free_count)
{
	struct fat_fsinfo *s;
	int err;

	if (vol->type != 32 || !vol->fsinfo_sec || vol->read_only)
		return 0;
	s = malloc(vol->ss);
	if (!s)
		return -ENOMEM;
	err = fat_io_read_secs(vol, vol->fsinfo_sec, 1, s);
	if (!err && le32toh(s->lead_sig) == FAT_FSI_LEAD_SIG &&
	    le32toh(s->struc_sig) == FAT_FSI_STRUC_SIG) {
		s->free_count = htole32(free_count);
		s->nxt_free = htole32(vol->next_free >= 2 &&
					      vol->next_free <= vol->nclusters + 1
				      ? vol->next_free
				      : 2);
		err = fat_io_write_secs(vol, vol->fsinfo_sec, 1, s);
	}
	free(s);
	return err;
}

static void
vol_free(struct fat_vol *vol)
{
	if (!vol)
		return;
	fat_vol_unshared(vol); /* a failed mount, or unmounted */
	if (vol->ntab) {
		for (uint32_t b = 0; b < vol->ntab_size; b++) {
			struct fat_node *n = vol->ntab[b];
			while (n) {
				struct fat_node *nx = n->hnext;
				fat_dir_unload(vol, n);
				fat_wb_free(vol, n);
				fat_emap_free(&n->map);
				pthread_rwlock_destroy(&n->rw);
				pthread_mutex_destroy(&n->wb_lock);
				free(n);
				n = nx;
			}
		}
	}
	if (vol->root) {
		fat_dir_unload(vol, vol->root);
		fat_emap_free(&vol->root->map);
		pthread_rwlock_destroy(&vol->root->rw);
		free(vol->root);
	}
	free(vol->ntab);
	fat_inomap_free(vol->inomap);
	free(vol->fat);
	free(vol->fat_dirty);
	free(vol->pend);
	free(vol->links);
	free(vol->boot);
	free(vol->stage);
	pthread_mutex_destroy(&vol->stage_lock);
	pthread_mutex_destroy(&vol->lock);
	vol->magic = 0;
	free(vol);
}

int
fat_mount(struct fat_blkdev *dev, const struct fat_mount_opts *opts,
	  struct fat_vol **out)
{
	struct fat_mount_opts o = {0};
	struct fat_vol *vol;
	union fat_boot *b0 = NULL;
	int err;

	*out = NULL;
	if (opts)
		o = *opts;
	if (!dev || !dev->ops || !dev->ops->read || dev->sector_size < 512 ||
	    dev->sector_size > 4096 || !is_pow2(dev->sector_size))
		return -EINVAL;
	if (!o.read_only && (dev->read_only || !dev->ops->write))
		return -EROFS;
	vol = calloc(1, sizeof *vol);
	if (!vol)
		return -ENOMEM;
	pthread_mutex_init(&vol->lock, NULL);
	pthread_mutex_init(&vol->stage_lock, NULL);
	vol->magic = FAT_VOL_MAGIC;
	vol->dev = dev;
	vol->read_only = 1;	/* until the checks pass: nothing is written */
	vol->tz_off_sec = o.tz_offset_min * 60;
	vol->cache_bound = o.cache_bytes ? o.cache_bytes : (8u << 20);
	/* half the bound may hold write-behind buffers of open files */
	vol->wb_budget = vol->cache_bound / 2;
	vol->wb_cap = vol->wb_budget >= (256u << 10) ? (256u << 10)
		      : vol->wb_budget >= 4096 ? 4096 : 0;
	/* closed files' buffered bytes are staged to go out together (1 MiB
	   with the default bound; io.c) */
	vol->stage_cap = (size_t)vol->wb_cap * 4;
	if (dev->sector_count == 0) {
		err = -EUCLEAN;
		goto fail;
	}
	b0 = malloc(4096);
	if (!b0) {
		err = -ENOMEM;
		goto fail;
	}
	err = dev->ops->read(dev, 0, 4096 / dev->sector_size <= dev->sector_count
					     ? 4096 / dev->sector_size
					     : 1,
			     b0);
	if (err)
		goto fail;
	if (4096 / dev->sector_size > dev->sector_count)
		memset((uint8_t *)b0 + dev->sector_size, 0, 4096 - dev->sector_size);
	err = parse_boot(vol, b0, dev->sector_count * dev->sector_size);
	if (err) {
		if (err == -EUCLEAN)
			dvs_debug("not a valid FAT volume (bad boot sector)");
		goto fail;
	}
	vol->boot = malloc(vol->ss);
	vol->fat = malloc((size_t)vol->fatsz * vol->ss);
	vol->fat_dirty = calloc(vol->fatsz, 1);
	vol->ntab_size = 1024;
	vol->ntab = calloc(vol->ntab_size, sizeof *vol->ntab);
	vol->root = calloc(1, sizeof *vol->root);
	(void)fat_inomap_new(&vol->inomap);
	if (!vol->boot || !vol->fat || !vol->fat_dirty || !vol->ntab || !vol->root ||
	    !vol->inomap) {
		err = -ENOMEM;
		goto fail;
	}
	memcpy(vol->boot, b0, vol->ss);
	err = fat_io_read_secs(vol, vol->rsvd, vol->fatsz, vol->fat);
	if (err)
		goto fail;
	vol->free_count = fat_count_free(vol);
	vol->next_free = 2;
	if (vol->type == 32 && vol->fsinfo_sec) {
		struct fat_fsinfo *s = malloc(vol->ss);
		if (s && !fat_io_read_secs(vol, vol->fsinfo_sec, 1, s) &&
		    le32toh(s->lead_sig) == FAT_FSI_LEAD_SIG &&
		    fat_valid_clus(vol, le32toh(s->nxt_free)))
			vol->next_free = le32toh(s->nxt_free);
		free(s);
	}
	pthread_rwlock_init(&vol->root->rw, NULL);
	fat_vol_unshared(vol); /* not returned yet */
	vol->root->ino = 1;
	vol->root->is_dir = 1;
	vol->root->refs = 1;
	if (vol->type == 32) {
		vol->root->first_cluster = vol->root_clus;
		err = fat_chain_load(vol, vol->root_clus, &vol->root->map);
		if (err)
			goto fail;
	}
	err = fat_dir_load(vol, vol->root);
	if (err)
		goto fail;
	vol->read_only = o.read_only;
	if (!vol->read_only) {
		/* dirty while mounted */
		fat_boot_ext(vol->boot, vol->type)->reserved1 |= FAT_BS_DIRTY;
		err = write_boot(vol);
		/* FSInfo's free count says "unknown" while mounted, like the
		 * dirty bit: after a crash fsck.fat (and any mounter)
		 * counts instead of trusting a stale figure; a clean
		 * unmount writes the real count */
		if (!err)
			err = write_fsinfo(vol, FAT_FSI_UNKNOWN);
		if (!err)
			err = fat_io_flush(vol);
		if (err)
			goto fail;
		vol->dirty_flag_set = 1;
	}
	free(b0);
	*out = vol;
	return 0;
fail:
	free(b0);
	vol_free(vol);
	return err;
}

int
fat_sync(struct fat_vol *vol)
{
	int err;

	if (!vol || vol->magic != FAT_VOL_MAGIC)
		return -EINVAL;
	dvs_mutex_lock(&vol->lock);
	err = fat_flush_all(vol);
	if (!err)
		err = fat_io_flush(vol);
	dvs_mutex_unlock(&vol->lock);
	return err;
}

int
fat_unmount(struct fat_vol *vol)
{
	int err = 0;

	if (!vol)
		return 0;
	if (vol->magic != FAT_VOL_MAGIC)
		return -EINVAL;
	if (!vol->read_only) {
		err = fat_sync(vol);
		if (!err) {
			err = write_fsinfo(vol, vol->free_count);
			if (!err && vol->dirty_flag_set) {
				fat_boot_ext(vol->boot, vol->type)->reserved1 &=
					(uint8_t)~FAT_BS_DIRTY;
				err = write_boot(vol);
			}
			if (!err)
				err = fat_io_flush(vol);
		}
	}
	vol_free(vol);
	return err;
}

/* The root's volume-label entry (not a long-name part, whose attribute
 * bits include VOLID too). */
static int
is_label_ent(const struct fat_sfn *e)
{
	return e->name[0] != FAT_DIRENT_FREE && e->attr != FAT_ATTR_LFN &&
	       (e->attr & FAT_ATTR_VOLID);
}

/* Reads the label: the root's volume entry wins over the boot sector. */
static void
get_label(struct fat_vol *vol, char *out)
{
	const uint8_t *src = fat_boot_ext(vol->boot, vol->type)->vol_lab;
	struct fat_dirdata *dd = vol->root->dd;

	for (uint32_t i = 0; dd && i < dd->end_slot; i++) {
		const struct fat_sfn *e = fat_dd_ent(dd, i);
		if (is_label_ent(e)) {
			src = e->name;
			break;
		}
	}
	memcpy(out, src, 11);
	out[11] = 0;
	for (int i = 10; i >= 0 && out[i] == ' '; i--)
		out[i] = 0;
	if (strcmp(out, "NO NAME") == 0)
		out[0] = 0;
}

int
fat_statfs(struct fat_vol *vol, struct fat_statfs *st)
{
	if (!vol || vol->magic != FAT_VOL_MAGIC || !st)
		return -EINVAL;
	dvs_mutex_lock(&vol->lock);
	memset(st, 0, sizeof *st);
	st->fat_type = vol->type;
	st->sector_size = vol->ss;
	st->cluster_size = vol->cs;
	st->total_clusters = vol->nclusters;
	/* clusters waiting for the next flush are as good as free: the
	 * next allocation that needs them flushes first */
	st->free_clusters = vol->free_count + vol->npend;
	st->total_bytes = (uint64_t)vol->nclusters * vol->cs;
	st->free_bytes = (uint64_t)st->free_clusters * vol->cs;
	st->volume_id = vol->volume_id;
	st->name_max = 255;
	st->read_only = vol->read_only;
	get_label(vol, st->label);
	dvs_mutex_unlock(&vol->lock);
	return 0;
}

int
fat_label_check(const char *label, uint8_t *out11);

int
fat_label_check(const char *label, uint8_t *out11)
{
	size_t n = strlen(label);

	if (n > 11)
		return -EINVAL;
	memset(out11, ' ', 11);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)label[i];
		if (c < 0x20 || c >= 0x7F || strchr("*?.,;:/\\|+=<>[]\"", c))
			return -EINVAL;
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 32);
		out11[i] = c;
	}
	if (n > 0 && out11[0] == ' ')
		return -EINVAL;
	return 0;
}

int
fat_set_label(struct fat_vol *vol, const char *label)
{
	uint8_t l11[11];
	struct fat_node *root;
	struct fat_dirdata *dd;
	int err, slot = -1;

	if (!vol || vol->magic != FAT_VOL_MAGIC || !label)
		return -EINVAL;
	err = fat_label_check(label, l11);
	if (err)
		return err;
	if (vol->read_only)
		return -EROFS;
	dvs_mutex_lock(&vol->lock);
	root = vol->root;
	dd = root->dd;
	for (uint32_t i = 0; i < dd->end_slot; i++) {
		if (is_label_ent(fat_dd_ent(dd, i))) {
			slot = (int)i;
			break;
		}
	}
	if (label[0] == 0) {
		if (slot >= 0) {
			fat_dd_ent(dd, (uint32_t)slot)->name[0] = FAT_DIRENT_FREE;
			fat_dir_mark(vol, root, (uint32_t)slot);
			fat_dir_freed(dd, (uint32_t)slot);
		}
		memcpy(l11, "NO NAME    ", 11);
	} else {
		if (slot < 0) {
			/* the label needs one free slot, found like a file's */
			for (uint32_t i = 0; i < dd->nslots; i++) {
				uint8_t b = fat_dd_ent(dd, i)->name[0];
				if (b == FAT_DIRENT_END || b == FAT_DIRENT_FREE) {
					slot = (int)i;
					break;
				}
			}
			if (slot < 0) {
				err = -ENOSPC;
				goto out;
			}
			if ((uint32_t)slot >= dd->end_slot) {
				dd->end_slot = (uint32_t)slot + 1;
				if (dd->end_slot < dd->nslots)
					memset(fat_dd_ent(dd, dd->end_slot), 0,
					       FAT_DIRENT_SIZE);
				fat_dir_mark(vol, root, dd->end_slot < dd->nslots
								? dd->end_slot
								: (uint32_t)slot);
			}
		}
		struct fat_sfn *e = fat_dd_ent(dd, (uint32_t)slot);
		uint16_t d, t;
		memset(e, 0, sizeof *e);
		memcpy(e->name, l11, sizeof e->name);
		e->attr = FAT_ATTR_VOLID;
		fat_time_to_dos(vol, time(NULL), &d, &t, NULL);
		e->wrt_time = htole16(t);
		e->wrt_date = htole16(d);
		fat_dir_mark(vol, root, (uint32_t)slot);
	}
	memcpy(fat_boot_ext(vol->boot, vol->type)->vol_lab, l11, 11);
	err = write_boot(vol);
	if (!err && vol->type == 32 && vol->rsvd > FAT32_BACKUP_BOOT_SEC) {
		/* the backup boot sector carries the same label (it is the
		 * mount-time copy: no dirty flag in it) */
		union fat_boot *bk = malloc(vol->ss);
		if (!bk)
			err = -ENOMEM;
		else {
			err = fat_io_read_secs(vol, FAT32_BACKUP_BOOT_SEC, 1, bk);
			/* only if it is one: the jump and OEM name match */
			if (!err && memcmp(bk, vol->boot, 11) == 0) {
				memcpy(bk->b32.ext.vol_lab, l11, 11);
				err = fat_io_write_secs(vol, FAT32_BACKUP_BOOT_SEC, 1, bk);
			}
			free(bk);
		}
	}
	if (!err)
		err = fat_flush_all(vol);
out:
	dvs_mutex_unlock(&vol->lock);
	return err;
}

const char *
fat_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == EUCLEAN)
		return "the FAT volume is corrupt (run fsck.fat)";
	if (err == ENOSPC)
		return "no space left on the FAT volume";
	return strerror(err);
}
