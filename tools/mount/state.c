/* state.c - the state file of a dvs mount (see state.h). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvs/parse.h"
#include "state.h"

int
state_put(const char *run, const char *key, const char *value)
{
	char path[4200];
	FILE *f;
	int err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/state", run) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "ae");
	if (f == NULL)
		return -errno;
	if (fprintf(f, "%s=%s\n", key, value) < 0)
		err = -EIO;
	if (fclose(f) != 0 && err == 0)
		err = -errno;
	return err;
}

int
state_put_int(const char *run, const char *key, long n)
{
	char v[32] = "";

	if (n >= 0)
		snprintf(v, sizeof(v), "%ld", n);
	return state_put(run, key, v);
}

int
state_get(const char *path, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), cap = 0;
	char *line = NULL;
	ssize_t n;
	int found = 0;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n > klen && strncmp(line, key, klen) == 0 &&
		    line[klen] == '=') {
			snprintf(buf, len, "%s", line + klen + 1);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	return found;
}

int
state_get_int(const char *path, const char *key, long *n)
{
	char v[32];

	if (state_get(path, key, v, sizeof(v)) != 1)
		return 0;
	return dvs_parse_long(v, 1, LONG_MAX, n) == 0;
}
