/*
 * img.h - disk-image migration: block indexes, seeds, the transfer engine.
 *
 * An image is cut into fixed blocks (4 KiB by default).  Its index holds the
 * SHA-256 of every block; an all-zero block has an all-zero hash field
 * (SHA-256 of real data is never all zero), so zero blocks cost nothing on
 * the wire and become holes at the receiver.  The receiver rebuilds the
 * image from local seed images and asks the sender only for what no seed
 * has.  See docs/IMG.md for the file format, the protocol and the trust model.
 *
 * Errors are 0 or a negative errno value; the ones with a meaning here:
 *   -EBADMSG  corrupt index file or frame (checksum, bad field)
 *   -ESTALE   index does not belong to the image as it is now
 *   -EPROTO   peer broke the protocol
 *   -EACCES   authentication failed
 *   -EILSEQ   data does not match its hash
 *   -EPIPE    connection lost (resumable)
 */
#ifndef DVS_IMG_H
#define DVS_IMG_H

#include <stddef.h>
#include <stdint.h>

#define IMG_HASH_LEN 32
#define IMG_DEFAULT_BLOCK 4096u
#define IMG_MIN_BLOCK 512u
#define IMG_MAX_BLOCK (1u << 20)
#define IMG_INDEX_SUFFIX ".dvsidx"

/* ---- block index (index.c, hash.c) ---- */

struct img_index {
	uint32_t block_size;
	uint64_t image_size;
	uint64_t nblocks;
	/* Identity of the image when the index was built. */
	uint64_t dev, ino, mtime_ns;
	/* nblocks hashes, all zero for a zero block; owned by the index. */
	uint8_t (*hash)[IMG_HASH_LEN];
};

/* Returns 1 when the hash field marks a zero block. */
int img_hash_is_zero(const uint8_t h[IMG_HASH_LEN]);

/*
 * Hashes blocks [first, first+count) of the open image fd into out
 * (count entries, borrowed), with nthreads threads (0 = every core).
 * Blocks past image_size end the image (the last may be short).
 */
int img_hash_blocks(int fd, uint64_t image_size, uint32_t block_size,
		    uint64_t first, uint64_t count, uint8_t (*out)[IMG_HASH_LEN],
		    int nthreads);

/* Hashes one block in memory (len <= block size); zero data gives zeros. */
void img_hash_block(const void *data, size_t len, uint8_t out[IMG_HASH_LEN]);

/* Builds the index of an image; *out is freed with img_index_free(). */
int img_index_build(const char *image, uint32_t block_size, int nthreads,
		    struct img_index **out);
/* Writes the index atomically (temp file + rename). */
int img_index_save(const struct img_index *ix, const char *path);
/*
 * Reads an index file; with image non-NULL also checks it still describes
 * that image (-ESTALE if not).  -ENOENT if there is no index file.
 */
int img_index_load(const char *path, const char *image, struct img_index **out);
/* Parses an index held in memory (buf borrowed for the call). */
int img_index_parse(const void *buf, size_t len, struct img_index **out);
/*
 * Loads IMAGE's index (idx_path, or IMAGE.dvsidx when NULL) if it is fresh,
 * else builds it and tries to save it (a read-only folder is fine).  A
 * corrupt index file is an error (-EBADMSG) unless rebuild_corrupt.
 * *rebuilt says whether it had to hash the image.
 */
int img_index_open(const char *image, const char *idx_path, uint32_t block_size,
		   int nthreads, int rebuild_corrupt, int *rebuilt,
		   struct img_index **out);
/* SHA-256 over every hash of the index: what "the same image" means. */
void img_index_digest(const struct img_index *ix, uint8_t out[IMG_HASH_LEN]);
void img_index_free(struct img_index *ix);
/* "IMAGE.dvsidx" in a malloc'd string, or NULL. */
char *img_index_path(const char *image);

/* ---- similarity (similarity.c) ---- */

struct img_similarity {
	uint64_t blocks, zero_blocks, nonzero_blocks;
	uint64_t found_blocks;	/* non-zero target blocks some seed holds */
	uint64_t missing_blocks; /* non-zero target blocks no seed holds */
	uint64_t missing_unique; /* distinct hashes among those */
	uint64_t missing_bytes;	/* bytes of the missing blocks */
	uint64_t missing_unique_bytes;
};

/* Compares a target index with nseeds seed indexes (all borrowed). */
int img_similarity(const struct img_index *target,
		   const struct img_index *const *seeds, size_t nseeds,
		   struct img_similarity *out);

/* ---- codecs (codec.c) ---- */

enum img_codec {
	IMG_CODEC_NONE = 0,
	IMG_CODEC_ZSTD = 1,
	IMG_CODEC_LZ4 = 2,
	IMG_CODEC_ZLIB = 3,
	IMG_CODEC_LZO = 4,
	IMG_CODEC_COUNT
};

/* Returns the codec for a name ("zstd", ...) or -EINVAL. */
int img_codec_from_name(const char *name);
const char *img_codec_name(int codec);
/* Bound of the compressed size of len bytes. */
size_t img_codec_bound(int codec, size_t len);
/*
 * Compresses src into dst (cap bytes); *dlen gets the size.  Returns
 * -ENOSPC when it does not fit (send raw then).
 */
int img_compress(int codec, int level, const void *src, size_t len, void *dst,
		 size_t cap, size_t *dlen);
/* Decompresses exactly rawlen bytes; anything else is -EBADMSG. */
int img_decompress(int codec, const void *src, size_t len, void *dst,
		   size_t rawlen);

/*
 * Session-wide zstd streams (see codec.c): one context per direction and
 * session, each call compresses or decompresses one DATA frame's run.
 */
void *img_zs_new(int level);
void img_zs_free(void *zs);
int img_zs_compress(void *zs, const void *src, size_t len, void *dst, size_t cap,
		    size_t *dlen);
void *img_zd_new(void);
void img_zd_free(void *zd);
/* -EBADMSG unless the input decodes to exactly rawlen bytes. */
int img_zd_decompress(void *zd, const void *src, size_t len, void *dst, size_t rawlen);

/* The words before every message of lib/img on stderr ("dvs img fetch");
 * borrowed, must outlive the program.  Default "dvs img". */
void img_log_prefix(const char *prefix);

/* ---- transfer (serve.c, fetch.c) ---- */

#define IMG_KEY_MAX 4096
#define IMG_KEY_MIN 16

/* Reads a shared key file (16..4096 bytes) into key; returns its length. */
int img_key_load(const char *path, uint8_t *key, size_t cap);

struct img_serve_opts {
	const char *image;
	const char *index_path;	/* NULL: IMAGE.dvsidx */
	uint32_t block_size;
	int nthreads;
	const uint8_t *key;	/* NULL: no authentication */
	size_t key_len;
	/* Live mode: the image may change while it is sent. */
	int live;
	int max_rounds;		/* live: bound on rounds before the pause */
	const char *pause_cmd;	/* live: shell command that stops the writer */
	const char *resume_cmd;	/* live: shell command that lets it go on */
	/* Test hooks (documented in docs/IMG.md): cut the connection after
	 * this many bytes sent (0 = never), or flip one byte there. */
	uint64_t drop_after;
	uint64_t corrupt_at;
	const struct img_index *shared_index; /* non-live: loaded once */
};

struct img_serve_stats {
	uint64_t bytes_out, bytes_in, blocks_sent;
	int rounds;
	uint64_t round_changed[64];
	double pause_ms;
};

/* Serves one session on rfd/wfd (a socket twice, or stdin/stdout). */
int img_serve_session(int rfd, int wfd, const struct img_serve_opts *o,
		      struct img_serve_stats *st);

/* What the gate proved about a connection, for the rest of its session. */
struct img_authed {
	uint8_t cn[32], sn[32];	/* the nonces of the key exchange */
	uint64_t bytes_in, bytes_out; /* moved so far on the connection */
};

/* The rest of a session whose key exchange the gate did (gate.c). */
int img_serve_session_authed(int fd, const struct img_serve_opts *o,
			     const struct img_authed *a, struct img_serve_stats *st);

/* ---- the TCP listener's gate (gate.c) ---- */

/*
 * Runs the key exchange of every pending TCP connection in the listening
 * process, without blocking and without a process or thread each: at most
 * max_pending wait (a new one closes the oldest), each at most timeout_ms.
 * Only a connection that proved the key (or any, without a key) leaves
 * the gate, to get its own process.  o is borrowed for the gate's life.
 */
#define IMG_GATE_PENDING 64
#define IMG_GATE_TIMEOUT_MS 5000
struct img_gate;
int img_gate_new(const struct img_serve_opts *o, int max_pending, int timeout_ms,
		 struct img_gate **out);
void img_gate_free(struct img_gate *g);
/* Accepts from lfd and drives the pending connections until one has
 * proven the key: 0 with *fd (blocking again, the caller's) and *a, or
 * -errno if poll fails. */
int img_gate_next(struct img_gate *g, int lfd, int *fd, struct img_authed *a);
int img_gate_pending(const struct img_gate *g);
/* Connections closed so far: idle past the timeout, evicted by newer
 * ones, and broken or refused (bad frames, wrong key). */
void img_gate_counts(const struct img_gate *g, uint64_t *idle, uint64_t *evicted,
		     uint64_t *bad);

/* How far a fetch is, for a program that shows it (img_fetch_opts.progress). */
struct img_fetch_progress {
	uint64_t got_bytes;	/* block bytes received in this attempt */
	uint64_t need_bytes;	/* block bytes this attempt must receive */
	double seconds;		/* since this attempt began */
	int done;		/* 1: the last call of this attempt */
};

struct img_fetch_opts {
	const char *output;
	const char *const *seeds;
	size_t nseeds;
	int codec, level;
	const uint8_t *key;
	size_t key_len;
	int nthreads;
	int inflight;		/* requests in flight (default 16) */
	/* Called at most four times a second while blocks arrive and once
	 * more at the end of each attempt (p->done 1), with progress_arg;
	 * NULL: none.  The library draws nothing: the program shows what it
	 * likes.  p is borrowed for the call. */
	void (*progress)(const struct img_fetch_progress *p, void *progress_arg);
	void *progress_arg;
};

struct img_fetch_stats {
	uint64_t image_bytes, blocks, zero_blocks;
	uint64_t seed_blocks;	/* copied from seeds, re-hashed */
	uint64_t dup_blocks;	/* copied from an identical block received */
	uint64_t resumed_blocks; /* kept from a previous partial run */
	uint64_t sent_blocks;	/* blocks the sender sent */
	uint64_t seed_mismatch;	/* seed blocks whose data no longer matched */
	uint64_t data_raw_bytes; /* block bytes received, before decompression */
	uint64_t bytes_in, bytes_out; /* on the wire */
	int rounds;
	double pause_ms;
	double seconds;
};

/*
 * One attempt: talks to a server on rfd/wfd and builds o->output.  The
 * stats accumulate over attempts.  Returns -EPIPE when the connection
 * broke (the partial file and its state are kept for a later attempt).
 */
int img_fetch_session(int rfd, int wfd, const struct img_fetch_opts *o,
		      struct img_fetch_stats *st);

/* Paths of the partial output and its resume state (malloc'd). */
char *img_partial_path(const char *output);
char *img_state_path(const char *output);

#endif
