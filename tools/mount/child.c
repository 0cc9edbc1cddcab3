/* child.c - starting and stopping programs (see child.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "child.h"

extern char **environ;

static int
status_of(int w)
{
	if (WIFEXITED(w))
		return WEXITSTATUS(w);
	if (WIFSIGNALED(w))
		return 128 + WTERMSIG(w);
	return 1;
}

pid_t
child_spawn(const char *const argv[], int out_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid;
	int rc;

	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_init(&fa);
	/* The supervisor blocks the signals it waits for; its children must
	 * not inherit that, or dvs-fs would never see SIGTERM. */
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (out_fd >= 0) {
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
	}
	/* posix_spawnp's argv predates const; it does not write to it. */
	rc = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc != 0 ? -rc : pid;
}

int
child_start(struct child *c, const char *name, const char *const argv[])
{
	pid_t pid = child_spawn(argv, -1);

	c->name = name;
	c->exited = 0;
	c->status = 0;
	if (pid < 0) {
		c->pid = 0;
		return (int)pid;
	}
	c->pid = pid;
	return 0;
}

int
child_run(const char *const argv[], int quiet)
{
	int fd = -1, w;
	pid_t pid;

	if (quiet)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = child_spawn(argv, fd);
	if (fd >= 0)
		close(fd);
	if (pid < 0)
		return (int)pid;
	while (waitpid(pid, &w, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status_of(w);
}

int
child_alive(struct child *c)
{
	int w;
	pid_t r;

	if (c->pid <= 0 || c->exited)
		return 0;
	r = waitpid(c->pid, &w, WNOHANG);
	if (r == 0)
		return 1;
	c->exited = 1;
	c->status = r == c->pid ? status_of(w) : 1;
	return 0;
}

int
child_wait(struct child *c, int ms)
{
	const struct timespec tick = {0, 20 * 1000 * 1000};
	int waited;

	for (waited = 0; child_alive(c); waited += 20) {
		if (waited >= ms)
			return 0;
		nanosleep(&tick, NULL);
	}
	return 1;
}

int
child_stop(struct child *c, int sig, int ms)
{
	if (!child_alive(c))
		return 0;
	kill(c->pid, sig);
	if (child_wait(c, ms))
		return 0;
	kill(c->pid, SIGKILL);
	child_wait(c, 5000);
	return 1;
}
