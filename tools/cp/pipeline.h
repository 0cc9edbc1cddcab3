/*
 * pipeline.h - a two-thread copy loop for dvs-cp: one thread reads blocks,
 * the other writes them, through a small ring of buffers, so the Linux
 * side's I/O overlaps the round trips to dvs-fs.  The thread that talks to
 * dvs-fs is always the caller's (so it keeps its one DVK binding); the
 * helper thread only touches the Linux file.
 */
#ifndef DVS_CP_PIPELINE_H
#define DVS_CP_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Return bytes moved (0 = end of input for a reader) or -errno.  A writer
 * must write all of len or fail. */
typedef ssize_t (*pl_read_fn)(void *arg, void *buf, size_t len);
typedef ssize_t (*pl_write_fn)(void *arg, const void *buf, size_t len);

struct pl_result {
	int read_err;  /* 0 or the reader's -errno */
	int write_err; /* 0 or the writer's -errno */
	uint64_t bytes;
};

/*
 * Copies from rd to wr in blocks of bs bytes until rd gives 0 or either
 * fails.  helper_reads: the reader runs in a new thread (else the writer
 * does).  on_block(n) runs in the calling thread after each of its blocks.
 * Returns 0, or -ENOMEM / -EAGAIN when the pipeline could not be set up
 * (nothing was copied; the caller may copy in one thread instead).
 */
int pl_copy(pl_read_fn rd, void *rarg, pl_write_fn wr, void *warg, size_t bs,
	    int helper_reads, void (*on_block)(size_t n), struct pl_result *res);

/* Memory for data blocks that dvs-fs copies into or out of (the caller's
 * grants): len bytes in transparent huge pages where the kernel has them.
 * Freed with free(). */
void *pl_buf_alloc(size_t len);

#endif
