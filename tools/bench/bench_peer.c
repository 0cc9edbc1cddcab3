/*
 * bench_peer.c - dvs-bench-peer: the two ends of IPC between endpoints
 * (of different nodes, or one), as `dvs-bench cluster` and the cluster
 * tests use them.  Run through `dvsctl run`; not installed.
 *
 *   dvs-bench-peer serve EP              answers until told to stop: sendrec
 *                                echoes (payload + 1); one-way messages
 *                                are checked per sender for order (seq
 *                                numbers from 1, none lost, none twice);
 *                                notifications counted; REPORT answers the
 *                                sender's tally
 *   dvs-bench-peer talk EP SERVER N      N sendrecs checked, N one-way messages,
 *                                a notification, then REPORT: prints "ok"
 *                                and exits 0 only if the server saw all N
 *                                in order
 *   dvs-bench-peer rtt EP SERVER N       N lock-step sendrecs; prints the median
 *                                round trip in us
 *   dvs-bench-peer oneway EP SERVER N    N one-way sends, then REPORT; prints
 *                                messages per second
 *   dvs-bench-peer stop EP SERVER        tells the server to exit
 *   dvs-bench-peer hang EP SERVER MS     a sendrec the server never answers
 *                                        (it stops serving); fails after MS
 *   dvs-bench-peer call EP SERVER MS     one sendrec with a timeout of MS; prints
 *                                the result (an error name, or "ok")
 *   dvs-bench-peer load EP SERVER MS   sendrecs for MS milliseconds; prints
 *                                how many
 *   dvs-bench-peer vcopy EP SERVER LEN  grants LEN bytes to SERVER, which
 *                                copies them, checks and writes them back
 *                                changed; prints "ok" if they came back so
 *   dvs-bench-peer vcwrong EP SERVER LEN  the same with the grant made to
 *                                SERVER + 1: the copy must be refused
 *   dvs-bench-peer vcbench EP SERVER N  SERVER copies 1 MiB from our grant N
 *                                times; prints GB/s
 * Every client mode first waits (up to 10 s) for SERVER to answer, since
 * its binding may not have reached this node yet.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dvs/clock.h"
#include "dvs/ipc.h"
#include "dvs/parse.h"

enum { T_ECHO = 100, T_ONEWAY, T_REPORT, T_STOP, T_VCOPY, T_HANG };

/* T_VCOPY: the server copies len bytes from the caller's grant (rounds
 * times, timed), checks the pattern the caller wrote, writes them back
 * with every byte ^ 0x5a, and answers with the ns the copies took. */
struct vc_req {
	int32_t grant;
	uint32_t rounds;
	uint64_t len;
	uint64_t seed;
};
#define VC_MAX (8u << 20)

static uint8_t
pattern(uint64_t seed, uint64_t i)
{
	return (uint8_t)((i * 2654435761u + seed) >> 7);
}

struct tally {
	uint64_t next;	 /* next one-way seq expected */
	uint64_t bad;	 /* out of order, lost or twice */
	uint64_t notes;	 /* notifications */
};

static void
vc_serve(struct dvk *h, dvk_msg_t *m)
{
	static uint8_t buf[VC_MAX];
	struct vc_req q;
	int64_t t0, dt;
	uint64_t i;
	uint32_t k;
	int rc = 0;

	memcpy(&q, m->m_u.raw, sizeof(q));
	if (q.len == 0 || q.len > VC_MAX || q.rounds == 0)
		rc = -22;
	t0 = (int64_t)dvs_now_ns();
	for (k = 0; rc == 0 && k < q.rounds; k++)
		rc = dvk_vcopy_from(h, m->m_source, q.grant, 0, buf, q.len);
	dt = (int64_t)dvs_now_ns() - t0;
	for (i = 0; rc == 0 && i < q.len; i++) {
		if (buf[i] != pattern(q.seed, i)) {
			rc = -74; /* EBADMSG: the bytes came wrong */
			break;
		}
		buf[i] ^= 0x5a;
	}
	if (rc == 0)
		rc = dvk_vcopy_to(h, m->m_source, q.grant, 0, buf, q.len);
	memset(m->m_u.raw, 0, sizeof(m->m_u.raw));
	memcpy(m->m_u.raw, &rc, sizeof(rc));
	memcpy(m->m_u.raw + 8, &dt, sizeof(dt));
	dvk_reply(h, m->m_source, m);
}

/* The caller's side of T_VCOPY: 0 and the ns of the copies, or < 0. */
static int
vc_call(struct dvk *h, int srv, int grantee, uint64_t len, uint32_t rounds, int64_t *ns)
{
	uint8_t *buf = malloc(len);
	struct vc_req q = { .len = len, .rounds = rounds, .seed = dvs_now_ns() };
	dvk_msg_t m;
	uint64_t i;
	int rc;

	if (buf == NULL)
		return -12;
	for (i = 0; i < len; i++)
		buf[i] = pattern(q.seed, i);
	rc = dvk_grant(h, grantee, buf, len, DVK_GRANT_READ | DVK_GRANT_WRITE, &q.grant);
	if (rc == 0) {
		memset(&m, 0, sizeof(m));
		m.m_type = T_VCOPY;
		memcpy(m.m_u.raw, &q, sizeof(q));
		rc = dvk_sendrec(h, srv, &m);
		if (rc == 0)
			memcpy(&rc, m.m_u.raw, sizeof(rc));
		memcpy(ns, m.m_u.raw + 8, sizeof(*ns));
		dvk_revoke(h, q.grant);
	}
	for (i = 0; rc == 0 && i < len; i++)
		if (buf[i] != (pattern(q.seed, i) ^ 0x5a))
			rc = -74;
	free(buf);
	return rc;
}

static int
serve(struct dvk *h)
{
	static struct tally t[4096];
	dvk_msg_t m;
	int rc;

	for (;;) {
		rc = dvk_receive(h, DVK_ANY, &m);
		if (rc < 0) {
			printf("receive: %s\n", dvk_strerror(rc));
			return 1;
		}
		if (m.m_source < 0 || m.m_source >= 4096)
			continue; /* a system message */
		struct tally *s = &t[m.m_source];
		uint64_t v;

		memcpy(&v, m.m_u.raw, sizeof(v));
		switch (m.m_type) {
		case DVK_MSG_NOTIFY:
			s->notes++;
			break;
		case T_ECHO:
			v++;
			memcpy(m.m_u.raw, &v, sizeof(v));
			dvk_reply(h, m.m_source, &m);
			break;
		case T_ONEWAY:
			if (v == 1) { /* a new run from this sender */
				s->next = 1;
				s->bad = 0;
			}
			if (v != s->next)
				s->bad++;
			s->next = v + 1;
			break;
		case T_REPORT:
			memcpy(m.m_u.raw, &s->next, 8);
			memcpy(m.m_u.raw + 8, &s->bad, 8);
			memcpy(m.m_u.raw + 16, &s->notes, 8);
			dvk_reply(h, m.m_source, &m);
			break;
		case T_STOP:
			dvk_reply(h, m.m_source, &m);
			return 0;
		case T_VCOPY:
			vc_serve(h, &m);
			break;
		case T_HANG:
			for (;;)
				pause();
		}
	}
}

static int
call(struct dvk *h, int srv, int type, uint64_t v, dvk_msg_t *m)
{
	memset(m, 0, sizeof(*m));
	m->m_type = type;
	memcpy(m->m_u.raw, &v, sizeof(v));
	return dvk_sendrec(h, srv, m);
}

static int
oneway(struct dvk *h, int srv, uint64_t n)
{
	dvk_msg_t m;
	uint64_t i;
	int rc;

	for (i = 1; i <= n; i++) {
		memset(&m, 0, sizeof(m));
		m.m_type = T_ONEWAY;
		memcpy(m.m_u.raw, &i, sizeof(i));
		rc = dvk_send(h, srv, &m);
		if (rc < 0) {
			printf("send %" PRIu64 ": %s\n", i, dvk_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* REPORT: 0 if the server got n one-way messages in order. */
static int
report(struct dvk *h, int srv, uint64_t n, uint64_t notes_min)
{
	uint64_t next, bad, notes;
	dvk_msg_t m;
	int rc = call(h, srv, T_REPORT, 0, &m);

	if (rc < 0) {
		printf("report: %s\n", dvk_strerror(rc));
		return 1;
	}
	memcpy(&next, m.m_u.raw, 8);
	memcpy(&bad, m.m_u.raw + 8, 8);
	memcpy(&notes, m.m_u.raw + 16, 8);
	if (next != n + 1 || bad != 0 || notes < notes_min) {
		printf("server saw %" PRIu64 " of %" PRIu64 " in order, %" PRIu64
		       " out of order, lost or twice, %" PRIu64 " notifications\n",
		       next - 1, n, bad, notes);
		return 1;
	}
	return 0;
}

/* Waits for srv to answer an echo (its binding may still be on its way
 * to this node through the directory). */
static int
wait_server(struct dvk *h, int srv)
{
	int64_t end = (int64_t)dvs_now_ns() + 10000000000;
	dvk_msg_t m;
	int rc;

	do {
		memset(&m, 0, sizeof(m));
		m.m_type = T_ECHO;
		rc = dvk_sendrec_t(h, srv, &m, 1000);
		if (rc == 0)
			return 0;
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	} while ((int64_t)dvs_now_ns() < end);
	printf("server %d does not answer: %s\n", srv, dvk_strerror(rc));
	return -1;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The mode of argv[1] on the binding h; the exit status. */
static int
run(struct dvk *h, int argc, char **argv)
{
	dvk_msg_t m;
	int rc, srv;
	uint64_t n, i;
	long lv;

	if (strcmp(argv[1], "serve") == 0) {
		printf("serving %d\n", dvk_self(h));
		fflush(stdout);
		return serve(h);
	}
	if (argc < 4)
		return 2;
	if (dvs_parse_long(argv[3], 0, INT32_MAX - 1, &lv) != 0) {
		fprintf(stderr, "dvs-bench-peer: SERVER: an endpoint, not '%s'\n", argv[3]);
		return 2;
	}
	srv = (int)lv;
	lv = 0;
	if (argc > 4 && dvs_parse_long(argv[4], 0, LONG_MAX, &lv) != 0) {
		fprintf(stderr, "dvs-bench-peer: N/MS/LEN: a number, not '%s'\n", argv[4]);
		return 2;
	}
	n = (uint64_t)lv;
	if (strcmp(argv[1], "stop") == 0) {
		rc = call(h, srv, T_STOP, 0, &m);
		if (rc < 0)
			printf("stop: %s\n", dvk_strerror(rc));
		return rc < 0;
	}
	if (strcmp(argv[1], "call") != 0 && wait_server(h, srv) < 0)
		return 1;
	if (strcmp(argv[1], "load") == 0) {
		int64_t end = (int64_t)dvs_now_ns() + (int64_t)n * 1000000;
		uint64_t count = 0;

		while ((int64_t)dvs_now_ns() < end) {
			if (call(h, srv, T_ECHO, count, &m) < 0) {
				printf("sendrec: failed\n");
				return 1;
			}
			count++;
		}
		printf("%" PRIu64 "\n", count);
		return 0;
	}
	if (strcmp(argv[1], "call") == 0 || strcmp(argv[1], "hang") == 0) {
		memset(&m, 0, sizeof(m));
		m.m_type = argv[1][0] == 'h' ? T_HANG : T_ECHO;
		rc = dvk_sendrec_t(h, srv, &m, (int)n);
		printf("%s\n", rc < 0 ? dvk_strerror(rc) : "ok");
		return rc < 0;
	}
	if (strcmp(argv[1], "talk") == 0) {
		for (i = 1; i <= n; i++) {
			uint64_t v;

			rc = call(h, srv, T_ECHO, i, &m);
			memcpy(&v, m.m_u.raw, sizeof(v));
			if (rc < 0 || v != i + 1 || m.m_source != srv) {
				printf("sendrec %" PRIu64 ": %s (got %" PRIu64 " from %d)\n", i,
				       rc < 0 ? dvk_strerror(rc) : "wrong reply", v, m.m_source);
				return 1;
			}
		}
		if (oneway(h, srv, n) < 0)
			return 1;
		rc = dvk_notify(h, srv);
		if (rc < 0) {
			printf("notify: %s\n", dvk_strerror(rc));
			return 1;
		}
		if (report(h, srv, n, 1) != 0)
			return 1;
		printf("ok\n");
		return 0;
	}
	if (strcmp(argv[1], "vcopy") == 0 || strcmp(argv[1], "vcbench") == 0 ||
	    strcmp(argv[1], "vcwrong") == 0) {
		int bench = strcmp(argv[1], "vcbench") == 0;
		int64_t ns = 0;

		rc = vc_call(h, srv, argv[1][2] == 'w' ? srv + 1 : srv, bench ? 1u << 20 : n,
			     bench ? (uint32_t)n : 1, &ns);
		if (rc < 0) {
			printf("vcopy: %s\n", rc == -74 ? "the bytes came back wrong" : dvk_strerror(rc));
			return 1;
		}
		if (bench)
			printf("%.4f\n", ns > 0 ? (double)n * (1 << 20) / (double)ns : 0.0);
		else
			printf("ok\n");
		return 0;
	}
	if (strcmp(argv[1], "rtt") == 0) {
		int64_t *t = calloc(n ? n : 1, sizeof(*t));
		uint64_t mid;

		for (i = 0; i < n; i++) {
			int64_t t0 = (int64_t)dvs_now_ns();

			if (call(h, srv, T_ECHO, i, &m) < 0) {
				printf("sendrec: failed\n");
				free(t);
				return 1;
			}
			t[i] = (int64_t)dvs_now_ns() - t0;
		}
		qsort(t, n, sizeof(*t), cmp64);
		mid = n / 2; /* the median */
		printf("%.2f\n", n ? (double)t[mid] / 1000.0 : 0.0);
		free(t);
		return 0;
	}
	if (strcmp(argv[1], "oneway") == 0) {
		int64_t t0 = (int64_t)dvs_now_ns(), dt;

		if (oneway(h, srv, n) < 0 || report(h, srv, n, 0) != 0)
			return 1;
		dt = (int64_t)dvs_now_ns() - t0;
		printf("%.0f\n", (double)n * 1e9 / (double)dt);
		return 0;
	}
	return 2;
}

int
main(int argc, char **argv)
{
	struct dvk *h;
	long ep;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: dvs-bench-peer serve EP | talk|rtt|oneway EP SERVER N | "
				"load|call EP SERVER MS | vcopy EP SERVER LEN |\n"
				"       vcbench EP SERVER N | stop EP SERVER | hang EP SERVER MS\n");
		return 2;
	}
	if (dvs_parse_long(argv[2], 0, INT32_MAX - 1, &ep) != 0) {
		fprintf(stderr, "dvs-bench-peer: EP: an endpoint, not '%s'\n", argv[2]);
		return 2;
	}
	rc = dvk_bind((int)ep, strcmp(argv[1], "serve") == 0 ? DVK_BIND_PEER_EVENTS : 0,
		      &h);
	if (rc < 0) {
		printf("bind: %s\n", dvk_strerror(rc));
		return 1;
	}
	rc = run(h, argc, argv);
	dvk_unbind(h);
	return rc;
}
