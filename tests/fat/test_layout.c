/*
 * test_layout.c - every field of include/dvs/fat_layout.h at the offset and
 * with the size Microsoft's FAT specification (fatgen103, "FAT: General
 * Overview of On-Disk Format", 1.03) gives it, in the manner of
 * e2fsprogs' tst_inode_size.c.  The numbers below are typed from the
 * specification's tables, not computed from the structures; the MBR's
 * from the IBM PC partition table layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dvs/fat_layout.h"

struct field {
	const char *name;
	size_t off, size;	/* as the compiler laid them out */
	size_t spec_off, spec_size;
};

#define F(type, member, off, size)                                              \
	{#type "." #member, offsetof(type, member),                             \
	 sizeof(((type *)0)->member), off, size}

static const struct field fields[] = {
	/* "Boot Sector and BPB Structure", common to all types */
	F(struct fat_bpb, jmp_boot, 0, 3),
	F(struct fat_bpb, oem_name, 3, 8),
	F(struct fat_bpb, byts_per_sec, 11, 2),
	F(struct fat_bpb, sec_per_clus, 13, 1),
	F(struct fat_bpb, rsvd_sec_cnt, 14, 2),
	F(struct fat_bpb, num_fats, 16, 1),
	F(struct fat_bpb, root_ent_cnt, 17, 2),
	F(struct fat_bpb, tot_sec16, 19, 2),
	F(struct fat_bpb, media, 21, 1),
	F(struct fat_bpb, fat_sz16, 22, 2),
	F(struct fat_bpb, sec_per_trk, 24, 2),
	F(struct fat_bpb, num_heads, 26, 2),
	F(struct fat_bpb, hidd_sec, 28, 4),
	F(struct fat_bpb, tot_sec32, 32, 4),
	/* "Fat12 and Fat16 Structure Starting at Offset 36" */
	F(struct fat_boot16, ext.drv_num, 36, 1),
	F(struct fat_boot16, ext.reserved1, 37, 1),
	F(struct fat_boot16, ext.boot_sig, 38, 1),
	F(struct fat_boot16, ext.vol_id, 39, 4),
	F(struct fat_boot16, ext.vol_lab, 43, 11),
	F(struct fat_boot16, ext.fil_sys_type, 54, 8),
	F(struct fat_boot16, boot_code, 62, 448),
	F(struct fat_boot16, signature, 510, 2),
	/* "FAT32 Structure Starting at Offset 36" */
	F(struct fat_boot32, fat_sz32, 36, 4),
	F(struct fat_boot32, ext_flags, 40, 2),
	F(struct fat_boot32, fs_ver, 42, 2),
	F(struct fat_boot32, root_clus, 44, 4),
	F(struct fat_boot32, fs_info, 48, 2),
	F(struct fat_boot32, bk_boot_sec, 50, 2),
	F(struct fat_boot32, reserved, 52, 12),
	F(struct fat_boot32, ext.drv_num, 64, 1),
	F(struct fat_boot32, ext.reserved1, 65, 1),
	F(struct fat_boot32, ext.boot_sig, 66, 1),
	F(struct fat_boot32, ext.vol_id, 67, 4),
	F(struct fat_boot32, ext.vol_lab, 71, 11),
	F(struct fat_boot32, ext.fil_sys_type, 82, 8),
	F(struct fat_boot32, boot_code, 90, 420),
	F(struct fat_boot32, signature, 510, 2),
	/* "FAT32 FSInfo Sector Structure" */
	F(struct fat_fsinfo, lead_sig, 0, 4),
	F(struct fat_fsinfo, reserved1, 4, 480),
	F(struct fat_fsinfo, struc_sig, 484, 4),
	F(struct fat_fsinfo, free_count, 488, 4),
	F(struct fat_fsinfo, nxt_free, 492, 4),
	F(struct fat_fsinfo, reserved2, 496, 12),
	F(struct fat_fsinfo, trail_sig, 508, 4),
	/* "FAT Directory Structure": the 32-byte entry */
	F(struct fat_sfn, name, 0, 11),
	F(struct fat_sfn, attr, 11, 1),
	F(struct fat_sfn, nt_res, 12, 1),
	F(struct fat_sfn, crt_time_tenth, 13, 1),
	F(struct fat_sfn, crt_time, 14, 2),
	F(struct fat_sfn, crt_date, 16, 2),
	F(struct fat_sfn, lst_acc_date, 18, 2),
	F(struct fat_sfn, fst_clus_hi, 20, 2),
	F(struct fat_sfn, wrt_time, 22, 2),
	F(struct fat_sfn, wrt_date, 24, 2),
	F(struct fat_sfn, fst_clus_lo, 26, 2),
	F(struct fat_sfn, file_size, 28, 4),
	/* "FAT Long Directory Entries" */
	F(struct fat_lfn, ord, 0, 1),
	F(struct fat_lfn, name1, 1, 10),
	F(struct fat_lfn, attr, 11, 1),
	F(struct fat_lfn, type, 12, 1),
	F(struct fat_lfn, chksum, 13, 1),
	F(struct fat_lfn, name2, 14, 12),
	F(struct fat_lfn, fst_clus_lo, 26, 2),
	F(struct fat_lfn, name3, 28, 4),
	/* the MBR and one partition entry */
	F(struct fat_mbr, code, 0, 446),
	F(struct fat_mbr, part, 446, 64),
	F(struct fat_mbr, signature, 510, 2),
	F(struct fat_mbr_part, status, 0, 1),
	F(struct fat_mbr_part, chs_first, 1, 3),
	F(struct fat_mbr_part, type, 4, 1),
	F(struct fat_mbr_part, chs_last, 5, 3),
	F(struct fat_mbr_part, lba_first, 8, 4),
	F(struct fat_mbr_part, num_sectors, 12, 4),
};

/* Every field where the specification puts it; all failures listed at
 * once, so a reordered structure shows every field it moved. */
static void
test_field_offsets(void **state)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const struct field *f = &fields[i];
		if (f->off != f->spec_off || f->size != f->spec_size) {
			fprintf(stderr, "%s: offset %zu size %zu, the specification "
				"says offset %zu size %zu\n", f->name, f->off,
				f->size, f->spec_off, f->spec_size);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_struct_sizes(void **state)
{
	assert_int_equal(sizeof(struct fat_bpb), 36);
	assert_int_equal(sizeof(struct fat_bs_ext), 26);
	assert_int_equal(sizeof(struct fat_boot16), 512);
	assert_int_equal(sizeof(struct fat_boot32), 512);
	assert_int_equal(sizeof(union fat_boot), 512);
	assert_int_equal(sizeof(struct fat_fsinfo), 512);
	assert_int_equal(sizeof(struct fat_sfn), 32);
	assert_int_equal(sizeof(struct fat_lfn), 32);
	assert_int_equal(sizeof(struct fat_mbr_part), 16);
	assert_int_equal(sizeof(struct fat_mbr), 512);
	/* 5 + 6 + 2 UTF-16 units per long-name entry */
	assert_int_equal(sizeof(((struct fat_lfn *)0)->name1) / 2 +
				 sizeof(((struct fat_lfn *)0)->name2) / 2 +
				 sizeof(((struct fat_lfn *)0)->name3) / 2,
			 FAT_LFN_UNITS);
}

/* The constants the specification fixes. */
static void
test_constants(void **state)
{
	assert_int_equal(FAT_FSI_LEAD_SIG, 0x41615252);
	assert_int_equal(FAT_FSI_STRUC_SIG, 0x61417272);
	assert_int_equal(FAT_FSI_TRAIL_SIG, 0xAA550000);
	assert_int_equal(FAT_BOOT_SIG0, 0x55);
	assert_int_equal(FAT_BOOT_SIG1, 0xAA);
	assert_int_equal(FAT_BOOT_SIG_EXT, 0x29);
	assert_int_equal(FAT_DIRENT_FREE, 0xE5);
	assert_int_equal(FAT_DIRENT_END, 0x00);
	assert_int_equal(FAT_DIRENT_KANJI_E5, 0x05);
	assert_int_equal(FAT_ATTR_LFN, 0x0F);
	assert_int_equal(FAT_LFN_LAST, 0x40);
	assert_int_equal(FAT32_ENTRY_MASK, 0x0FFFFFFF);
	assert_int_equal(FAT_LFN_MAX_ENTS * FAT_LFN_UNITS, 260);	/* >= 255 */
}

/* Fields written through the structures land little-endian at the
 * specification's bytes: what a disk made on any host holds. */
static void
test_little_endian_bytes(void **state)
{
	union {
		union fat_boot bs;
		uint8_t raw[512];
	} b;
	union {
		struct fat_sfn e;
		uint8_t raw[32];
	} d;
	union {
		struct fat_lfn l;
		uint8_t raw[32];
	} l;

	memset(&b, 0, sizeof b);
	b.bs.bpb.byts_per_sec = htole16(0x0200);
	b.bs.b32.root_clus = htole32(0x11223344);
	b.bs.b32.ext.vol_id = htole32(0xA1B2C3D4);
	assert_int_equal(b.raw[11], 0x00);
	assert_int_equal(b.raw[12], 0x02);
	assert_int_equal(b.raw[44], 0x44);
	assert_int_equal(b.raw[47], 0x11);
	assert_int_equal(b.raw[67], 0xD4);
	assert_int_equal(b.raw[70], 0xA1);
	/* fat_boot_ext finds the dirty-bit byte Linux uses: 37 or 65 */
	fat_boot_ext(&b.bs, 16)->reserved1 = FAT_BS_DIRTY;
	fat_boot_ext(&b.bs, 32)->reserved1 = FAT_BS_DIRTY;
	assert_int_equal(b.raw[37], 1);
	assert_int_equal(b.raw[65], 1);

	memset(&d, 0, sizeof d);
	d.e.fst_clus_hi = htole16(0x0012);
	d.e.fst_clus_lo = htole16(0x3456);
	d.e.file_size = htole32(0x01020304);
	assert_int_equal(d.raw[20], 0x12);
	assert_int_equal(d.raw[26], 0x56);
	assert_int_equal(d.raw[27], 0x34);
	assert_int_equal(d.raw[28], 0x04);
	assert_int_equal(d.raw[31], 0x01);

	/* units 1, 6 and 12 of a long-name part start its three runs */
	memset(&l, 0, sizeof l);
	l.l.name1[0] = htole16('A');
	l.l.name2[0] = htole16(0x263A);
	l.l.name3[1] = htole16(0xFFFF);
	assert_int_equal(l.raw[1], 'A');
	assert_int_equal(l.raw[14], 0x3A);
	assert_int_equal(l.raw[15], 0x26);
	assert_int_equal(l.raw[30], 0xFF);
	assert_int_equal(l.raw[31], 0xFF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_offsets),
		cmocka_unit_test(test_struct_sizes),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_little_endian_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
