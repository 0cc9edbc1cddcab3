/*
 * fuzz_dvkd.c - libFuzzer harness that drives dvkd's real request
 * handlers through sockets: the input is a series of packets, each sent
 * on a management connection or on an admission that an ADMIT in the same
 * input obtained.  dvkd must answer or drop the connection, never crash,
 * and leave no state behind that the next input could trip on.
 *
 * Input: repeated [target byte][length byte][length bytes of packet].
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dvkd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cli = -1;
static char sock_path[108];

static char sock_dir[32];

static void
cleanup(void)
{
	unlink(sock_path);
	rmdir(sock_dir);
}

static void
setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/dvkd-fuzz.XXXXXX";

	dvkd.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (dvkd.epfd < 0 || mkdtemp(dir) == NULL)
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/s", dir);
	snprintf(sock_dir, sizeof(sock_dir), "%s", dir);
	atexit(cleanup);
	strcpy(sa.sun_path, sock_path);
	dvkd.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (dvkd.listen_fd < 0 ||
	    bind(dvkd.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(dvkd.listen_fd, 8) < 0)
		abort();
	dvkd.priv = 1;
	if (dvkd_copy_start() < 0)
		abort();
}

static int
connect_mgmt(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	strcpy(sa.sun_path, sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	dvkd_mgmt_accept();
	return fd;
}

/* Reads and drops what dvkd answered, keeping an admission fd if any. */
static void
drain(int fd, int *admit)
{
	struct dvkd_msg m;
	int fds[4], nfds;

	while (dvkd_recv(fd, &m, fds, 4, &nfds, MSG_DONTWAIT) == 0) {
		while (nfds > 0) {
			int f = fds[--nfds];

			if (*admit < 0 && m.h.type == DVKD_REPLY)
				*admit = f;
			else
				close(f);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	int admit = -1;
	size_t i = 0;

	if (!ready) {
		setup();
		ready = 1;
	}
	cli = connect_mgmt();
	while (i + 2 <= size) {
		int target = data[i] & 1;
		size_t len = data[i + 1];

		i += 2;
		if (len > size - i)
			len = size - i;
		if (target == 1 && admit >= 0) {
			if (send(admit, data + i, len, MSG_DONTWAIT) >= 0 &&
			    dvkd.admits != NULL)
				dvkd_admit_input(dvkd.admits);
		} else if (dvkd.mgmts != NULL) {
			if (send(cli, data + i, len, MSG_DONTWAIT) < 0)
				break;
			dvkd_mgmt_input(dvkd.mgmts);
			drain(cli, &admit);
		}
		dvkd_run_deferred();
		i += len;
	}
	/* forget everything this input made */
	close(cli);
	if (admit >= 0)
		close(admit);
	while (dvkd.mgmts != NULL)
		dvkd_mgmt_input(dvkd.mgmts); /* EOF: closes it */
	while (dvkd.bindings != NULL)
		dvkd_bind_gone(dvkd.bindings);
	while (dvkd.admits != NULL)
		dvkd_admit_close(dvkd.admits);
	dvkd_run_deferred();
	dvkd_dc_free_all();
	dvkd.stopping = 0;
	return 0;
}
