/*
 * codec.c - block compression for DATA frames.
 *
 * zstd and lz4 for real use; zlib and LZO because the thesis measured them.
 * Decompression must produce exactly the announced size: anything else is a
 * corrupt frame, never a short block written to the image.
 */
#include <errno.h>
#include <lz4.h>
#include <lz4hc.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "dvs/img.h"

static const char *const names[IMG_CODEC_COUNT] = { "none", "zstd", "lz4", "zlib",
						    "lzo" };

int
img_codec_from_name(const char *name)
{
	int i;

	for (i = 0; i < IMG_CODEC_COUNT; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *
img_codec_name(int codec)
{
	return codec >= 0 && codec < IMG_CODEC_COUNT ? names[codec] : "?";
}

size_t
img_codec_bound(int codec, size_t len)
{
	switch (codec) {
	case IMG_CODEC_ZSTD:
		return ZSTD_compressBound(len);
	case IMG_CODEC_LZ4:
		return (size_t)LZ4_compressBound((int)len);
	case IMG_CODEC_ZLIB:
		return compressBound((uLong)len);
	case IMG_CODEC_LZO:
		return len + len / 16 + 64 + 3;
	default:
		return len;
	}
}

static pthread_once_t lzo_once = PTHREAD_ONCE_INIT;
static int lzo_ok;

static void
lzo_setup(void)
{
	lzo_ok = lzo_init() == LZO_E_OK;
}

int
img_compress(int codec, int level, const void *src, size_t len, void *dst,
	     size_t cap, size_t *dlen)
{
	size_t n;

	switch (codec) {
	case IMG_CODEC_NONE:
		if (len > cap)
			return -ENOSPC;
		memcpy(dst, src, len);
		*dlen = len;
		return 0;
	case IMG_CODEC_ZSTD: {
		static __thread ZSTD_CCtx *cctx;

		if (cctx == NULL && (cctx = ZSTD_createCCtx()) == NULL)
			return -ENOMEM;
		n = ZSTD_compressCCtx(cctx, dst, cap, src, len, level ? level : 3);
		if (ZSTD_isError(n))
			return -ENOSPC;
		*dlen = n;
		return 0;
	}
	case IMG_CODEC_LZ4: {
		int r;

		if (level > 1)
			r = LZ4_compress_HC(src, dst, (int)len, (int)cap, level);
		else
			r = LZ4_compress_default(src, dst, (int)len, (int)cap);
		if (r <= 0)
			return -ENOSPC;
		*dlen = (size_t)r;
		return 0;
	}
	case IMG_CODEC_ZLIB: {
		uLongf dl = (uLongf)cap;

		if (compress2(dst, &dl, src, (uLong)len, level ? level : 6) != Z_OK)
			return -ENOSPC;
		*dlen = dl;
		return 0;
	}
	case IMG_CODEC_LZO: {
		static __thread void *wrk;
		lzo_uint dl = 0;

		pthread_once(&lzo_once, lzo_setup);
		if (!lzo_ok)
			return -EIO;
		if (wrk == NULL && (wrk = malloc(LZO1X_1_MEM_COMPRESS)) == NULL)
			return -ENOMEM;
		if (cap < img_codec_bound(IMG_CODEC_LZO, len))
			return -ENOSPC;
		if (lzo1x_1_compress(src, len, dst, &dl, wrk) != LZO_E_OK)
			return -ENOSPC;
		*dlen = dl;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

int
img_decompress(int codec, const void *src, size_t len, void *dst, size_t rawlen)
{
	switch (codec) {
	case IMG_CODEC_NONE:
		if (len != rawlen)
			return -EBADMSG;
		memcpy(dst, src, len);
		return 0;
	case IMG_CODEC_ZSTD: {
		size_t n = ZSTD_decompress(dst, rawlen, src, len);

		return !ZSTD_isError(n) && n == rawlen ? 0 : -EBADMSG;
	}
	case IMG_CODEC_LZ4: {
		int n;

		if (len > INT32_MAX || rawlen > INT32_MAX)
			return -EBADMSG;
		n = LZ4_decompress_safe(src, dst, (int)len, (int)rawlen);
		return n >= 0 && (size_t)n == rawlen ? 0 : -EBADMSG;
	}
	case IMG_CODEC_ZLIB: {
		uLongf dl = (uLongf)rawlen;

		return uncompress(dst, &dl, src, (uLong)len) == Z_OK && dl == rawlen ?
			       0 : -EBADMSG;
	}
	case IMG_CODEC_LZO: {
		lzo_uint dl = rawlen;

		pthread_once(&lzo_once, lzo_setup);
		if (!lzo_ok)
			return -EIO;
		if (lzo1x_decompress_safe(src, len, dst, &dl, NULL) != LZO_E_OK ||
		    dl != rawlen)
			return -EBADMSG;
		return 0;
	}
	default:
		return -EBADMSG;
	}
}

/*
 * Session-wide zstd: one compression context for every DATA frame of a
 * session, flushed at each frame, so a run can refer to earlier runs (the
 * way rsync -z keeps one zlib stream).  The window is capped so that a
 * hostile server cannot make a client allocate much.
 */
#define ZS_WINDOW_LOG 23

void *
img_zs_new(int level)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();

	if (c == NULL)
		return NULL;
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level ? level : 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, ZS_WINDOW_LOG);
	return c;
}

void
img_zs_free(void *zs)
{
	ZSTD_freeCCtx(zs);
}

int
img_zs_compress(void *zs, const void *src, size_t len, void *dst, size_t cap,
		size_t *dlen)
{
	ZSTD_inBuffer in = { src, len, 0 };
	ZSTD_outBuffer out = { dst, cap, 0 };
	size_t left;

	do {
		left = ZSTD_compressStream2(zs, &out, &in, ZSTD_e_flush);
		if (ZSTD_isError(left))
			return -EIO;
		if (left != 0 && out.pos == out.size)
			return -ENOSPC;
	} while (left != 0);
	*dlen = out.pos;
	return 0;
}

void *
img_zd_new(void)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();

	if (d != NULL)
		ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, ZS_WINDOW_LOG);
	return d;
}

void
img_zd_free(void *zd)
{
	ZSTD_freeDCtx(zd);
}

int
img_zd_decompress(void *zd, const void *src, size_t len, void *dst, size_t rawlen)
{
	ZSTD_inBuffer in = { src, len, 0 };
	ZSTD_outBuffer out = { dst, rawlen, 0 };
	size_t r;

	while (in.pos < in.size) {
		size_t ip = in.pos, op = out.pos;

		r = ZSTD_decompressStream(zd, &out, &in);
		if (ZSTD_isError(r))
			return -EBADMSG;
		if (out.pos == out.size && in.pos < in.size) {
			/* More input than the announced size can hold. */
			uint8_t extra;
			ZSTD_outBuffer o2 = { &extra, 1, 0 };

			r = ZSTD_decompressStream(zd, &o2, &in);
			if (ZSTD_isError(r) || o2.pos != 0)
				return -EBADMSG;
		}
		if (in.pos == ip && out.pos == op)
			return -EBADMSG; /* no progress: a broken stream */
	}
	return out.pos == rawlen ? 0 : -EBADMSG;
}
