/*
 * main.c - dvs-fs, the file-system server: options, start, clean stop.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dvs/blkproto.h"
#include "dvs/log.h"
#include "dvs/version.h"
#include "fs.h"
#include "dvs/srv.h"

struct fs_server fs_srv;

#define MAX_VOL_ARGS FS_MAX_VOLUMES

struct vol_arg {
	char name[FS_VOLNAME_MAX + 1];
	const char *image; /* NULL: vdd */
	dvk_ep_t vdd_ep;
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: dvs-fs [OPTIONS] [IMAGE]\n"
	    "Serves FAT and ext2/3/4 volumes to the clients of a DC (run it with\n"
	    "dvsctl run); an image with an ext superblock is served through libext2fs.\n"
	    "\n"
	    "  IMAGE                   serve this image file as volume 'main'\n"
	    "  -V, --volume NAME=IMAGE serve an image file (repeatable)\n"
	    "  -d, --vdd [NAME=]EP     serve the disk of the dvs-vdd bound to EP\n"
	    "                          (volume 'vdd' when no NAME)\n"
	    "  -e, --ep N              well-known endpoint (default %d, or $DVS_FS_EP)\n"
	    "  -w, --workers N         worker threads, each on an endpoint of the\n"
	    "                          admission (default 4; 0: serve on --ep only)\n"
	    "  -r, --read-only         mount every volume read-only\n"
	    "  -c, --cache-mb N        metadata cache bound per volume (default 8)\n"
	    "      --flush-sec N       write metadata back every N s (default 5; 0 off)\n"
	    "  -v, --verbose           log more (again: debug)\n"
	    "  -q, --quiet             log errors only\n"
	    "  -h, --help              this text\n"
	    "      --version           print the version\n"
	    "\n"
	    "The first volume is the default one.  SIGTERM or SIGINT stops the\n"
	    "server cleanly: descriptors closed, volumes flushed, dirty flag\n"
	    "cleared.  Exit: 0 clean stop, 1 a volume did not unmount clean,\n"
	    "2 bad usage, 3 cannot start.  See docs/FS.md.\n",
	    FS_EP_DEFAULT);
}

static void
on_signal(int sig)
{
	(void)sig;
	fs_srv.stop = 1;
}

static int
parse_vol(const char *arg, int vdd, struct vol_arg *va)
{
	const char *eq = strchr(arg, '=');
	const char *val = arg;
	long ep;

	memset(va, 0, sizeof(*va));
	if (eq != NULL) {
		if (eq == arg || (size_t)(eq - arg) > FS_VOLNAME_MAX)
			return -1;
		memcpy(va->name, arg, (size_t)(eq - arg));
		val = eq + 1;
	} else if (vdd) {
		snprintf(va->name, sizeof(va->name), "vdd");
	} else {
		return -1;
	}
	if (vdd) {
		if (srv_parse_long(val, 0, INT32_MAX - 1, &ep) < 0)
			return -1;
		va->vdd_ep = (dvk_ep_t)ep;
	} else {
		if (*val == '\0')
			return -1;
		va->image = val;
	}
	return 0;
}

static void
stop_workers(void)
{
	int i;

	fs_srv.stop = 1;
	for (i = 0; i < fs_srv.nworkers; i++)
		if (fs_srv.workers[i].started)
			pthread_join(fs_srv.workers[i].tid, NULL);
}

static void
free_workers(void)
{
	int i;

	for (i = 0; i < fs_srv.nworkers; i++) {
		struct fs_worker *w = &fs_srv.workers[i];
		unsigned k;

		for (k = 0; k < FS_BIND_BUCKETS; k++) {
			while (w->buckets[k] != NULL) {
				struct fs_binding *b = w->buckets[k];

				w->buckets[k] = b->next;
				fs_session_put(b->s);
				free(b);
			}
		}
		srv_iobuf_free(&w->io); /* before the unbind that unmaps it */
		w->iobuf = NULL;
		dvk_unbind(w->h);
		pthread_mutex_destroy(&w->lock);
	}
	fs_srv.nworkers = 0;
}

static int
worker_init(struct fs_worker *w, int idx, dvk_ep_t ep)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->idx = idx;
	/* Peer-gone events end a dead client's session at once. */
	rc = dvk_bind(ep, DVK_BIND_PEER_EVENTS, &w->h);
	if (rc < 0)
		return rc;
	w->ep = dvk_self(w->h);
	/* Shared with dvkd: a vcopy to or from a client is one copy. */
	rc = srv_iobuf_alloc(w->h, FS_IO_MAX, &w->io);
	if (rc < 0) {
		dvk_unbind(w->h);
		return rc;
	}
	w->iobuf = w->io.p;
	pthread_mutex_init(&w->lock, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"volume", required_argument, NULL, 'V'},
	    {"vdd", required_argument, NULL, 'd'},
	    {"ep", required_argument, NULL, 'e'},
	    {"workers", required_argument, NULL, 'w'},
	    {"read-only", no_argument, NULL, 'r'},
	    {"cache-mb", required_argument, NULL, 'c'},
	    {"flush-sec", required_argument, NULL, 'F'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 0x100},
	    {NULL, 0, NULL, 0},
	};
	struct vol_arg vols[MAX_VOL_ARGS];
	int nvols = 0, c, i, rc, ret = 0;
	long ep = FS_EP_DEFAULT, nworkers = 4, cache_mb = 0, v;
	int read_only = 0;
	struct sigaction sa;

	dvs_log_init(argv[0]);
	fs_srv.flush_ms = 5000;
	if (srv_env_ep("dvs-fs", "DVS_FS_EP", &ep) < 0)
		return 2;
	while ((c = getopt_long(argc, argv, "V:d:e:w:rc:vqh", lopts, NULL)) != -1) {
		switch (c) {
		case 'V':
		case 'd':
			if (nvols >= MAX_VOL_ARGS) {
				fprintf(stderr, "dvs-fs: at most %d volumes\n",
					MAX_VOL_ARGS);
				return 2;
			}
			if (parse_vol(optarg, c == 'd', &vols[nvols]) < 0) {
				fprintf(stderr, "dvs-fs: bad %s '%s' (want %s)\n",
					c == 'd' ? "--vdd" : "--volume", optarg,
					c == 'd' ? "[NAME=]ENDPOINT" : "NAME=IMAGE");
				return 2;
			}
			nvols++;
			break;
		case 'e':
			if (srv_parse_long(optarg, 0, INT32_MAX - 1, &ep) < 0) {
				fprintf(stderr, "dvs-fs: --ep: bad endpoint '%s'\n", optarg);
				return 2;
			}
			break;
		case 'w':
			if (srv_parse_long(optarg, 0, FS_MAX_WORKERS - 1, &nworkers) < 0) {
				fprintf(stderr, "dvs-fs: --workers: 0 to %d\n",
					FS_MAX_WORKERS - 1);
				return 2;
			}
			break;
		case 'r':
			read_only = 1;
			break;
		case 'c':
			if (srv_parse_long(optarg, 1, 1 << 20, &cache_mb) < 0) {
				fprintf(stderr, "dvs-fs: bad --cache-mb '%s'\n", optarg);
				return 2;
			}
			break;
		case 'F':
			if (srv_parse_long(optarg, 0, 3600, &v) < 0) {
				fprintf(stderr, "dvs-fs: --flush-sec: 0 to 3600\n");
				return 2;
			}
			fs_srv.flush_ms = (int)v * 1000;
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
			return dvs_print_version("dvs-fs");
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		if (optind + 1 < argc || nvols >= MAX_VOL_ARGS) {
			usage(stderr);
			return 2;
		}
		memset(&vols[nvols], 0, sizeof(vols[nvols]));
		snprintf(vols[nvols].name, sizeof(vols[nvols].name), "main");
		vols[nvols].image = argv[optind];
		nvols++;
	}
	if (nvols == 0) {
		fprintf(stderr, "dvs-fs: nothing to serve: give an IMAGE, "
				"--volume NAME=IMAGE or --vdd EP (see --help)\n");
		return 2;
	}

	pthread_mutex_init(&fs_srv.lock, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = worker_init(&fs_srv.workers[0], 0, (dvk_ep_t)ep);
	if (rc < 0) {
		fprintf(stderr,
			"dvs-fs: cannot bind endpoint %ld: %s\n"
			"  (run dvs-fs inside a DC: dvsctl run --dc N --ep %ld[-M] -- "
			"dvs-fs ...)\n",
			ep, dvk_strerror(rc), ep);
		return 3;
	}
	fs_srv.nworkers = 1;
	/* Mounting a vdd volume talks to the vdd from this thread. */
	fs_thread_dvk = fs_srv.workers[0].h;
	for (i = 0; i < nvols; i++) {
		size_t cache = (size_t)cache_mb << 20;

		if (vols[i].image != NULL)
			rc = fs_volume_add_image(vols[i].name, vols[i].image, read_only,
						 cache);
		else
			rc = fs_volume_add_vdd(vols[i].name, vols[i].vdd_ep, read_only,
					       cache, fs_srv.workers[0].h);
		if (rc < 0) {
			fprintf(stderr, "dvs-fs: cannot serve volume %s\n", vols[i].name);
			ret = 3;
			goto out_vols;
		}
	}
	for (i = 1; i <= nworkers; i++) {
		rc = worker_init(&fs_srv.workers[i], i, DVK_ANY);
		if (rc < 0) {
			if (i == 1)
				dvs_warn("no spare endpoint for workers (%s): "
					 "serving on endpoint %ld alone",
					 dvk_strerror(rc), ep);
			else
				dvs_warn("only %d workers: %s", i - 1, dvk_strerror(rc));
			break;
		}
		fs_srv.nworkers++;
	}
	for (i = 1; i < fs_srv.nworkers; i++) {
		rc = pthread_create(&fs_srv.workers[i].tid, NULL, fs_worker_main,
				    &fs_srv.workers[i]);
		if (rc != 0) {
			dvs_err("cannot start a worker: %s", strerror(rc));
			ret = 3;
			goto out_stop;
		}
		fs_srv.workers[i].started = 1;
	}
	dvs_info("serving %d volume(s) on endpoint %ld with %d worker(s)", fs_srv.nvols,
		 ep, fs_srv.nworkers - 1);
	/* Worker 0 runs on the main thread. */
	fs_worker_main(&fs_srv.workers[0]);
	fs_thread_dvk = fs_srv.workers[0].h;

out_stop:
	stop_workers();
	fs_sessions_shutdown();
out_vols:
	fs_thread_dvk = fs_srv.workers[0].h;
	if (fs_volumes_unmount() < 0 && ret == 0)
		ret = 1;
	free_workers();
	return ret;
}
