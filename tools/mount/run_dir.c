/* run_dir.c - run directories of dvs mounts (see run_dir.h). */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "run_dir.h"

/* a and b joined into buf; 0 or -ENAMETOOLONG. */
static int
put(char *buf, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(buf, len, "%s%s", a, b) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int
run_root(char *buf, size_t len)
{
	const char *env = getenv("DVS_RUN_DIR"), *xdg;

	if (env != NULL && env[0] != '\0')
		return put(buf, len, env, "");
	if (access("/run/dvs", W_OK) == 0 ||
	    (access("/run/dvs", F_OK) != 0 && access("/run", W_OK) == 0))
		return put(buf, len, "/run/dvs", "");
	xdg = getenv("XDG_RUNTIME_DIR");
	return put(buf, len, xdg != NULL && xdg[0] != '\0' ? xdg : "/tmp", "/dvs");
}

int
run_dir_of(const char *mnt, char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char root[4096], key[17];
	unsigned int mdlen = 0;
	int rc, i;

	rc = run_root(root, sizeof(root));
	if (rc < 0)
		return rc;
	if (!EVP_Digest(mnt, strlen(mnt), md, &mdlen, EVP_sha256(), NULL) || mdlen < 8)
		return -EIO;
	for (i = 0; i < 8; i++)
		snprintf(key + 2 * i, 3, "%02x", md[i]);
	if ((size_t)snprintf(buf, len, "%s/mount-%s", root, key) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
run_dir_remove(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
