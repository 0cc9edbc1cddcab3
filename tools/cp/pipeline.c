/*
 * pipeline.c - see pipeline.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pipeline.h"

#define PL_NBUF 3
#define HUGE_PAGE ((size_t)2 << 20)

void *
pl_buf_alloc(size_t len)
{
	size_t alloc = (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	void *p = aligned_alloc(HUGE_PAGE, alloc);

	/* dvkd pins the pages of our grant for each copy: one huge page
	 * instead of 256 small ones per MiB. */
	if (p != NULL)
		(void)madvise(p, alloc, MADV_HUGEPAGE);
	return p;
}

struct pl {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf[PL_NBUF];
	size_t len[PL_NBUF]; /* protected by mu, with full[] */
	int full[PL_NBUF];
	int stop; /* either side failed or the writer is done */
	pl_read_fn rd;
	void *rarg;
	pl_write_fn wr;
	void *warg;
	size_t bs;
	void (*on_block)(size_t n);
	int main_reads;
	struct pl_result res;
};

static void
reader(struct pl *p)
{
	unsigned i = 0;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->full[i] && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		pthread_mutex_unlock(&p->mu);
		n = p->rd(p->rarg, p->buf[i], p->bs);
		pthread_mutex_lock(&p->mu);
		if (n < 0) {
			p->res.read_err = (int)n;
			p->stop = 1;
		} else {
			p->len[i] = (size_t)n;
			p->full[i] = 1; /* a 0-length block means end of input */
		}
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (n <= 0)
			return;
		if (p->main_reads && p->on_block != NULL)
			p->on_block((size_t)n);
		i = (i + 1) % PL_NBUF;
	}
}

static void
writer(struct pl *p)
{
	unsigned i = 0;
	ssize_t n;
	size_t len;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->full[i] && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->full[i]) { /* stopped by a read error */
			pthread_mutex_unlock(&p->mu);
			return;
		}
		len = p->len[i];
		pthread_mutex_unlock(&p->mu);
		if (len == 0)
			break;
		n = p->wr(p->warg, p->buf[i], len);
		pthread_mutex_lock(&p->mu);
		if (n < 0) {
			p->res.write_err = (int)n;
			p->stop = 1;
		} else {
			p->res.bytes += len;
			p->full[i] = 0;
		}
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (n < 0)
			return;
		if (!p->main_reads && p->on_block != NULL)
			p->on_block(len);
		i = (i + 1) % PL_NBUF;
	}
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void *
helper(void *arg)
{
	struct pl *p = arg;

	if (p->main_reads)
		writer(p);
	else
		reader(p);
	return NULL;
}

int
pl_copy(pl_read_fn rd, void *rarg, pl_write_fn wr, void *warg, size_t bs,
	int helper_reads, void (*on_block)(size_t n), struct pl_result *res)
{
	struct pl p;
	pthread_t tid;
	int i, rc = 0;

	memset(&p, 0, sizeof(p));
	memset(res, 0, sizeof(*res));
	/* One block of memory: bs is usually 1 MiB, so three buffers share
	 * two huge pages. */
	p.buf[0] = pl_buf_alloc(bs * PL_NBUF);
	if (p.buf[0] == NULL)
		return -ENOMEM;
	for (i = 1; i < PL_NBUF; i++)
		p.buf[i] = p.buf[0] + (size_t)i * bs;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	p.rd = rd;
	p.rarg = rarg;
	p.wr = wr;
	p.warg = warg;
	p.bs = bs;
	p.on_block = on_block;
	p.main_reads = !helper_reads;
	if (pthread_create(&tid, NULL, helper, &p) != 0) {
		rc = -EAGAIN;
		goto out_sync;
	}
	if (p.main_reads)
		reader(&p);
	else
		writer(&p);
	pthread_join(tid, NULL);
	*res = p.res;
out_sync:
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	free(p.buf[0]);
	return rc;
}
