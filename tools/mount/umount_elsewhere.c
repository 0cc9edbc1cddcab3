/*
 * umount_elsewhere.c - unmounting a dvs mount that other mount namespaces
 * still hold (see umount_elsewhere.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dvs/log.h"
#include "state.h"
#include "umount_elsewhere.h"

int
umount_sync(const char *mnt)
{
	int fd, rc = 0;

	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		dvs_warn("cannot open %s to write it back: %s", mnt, strerror(-rc));
		return rc;
	}
	if (syncfs(fd) != 0) {
		rc = -errno;
		dvs_warn("writing back %s failed: %s", mnt, strerror(-rc));
	}
	close(fd);
	return rc;
}

static int
alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* 1 when pid is a running process named dvs-fuse: not a pid reused since,
 * nor one that has exited and waits to be reaped (a zombie serves no
 * mount). */
static int
is_dvs_fuse(pid_t pid)
{
	char path[64], line[256] = "", *name, *end;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	/* "pid (comm) state ...": comm may hold spaces and parentheses */
	name = strchr(line, '(');
	end = strrchr(line, ')');
	if (name == NULL || end == NULL || end < name || end[1] != ' ')
		return 0;
	*end = '\0';
	return strcmp(name + 1, "dvs-fuse") == 0 && end[2] != 'Z' && end[2] != 'X';
}

int
umount_stop_stray_fuse(const char *state, long sup, long grace_s)
{
	const struct timespec tick = {0, 100 * 1000 * 1000};
	long i, fuse = 0;

	for (i = 0; i < grace_s * 10; i++) {
		if (!alive((pid_t)sup))
			return 0;
		nanosleep(&tick, NULL);
	}
	if (state_get_int(state, "fuse_pid", &fuse) != 1 || fuse <= 0 ||
	    !is_dvs_fuse((pid_t)fuse))
		return 0;
	dvs_info("dvs-fuse (pid %ld) still serves %lds after the unmount: another "
		 "mount namespace holds a copy of the mount; stopping dvs-fuse",
		 fuse, grace_s);
	return kill((pid_t)fuse, SIGTERM) == 0;
}
