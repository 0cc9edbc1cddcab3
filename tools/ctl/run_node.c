/*
 * run_node.c - `dvsctl run --node N --dc D --ep E -- PROG ARGS`: the
 * program runs on node N (started by its dvkd, admitted as `dvsctl run`
 * would admit it there), its output comes here, its exit status is ours.
 * The working directory (which must exist on node N) and the arguments go
 * to dvkd in a memfd; stdout and stderr come back through two pipes.
 * stdin is not forwarded (the program reads /dev/null).  Interrupting this
 * command stops the program (SIGTERM).  See docs/CLUSTER.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dvs/dvkd_proto.h"
#include "dvs/ipc.h"
#include "run_node.h"

#define BLOB_MAX 32768

/* cwd\0arg0\0arg1\0... into a memfd; the fd, or -1 (said). */
static int
blob_fd(char **argv)
{
	char cwd[PATH_MAX];
	size_t total;
	int fd, i;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), "/");
	total = strlen(cwd) + 1;
	for (i = 0; argv[i] != NULL; i++)
		total += strlen(argv[i]) + 1;
	if (total > BLOB_MAX || i > 256) {
		fprintf(stderr, "dvsctl: run: the arguments are too long for --node "
				"(at most 256 and %d bytes with the working directory)\n",
			BLOB_MAX);
		return -1;
	}
	fd = memfd_create("dvsctl-run", MFD_CLOEXEC);
	if (fd < 0 || write(fd, cwd, strlen(cwd) + 1) < 0) {
		perror("dvsctl: run: memfd");
		return -1;
	}
	for (i = 0; argv[i] != NULL; i++) {
		if (write(fd, argv[i], strlen(argv[i]) + 1) < 0) {
			perror("dvsctl: run: memfd");
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Copies what pipe fd has to out; 0 at its end. */
static int
copy_out(int fd, FILE *out)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	fwrite(buf, 1, (size_t)n, out);
	fflush(out);
	return 1;
}

int
run_node(int sock, int node, int dc, int lo, int hi, char **argv)
{
	struct dvkd_msg req, rep;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, fds[3], mfd, rc;
	struct pollfd p[3];
	int answered = 0, code = 1;

	mfd = blob_fd(argv);
	if (mfd < 0)
		return 1;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		perror("dvsctl: run: pipe");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	dvkd_msg_init(&req, DVKD_RUN_NODE, 1);
	req.u.run.node = node;
	req.u.run.dc = dc;
	req.u.run.lo = lo;
	req.u.run.hi = hi;
	fds[0] = mfd;
	fds[1] = out[1];
	fds[2] = err[1];
	rc = dvkd_send(sock, &req, fds, 3, 0);
	close(mfd);
	close(out[1]);
	close(err[1]);
	if (rc < 0) {
		fprintf(stderr, "dvsctl: run: dvkd: %s\n", dvk_strerror(rc));
		return 3;
	}
	p[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	p[2] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	/* Until dvkd answered and both pipes ended. */
	while (!answered || p[1].fd >= 0 || p[2].fd >= 0) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("dvsctl: run: poll");
			return 1;
		}
		if (p[1].fd >= 0 && p[1].revents && !copy_out(p[1].fd, stdout))
			p[1].fd = -1;
		if (p[2].fd >= 0 && p[2].revents && !copy_out(p[2].fd, stderr))
			p[2].fd = -1;
		if (p[0].fd >= 0 && p[0].revents) {
			int nfds;

			rc = dvkd_recv(sock, &rep, NULL, 0, &nfds, 0);
			p[0].fd = -1;
			answered = 1;
			if (rc < 0) {
				fprintf(stderr, "dvsctl: run: dvkd went away: %s\n", dvk_strerror(rc));
				code = 3;
			} else if (rep.h.status == -EDVS_DEADPEER) {
				fprintf(stderr, "dvsctl: run: node %d is not reachable, or left while "
						"the program ran (what became of it is unknown)\n",
					node);
				code = 255;
			} else if (rep.h.status == -EDVS_NODAEMON) {
				fprintf(stderr, "dvsctl: run: this dvkd is not a node of a cluster with "
						"a node %d\n", node);
				code = 1;
			} else if (rep.h.status == -EDVS_NODC) {
				fprintf(stderr, "dvsctl: run: DC %d does not span node %d and this node "
						"(dvs ctl dc create %d --nodes ...)\n", dc, node, dc);
				code = 1;
			} else if (rep.h.status < 0) {
				fprintf(stderr, "dvsctl: run on node %d: %s\n", node,
					rep.h.status > -EDVS_BASE ? strerror(-rep.h.status) :
					dvk_strerror(rep.h.status));
				code = 1;
			} else if (rep.u.runrep.sig > 0) {
				fprintf(stderr, "dvsctl: run: the program on node %d was killed by "
						"signal %d (%s)\n", node, rep.u.runrep.sig,
					strsignal(rep.u.runrep.sig));
				code = 128 + rep.u.runrep.sig;
			} else {
				code = rep.u.runrep.code & 0xff;
			}
			if (rc < 0 || rep.h.status < 0) {
				/* No output will come: do not wait for it. */
				break;
			}
		}
	}
	return code;
}
