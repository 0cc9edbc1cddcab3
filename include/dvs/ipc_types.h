/*
 * ipc_types.h - the few IPC types and sizes a protocol header needs to
 * declare its payloads (fsproto.h, blkproto.h).
 *
 * <dvs/ipc.h> includes this, then the protocol headers, then declares
 * dvk_msg_t, whose payload union has one named member per payload struct
 * (Minix's include/minix/ipc.h).  A program includes <dvs/ipc.h> or a
 * protocol header, never this one alone.
 */
#ifndef DVS_IPC_TYPES_H
#define DVS_IPC_TYPES_H

#include <stdint.h>

typedef int32_t dvk_ep_t;
/* A grant id: see dvk_grant() in ipc.h. */
typedef int32_t dvk_grant_t;

#define DVK_MSG_SIZE 64
#define DVK_PAYLOAD_SIZE 56

/*
 * Every payload struct is exactly DVK_PAYLOAD_SIZE bytes: its fields, then
 * uint8_t padding[N] up to the size (none where the fields fill it), so a
 * member of the union is the whole payload and no cast is ever needed.
 * The fields must leave no hole and keep their offsets: the protocol's
 * layout test (tests/fs/test_proto_layout.c) checks every one.
 */
#define DVK_PAYLOAD_ASSERT(t)                                                            \
	_Static_assert(sizeof(struct t) == DVK_PAYLOAD_SIZE, #t " is one payload")

#endif
