/*
 * stub_dvk.h - an in-process stand-in for libdvk, for the unit tests and
 * the fuzz target of dvs-fs: grants are entries of a table pointing into
 * the test's memory, copies are memcpy with the DVK's checks, and an
 * in-memory FAT volume is served by worker 0 of fs_srv.
 */
#ifndef STUB_DVK_H
#define STUB_DVK_H

#include <stddef.h>

#include "dvs/ipc.h"

#define STUB_GRANTS 16

/* Makes grant g (0..STUB_GRANTS-1) point at p/len for grantee/access;
 * len 0 removes it. */
void stub_grant_set(int g, void *p, size_t len, dvk_ep_t grantee, unsigned access);
void stub_grants_clear(void);

/* Formats and mounts a volume of size bytes in memory, sets up fs_srv with
 * worker 0 on endpoint 1.  Returns 0 or -errno. */
int stub_server_init(size_t size);
/* Closes every descriptor, drops every session, unmounts. */
void stub_server_fini(void);

/* Sends one request as client ep: returns the reply's result, out holds
 * the reply. */
int stub_call(dvk_ep_t ep, const dvk_msg_t *in, dvk_msg_t *out);

#endif
