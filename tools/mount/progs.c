/* progs.c - the folder of our sibling programs (see progs.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progs.h"

static char progs_dir[PATH_MAX];

static int
set_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	char cwd[PATH_MAX];
	size_t n;

	if (slash == NULL)
		return -1;
	n = (size_t)(slash - path);
	if (n == 0) {
		snprintf(progs_dir, sizeof(progs_dir), "/");
		return 0;
	}
	/* Absolute: the supervisor runs from / (it must not hold a folder). */
	if (path[0] == '/') {
		if (n >= sizeof(progs_dir))
			return -1;
		memcpy(progs_dir, path, n);
		progs_dir[n] = '\0';
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(progs_dir, sizeof(progs_dir), "%s/%.*s", cwd, (int)n,
			     path) >= sizeof(progs_dir))
		return -1;
	return 0;
}

int
progs_find_in_path(const char *name, char *buf, size_t len)
{
	const char *p = getenv("PATH"), *colon;
	size_t n;

	while (p != NULL && *p != '\0') {
		colon = strchr(p, ':');
		n = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (n > 0 &&
		    (size_t)snprintf(buf, len, "%.*s/%s", (int)n, p, name) < len &&
		    access(buf, X_OK) == 0)
			return 0;
		p = colon != NULL ? colon + 1 : NULL;
	}
	return -ENOENT;
}

void
progs_init(const char *argv0)
{
	char self[PATH_MAX];
	ssize_t n;

	if (strchr(argv0, '/') != NULL && set_dir(argv0) == 0)
		return;
	if (progs_find_in_path(argv0, self, sizeof(self)) == 0 && set_dir(self) == 0)
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if (set_dir(self) == 0)
			return;
	}
	snprintf(progs_dir, sizeof(progs_dir), ".");
}

int
progs_path(const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", progs_dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}
