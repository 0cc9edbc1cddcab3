/*
 * sd.c - dvkd under systemd: socket activation of the management socket
 * (dvkd.socket) and readiness (Type=notify).  Without systemd, or built
 * without libsystemd, these do nothing and dvkd listens on its own, as
 * `dvsctl start` expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dvkd.h"
#include "dvs/log.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

int
dvkd_sd_listen_fd(const char **path)
{
#ifdef HAVE_LIBSYSTEMD
	static struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);
	int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START, fl;

	if (n <= 0)
		return -1;
	if (n != 1 || sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
		dvs_err("systemd passed %d sockets; dvkd wants one listening AF_UNIX "
			"SOCK_SEQPACKET socket (ListenSequentialPacket=)", n);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	/* The path is the socket's, whatever --socket or DVS_SOCKET say. */
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 && sa.sun_path[0] != '\0')
		*path = sa.sun_path;
	return fd;
#else
	(void)path;
	return -1;
#endif
}

void
dvkd_sd_notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}
