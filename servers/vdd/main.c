/*
 * main.c - dvs-vdd: options, the receive loop, clean stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvs/imagelock.h"
#include "dvs/log.h"
#include "dvs/version.h"
#include "dvs/srv.h"
#include "vdd.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: dvs-vdd [OPTIONS] IMAGE\n"
	    "       dvs-vdd --stats [--ep N]\n"
	    "Serves an image file as a block device to the clients of a DC\n"
	    "(dvs-fs --vdd EP); run it with dvsctl run.\n"
	    "\n"
	    "  -e, --ep N         well-known endpoint (default %d, or $DVS_VDD_EP)\n"
	    "  -s, --sector N     sector size: 512, 1024, 2048 or 4096 (default 512)\n"
	    "  -r, --read-only    refuse writes\n"
	    "      --stats        ask the running dvs-vdd at --ep for its counters\n"
	    "                     (run it inside the DC too) and print them\n"
	    "  -v, --verbose      log more (again: debug)\n"
	    "  -q, --quiet        log errors only\n"
	    "  -h, --help         this text\n"
	    "      --version      print the version\n"
	    "\n"
	    "Statistics: `dvsctl` shows the endpoint's message counters; the\n"
	    "BLK_STATS request gives reads, writes, bytes and errors.\n"
	    "SIGTERM flushes the image and stops.  Exit: 0 clean stop, 2 bad\n"
	    "usage, 3 cannot start.\n",
	    VDD_EP_DEFAULT);
}

/* The client side of BLK_STATS, for people and scripts. */
static int
print_stats(dvk_ep_t ep)
{
	struct blk_rp_stats st;
	struct dvk *h;
	dvk_msg_t m;
	int rc;

	rc = dvk_bind(DVK_ANY, 0, &h);
	if (rc < 0) {
		fprintf(stderr,
			"dvs-vdd: cannot bind an endpoint: %s\n"
			"  (run it inside the DC: dvsctl run --dc N --ep any -- "
			"dvs-vdd --stats)\n",
			dvk_strerror(rc));
		return 3;
	}
	memset(&m, 0, sizeof(m));
	m.m_type = BLK_RQ_BASE + BLK_STATS;
	rc = dvk_sendrec_t(h, ep, &m, 5000);
	dvk_unbind(h);
	if (rc < 0 || m.m_type < 0) {
		fprintf(stderr, "dvs-vdd: no statistics from endpoint %d: %s\n", (int)ep,
			dvk_strerror(rc < 0 ? rc : m.m_type));
		return 1;
	}
	st = m.m_u.blk_rp_stats;
	printf("reads %llu writes %llu flushes %llu bytes_read %llu "
	       "bytes_written %llu errors %llu clients %u\n",
	       (unsigned long long)st.reads, (unsigned long long)st.writes,
	       (unsigned long long)st.flushes, (unsigned long long)st.bytes_read,
	       (unsigned long long)st.bytes_written, (unsigned long long)st.errors,
	       st.clients);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"ep", required_argument, NULL, 'e'},
	    {"sector", required_argument, NULL, 's'},
	    {"read-only", no_argument, NULL, 'r'},
	    {"stats", no_argument, NULL, 'S'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 0x100},
	    {NULL, 0, NULL, 0},
	};
	static struct vdd v;
	struct srv_iobuf io;
	long ep = VDD_EP_DEFAULT, sector = 512;
	struct sigaction sa;
	dvk_msg_t in, out;
	struct stat st;
	int c, rc, stats = 0;

	dvs_log_init(argv[0]);
	if (srv_env_ep("dvs-vdd", "DVS_VDD_EP", &ep) < 0)
		return 2;
	while ((c = getopt_long(argc, argv, "e:s:rvqh", lopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (srv_parse_long(optarg, 0, INT32_MAX - 1, &ep) < 0) {
				fprintf(stderr, "dvs-vdd: --ep: bad endpoint '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
			if (srv_parse_long(optarg, 512, 4096, &sector) < 0 ||
			    (sector & (sector - 1)) != 0) {
				fprintf(stderr,
					"dvs-vdd: --sector: 512, 1024, 2048 or 4096\n");
				return 2;
			}
			break;
		case 'r':
			v.read_only = 1;
			break;
		case 'S':
			stats = 1;
			break;
		case 'v':
			dvs_log_more();
			break;
		case 'q':
			dvs_log_quiet();
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 0x100:
			return dvs_print_version("dvs-vdd");
		default:
			usage(stderr);
			return 2;
		}
	}
	if (stats)
		return optind == argc ? print_stats((dvk_ep_t)ep) : (usage(stderr), 2);
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	v.sector = (uint32_t)sector;
	v.fd = open(argv[optind], (v.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (v.fd < 0) {
		fprintf(stderr, "dvs-vdd: %s: %s\n", argv[optind], strerror(errno));
		return 3;
	}
	if (fstat(v.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "dvs-vdd: %s: not a regular file\n", argv[optind]);
		return 3;
	}
	/* One writer per image across DVS: a second vdd or a dvs-fs on the
	 * same file (by any name) would write one volume twice. */
	rc = dvs_image_lock(v.fd, !v.read_only);
	if (rc < 0) {
		char msg[512];

		if (rc == -EBUSY)
			dvs_image_busy_msg(argv[optind], msg, sizeof(msg));
		else
			snprintf(msg, sizeof(msg), "%s: cannot lock: %s", argv[optind],
				 strerror(-rc));
		fprintf(stderr, "dvs-vdd: %s\n", msg);
		return 3;
	}
	v.size = (uint64_t)st.st_size - (uint64_t)st.st_size % v.sector;
	if (v.size == 0) {
		fprintf(stderr, "dvs-vdd: %s: smaller than one sector\n", argv[optind]);
		return 3;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = dvk_bind((dvk_ep_t)ep, 0, &v.h);
	if (rc < 0) {
		fprintf(stderr,
			"dvs-vdd: cannot bind endpoint %ld: %s\n"
			"  (run it inside a DC: dvsctl run --dc N --ep %ld -- dvs-vdd "
			"IMAGE)\n",
			ep, dvk_strerror(rc), ep);
		return 3;
	}
	/* Shared with dvkd: the grant copy of each request is one copy. */
	if (srv_iobuf_alloc(v.h, BLK_IO_MAX, &io) < 0) {
		fprintf(stderr, "dvs-vdd: out of memory\n");
		dvk_unbind(v.h);
		return 3;
	}
	v.buf = io.p;
	dvs_info("serving %s (%llu bytes, %u-byte sectors) on endpoint %ld", argv[optind],
		 (unsigned long long)v.size, v.sector, ep);
	while (!stop) {
		rc = dvk_receive_t(v.h, DVK_ANY, &in, 250);
		if (rc == -ETIMEDOUT || rc == -EINTR)
			continue;
		if (rc < 0) {
			if (rc == -EDVS_NODAEMON) {
				dvs_err("dvkd is gone: stopping");
				break;
			}
			continue;
		}
		if (in.m_type == DVK_MSG_NOTIFY)
			continue;
		rc = vdd_dispatch(&v, &in, &out);
		out.m_type = rc;
		(void)dvk_reply(v.h, in.m_source, &out);
	}
	if (!v.read_only && fdatasync(v.fd) < 0)
		dvs_err("final flush: %s", strerror(errno));
	srv_iobuf_free(&io); /* before the unbind that unmaps it */
	dvk_unbind(v.h);
	close(v.fd);
	return 0;
}
