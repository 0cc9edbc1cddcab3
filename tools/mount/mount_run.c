/* mount_run.c - the run directory of a new dvs mount (see mount_run.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mount_cli.h"
#include "mount_run.h"
#include "dvs/mountinfo.h"
#include "run_dir.h"
#include "state.h"

static int
pid_alive(const char *state, const char *key)
{
	long pid;

	return state_get_int(state, key, &pid) == 1 && kill((pid_t)pid, 0) == 0;
}

/*
 * 0 for a leftover of a supervisor that was killed: it is gone, nothing is
 * mounted where it mounted, and its servers are gone (so nothing has the
 * image open).  1 otherwise, also while a new supervisor has not written
 * its pid yet.
 */
static int
mount_in_use(const char *state)
{
	char mnt[PATH_MAX];
	long sup;

	if (state_get_int(state, "supervisor", &sup) != 1 || kill((pid_t)sup, 0) == 0)
		return 1;
	if (state_get(state, "MNT", mnt, sizeof(mnt)) == 1 && mountinfo_is_dvs(mnt))
		return 1;
	return pid_alive(state, "fs_pid") || pid_alive(state, "vdd_pid");
}

/* Another dvs mount already serves image: its mountpoint into mnt.
 * Leftovers of killed supervisors are removed on the way. */
static int
image_mounted(const char *root, const char *image, char *mnt, size_t len)
{
	char path[PATH_MAX + 300], v[PATH_MAX];
	struct dirent *e;
	int found = 0;
	DIR *d;

	d = opendir(root);
	if (d == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "mount-", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/state", root, e->d_name);
		if (state_get(path, "IMAGE", v, sizeof(v)) != 1 || strcmp(v, image) != 0)
			continue;
		if (!mount_in_use(path)) {
			snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
			run_dir_remove(path);
			continue;
		}
		if (state_get(path, "MNT", mnt, len) != 1)
			snprintf(mnt, len, "?");
		found = 1;
	}
	closedir(d);
	return found;
}

static int
mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Makes the run directory of o->mnt with the state file. */
int
mount_make_run_dir(struct mount_opts *o)
{
	char root[PATH_MAX], other[PATH_MAX], state[PATH_MAX + 16];
	long sup;
	int rc;

	if (run_root(root, sizeof(root)) < 0 ||
	    run_dir_of(o->mnt, o->run, sizeof(o->run)) < 0)
		return mount_fail("run directory path too long: set DVS_RUN_DIR to a "
				  "shorter directory");
	/* dvkd's socket goes in there, and sun_path holds 108 bytes. */
	if (strlen(o->run) >= 96)
		return mount_fail("run directory %s is too long for a socket path: set "
				  "DVS_RUN_DIR to a shorter directory",
				  o->run);
	rc = mkdirs(root);
	if (rc < 0)
		return mount_fail("cannot create %s: %s", root, strerror(-rc));
	if (image_mounted(root, o->image, other, sizeof(other)))
		return mount_fail("image %s is already mounted by dvs mount (%s)",
				  o->image, other);
	snprintf(state, sizeof(state), "%s/state", o->run);
	if (access(o->run, F_OK) == 0) {
		/* A leftover of a supervisor that was killed: nothing runs there. */
		if (state_get_int(state, "supervisor", &sup) == 1 &&
		    kill((pid_t)sup, 0) == 0)
			return mount_fail(
			    "mountpoint %s is busy: a dvs mount is still starting or "
			    "stopping there",
			    o->mnt);
		run_dir_remove(o->run);
	}
	if (mkdir(o->run, 0700) != 0)
		return mount_fail("cannot create %s: %s", o->run, strerror(errno));
	rc = state_put(o->run, "IMAGE", o->image);
	rc = rc < 0 ? rc : state_put(o->run, "MNT", o->mnt);
	rc = rc < 0 ? rc : state_put_int(o->run, "VDD", o->vdd);
	rc = rc < 0 ? rc : state_put_int(o->run, "RO", o->ro);
	rc = rc < 0 ? rc : state_put_int(o->run, "CACHE_MB", o->cache_mb);
	rc = rc < 0 ? rc : state_put_int(o->run, "THREADS", o->threads);
	rc = rc < 0 ? rc : state_put_int(o->run, "OWN_UID", o->uid);
	rc = rc < 0 ? rc : state_put_int(o->run, "OWN_GID", o->gid);
	rc = rc < 0 ? rc : state_put_int(o->run, "ALLOW_OTHER", o->allow_other);
	if (rc < 0) {
		run_dir_remove(o->run);
		return mount_fail("cannot write %s: %s", state, strerror(-rc));
	}
	return 0;
}
