/*
 * index.c - the block index file beside an image (IMAGE.dvsidx).
 *
 * Layout (little-endian): a 128-byte header, then one 32-byte SHA-256 per
 * block.  The header carries the image's size, device, inode and mtime so a
 * stale or foreign index is noticed, a digest of the hash array, and a
 * digest of the header itself, so a flipped bit anywhere is detected.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvs/img.h"
#include "dvs/log.h"
#include "img_int.h"

#define IDX_MAGIC "DVSIDX\0\1"
#define IDX_VERSION 1u
#define IDX_HDR 128u
#define IDX_OFF_DIGEST 56u
#define IDX_OFF_HDRSUM 96u

static void
sha256(const void *p, size_t len, uint8_t out[32])
{
	unsigned int n;

	EVP_Digest(p, len, out, &n, EVP_sha256(), NULL);
}

void
img_index_digest(const struct img_index *ix, uint8_t out[IMG_HASH_LEN])
{
	sha256(ix->hash, (size_t)ix->nblocks * IMG_HASH_LEN, out);
}

uint64_t
img_block_len(const struct img_index *ix, uint64_t b)
{
	uint64_t off = b * ix->block_size;

	return ix->image_size - off < ix->block_size ? ix->image_size - off :
						       ix->block_size;
}

void
img_index_free(struct img_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->hash);
	free(ix);
}

char *
img_index_path(const char *image)
{
	char *p;

	if (asprintf(&p, "%s%s", image, IMG_INDEX_SUFFIX) < 0)
		return NULL;
	return p;
}

static int
valid_block_size(uint32_t bs)
{
	return bs >= IMG_MIN_BLOCK && bs <= IMG_MAX_BLOCK && (bs & (bs - 1)) == 0;
}

static struct img_index *
index_alloc(uint32_t bs, uint64_t size)
{
	struct img_index *ix = calloc(1, sizeof(*ix));
	uint64_t n = (size + bs - 1) / bs;

	if (ix == NULL)
		return NULL;
	ix->block_size = bs;
	ix->image_size = size;
	ix->nblocks = n;
	/* Zero-length images still get a valid pointer. */
	ix->hash = malloc(n ? n * IMG_HASH_LEN : 1);
	if (ix->hash == NULL || n > (SIZE_MAX / IMG_HASH_LEN)) {
		img_index_free(ix);
		return NULL;
	}
	return ix;
}

static uint64_t
stat_mtime_ns(const struct stat *st)
{
	return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

int
img_index_build(const char *image, uint32_t block_size, int nthreads,
		struct img_index **out)
{
	struct img_index *ix = NULL;
	struct stat st, st2;
	int fd, r;

	*out = NULL;
	if (!valid_block_size(block_size)) {
		img_err("block size %u: must be a power of two from %u to %u",
			block_size, IMG_MIN_BLOCK, IMG_MAX_BLOCK);
		return -EINVAL;
	}
	fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		img_err("cannot open %s: %s", image, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		img_err("%s is not a regular file", image);
		r = -EINVAL;
		goto out;
	}
	ix = index_alloc(block_size, (uint64_t)st.st_size);
	if (ix == NULL) {
		r = -ENOMEM;
		goto out;
	}
	ix->dev = st.st_dev;
	ix->ino = st.st_ino;
	ix->mtime_ns = stat_mtime_ns(&st);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = img_hash_blocks(fd, ix->image_size, block_size, 0, ix->nblocks,
			    ix->hash, nthreads);
	if (r != 0)
		goto out;
	/* A writer during hashing would leave a mix of old and new blocks. */
	if (fstat(fd, &st2) != 0 || st2.st_size != st.st_size ||
	    stat_mtime_ns(&st2) != ix->mtime_ns) {
		img_err("%s changed while it was hashed; stop its writer or use serve --live",
			image);
		r = -ESTALE;
		goto out;
	}
	*out = ix;
	ix = NULL;
out:
	img_index_free(ix);
	close(fd);
	return r;
}

static void
header_encode(const struct img_index *ix, uint8_t h[IDX_HDR])
{
	memset(h, 0, IDX_HDR);
	memcpy(h, IDX_MAGIC, 8);
	img_put32(h + 8, IDX_VERSION);
	img_put32(h + 12, ix->block_size);
	img_put64(h + 16, ix->image_size);
	img_put64(h + 24, ix->nblocks);
	img_put64(h + 32, ix->dev);
	img_put64(h + 40, ix->ino);
	img_put64(h + 48, ix->mtime_ns);
	img_index_digest(ix, h + IDX_OFF_DIGEST);
	sha256(h, IDX_OFF_HDRSUM, h + IDX_OFF_HDRSUM);
}

static int
write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t w;

	while (len > 0) {
		w = write(fd, b, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

int
img_index_save(const struct img_index *ix, const char *path)
{
	uint8_t h[IDX_HDR];
	char *tmp = NULL;
	int fd = -1, r;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	header_encode(ix, h);
	r = write_all(fd, h, sizeof(h));
	if (r == 0)
		r = write_all(fd, ix->hash, (size_t)ix->nblocks * IMG_HASH_LEN);
	if (r == 0 && fsync(fd) != 0)
		r = -errno;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
out:
	if (r != 0) {
		dvs_debug("cannot write index %s: %s", path, strerror(-r));
		unlink(tmp);
	}
	free(tmp);
	return r;
}

int
img_index_parse(const void *buf, size_t len, struct img_index **out)
{
	const uint8_t *h = buf;
	struct img_index *ix;
	uint8_t sum[32];
	uint32_t bs;
	uint64_t size, n;

	*out = NULL;
	if (len < IDX_HDR || memcmp(h, IDX_MAGIC, 8) != 0)
		return -EBADMSG;
	if (img_get32(h + 8) != IDX_VERSION)
		return -EPROTONOSUPPORT;
	sha256(h, IDX_OFF_HDRSUM, sum);
	if (memcmp(sum, h + IDX_OFF_HDRSUM, 32) != 0)
		return -EBADMSG;
	bs = img_get32(h + 12);
	size = img_get64(h + 16);
	n = img_get64(h + 24);
	if (!valid_block_size(bs) || n != size / bs + (size % bs != 0))
		return -EBADMSG;
	if (n > (SIZE_MAX - IDX_HDR) / IMG_HASH_LEN || len != IDX_HDR + n * IMG_HASH_LEN)
		return -EBADMSG;
	sha256(h + IDX_HDR, (size_t)n * IMG_HASH_LEN, sum);
	if (memcmp(sum, h + IDX_OFF_DIGEST, 32) != 0)
		return -EBADMSG;
	ix = index_alloc(bs, size);
	if (ix == NULL)
		return -ENOMEM;
	ix->dev = img_get64(h + 32);
	ix->ino = img_get64(h + 40);
	ix->mtime_ns = img_get64(h + 48);
	memcpy(ix->hash, h + IDX_HDR, (size_t)n * IMG_HASH_LEN);
	*out = ix;
	return 0;
}

int
img_index_load(const char *path, const char *image, struct img_index **out)
{
	struct stat st, ist;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t rd;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size < (off_t)IDX_HDR || (uint64_t)st.st_size > SIZE_MAX / 2) {
		r = -EBADMSG;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		rd = read(fd, buf + got, (size_t)st.st_size - got);
		if (rd < 0 && errno == EINTR)
			continue;
		if (rd <= 0) {
			r = rd < 0 ? -errno : -EBADMSG;
			goto out;
		}
		got += (size_t)rd;
	}
	r = img_index_parse(buf, got, out);
	if (r != 0 || image == NULL)
		goto out;
	if (stat(image, &ist) != 0) {
		r = -errno;
	} else if ((uint64_t)ist.st_size != (*out)->image_size ||
		   (uint64_t)ist.st_ino != (*out)->ino ||
		   (uint64_t)ist.st_dev != (*out)->dev ||
		   stat_mtime_ns(&ist) != (*out)->mtime_ns) {
		r = -ESTALE;
	}
	if (r != 0) {
		img_index_free(*out);
		*out = NULL;
	}
out:
	free(buf);
	close(fd);
	return r;
}

int
img_index_open(const char *image, const char *idx_path, uint32_t block_size,
	       int nthreads, int rebuild_corrupt, int *rebuilt,
	       struct img_index **out)
{
	char *def = NULL;
	const char *p = idx_path;
	int r;

	*out = NULL;
	if (rebuilt)
		*rebuilt = 0;
	if (p == NULL) {
		def = img_index_path(image);
		if (def == NULL)
			return -ENOMEM;
		p = def;
	}
	r = img_index_load(p, image, out);
	if (r == 0 && (*out)->block_size != block_size) {
		dvs_info("index %s uses %u-byte blocks, not %u: rebuilding", p,
			 (*out)->block_size, block_size);
		img_index_free(*out);
		*out = NULL;
		r = -ESTALE;
	}
	if (r == 0)
		goto out;
	if (r == -EBADMSG || r == -EPROTONOSUPPORT) {
		if (!rebuild_corrupt) {
			img_err("index %s is corrupt (checksum or format); delete it or "
				"rebuild it with 'dvs img index %s'", p, image);
			goto out;
		}
		img_warn("index %s is corrupt: rebuilding it", p);
	} else if (r == -ESTALE) {
		img_warn("index %s is stale (the image changed since): rebuilding it", p);
	} else if (r != -ENOENT) {
		img_err("cannot read index %s: %s", p, strerror(-r));
		goto out;
	}
	r = img_index_build(image, block_size, nthreads, out);
	if (r != 0)
		goto out;
	if (rebuilt)
		*rebuilt = 1;
	if (img_index_save(*out, p) != 0)
		dvs_info("could not save the index as %s; using it from memory", p);
out:
	free(def);
	return r;
}
