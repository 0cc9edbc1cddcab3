/*
 * test_proto_layout.c - every field of every message layout at the offset
 * the wire has always had it (e2fsprogs' tst_inode_size.c is the model).
 *
 * The payloads of the file protocol (fsproto.h) and the block protocol
 * (blkproto.h) are members of the union of dvk_msg_t, each padded to
 * exactly DVK_PAYLOAD_SIZE bytes; the bodies of dvkd's socket protocol
 * (dvkd_proto.h) have fixed sizes.  The numbers below were taken from the
 * layouts as they were before the payloads became members of the union:
 * a change that moves a field fails to compile here.  A new field or
 * message adds its line.
 */
#include <stddef.h>

#include "dvs/blkproto.h"
#include "dvs/dvkd_proto.h"
#include "dvs/fsproto.h"
#include "dvs/ipc.h"

#define OFF(t, f, n) _Static_assert(offsetof(struct t, f) == (n), #t "." #f)
#define SIZE(t, n) _Static_assert(sizeof(struct t) == (n), "sizeof " #t)
/* A payload: its fields end at n, its padding fills the rest. */
#define END(t, n) _Static_assert(offsetof(struct t, padding) == (n), #t " fields end")
#define PAYLOAD(t) _Static_assert(sizeof(struct t) == DVK_PAYLOAD_SIZE, #t " is one payload")

/* The message itself. */
_Static_assert(offsetof(dvk_msg_t, m_source) == 0, "m_source");
_Static_assert(offsetof(dvk_msg_t, m_type) == 4, "m_type");
_Static_assert(offsetof(dvk_msg_t, m_u) == 8, "m_u");
_Static_assert(sizeof(dvk_msg_t) == 64, "dvk_msg_t");
OFF(dvk_peer_gone, ep, 0);
OFF(dvk_peer_gone, gen, 4);
OFF(dvk_peer_gone, reason, 8);
END(dvk_peer_gone, 12);
PAYLOAD(dvk_peer_gone);

	OFF(fs_path_arg, grant, 0);
	OFF(fs_path_arg, len, 4);
	SIZE(fs_path_arg, 8);

	OFF(fs_wire_stat, ino, 0);
	OFF(fs_wire_stat, size, 8);
	OFF(fs_wire_stat, blocks, 16);
	OFF(fs_wire_stat, atime_ns, 24);
	OFF(fs_wire_stat, mtime_ns, 32);
	OFF(fs_wire_stat, ctime_ns, 40);
	OFF(fs_wire_stat, mode, 48);
	OFF(fs_wire_stat, nlink, 52);
	OFF(fs_wire_stat, attr, 54);
	OFF(fs_wire_stat, pad, 55);
	SIZE(fs_wire_stat, 56);

	OFF(fs_wire_pstat, ino, 0);
	OFF(fs_wire_pstat, uid, 4);
	OFF(fs_wire_pstat, size, 8);
	OFF(fs_wire_pstat, blocks, 16);
	OFF(fs_wire_pstat, atime_ns, 24);
	OFF(fs_wire_pstat, mtime_ns, 32);
	OFF(fs_wire_pstat, ctime_ns, 40);
	OFF(fs_wire_pstat, gid, 48);
	OFF(fs_wire_pstat, mode, 52);
	OFF(fs_wire_pstat, nlink, 54);
	SIZE(fs_wire_pstat, 56);

	OFF(fs_rq_hello, version, 0);
	OFF(fs_rq_hello, flags, 4);
	OFF(fs_rq_hello, vol, 8);
	END(fs_rq_hello, 16);
	PAYLOAD(fs_rq_hello);

	OFF(fs_rp_hello, token, 0);
	OFF(fs_rp_hello, session, 8);
	OFF(fs_rp_hello, worker, 12);
	OFF(fs_rp_hello, io_max, 16);
	OFF(fs_rp_hello, vol_flags, 20);
	OFF(fs_rp_hello, cluster, 24);
	OFF(fs_rp_hello, pad, 28);
	END(fs_rp_hello, 32);
	PAYLOAD(fs_rp_hello);

	OFF(fs_rq_join, token, 0);
	OFF(fs_rq_join, session, 8);
	OFF(fs_rq_join, pad, 12);
	END(fs_rq_join, 16);
	PAYLOAD(fs_rq_join);

	OFF(fs_rp_join, worker, 0);
	OFF(fs_rp_join, io_max, 4);
	END(fs_rp_join, 8);
	PAYLOAD(fs_rp_join);

	OFF(fs_rq_open, path, 0);
	OFF(fs_rq_open, flags, 8);
	OFF(fs_rq_open, mode, 12);
	END(fs_rq_open, 16);
	PAYLOAD(fs_rq_open);

	OFF(fs_rp_open, ino, 0);
	OFF(fs_rp_open, size, 8);
	OFF(fs_rp_open, mode, 16);
	OFF(fs_rp_open, pad, 20);
	END(fs_rp_open, 24);
	PAYLOAD(fs_rp_open);

	OFF(fs_rp_create, ino, 0);
	OFF(fs_rp_create, uid, 4);
	OFF(fs_rp_create, gid, 8);
	OFF(fs_rp_create, mode, 12);
	OFF(fs_rp_create, nlink, 14);
	OFF(fs_rp_create, blocks, 16);
	OFF(fs_rp_create, time_ns, 24);
	OFF(fs_rp_create, dir_ino, 32);
	OFF(fs_rp_create, dir_flags, 36);
	OFF(fs_rp_create, dir_size, 40);
	OFF(fs_rp_create, dir_blocks, 48);
	SIZE(fs_rp_create, 56);

	OFF(fs_rp_unlink, size, 0);
	OFF(fs_rp_unlink, blocks, 8);
	OFF(fs_rp_unlink, mtime_ns, 16);
	OFF(fs_rp_unlink, ctime_ns, 24);
	OFF(fs_rp_unlink, dir_ino, 32);
	SIZE(fs_rp_unlink, 56);

	OFF(fs_rq_fd, fd, 0);
	OFF(fs_rq_fd, flags, 4);
	OFF(fs_rq_fd, atime_ns, 8);
	OFF(fs_rq_fd, mtime_ns, 16);
	END(fs_rq_fd, 24);
	PAYLOAD(fs_rq_fd);

	OFF(fs_rq_io, fd, 0);
	OFF(fs_rq_io, flags, 4);
	OFF(fs_rq_io, grant, 8);
	OFF(fs_rq_io, len, 12);
	OFF(fs_rq_io, off, 16);
	END(fs_rq_io, 24);
	PAYLOAD(fs_rq_io);

	OFF(fs_rp_io, pos, 0);
	OFF(fs_rp_io, size, 8);
	OFF(fs_rp_io, blocks, 16);
	OFF(fs_rp_io, mtime_ns, 24);
	OFF(fs_rp_io, ctime_ns, 32);
	OFF(fs_rp_io, ino, 40);
	OFF(fs_rp_io, pad, 44);
	END(fs_rp_io, 48);
	PAYLOAD(fs_rp_io);

	OFF(fs_rq_lseek, fd, 0);
	OFF(fs_rq_lseek, whence, 4);
	OFF(fs_rq_lseek, off, 8);
	END(fs_rq_lseek, 16);
	PAYLOAD(fs_rq_lseek);

	OFF(fs_rp_lseek, pos, 0);
	END(fs_rp_lseek, 8);
	PAYLOAD(fs_rp_lseek);

	OFF(fs_rq_path, path, 0);
	END(fs_rq_path, 8);
	PAYLOAD(fs_rq_path);

	OFF(fs_rq_path_mode, path, 0);
	OFF(fs_rq_path_mode, mode, 8);
	OFF(fs_rq_path_mode, pad, 12);
	END(fs_rq_path_mode, 16);
	PAYLOAD(fs_rq_path_mode);

	OFF(fs_rq_rename, from, 0);
	OFF(fs_rq_rename, to, 8);
	OFF(fs_rq_rename, flags, 16);
	OFF(fs_rq_rename, pad, 20);
	END(fs_rq_rename, 24);
	PAYLOAD(fs_rq_rename);

	OFF(fs_rq_readdir, fd, 0);
	OFF(fs_rq_readdir, grant, 4);
	OFF(fs_rq_readdir, len, 8);
	OFF(fs_rq_readdir, max, 12);
	OFF(fs_rq_readdir, cookie, 16);
	END(fs_rq_readdir, 24);
	PAYLOAD(fs_rq_readdir);

	OFF(fs_rp_readdir, next, 0);
	OFF(fs_rp_readdir, bytes, 8);
	OFF(fs_rp_readdir, eof, 12);
	END(fs_rp_readdir, 16);
	PAYLOAD(fs_rp_readdir);

	OFF(fs_wire_dirent, st, 0);
	OFF(fs_wire_dirent, next, 56);
	OFF(fs_wire_dirent, name_len, 64);
	OFF(fs_wire_dirent, rec_len, 66);
	OFF(fs_wire_dirent, pad, 68);
	SIZE(fs_wire_dirent, 72);

	OFF(fs_rq_truncate, path, 0);
	OFF(fs_rq_truncate, fd, 8);
	OFF(fs_rq_truncate, flags, 12);
	OFF(fs_rq_truncate, len, 16);
	END(fs_rq_truncate, 24);
	PAYLOAD(fs_rq_truncate);

	OFF(fs_rq_falloc, fd, 0);
	OFF(fs_rq_falloc, mode, 4);
	OFF(fs_rq_falloc, off, 8);
	OFF(fs_rq_falloc, len, 16);
	END(fs_rq_falloc, 24);
	PAYLOAD(fs_rq_falloc);

	OFF(fs_rq_utimens, path, 0);
	OFF(fs_rq_utimens, atime_ns, 8);
	OFF(fs_rq_utimens, mtime_ns, 16);
	END(fs_rq_utimens, 24);
	PAYLOAD(fs_rq_utimens);

	OFF(fs_rq_chown, path, 0);
	OFF(fs_rq_chown, uid, 8);
	OFF(fs_rq_chown, gid, 12);
	END(fs_rq_chown, 16);
	PAYLOAD(fs_rq_chown);

	OFF(fs_rq_readlink, path, 0);
	OFF(fs_rq_readlink, grant, 8);
	OFF(fs_rq_readlink, len, 12);
	END(fs_rq_readlink, 16);
	PAYLOAD(fs_rq_readlink);

	OFF(fs_rq_owner, uid, 0);
	OFF(fs_rq_owner, gid, 4);
	END(fs_rq_owner, 8);
	PAYLOAD(fs_rq_owner);

	OFF(fs_rp_statvfs, blocks, 0);
	OFF(fs_rp_statvfs, bfree, 8);
	OFF(fs_rp_statvfs, bavail, 16);
	OFF(fs_rp_statvfs, files, 24);
	OFF(fs_rp_statvfs, ffree, 32);
	OFF(fs_rp_statvfs, bsize, 40);
	OFF(fs_rp_statvfs, namemax, 44);
	OFF(fs_rp_statvfs, flags, 48);
	OFF(fs_rp_statvfs, pad, 52);
	SIZE(fs_rp_statvfs, 56);

	OFF(fs_rq_stats, grant, 0);
	OFF(fs_rq_stats, len, 4);
	END(fs_rq_stats, 8);
	PAYLOAD(fs_rq_stats);

	OFF(fs_rp_stats, requests, 0);
	OFF(fs_rp_stats, errors, 8);
	OFF(fs_rp_stats, sessions, 16);
	OFF(fs_rp_stats, bindings, 20);
	OFF(fs_rp_stats, fds, 24);
	OFF(fs_rp_stats, workers, 28);
	OFF(fs_rp_stats, nrec, 32);
	OFF(fs_rp_stats, pad, 36);
	END(fs_rp_stats, 40);
	PAYLOAD(fs_rp_stats);

	OFF(fs_wire_session, requests, 0);
	OFF(fs_wire_session, session, 8);
	OFF(fs_wire_session, first_ep, 12);
	OFF(fs_wire_session, bindings, 16);
	OFF(fs_wire_session, fds, 20);
	SIZE(fs_wire_session, 24);

	OFF(blk_rp_info, size, 0);
	OFF(blk_rp_info, sector, 8);
	OFF(blk_rp_info, flags, 12);
	OFF(blk_rp_info, io_max, 16);
	OFF(blk_rp_info, pad, 20);
	END(blk_rp_info, 24);
	PAYLOAD(blk_rp_info);

	OFF(blk_rq_io, off, 0);
	OFF(blk_rq_io, len, 8);
	OFF(blk_rq_io, grant, 12);
	END(blk_rq_io, 16);
	PAYLOAD(blk_rq_io);

	OFF(blk_rp_stats, reads, 0);
	OFF(blk_rp_stats, writes, 8);
	OFF(blk_rp_stats, flushes, 16);
	OFF(blk_rp_stats, bytes_read, 24);
	OFF(blk_rp_stats, bytes_written, 32);
	OFF(blk_rp_stats, errors, 40);
	OFF(blk_rp_stats, clients, 48);
	OFF(blk_rp_stats, pad, 52);
	SIZE(blk_rp_stats, 56);

	OFF(dvkd_hdr, magic, 0);
	OFF(dvkd_hdr, type, 4);
	OFF(dvkd_hdr, len, 6);
	OFF(dvkd_hdr, seq, 8);
	OFF(dvkd_hdr, status, 12);
	SIZE(dvkd_hdr, 16);

	OFF(dvkd_dc_req, dc, 0);
	OFF(dvkd_dc_req, nep, 4);
	OFF(dvkd_dc_req, max_bind, 8);
	OFF(dvkd_dc_req, max_rings, 12);
	OFF(dvkd_dc_req, call_timeout_ms, 16);
	OFF(dvkd_dc_req, wait_ms, 20);
	OFF(dvkd_dc_req, nodes, 24);
	SIZE(dvkd_dc_req, 32);

	OFF(dvkd_admit_req, dc, 0);
	OFF(dvkd_admit_req, lo, 4);
	OFF(dvkd_admit_req, hi, 8);
	SIZE(dvkd_admit_req, 12);

	OFF(dvkd_run_req, node, 0);
	OFF(dvkd_run_req, dc, 4);
	OFF(dvkd_run_req, lo, 8);
	OFF(dvkd_run_req, hi, 12);
	SIZE(dvkd_run_req, 16);

	OFF(dvkd_run_rep, code, 0);
	OFF(dvkd_run_rep, sig, 4);
	SIZE(dvkd_run_rep, 8);

	OFF(dvkd_bind_req, ep, 0);
	OFF(dvkd_bind_req, flags, 4);
	SIZE(dvkd_bind_req, 8);

	OFF(dvkd_bind_rep, dc, 0);
	OFF(dvkd_bind_rep, ep, 4);
	OFF(dvkd_bind_rep, dc_size, 8);
	OFF(dvkd_bind_rep, flags, 12);
	OFF(dvkd_bind_rep, gen, 16);
	OFF(dvkd_bind_rep, call_timeout_ms, 20);
	SIZE(dvkd_bind_rep, 24);

	OFF(dvkd_open_req, peer, 0);
	OFF(dvkd_open_req, dir, 4);
	SIZE(dvkd_open_req, 8);

	OFF(dvkd_ring_rep, peer, 0);
	OFF(dvkd_ring_rep, dir, 4);
	OFF(dvkd_ring_rep, nslots, 8);
	OFF(dvkd_ring_rep, peer_gen, 12);
	OFF(dvkd_ring_rep, ring_id, 16);
	SIZE(dvkd_ring_rep, 24);

	OFF(dvkd_gone_ev, ep, 0);
	OFF(dvkd_gone_ev, gen, 4);
	OFF(dvkd_gone_ev, reason, 8);
	OFF(dvkd_gone_ev, pad, 12);
	SIZE(dvkd_gone_ev, 16);

	OFF(dvkd_vcopy_req, owner, 0);
	OFF(dvkd_vcopy_req, grant, 4);
	OFF(dvkd_vcopy_req, dir, 8);
	OFF(dvkd_vcopy_req, buf, 12);
	OFF(dvkd_vcopy_req, off, 16);
	OFF(dvkd_vcopy_req, len, 24);
	OFF(dvkd_vcopy_req, addr, 32);
	SIZE(dvkd_vcopy_req, 40);

	OFF(dvkd_buf_req, len, 0);
	OFF(dvkd_buf_req, id, 8);
	OFF(dvkd_buf_req, flags, 12);
	SIZE(dvkd_buf_req, 16);

	OFF(dvkd_buf_where, addr, 0);
	OFF(dvkd_buf_where, id, 8);
	OFF(dvkd_buf_where, pad, 12);
	SIZE(dvkd_buf_where, 16);

	OFF(dvkd_query_req, ep, 0);
	SIZE(dvkd_query_req, 4);

	OFF(dvkd_query_rep, state, 0);
	OFF(dvkd_query_rep, pid, 4);
	SIZE(dvkd_query_rep, 8);

	OFF(dvkd_status_rep, pid, 0);
	OFF(dvkd_status_rep, ndc, 4);
	OFF(dvkd_status_rep, nbind, 8);
	OFF(dvkd_status_rep, nadmit, 12);
	OFF(dvkd_status_rep, nrings, 16);
	OFF(dvkd_status_rep, ncopies, 20);
	OFF(dvkd_status_rep, uptime_ms, 24);
	OFF(dvkd_status_rep, copied_bytes, 32);
	SIZE(dvkd_status_rep, 40);

	OFF(dvkd_dc_rec, dc, 0);
	OFF(dvkd_dc_rec, nep, 4);
	OFF(dvkd_dc_rec, nbound, 8);
	OFF(dvkd_dc_rec, nadmit, 12);
	OFF(dvkd_dc_rec, nbind, 16);
	OFF(dvkd_dc_rec, max_bind, 20);
	OFF(dvkd_dc_rec, nrings, 24);
	OFF(dvkd_dc_rec, max_rings, 28);
	OFF(dvkd_dc_rec, call_timeout_ms, 32);
	OFF(dvkd_dc_rec, pad, 36);
	OFF(dvkd_dc_rec, nodes, 40);
	SIZE(dvkd_dc_rec, 48);

	OFF(dvkd_ep_rec, dc, 0);
	OFF(dvkd_ep_rec, ep, 4);
	OFF(dvkd_ep_rec, pid, 8);
	OFF(dvkd_ep_rec, backup_pid, 12);
	OFF(dvkd_ep_rec, sent_msgs, 16);
	OFF(dvkd_ep_rec, recv_msgs, 24);
	OFF(dvkd_ep_rec, sent_bytes, 32);
	OFF(dvkd_ep_rec, recv_bytes, 40);
	OFF(dvkd_ep_rec, errors, 48);
	OFF(dvkd_ep_rec, nrings, 56);
	OFF(dvkd_ep_rec, waiting, 60);
	OFF(dvkd_ep_rec, oldest_wait_ms, 64);
	OFF(dvkd_ep_rec, pad, 68);
	OFF(dvkd_ep_rec, node, 72);
	OFF(dvkd_ep_rec, gen, 76);
	OFF(dvkd_ep_rec, flags, 80);
	OFF(dvkd_ep_rec, pad2, 84);
	SIZE(dvkd_ep_rec, 88);

	OFF(dvkd_ps_rec, pid, 0);
	OFF(dvkd_ps_rec, dc, 4);
	OFF(dvkd_ps_rec, ep, 8);
	OFF(dvkd_ps_rec, backup, 12);
	OFF(dvkd_ps_rec, comm, 16);
	SIZE(dvkd_ps_rec, 32);

	OFF(dvkd_node_rec, node, 0);
	OFF(dvkd_node_rec, state, 4);
	OFF(dvkd_node_rec, link, 8);
	OFF(dvkd_node_rec, flags, 12);
	OFF(dvkd_node_rec, addr, 16);
	OFF(dvkd_node_rec, port, 20);
	OFF(dvkd_node_rec, ring_id, 24);
	OFF(dvkd_node_rec, msgs_tx, 32);
	OFF(dvkd_node_rec, msgs_rx, 40);
	OFF(dvkd_node_rec, bytes_tx, 48);
	OFF(dvkd_node_rec, bytes_rx, 56);
	OFF(dvkd_node_rec, link_ups, 64);
	SIZE(dvkd_node_rec, 72);

/* A reply body of dvkd fits the reply's union. */
_Static_assert(sizeof(struct dvkd_status_rep) <= sizeof(((struct dvkd_msg *)0)->u.raw), "status");

int
main(void)
{
	/* Everything is checked at compile time. */
	return 0;
}
