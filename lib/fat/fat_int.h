/*
 * fat_int.h - internals of the FAT engine, shared by the lib/fat sources only.
 *
 * Lock order: node->rw (a file's data lock) before vol->lock (metadata).
 * Fields are commented with the lock that protects them.
 */
#ifndef DVS_FAT_INT_H
#define DVS_FAT_INT_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "dvs/fat.h"
#include "dvs/fat_layout.h"
#include "dvs/thread_safety.h"

#define FAT_VOL_MAGIC 0x46415456u	/* "VTAF" */
#define FAT_FILE_MAGIC 0x46415446u
#define FAT_DIR_MAGIC 0x46415444u

#define FAT_DIRENT_SIZE ((uint32_t)sizeof(struct fat_sfn))
#define FAT_MAX_DIR_SLOTS 65536		/* a FAT directory holds at most this */
#define FAT_MAX_ENT_SLOTS (FAT_LFN_MAX_ENTS + 1) /* long-name slots and the 8.3 entry */
#define FAT_LFN_MAX 255

/* One run of clusters of a file: file clusters [fcl, fcl+len) live at
 * disk clusters [dcl, dcl+len). */
struct fat_extent {
	uint32_t fcl;
	uint32_t dcl;
	uint32_t len;
};

struct fat_emap {
	struct fat_extent *v;
	uint32_t n, cap;
	uint32_t nclusters;	/* sum of len */
};

/* A directory's entry record for the name index. */
struct fat_rec {
	uint32_t first_slot;	/* first LFN slot (== short_slot if none) */
	uint32_t short_slot;	/* the 8.3 entry */
	uint32_t hash;		/* folded long (display) name */
	uint32_t shash;		/* the 11 raw short-name bytes */
	int32_t next;		/* hash chain (long), -1 ends */
	int32_t snext;		/* hash chain (short), -1 ends */
	uint16_t *uname;	/* UTF-16 display name (malloc) */
	uint16_t ulen;
	int live;
};

struct fat_node;

/* A loaded directory: all its slots in memory, dirty per logical sector. */
struct fat_dirdata {
	uint8_t *buf;		/* nslots * 32 bytes */
	uint32_t nslots;
	uint8_t *dirty;		/* one byte per logical sector of buf */
	uint32_t nsect;
	int any_dirty;
	struct fat_rec *recs;
	uint32_t nrecs, caprecs;
	uint32_t ndead;		/* removed records not yet compacted */
	int32_t *htab;		/* long-name buckets, -1 empty */
	int32_t *shtab;		/* short-name buckets */
	uint32_t hsize;		/* power of two */
	/* per entry size n (slots, 1..FAT_MAX_ENT_SLOTS): no free run of n
	   slots (kept in one sector when it fits) starts below hint[n] */
	uint32_t hint[FAT_MAX_ENT_SLOTS + 1];
	uint32_t end_slot;	/* first 0x00 slot (end marker), or nslots */
};

struct fat_node {
	uint64_t ino;		/* vol->lock; changes on rename */
	struct fat_node *parent; /* vol->lock; NULL for root and unlinked */
	uint32_t first_slot, short_slot; /* vol->lock: where in parent */
	int rec;		/* vol->lock: record index in parent */
	int is_dir;
	int unlinked;		/* vol->lock */
	int refs;		/* vol->lock: handles, iterators, children */
	/* rw protects the fields below for files; directories use vol->lock */
	dvs_rwlock_t rw;
	uint64_t size;
	uint32_t first_cluster;
	struct fat_emap map;
	uint32_t depth;
	struct fat_dirdata *dd;	/* vol->lock; directories only, when loaded */
	/* write-behind buffer of a file: bytes [wb_off, wb_off + wb_len) of
	 * the file, already allocated and counted in size, not yet on the
	 * device.  wb_lock protects these four; it is taken after rw and
	 * after vol->lock, never before either. */
	dvs_mutex_t wb_lock;
	uint8_t *wb;
	uint64_t wb_off;
	uint32_t wb_len;
	struct fat_node *hnext;	/* vol->lock: node table chain */
};

struct fat_vol {
	uint32_t magic;
	struct fat_blkdev *dev;
	int read_only;
	int tz_off_sec;
	size_t cache_bound;

	/* geometry (constant after mount) */
	int type;		/* 12, 16, 32 */
	uint32_t ss;		/* logical sector size */
	uint32_t ss_shift;
	uint32_t dev_ratio;	/* logical sector / device sector */
	uint32_t spc;
	uint32_t cs;		/* cluster size in bytes */
	uint32_t cs_shift;
	uint32_t rsvd;
	uint32_t nfats;
	uint32_t fatsz;		/* sectors per FAT */
	uint32_t root_ents;	/* FAT12/16 */
	uint32_t root_start;	/* FAT12/16: first root sector */
	uint32_t root_secs;
	uint32_t data_start;	/* first data sector */
	uint32_t nclusters;	/* data clusters; valid clusters 2..nclusters+1 */
	uint32_t root_clus;	/* FAT32 */
	uint32_t fsinfo_sec;	/* FAT32, 0 if none */
	uint32_t total_secs;
	uint32_t volume_id;

	dvs_mutex_t lock;	/* everything below */
	uint8_t *fat;		/* the raw FAT as on disk (fatsz*ss bytes) */
	uint8_t *fat_dirty;	/* one byte per FAT sector */
	int fat_any_dirty;
	uint32_t free_count;
	uint32_t next_free;
	uint32_t *pend;		/* clusters freed since the last flush */
	uint32_t npend, cappend;
	uint32_t *links;	/* chain ends given a next cluster since the
				   last flush (fat_flush_fat_ordered) */
	uint32_t nlinks, caplinks;
	struct fat_node *root;
	struct fat_node **ntab;	/* ino -> node */
	struct fat_inomap *inomap; /* numbers kept across renames */
	uint32_t ntab_size;
	uint32_t nnodes;
	size_t cache_bytes;	/* loaded directory bytes */
	size_t wb_bytes;	/* write-behind buffers (atomic) */
	size_t wb_budget;	/* half the cache bound */
	/* The staging buffer (io.c): data of closed files, contiguous on the
	   device, written as one request.  stage_lock is the innermost lock;
	   stage_len is read without it (atomic) to skip the common case. */
	dvs_mutex_t stage_lock;
	uint8_t *stage;
	uint64_t stage_sec;	/* device sector of stage[0] */
	size_t stage_len, stage_cap;
	int stage_err;		/* a failed staged write, for the next flush */
	uint32_t wb_cap;	/* one buffer's size; 0: no buffering */
	union fat_boot *boot;	/* the boot sector (ss bytes, malloc'd) */
	int dirty_flag_set;
};

struct fat_file {
	uint32_t magic;
	struct fat_vol *vol;
	struct fat_node *node;
	int flags;
};

struct fat_dir {
	uint32_t magic;
	struct fat_vol *vol;
	struct fat_node *node;
	uint32_t pos;		/* next record index to look at */
};

/* Says that vol is not shared (being mounted, or freed at unmount): no
 * other thread can reach it, so its lock need not be taken.  For the
 * thread-safety analysis only; no run-time check. */
static inline void fat_vol_unshared(struct fat_vol *vol) DVS_ASSERT_HELD(vol->lock);
static inline void
fat_vol_unshared(struct fat_vol *vol)
{
	(void)vol;
}

/* ---- time.c ---- */
void fat_time_to_dos(const struct fat_vol *vol, time_t t, uint16_t *date,
		     uint16_t *tim, uint8_t *cs10);
struct timespec fat_time_from_dos(const struct fat_vol *vol, uint16_t date,
				  uint16_t tim, uint8_t cs10);

/* ---- io.c: volume byte/sector I/O ---- */
int fat_io_read_secs(struct fat_vol *vol, uint64_t lsec, uint32_t n, void *buf);
int fat_io_write_secs(struct fat_vol *vol, uint64_t lsec, uint32_t n,
		      const void *buf);
int fat_io_read_bytes(struct fat_vol *vol, uint64_t off, uint64_t len, void *buf);
int fat_io_write_bytes(struct fat_vol *vol, uint64_t off, uint64_t len,
		       const void *buf);
int fat_io_zero_bytes(struct fat_vol *vol, uint64_t off, uint64_t len);
int fat_io_flush(struct fat_vol *vol);
/* Takes bytes a closed file had buffered, to be written with the ones
 * staged before them when they are contiguous on the device: 0 if staged,
 * 1 if the caller must write them itself, or a negative error of an
 * earlier staged write.  Any read or write of a staged range writes the
 * stage out first, so it is never seen stale. */
int fat_io_stage(struct fat_vol *vol, uint64_t off, const void *buf,
		 uint64_t len);
/* Writes the staged bytes out (flush step 1); also reports a staged
 * write that failed since the last call. */
int fat_io_stage_flush(struct fat_vol *vol);
static inline uint64_t
fat_clus_off(const struct fat_vol *vol, uint32_t c)
{
	return ((uint64_t)vol->data_start << vol->ss_shift) +
	       ((uint64_t)(c - 2) << vol->cs_shift);
}

/* ---- table.c: the in-memory FAT ---- */
uint32_t fat_get(const struct fat_vol *vol, uint32_t c);
void fat_set(struct fat_vol *vol, uint32_t c, uint32_t v)
	DVS_REQUIRES(vol->lock);
int fat_is_eoc(const struct fat_vol *vol, uint32_t v);
uint32_t fat_eoc(const struct fat_vol *vol);
int fat_valid_clus(const struct fat_vol *vol, uint32_t c);
/* Builds the extent map of a chain; -EUCLEAN on loops/out of range. */
int fat_chain_load(struct fat_vol *vol, uint32_t first, struct fat_emap *m)
	DVS_REQUIRES(vol->lock);
/* Appends want clusters to map (linking after its last); may give fewer
 * (then *got < want, volume full).  zero: clear them on disk. */
int fat_alloc(struct fat_vol *vol, struct fat_emap *m, uint32_t want,
	      uint32_t *got, int zero)
	DVS_REQUIRES(vol->lock);
/* Cuts map to keep clusters; the rest go to the pending-free list. */
int fat_chain_cut(struct fat_vol *vol, struct fat_emap *m, uint32_t keep)
	DVS_REQUIRES(vol->lock);
int fat_emap_lookup(const struct fat_emap *m, uint32_t fcl, uint32_t *dcl,
		    uint32_t *run);
int fat_emap_add(struct fat_emap *m, uint32_t dcl);
void fat_emap_free(struct fat_emap *m);
int fat_flush_fat(struct fat_vol *vol)
	DVS_REQUIRES(vol->lock);
/* Writes the FAT so that no chain on disk ever points at a cluster whose
 * own entry is not yet written: new clusters first (the old chain ends
 * still end there), then, after a device flush, the links to them. */
int fat_flush_fat_ordered(struct fat_vol *vol)
	DVS_REQUIRES(vol->lock);
void fat_release_pending(struct fat_vol *vol)
	DVS_REQUIRES(vol->lock);
uint32_t fat_count_free(struct fat_vol *vol);

/* ---- names.c ---- */
uint16_t fat_upcase16(uint16_t c);
/* UTF-8 -> UTF-16; returns length or -EINVAL/-ENAMETOOLONG */
int fat_utf8_to_16(const char *s, size_t len, uint16_t *out, size_t max);
/* UTF-16 -> UTF-8 (NUL-terminated); returns bytes or -EINVAL */
int fat_utf16_to_8(const uint16_t *s, size_t n, char *out, size_t max);
/* Checks a long name; 0 or -EINVAL/-ENAMETOOLONG. */
int fat_name_check(const uint16_t *n, int len);
/* Hash of the case-folded UTF-16 name. */
uint32_t fat_name_hash(const uint16_t *n, int len);
int fat_name_eq(const uint16_t *a, int alen, const uint16_t *b, int blen);
uint32_t fat_short_hash(const uint8_t *sn11);
uint8_t fat_lfn_checksum(const uint8_t *sn11);
/* If name fits 8.3 exactly (maybe with lower-case base/ext): fills sn11,
 * *ntflags (FAT_NT_LOWER_BASE, FAT_NT_LOWER_EXT) and returns 1; else 0. */
int fat_name_is_short(const uint16_t *n, int len, uint8_t *sn11,
		      uint8_t *ntflags);
/* Basis name for a long name (no tail yet); *lossy set if chars were
 * replaced or truncated (then a numeric tail is needed). */
void fat_short_basis(const uint16_t *n, int len, uint8_t *sn11, int *lossy);
/* Puts "~N" into sn11 (base part). */
void fat_short_tail(uint8_t *sn11, uint32_t num, const uint16_t *n, int len);
/* Display form of a short entry ("NAME.EXT", NT case applied) as UTF-16. */
int fat_short_display(const uint8_t *sn11, uint8_t ntflags, uint16_t *out);
void fat_short_text(const uint8_t *sn11, char *out13);

/* ---- dir.c ---- */
int fat_dir_load(struct fat_vol *vol, struct fat_node *dn)
	DVS_REQUIRES(vol->lock);
void fat_dir_unload(struct fat_vol *vol, struct fat_node *dn)
	DVS_REQUIRES(vol->lock);
/* Finds a name; returns record index or -ENOENT. */
int fat_dir_find(struct fat_vol *vol, struct fat_node *dn, const uint16_t *n,
		 int len)
	DVS_REQUIRES(vol->lock);
struct fat_sfn *fat_dir_slot(struct fat_node *dn, uint32_t slot);
/* The entry at slot of a loaded directory's buffer. */
static inline struct fat_sfn *
fat_dd_ent(const struct fat_dirdata *dd, uint32_t slot)
{
	return (struct fat_sfn *)(void *)(dd->buf + (size_t)slot * FAT_DIRENT_SIZE);
}
/* The same slot read as a long-name entry (its attr is FAT_ATTR_LFN). */
static inline struct fat_lfn *
fat_ent_lfn(struct fat_sfn *e)
{
	return (struct fat_lfn *)(void *)e;
}
void fat_dir_mark(struct fat_vol *vol, struct fat_node *dn, uint32_t slot)
	DVS_REQUIRES(vol->lock);
/* Adds a name with the given short entry template (name bytes filled in
 * here); returns the record index. */
int fat_dir_add(struct fat_vol *vol, struct fat_node *dn, const uint16_t *n,
		int len, const struct fat_sfn *ent_tmpl)
	DVS_REQUIRES(vol->lock);
void fat_dir_remove(struct fat_vol *vol, struct fat_node *dn, int rec)
	DVS_REQUIRES(vol->lock);
int fat_dir_flush(struct fat_vol *vol, struct fat_node *dn)
	DVS_REQUIRES(vol->lock);
/* The number of the node whose 8.3 entry is slot of dn: its location
 * number (fat_dir_slot_loc), or the one it kept through renames
 * (inomap.c). */
uint64_t fat_dir_slot_ino(struct fat_vol *vol, struct fat_node *dn,
			  uint32_t slot)
	DVS_REQUIRES(vol->lock);
/* Where slot of dn lives: byte offset / 32 + 2 (root 1 is apart). */
uint64_t fat_dir_slot_loc(struct fat_vol *vol, struct fat_node *dn,
			  uint32_t slot)
	DVS_REQUIRES(vol->lock);

/* inomap.c: numbers kept across renames (vol->lock held for all). */
struct fat_inomap;
int fat_inomap_new(struct fat_inomap **out);
void fat_inomap_free(struct fat_inomap *m);
/* Number of the entry at location loc. */
uint64_t fat_inomap_get(struct fat_inomap *m, uint64_t loc);
/* The entry now at new_loc keeps number ino (a rename). */
void fat_inomap_moved(struct fat_inomap *m, uint64_t new_loc, uint64_t ino);
/* The entry at loc is gone. */
void fat_inomap_removed(struct fat_inomap *m, uint64_t loc);
/* Slot s became free: lowers the free-run hints. */
void fat_dir_freed(struct fat_dirdata *dd, uint32_t s);
int fat_dir_is_empty(struct fat_node *dn);
/* One parsed entry of a directory buffer. */
struct fat_parsed {
	uint32_t first_slot, short_slot;
	uint16_t uname[FAT_LFN_MAX + 1];
	int ulen;
};
/* Parses the next named entry at or after *pos; 1 found, 0 end. */
int fat_dir_next(struct fat_dirdata *dd, uint32_t *pos, struct fat_parsed *p);
/* Fills st from a short entry. */
void fat_ent_stat(struct fat_vol *vol, const struct fat_sfn *e, uint64_t ino,
		  struct fat_stat *st);
uint32_t fat_ent_cluster(const struct fat_vol *vol, const struct fat_sfn *e);
void fat_ent_set_cluster(const struct fat_vol *vol, struct fat_sfn *e,
			 uint32_t c);

/* ---- node.c ---- */
struct fat_node *fat_node_get(struct fat_vol *vol, struct fat_node *parent,
			      int rec, int *err)
	DVS_REQUIRES(vol->lock);
void fat_node_put(struct fat_vol *vol, struct fat_node *n)
	DVS_REQUIRES(vol->lock);
void fat_node_rekey(struct fat_vol *vol, struct fat_node *n, uint64_t ino)
	DVS_REQUIRES(vol->lock);
void fat_node_unhash(struct fat_vol *vol, struct fat_node *n)
	DVS_REQUIRES(vol->lock);
struct fat_node *fat_node_find(struct fat_vol *vol, uint64_t ino)
	DVS_REQUIRES(vol->lock);
/* Resolves path.  Returns the parent directory node (ref taken) and the
 * last component as UTF-16 in name/nlen; for "/" *parent = NULL.  */
int fat_walk(struct fat_vol *vol, const char *path, struct fat_node **parent,
	     uint16_t *name, int *nlen)
	DVS_REQUIRES(vol->lock);
/* Resolves a whole path to a directory node (ref taken). */
int fat_walk_dir(struct fat_vol *vol, const char *path, struct fat_node **out)
	DVS_REQUIRES(vol->lock);
void fat_cache_trim(struct fat_vol *vol)
	DVS_REQUIRES(vol->lock);
int fat_flush_all(struct fat_vol *vol)
	DVS_REQUIRES(vol->lock);
/* ---- file.c: write-behind buffers ---- */
/* Writes n's buffered bytes to the device; n->wb_lock must not be held.
 * The extent map must be stable (caller holds n->rw or vol->lock). */
int fat_wb_flush(struct fat_vol *vol, struct fat_node *n);
/* Frees n's buffer (its bytes are dropped). */
void fat_wb_free(struct fat_vol *vol, struct fat_node *n);
/* Writes a file node's size/cluster/mtime into its entry. */
void fat_node_update_ent(struct fat_vol *vol, struct fat_node *n, int touch)
	DVS_REQUIRES(vol->lock);

#endif
