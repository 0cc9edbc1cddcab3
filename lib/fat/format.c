/* format.c - makes an empty FAT12/16/32 volume the way mkfs.fat lays one
 * out (same defaults for sizes, cluster sizes and the floppy geometry). */
#include <stdlib.h>
#include <time.h>

#include "dvs/log.h"
#include "fat_int.h"

int fat_label_check(const char *label, uint8_t *out11);

struct geom {
	int type;
	uint32_t ss, spc, rsvd, nfats, root_ents, root_secs, fatsz, total;
	uint32_t clusters;
	int forced;	/* the caller asked for this type */
};

static void
compute(struct geom *g)
{
	uint32_t bits = (uint32_t)g->type;

	g->root_secs = g->type == 32 ? 0
				     : (g->root_ents * FAT_DIRENT_SIZE + g->ss - 1) / g->ss;
	g->fatsz = 1;
	for (int i = 0; i < 64; i++) {
		uint64_t meta = (uint64_t)g->rsvd + (uint64_t)g->nfats * g->fatsz +
				g->root_secs;
		if (meta >= g->total) {
			g->clusters = 0;
			return;
		}
		g->clusters = (uint32_t)((g->total - meta) / g->spc);
		uint64_t bytes = ((uint64_t)g->clusters + 2) * bits;
		bytes = (bytes + 7) / 8;
		uint32_t need = (uint32_t)((bytes + g->ss - 1) / g->ss);
		if (need <= g->fatsz)
			return;
		g->fatsz = need;
	}
}

static int
type_ok(const struct geom *g)
{
	switch (g->type) {
	case 12:
		return g->clusters >= 1 && g->clusters < 4085;
	case 16:
		return g->clusters >= 4085 && g->clusters <= 65524;
	default:
		/* mkfs.fat makes smaller FAT32 volumes with a warning; Linux,
		 * mtools and dosfstools tell FAT32 by its BPB, not its size */
		return g->clusters >= (g->forced ? 1u : 65525u) &&
		       g->clusters <= 0x0FFFFFF5;
	}
}

/* Default cluster size in bytes for a volume of size bytes and a type
 * (the table mkfs.fat and Windows use). */
static uint32_t
default_cs(int type, uint64_t size)
{
	const uint64_t M = 1024 * 1024;
	if (type == 12)
		return size <= 2 * M ? 512 : 2048;
	if (type == 16)
		return size <= 128 * M ? 2048 : size <= 256 * M ? 4096
		       : size <= 512 * M ? 8192 : size <= 1024 * M ? 16384 : 32768;
	return size <= 260 * M ? 512 : size <= 8192 * M ? 4096
	       : size <= 16384 * M ? 8192 : size <= 32768 * M ? 16384 : 32768;
}

static int
choose(struct geom *g, uint64_t size, uint32_t want_cs)
{
	if (want_cs) {
		if (want_cs < g->ss || want_cs % g->ss || want_cs / g->ss > 128 ||
		    (want_cs & (want_cs - 1)))
			return -EINVAL;
		g->spc = want_cs / g->ss;
		compute(g);
		return type_ok(g) ? 0 : -EINVAL;
	}
	uint32_t cs = default_cs(g->type, size);
	if (cs < g->ss)
		cs = g->ss;
	g->spc = cs / g->ss;
	compute(g);
	/* too many clusters: bigger ones; too few: smaller ones */
	while (!type_ok(g)) {
		if (g->type == 12 || g->clusters > 65524 * (g->type == 16)) {
			if (g->type != 32 && g->spc < 128) {
				g->spc *= 2;
				compute(g);
				continue;
			}
		}
		if (g->spc > 1) {
			g->spc /= 2;
			compute(g);
			if (type_ok(g))
				break;
			continue;
		}
		return -EINVAL;
	}
	return 0;
}

int
fat_format(struct fat_blkdev *dev, const struct fat_format_opts *opts)
{
	struct fat_format_opts o = {0};
	struct geom g = {0};
	uint8_t *b = NULL, *z = NULL, l11[11];
	uint64_t size;
	int err, floppy = 0;

	if (opts)
		o = *opts;
	if (!dev || !dev->ops || !dev->ops->write)
		return -EINVAL;
	if (dev->read_only)
		return -EROFS;
	g.ss = o.sector_size ? o.sector_size : (dev->sector_size > 512 ? dev->sector_size : 512);
	if (g.ss < 512 || g.ss > 4096 || (g.ss & (g.ss - 1)) || g.ss % dev->sector_size)
		return -EINVAL;
	size = o.size ? o.size : dev->sector_count * dev->sector_size;
	if (size > dev->sector_count * dev->sector_size)
		return -EINVAL;
	g.total = (uint32_t)(size / g.ss > 0xFFFFFFFFull ? 0xFFFFFFFFull : size / g.ss);
	if (o.label) {
		err = fat_label_check(o.label, l11);
		if (err)
			return err;
		if (o.label[0] == 0)
			memcpy(l11, "NO NAME    ", 11);
	} else
		memcpy(l11, "NO NAME    ", 11);
	g.nfats = o.num_fats ? o.num_fats : 2;
	g.type = o.fat_type;
	g.forced = o.fat_type != 0;
	if (g.type != 0 && g.type != 12 && g.type != 16 && g.type != 32)
		return -EINVAL;
	floppy = size == 1474560 && g.ss == 512 && g.type != 16 && g.type != 32;
	if (g.type == 0) {
		if (size >= 512ull * 1024 * 1024)
			g.type = 32;
		else if (size <= 16ull * 1024 * 1024)
			g.type = 12;
		else
			g.type = 16;
	}
	g.rsvd = g.type == 32 ? 32 : 1;
	g.root_ents = g.type == 32 ? 0 : o.root_entries ? o.root_entries
					 : floppy ? 224 : 512;
	if (g.type != 32 && g.root_ents % (g.ss / FAT_DIRENT_SIZE))
		g.root_ents += g.ss / FAT_DIRENT_SIZE - g.root_ents % (g.ss / FAT_DIRENT_SIZE);
	if (floppy && !o.cluster_size) {
		g.spc = 1;
		compute(&g);
	} else {
		err = choose(&g, size, o.cluster_size);
		if (err && !o.fat_type && !o.cluster_size && g.type == 12) {
			g.type = 16;	/* auto: a FAT12 that cannot fit becomes 16 */
			err = choose(&g, size, 0);
		}
		if (err) {
			dvs_err("no valid FAT%d layout for %llu bytes with %u-byte "
				"clusters", g.type, (unsigned long long)size,
				o.cluster_size ? o.cluster_size : g.spc * g.ss);
			return -EINVAL;
		}
	}
	b = calloc(1, g.ss);
	z = calloc(1, 65536);
	if (!b || !z) {
		err = -ENOMEM;
		goto out;
	}
	uint32_t volid = o.volume_id ? o.volume_id : (uint32_t)time(NULL) * 2654435761u;
	uint8_t media = o.media ? o.media : floppy ? 0xF0 : 0xF8;
	union fat_boot *bs = (union fat_boot *)(void *)b;
	struct fat_bpb *bpb = &bs->bpb;
	struct fat_bs_ext *ext = fat_boot_ext(bs, g.type);
	/* a jump over the BPB to where the boot code starts, as mkfs.fat */
	bpb->jmp_boot[0] = FAT_JMP_SHORT;
	bpb->jmp_boot[1] = g.type == 32 ? 0x58 : 0x3C;
	bpb->jmp_boot[2] = 0x90;
	memcpy(bpb->oem_name, "mkfs.fat", sizeof bpb->oem_name);
	bpb->byts_per_sec = htole16((uint16_t)g.ss);
	bpb->sec_per_clus = (uint8_t)g.spc;
	bpb->rsvd_sec_cnt = htole16((uint16_t)g.rsvd);
	bpb->num_fats = (uint8_t)g.nfats;
	bpb->root_ent_cnt = htole16((uint16_t)g.root_ents);
	if (g.total < 65536 && g.type != 32)
		bpb->tot_sec16 = htole16((uint16_t)g.total);
	else
		bpb->tot_sec32 = htole32(g.total);
	bpb->media = media;
	bpb->sec_per_trk = htole16(floppy ? 18 : 32);
	bpb->num_heads = htole16(floppy ? 2 : 64);
	bpb->hidd_sec = htole32(o.hidden_sectors);
	if (g.type == 32) {
		bs->b32.fat_sz32 = htole32(g.fatsz);
		bs->b32.root_clus = htole32(2);
		bs->b32.fs_info = htole16(FAT32_FSINFO_SEC);
		bs->b32.bk_boot_sec = htole16(FAT32_BACKUP_BOOT_SEC);
		ext->drv_num = 0x80;
		memcpy(ext->fil_sys_type, "FAT32   ", 8);
	} else {
		bpb->fat_sz16 = htole16((uint16_t)g.fatsz);
		ext->drv_num = floppy ? 0x00 : 0x80;
		memcpy(ext->fil_sys_type, g.type == 12 ? "FAT12   " : "FAT16   ", 8);
	}
	ext->boot_sig = FAT_BOOT_SIG_EXT;
	ext->vol_id = htole32(volid);
	memcpy(ext->vol_lab, l11, sizeof ext->vol_lab);
	bs->b16.signature[0] = FAT_BOOT_SIG0;
	bs->b16.signature[1] = FAT_BOOT_SIG1;

	/* a temporary volume describing the layout lets us use the I/O
	 * helpers with their bounds checks */
	struct fat_vol v = {0};
	v.dev = dev;
	v.ss = g.ss;
	v.ss_shift = 0;
	while ((1u << v.ss_shift) < g.ss)
		v.ss_shift++;
	v.dev_ratio = g.ss / dev->sector_size;
	v.total_secs = g.total;
	uint64_t meta = (uint64_t)g.rsvd + (uint64_t)g.nfats * g.fatsz + g.root_secs;
	uint64_t zero_bytes = (meta << v.ss_shift) + (g.type == 32 ? g.spc * g.ss : 0);
	err = fat_io_zero_bytes(&v, 0, zero_bytes);
	if (err)
		goto out;
	err = fat_io_write_secs(&v, 0, 1, b);
	if (!err && g.type == 32)
		err = fat_io_write_secs(&v, FAT32_BACKUP_BOOT_SEC, 1, b);
	if (err)
		goto out;
	if (g.type == 32) {
		struct fat_fsinfo *fi = calloc(1, g.ss);
		if (!fi) {
			err = -ENOMEM;
			goto out;
		}
		fi->lead_sig = htole32(FAT_FSI_LEAD_SIG);
		fi->struc_sig = htole32(FAT_FSI_STRUC_SIG);
		fi->free_count = htole32(g.clusters - 1);	/* the root has one */
		fi->nxt_free = htole32(3);
		fi->trail_sig = htole32(FAT_FSI_TRAIL_SIG);
		err = fat_io_write_secs(&v, FAT32_FSINFO_SEC, 1, fi);
		if (!err)
			err = fat_io_write_secs(&v, FAT32_BACKUP_BOOT_SEC + FAT32_FSINFO_SEC,
						1, fi);
		free(fi);
		if (err)
			goto out;
	}
	/* first FAT sector: entry 0 holds the media byte, entry 1 an
	 * end-of-chain; on FAT32 entry 2 ends the root's chain */
	memset(b, 0, g.ss);
	if (g.type == 12) {
		b[0] = media;	/* 0xF00 | media, then 0xFFF: 12 bits each */
		b[1] = 0xFF;
		b[2] = 0xFF;
	} else if (g.type == 16) {
		uint16_t *f16 = (uint16_t *)(void *)b;
		f16[0] = htole16((uint16_t)(0xFF00 | media));
		f16[1] = htole16(0xFFFF);
	} else {
		uint32_t *f32 = (uint32_t *)(void *)b;
		f32[0] = htole32((FAT32_ENTRY_MASK & ~0xFFu) | media);
		f32[1] = htole32(FAT32_ENTRY_MASK);
		f32[2] = htole32(FAT32_ENTRY_MASK);
	}
	for (uint32_t k = 0; k < g.nfats && !err; k++)
		err = fat_io_write_secs(&v, g.rsvd + k * g.fatsz, 1, b);
	if (err)
		goto out;
	if (memcmp(l11, "NO NAME    ", 11) != 0) {
		struct fat_sfn e = {0};
		uint16_t d, t;
		memcpy(e.name, l11, sizeof e.name);
		e.attr = FAT_ATTR_VOLID;
		fat_time_to_dos(NULL, time(NULL), &d, &t, NULL);
		e.wrt_time = htole16(t);
		e.wrt_date = htole16(d);
		uint64_t root_off = g.type == 32 ? (meta << v.ss_shift)
						 : ((uint64_t)(g.rsvd + g.nfats * g.fatsz) << v.ss_shift);
		err = fat_io_write_bytes(&v, root_off, sizeof e, &e);
		if (err)
			goto out;
	}
	if (dev->ops->flush)
		err = dev->ops->flush(dev);
out:
	free(b);
	free(z);
	return err;
}
