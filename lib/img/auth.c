/*
 * auth.c - shared-key challenge-response.
 *
 * Both sides send a fresh 32-byte nonce; each proves it holds the key with
 * HMAC-SHA256(key, label || nonce || nonce), the labels and the nonce order
 * differing per direction so a proof cannot be reflected back.  The key
 * never crosses the wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvs/log.h"
#include "img_int.h"

int
img_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

void
img_auth_proof(const uint8_t *key, size_t klen, const char *label,
	       const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
	uint8_t msg[64 + 64];
	size_t ll = strlen(label);
	unsigned int n = 32;

	if (ll > 64)
		ll = 64;
	memcpy(msg, label, ll);
	memcpy(msg + ll, a, 32);
	memcpy(msg + ll + 32, b, 32);
	HMAC(EVP_sha256(), key, (int)klen, msg, ll + 64, out, &n);
}

int
img_auth_equal(const uint8_t a[32], const uint8_t b[32])
{
	return CRYPTO_memcmp(a, b, 32) == 0;
}

int
img_key_load(const char *path, uint8_t *key, size_t cap)
{
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		img_err("cannot open key file %s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		img_warn("key file %s can be read by other users; chmod 600 it", path);
	n = read(fd, key, cap);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r != 0) {
		img_err("cannot read key file %s: %s", path, strerror(-r));
		return r;
	}
	/* A trailing newline from `echo` is not part of the secret. */
	while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
		n--;
	if (n < IMG_KEY_MIN || (size_t)n >= cap) {
		img_err("key file %s must hold %d to %d bytes (e.g. "
			"`head -c 32 /dev/urandom | base64 > %s`)",
			path, IMG_KEY_MIN, IMG_KEY_MAX - 1, path);
		return -EINVAL;
	}
	return (int)n;
}
