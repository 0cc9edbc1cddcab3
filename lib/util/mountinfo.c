/* mountinfo.c - mounts from /proc/self/mountinfo (see mountinfo.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/mountinfo.h"

/*
 * The kernel writes space, tab, newline and backslash in paths as \ooo;
 * this undoes it in place.
 */
static void
unescape(char *s)
{
	char *w = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ =
			    (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/*
 * One line: "id parent major:minor root mountpoint options [tags...] -
 * fstype source super-options".  Returns the mount point and the type
 * (both pointing into line), or -1 for a line of another shape.
 */
static int
parse_line(char *line, char **mnt, char **fstype)
{
	char *save = NULL, *tok;
	int field = 0;

	*mnt = *fstype = NULL;
	for (tok = strtok_r(line, " \n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \n", &save), field++) {
		if (field == 4)
			*mnt = tok;
		if (field > 5 && strcmp(tok, "-") == 0) {
			*fstype = strtok_r(NULL, " \n", &save);
			break;
		}
	}
	if (*mnt == NULL || *fstype == NULL)
		return -1;
	unescape(*mnt);
	return 0;
}

int
mountinfo_find(FILE *table, const char *mnt, char *fstype, size_t len)
{
	char *line = NULL, *m, *t;
	size_t cap = 0;
	int found = 0;

	/* Later lines are mounted on top of earlier ones: the last one wins. */
	while (getline(&line, &cap, table) > 0) {
		if (parse_line(line, &m, &t) < 0 || strcmp(m, mnt) != 0)
			continue;
		snprintf(fstype, len, "%s", t);
		found = 1;
	}
	free(line);
	return found;
}

int
mountinfo_fstype(const char *mnt, char *fstype, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found;

	if (f == NULL)
		return -errno;
	found = mountinfo_find(f, mnt, fstype, len);
	fclose(f);
	return found;
}

int
mountinfo_is_dvs(const char *mnt)
{
	char type[64];

	return mountinfo_fstype(mnt, type, sizeof(type)) == 1 &&
	       strcmp(type, "fuse.dvs") == 0;
}
