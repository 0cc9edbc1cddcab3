/*
 * fat_layout.h - the FAT on-disk structures, field by field, for the FAT
 * engine (lib/fat) and dvs-fat.
 *
 * Names follow Microsoft's "FAT: General Overview of On-Disk Format"
 * (fatgen103, version 1.03, 2000): BPB_BytsPerSec is bpb.byts_per_sec,
 * DIR_FstClusHI is fst_clus_hi, and so on, so a reader can hold this file
 * beside the specification.  tests/fat/test_layout.c checks every offset
 * and size against the specification's numbers.
 *
 * Every multi-byte field is little-endian on disk: read it with
 * le16toh/le32toh and write it with htole16/htole32 (<endian.h>).  The
 * structures are packed (many fields are unaligned: BPB_BytsPerSec is at
 * byte 11), so the compiler reads a field byte-wise where it must; never
 * take the address of a multi-byte field.  A structure is laid over a
 * buffer the engine read from the device (a malloc'd sector or directory)
 * or declared as a local of its own type, never over a differently typed
 * object.
 */
#ifndef DVS_FAT_LAYOUT_H
#define DVS_FAT_LAYOUT_H

#include <endian.h>
#include <stdint.h>

#define FAT_PACKED __attribute__((packed))

/* ---- the boot sector (sector 0 of the volume) ---- */

/* The BIOS Parameter Block: bytes 0-35, the same on FAT12, 16 and 32. */
struct fat_bpb {
	uint8_t jmp_boot[3];	/* BS_jmpBoot: EB xx 90 or E9 xx xx */
	uint8_t oem_name[8];	/* BS_OEMName */
	uint16_t byts_per_sec;	/* BPB_BytsPerSec: 512..4096 */
	uint8_t sec_per_clus;	/* BPB_SecPerClus: a power of two */
	uint16_t rsvd_sec_cnt;	/* BPB_RsvdSecCnt */
	uint8_t num_fats;	/* BPB_NumFATs */
	uint16_t root_ent_cnt;	/* BPB_RootEntCnt: 0 on FAT32 */
	uint16_t tot_sec16;	/* BPB_TotSec16: 0 if tot_sec32 holds it */
	uint8_t media;		/* BPB_Media */
	uint16_t fat_sz16;	/* BPB_FATSz16: 0 on FAT32 */
	uint16_t sec_per_trk;	/* BPB_SecPerTrk */
	uint16_t num_heads;	/* BPB_NumHeads */
	uint32_t hidd_sec;	/* BPB_HiddSec */
	uint32_t tot_sec32;	/* BPB_TotSec32 */
} FAT_PACKED;

/* The fields after the extended boot signature: at byte 36 on FAT12/16,
 * at byte 64 on FAT32. */
struct fat_bs_ext {
	uint8_t drv_num;	/* BS_DrvNum: 0x80 disk, 0x00 floppy */
	uint8_t reserved1;	/* BS_Reserved1: Windows NT and Linux keep
				   the "volume dirty" bit here */
	uint8_t boot_sig;	/* BS_BootSig: FAT_BOOT_SIG_EXT */
	uint32_t vol_id;	/* BS_VolID */
	uint8_t vol_lab[11];	/* BS_VolLab */
	uint8_t fil_sys_type[8]; /* BS_FilSysType: "FAT12   " etc. (a label,
				    not how the type is told) */
} FAT_PACKED;

/* Boot sector of FAT12 and FAT16. */
struct fat_boot16 {
	struct fat_bpb bpb;
	struct fat_bs_ext ext;
	uint8_t boot_code[448];
	uint8_t signature[2];	/* 0x55 0xAA */
} FAT_PACKED;

/* Boot sector of FAT32. */
struct fat_boot32 {
	struct fat_bpb bpb;
	uint32_t fat_sz32;	/* BPB_FATSz32 */
	uint16_t ext_flags;	/* BPB_ExtFlags: FAT mirroring */
	uint16_t fs_ver;	/* BPB_FSVer: 0.0 */
	uint32_t root_clus;	/* BPB_RootClus */
	uint16_t fs_info;	/* BPB_FSInfo: sector of the FSInfo */
	uint16_t bk_boot_sec;	/* BPB_BkBootSec: sector of the backup */
	uint8_t reserved[12];	/* BPB_Reserved */
	struct fat_bs_ext ext;
	uint8_t boot_code[420];
	uint8_t signature[2];	/* 0x55 0xAA */
} FAT_PACKED;

/* The first 512 bytes of a boot sector (which may be longer: the rest is
 * not used). */
union fat_boot {
	struct fat_bpb bpb;
	struct fat_boot16 b16;
	struct fat_boot32 b32;
};

#define FAT_BOOT_SIG0 0x55	/* signature[0], byte 510 */
#define FAT_BOOT_SIG1 0xAA	/* signature[1], byte 511 */
#define FAT_JMP_SHORT 0xEB	/* jmp_boot[0]: a short jump ... */
#define FAT_JMP_NEAR 0xE9	/* ... or a near one */
#define FAT_BOOT_SIG_EXT 0x29	/* boot_sig: vol_id, vol_lab, fil_sys_type valid */
#define FAT_BS_DIRTY 0x01	/* reserved1: mounted, not cleanly unmounted */

/* Where FAT32 keeps FSInfo and the backup boot sector (with its own
 * FSInfo in the sector after it) on the volumes fat_format and mkfs.fat
 * make; the specification recommends these numbers. */
#define FAT32_FSINFO_SEC 1
#define FAT32_BACKUP_BOOT_SEC 6

/* The extended fields of a boot sector of the given type (12, 16, 32). */
static inline struct fat_bs_ext *
fat_boot_ext(union fat_boot *b, int type)
{
	return type == 32 ? &b->b32.ext : &b->b16.ext;
}

/* ---- FSInfo (FAT32; the sector BPB_FSInfo names) ---- */

struct fat_fsinfo {
	uint32_t lead_sig;	/* FSI_LeadSig: FAT_FSI_LEAD_SIG */
	uint8_t reserved1[480];	/* FSI_Reserved1 */
	uint32_t struc_sig;	/* FSI_StrucSig: FAT_FSI_STRUC_SIG */
	uint32_t free_count;	/* FSI_Free_Count: FAT_FSI_UNKNOWN if not known */
	uint32_t nxt_free;	/* FSI_Nxt_Free: where to look for a free cluster */
	uint8_t reserved2[12];	/* FSI_Reserved2 */
	uint32_t trail_sig;	/* FSI_TrailSig: FAT_FSI_TRAIL_SIG */
} FAT_PACKED;

#define FAT_FSI_LEAD_SIG 0x41615252u	/* "RRaA" */
#define FAT_FSI_STRUC_SIG 0x61417272u	/* "rrAa" */
#define FAT_FSI_TRAIL_SIG 0xAA550000u
#define FAT_FSI_UNKNOWN 0xFFFFFFFFu

/* ---- the FAT ---- */

#define FAT32_ENTRY_MASK 0x0FFFFFFFu	/* the top 4 bits of a FAT32 entry
					   are reserved: kept as found */

/* ---- directory entries (32 bytes each) ---- */

/* The short-name (8.3) entry: the one that holds a file's attributes,
 * times, first cluster and size.  (struct fat_dirent, in dvs/fat.h, is
 * what the API's readdir returns.) */
struct fat_sfn {
	uint8_t name[11];	/* DIR_Name: 8.3, space-padded, no dot */
	uint8_t attr;		/* DIR_Attr: FAT_ATTR_* */
	uint8_t nt_res;		/* DIR_NTRes: FAT_NT_LOWER_* (Windows NT) */
	uint8_t crt_time_tenth;	/* DIR_CrtTimeTenth: 0..199, 10 ms units */
	uint16_t crt_time;	/* DIR_CrtTime */
	uint16_t crt_date;	/* DIR_CrtDate */
	uint16_t lst_acc_date;	/* DIR_LstAccDate */
	uint16_t fst_clus_hi;	/* DIR_FstClusHI: FAT32 only, else 0 */
	uint16_t wrt_time;	/* DIR_WrtTime */
	uint16_t wrt_date;	/* DIR_WrtDate */
	uint16_t fst_clus_lo;	/* DIR_FstClusLO */
	uint32_t file_size;	/* DIR_FileSize: 0 for a directory */
} FAT_PACKED;

/* name[0] */
#define FAT_DIRENT_END 0x00	/* this and every later entry are free */
#define FAT_DIRENT_FREE 0xE5	/* a deleted entry */
#define FAT_DIRENT_KANJI_E5 0x05 /* a name whose first byte is really 0xE5 */

#define FAT_ATTR_LFN 0x0F	/* READ_ONLY|HIDDEN|SYSTEM|VOLUME_ID */
#define FAT_NT_LOWER_BASE 0x08	/* nt_res: the base name is lower case */
#define FAT_NT_LOWER_EXT 0x10	/* nt_res: the extension is lower case */

/* A long-name entry: up to 20 of them, last part first, before the 8.3
 * entry they name; each holds 13 UTF-16 units. */
struct fat_lfn {
	uint8_t ord;		/* LDIR_Ord: sequence 1..20, | FAT_LFN_LAST */
	uint16_t name1[5];	/* LDIR_Name1: units 1-5 */
	uint8_t attr;		/* LDIR_Attr: FAT_ATTR_LFN */
	uint8_t type;		/* LDIR_Type: 0 */
	uint8_t chksum;		/* LDIR_Chksum: of the 8.3 name */
	uint16_t name2[6];	/* LDIR_Name2: units 6-11 */
	uint16_t fst_clus_lo;	/* LDIR_FstClusLO: 0 */
	uint16_t name3[2];	/* LDIR_Name3: units 12-13 */
} FAT_PACKED;

#define FAT_LFN_LAST 0x40	/* ord: the last (first stored) part */
#define FAT_LFN_ORD_MASK 0x1F	/* ord: the sequence number */
#define FAT_LFN_UNITS 13	/* UTF-16 units per entry */
#define FAT_LFN_MAX_ENTS 20	/* 255 units */

/* ---- the MBR of a partitioned image ---- */

struct fat_mbr_part {
	uint8_t status;		/* 0x80 active */
	uint8_t chs_first[3];
	uint8_t type;		/* 0: unused */
	uint8_t chs_last[3];
	uint32_t lba_first;	/* in 512-byte sectors */
	uint32_t num_sectors;
} FAT_PACKED;

struct fat_mbr {
	uint8_t code[446];
	struct fat_mbr_part part[4];
	uint8_t signature[2];	/* 0x55 0xAA */
} FAT_PACKED;

_Static_assert(sizeof(union fat_boot) == 512, "boot sector");
_Static_assert(sizeof(struct fat_fsinfo) == 512, "FSInfo sector");
_Static_assert(sizeof(struct fat_sfn) == 32, "directory entry");
_Static_assert(sizeof(struct fat_lfn) == 32, "long-name entry");
_Static_assert(sizeof(struct fat_mbr) == 512, "MBR");

#endif
