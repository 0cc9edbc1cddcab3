/*
 * hash.c - SHA-256 of image blocks, on every core.
 *
 * OpenSSL's EVP SHA-256 uses the CPU's SHA extensions when present.  Each
 * thread takes the next chunk of blocks from a shared counter, so a slow
 * page-cache miss on one chunk does not hold the others back.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvs/img.h"
#include "dvs/log.h"
#include "img_int.h"

/* 256 KiB of 4 KiB blocks per read: stays in L2 between pread and hash. */
#define CHUNK_BLOCKS 64u

int
img_hash_is_zero(const uint8_t h[IMG_HASH_LEN])
{
	static const uint8_t z[IMG_HASH_LEN];

	return memcmp(h, z, IMG_HASH_LEN) == 0;
}

int
img_is_zero(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
		if ((i & 511) == 504 && acc)
			return 0;
	}
	for (; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_init(void)
{
	/* Fetching once avoids a provider lookup per block. */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
img_hash_block(const void *data, size_t len, uint8_t out[IMG_HASH_LEN])
{
	unsigned int n = 0;

	if (img_is_zero(data, len)) {
		memset(out, 0, IMG_HASH_LEN);
		return;
	}
	pthread_once(&sha256_once, sha256_init);
	if (EVP_Digest(data, len, out, &n, sha256_md ? sha256_md : EVP_sha256(),
		       NULL) != 1 || n != IMG_HASH_LEN)
		abort(); /* OpenSSL without SHA-256 is a broken install */
	if (img_hash_is_zero(out))
		out[0] = 1; /* never happens in practice; keeps "zero" exact */
}

struct hash_job {
	int fd;
	uint64_t image_size, first, count;
	uint32_t bs;
	uint8_t (*out)[IMG_HASH_LEN];
	atomic_uint_fast64_t next;
	atomic_int err;
};

/* 1 when [off, off+len) holds no data (SEEK_DATA says the next data, if
 * any, starts at or after its end).  File systems without holes report
 * data everywhere, which only costs the read. */
static int
in_hole(int fd, uint64_t off, size_t len)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	if (d < 0)
		return errno == ENXIO;
	return (uint64_t)d >= off + len;
}

static void *
hash_worker(void *arg)
{
	struct hash_job *j = arg;
	size_t bufsz = (size_t)CHUNK_BLOCKS * j->bs;
	unsigned char *buf = malloc(bufsz);
	uint64_t c, b, n, off;
	size_t len, got, blen;
	ssize_t r;

	if (buf == NULL) {
		atomic_store(&j->err, -ENOMEM);
		return NULL;
	}
	for (;;) {
		if (atomic_load(&j->err) != 0)
			break;
		c = atomic_fetch_add(&j->next, CHUNK_BLOCKS);
		if (c >= j->count)
			break;
		n = j->count - c < CHUNK_BLOCKS ? j->count - c : CHUNK_BLOCKS;
		off = (j->first + c) * j->bs;
		len = off >= j->image_size ? 0 :
		      (size_t)((j->image_size - off) < n * j->bs ?
				       j->image_size - off : n * j->bs);
		got = 0;
		if (len > 0 && in_hole(j->fd, off, len)) {
			/* Holes read as zeros: skip the copy (most of a fresh image). */
			for (b = 0; b < n; b++)
				memset(j->out[c + b], 0, IMG_HASH_LEN);
			continue;
		}
		while (got < len) {
			r = pread(j->fd, buf + got, len - got, (off_t)(off + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				atomic_store(&j->err, r < 0 ? -errno : -ESTALE);
				goto out;
			}
			got += (size_t)r;
		}
		for (b = 0; b < n; b++) {
			size_t boff = (size_t)b * j->bs;

			blen = boff >= len ? 0 :
			       (len - boff < j->bs ? len - boff : j->bs);
			img_hash_block(buf + boff, blen, j->out[c + b]);
		}
	}
out:
	free(buf);
	return NULL;
}

int
img_hash_blocks(int fd, uint64_t image_size, uint32_t block_size,
		uint64_t first, uint64_t count, uint8_t (*out)[IMG_HASH_LEN],
		int nthreads)
{
	struct hash_job j = { .fd = fd, .image_size = image_size, .first = first,
			      .count = count, .bs = block_size, .out = out };
	pthread_t tid[64];
	int i, started = 0;

	if (nthreads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nthreads = n > 0 ? (int)n : 1;
	}
	if (nthreads > 64)
		nthreads = 64;
	if ((uint64_t)nthreads > count / CHUNK_BLOCKS + 1)
		nthreads = (int)(count / CHUNK_BLOCKS + 1);
	atomic_init(&j.next, 0);
	atomic_init(&j.err, 0);
	for (i = 1; i < nthreads; i++) {
		if (pthread_create(&tid[started], NULL, hash_worker, &j) != 0)
			break;
		started++;
	}
	hash_worker(&j);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (atomic_load(&j.err) != 0) {
		int e = atomic_load(&j.err);

		img_err("reading the image failed: %s",
			e == -ESTALE ? "it became shorter while hashing" : strerror(-e));
		return e;
	}
	return 0;
}
