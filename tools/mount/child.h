/*
 * child.h - the programs dvs mount and dvs umount start: spawned with a
 * clean signal mask, watched without blocking, stopped within a bound.
 */
#ifndef DVS_MOUNT_CHILD_H
#define DVS_MOUNT_CHILD_H

#include <sys/types.h>

struct child {
	const char *name; /* borrowed: "dvs-fs", ... for the log */
	pid_t pid;	  /* 0: never started */
	int exited;	  /* reaped; status holds how */
	int status;	  /* exit status, or 128 + signal as a shell says */
};

/*
 * Starts argv (borrowed; argv[0] a path or a name looked up in PATH) with
 * every signal unblocked and at its default.  out_fd >= 0 becomes the
 * child's stdout and stderr; -1 keeps ours.  Returns the pid or -errno
 * (a program that cannot be executed is an error here, not a status).
 */
pid_t child_spawn(const char *const argv[], int out_fd);

/* child_spawn into c; 0 or -errno. */
int child_start(struct child *c, const char *name, const char *const argv[]);

/*
 * Runs argv to its end; returns its exit status (128 + signal if killed)
 * or -errno.  quiet sends its output to /dev/null.
 */
int child_run(const char *const argv[], int quiet);

/* 1 while c runs, 0 once it has exited (reaped; c->status set). */
int child_alive(struct child *c);

/* Waits up to ms for c to exit: 1 if it has, 0 if it still runs. */
int child_wait(struct child *c, int ms);

/*
 * Sends sig, waits up to ms, then SIGKILL and a final wait.  Returns 1 if
 * it had to be killed, 0 if it stopped in time (or never ran).
 */
int child_stop(struct child *c, int sig, int ms);

#endif
