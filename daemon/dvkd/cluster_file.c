/*
 * cluster_file.c - the cluster file: one per cluster, the same on every
 * node (docs/CLUSTER.md).  A line is a keyword and its arguments:
 *
 *   cluster NAME          1-32 characters [A-Za-z0-9_.-]
 *   key PATH              the shared key (16 to 1024 bytes, mode 0600)
 *   port N                TCP port of every dvkd's proxy listener (7420)
 *   node ID ADDRESS       ID 0..63, an IPv4 address; one line per node
 *
 * '#' starts a comment.  Every error names its line: the file is written
 * by people.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"

#define CL_FILE_MAX (64 * 1024)
#define CL_MAX_WORDS 4

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Splits line (NUL-terminated, changed in place) into words. */
static int
split(char *line, char **w)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == CL_MAX_WORDS)
			return -1;
		w[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return n;
		}
		if (*p != '\0')
			*p++ = '\0';
	}
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno != 0 || *end != '\0' || *out > max) ? -1 : 0;
}

static int
valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > CL_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int
parse_line(struct cl_file *f, char **w, int n, int lineno, char *err,
	   size_t errlen)
{
	unsigned long v;
	int i;

	if (strcmp(w[0], "cluster") == 0) {
		if (n != 2 || !valid_name(w[1]))
			return fail(err, errlen, "line %d: cluster NAME (1-%d of A-Z a-z 0-9 _ . -)",
				    lineno, CL_NAME_MAX);
		snprintf(f->name, sizeof(f->name), "%s", w[1]);
	} else if (strcmp(w[0], "key") == 0) {
		if (n != 2 || strlen(w[1]) >= sizeof(f->key_path) || w[1][0] != '/')
			return fail(err, errlen, "line %d: key ABSOLUTE-PATH", lineno);
		snprintf(f->key_path, sizeof(f->key_path), "%s", w[1]);
	} else if (strcmp(w[0], "port") == 0) {
		if (n != 2 || parse_uint(w[1], 65535, &v) < 0 || v == 0)
			return fail(err, errlen, "line %d: port 1..65535", lineno);
		f->port = (uint16_t)v;
	} else if (strcmp(w[0], "node") == 0) {
		struct in_addr a;

		if (n != 3 || parse_uint(w[1], CL_MAX_NODES - 1, &v) < 0)
			return fail(err, errlen, "line %d: node ID ADDRESS (ID 0..%d)",
				    lineno, CL_MAX_NODES - 1);
		if (inet_pton(AF_INET, w[2], &a) != 1)
			return fail(err, errlen, "line %d: '%s' is not an IPv4 address",
				    lineno, w[2]);
		for (i = 0; i < f->nnodes; i++) {
			if (f->nodes[i].id == (int)v)
				return fail(err, errlen, "line %d: node %lu appears twice",
					    lineno, v);
			if (f->nodes[i].addr.s_addr == a.s_addr)
				return fail(err, errlen, "line %d: address %s is node %d's too",
					    lineno, w[2], f->nodes[i].id);
		}
		f->nodes[f->nnodes].id = (int)v;
		f->nodes[f->nnodes].addr = a;
		f->nnodes++;
	} else {
		return fail(err, errlen, "line %d: unknown keyword '%s'", lineno, w[0]);
	}
	return 0;
}

int
cl_file_parse(const char *text, size_t len, struct cl_file *f, char *err,
	      size_t errlen)
{
	char line[512];
	char *w[CL_MAX_WORDS];
	size_t pos = 0;
	int lineno = 0, n, rc;

	memset(f, 0, sizeof(*f));
	f->port = CL_DEFAULT_PORT;
	while (pos < len) {
		size_t e = pos, ll;

		while (e < len && text[e] != '\n')
			e++;
		ll = e - pos;
		lineno++;
		if (ll >= sizeof(line))
			return fail(err, errlen, "line %d: longer than %zu bytes", lineno,
				    sizeof(line) - 1);
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos = e + 1;
		if (memchr(line, '\0', ll) != NULL)
			return fail(err, errlen, "line %d: a NUL byte", lineno);
		n = split(line, w);
		if (n < 0)
			return fail(err, errlen, "line %d: too many words", lineno);
		if (n == 0)
			continue;
		rc = parse_line(f, w, n, lineno, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (f->name[0] == '\0')
		return fail(err, errlen, "no 'cluster NAME' line");
	if (f->key_path[0] == '\0')
		return fail(err, errlen, "no 'key PATH' line");
	if (f->nnodes == 0)
		return fail(err, errlen, "no 'node ID ADDRESS' line");
	return 0;
}

/* Reads at most max bytes of a regular file into a new buffer. */
static int
read_small(const char *path, size_t max, char **buf, size_t *len,
	   struct stat *st, char *err, size_t errlen)
{
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || (size_t)st->st_size > max) {
		snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
		close(fd);
		return -EINVAL;
	}
	*buf = malloc((size_t)st->st_size + 1);
	if (*buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, *buf, (size_t)st->st_size + 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0 || (size_t)n > (size_t)st->st_size) {
		snprintf(err, errlen, "cannot read %s", path);
		free(*buf);
		return rc < 0 ? rc : -EIO;
	}
	*len = (size_t)n;
	return 0;
}

int
cl_file_load(const char *path, struct cl_file *f, char *err, size_t errlen)
{
	struct stat st;
	char *buf, sub[200];
	size_t len;
	int rc;

	rc = read_small(path, CL_FILE_MAX, &buf, &len, &st, err, errlen);
	if (rc < 0)
		return rc;
	rc = cl_file_parse(buf, len, f, sub, sizeof(sub));
	free(buf);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, sub);
	return rc;
}

int
cl_key_load(const char *path, uint8_t *key, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len;
	int rc;

	rc = read_small(path, CL_KEY_MAX, &buf, &len, &st, err, errlen);
	if (rc < 0)
		return rc;
	rc = -EINVAL;
	if (st.st_mode & 0077)
		snprintf(err, errlen, "%s: others may read the cluster key (chmod 600 it)", path);
	else if (len < CL_KEY_MIN || len > cap)
		snprintf(err, errlen, "%s: a key is %d to %zu bytes, not %zu", path,
			 CL_KEY_MIN, cap, len);
	else {
		memcpy(key, buf, len);
		rc = (int)len;
	}
	memset(buf, 0, len);
	free(buf);
	return rc;
}
