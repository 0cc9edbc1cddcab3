/*
 * fetch_int.h - the state of one fetch session, shared by the fetch*.c
 * files of lib/img only (fetch.c runs the steps in order; each step has
 * its file).  A session is single threaded: nothing here is locked.
 */
#ifndef DVS_IMG_FETCH_INT_H
#define DVS_IMG_FETCH_INT_H

#include <stdint.h>

#include "img_int.h"

/* What becomes of a block (struct fet.state). */
enum { ST_ZERO, ST_DONE, ST_NEED, ST_SEED, ST_DUP };

struct fet {
	const struct img_fetch_opts *o;
	struct img_fetch_stats *st;
	struct img_conn c;
	struct img_index ix;	/* the server's index (hash owned here) */
	uint8_t ident[32];	/* digest of the round-0 index */
	uint8_t cn[32], sn[32];
	int live, final, round;
	uint8_t *state;		/* ST_* per block */
	uint32_t *leader;	/* first block with the same hash */
	uint8_t *src_seed;	/* 1-based seed of a leader, 0 = none */
	uint32_t *src_blk;
	uint8_t *done;		/* bitmap: on disk and synced */
	uint8_t *pending;	/* bitmap: written, not yet synced */
	char *partial, *statep;
	int fd;
	uint8_t *raw, *blk;
	void *zd;		/* zstd: the session's stream */
	uint64_t need_bytes, got_bytes, t0, last_sync, last_prog, unsynced;
};

/* Bitmaps of blocks (done, pending). */
static inline int
fetch_bit(const uint8_t *bm, uint64_t b)
{
	return (bm[b / 8] >> (b % 8)) & 1;
}

static inline void
fetch_bit_set(uint8_t *bm, uint64_t b, int v)
{
	if (v)
		bm[b / 8] |= (uint8_t)(1u << (b % 8));
	else
		bm[b / 8] &= (uint8_t)~(1u << (b % 8));
}

/* ---- fetch_handshake.c ---- */
/* HELLO .. OPTIONS; 0, -EACCES (keys), -EPROTO or a connection error. */
int fetch_handshake(struct fet *f);

/* ---- fetch_index.c ---- */
/* Receives INFO and the index into f->ix (allocated here) and checks it. */
int fetch_recv_index(struct fet *f);
/* Checks an INDEX_END payload against f->ix; sets f->round and f->final. */
int fetch_check_index_end(struct fet *f, const uint8_t *p, size_t len);
/* Live: asks for and applies one more round of changes. */
int fetch_next_round(struct fet *f);

/* ---- fetch_recv.c ---- */
/* The next frame, of type want (0: any); ERROR frames become errors.
 * Returns the type; *p stays valid until the next receive. */
int fetch_recv_expect(struct fet *f, int want, const uint8_t **p, size_t *len);
/* The next frame of a list ended by INDEX_END: 1 (a want frame), 0 (the
 * end: *p, *len hold it) or a negative error. */
int fetch_recv_list(struct fet *f, int want, const uint8_t **p, size_t *len);
/* Asks for every ST_NEED block and writes what comes. */
int fetch_needed(struct fet *f);

/* ---- fetch_plan.c ---- */
/* Sets each block's state and source (resumed: re-verifies f->done). */
int fetch_plan(struct fet *f, int resumed);
int fetch_copy_from_seeds(struct fet *f);
/* Copies twins of blocks already written; *left: those still needed. */
int fetch_copy_dups(struct fet *f, uint64_t *left);

/* ---- fetch_output.c ---- */
int fetch_pread_full(int fd, void *buf, size_t len, uint64_t off);
/* Writes to OUTPUT.partial, saying why it failed (ENOSPC: how to go on). */
int fetch_pwrite_full(struct fet *f, const void *buf, size_t len, uint64_t off);
int fetch_punch_zero(struct fet *f, uint64_t b);
/* Block b is written: pending until the next sync, which it may trigger. */
int fetch_mark_written(struct fet *f, uint64_t b);
/* Re-hashes the whole OUTPUT.partial against the index. */
int fetch_verify_all(struct fet *f);
/* Renames OUTPUT.partial to OUTPUT, drops the state, syncs the directory. */
int fetch_finish(struct fet *f);

/* ---- fetch_resume.c ---- */
/* Syncs OUTPUT.partial, then records the synced blocks (not in live mode). */
int fetch_state_save(struct fet *f);
/* 1 if the state on disk belongs to this index (f->done filled), else 0. */
int fetch_state_load(struct fet *f);

/* ---- fetch_progress.c ---- */
/* Calls the progress callback (at most every 250 ms unless force). */
void fetch_progress(struct fet *f, int force);

#endif
