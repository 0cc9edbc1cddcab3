/*
 * member.c - who is in the cluster, as Corosync says.
 *
 * Every dvkd of a cluster joins the CPG group "dvs-NAME".  A node is in
 * the membership while its dvkd is in that group: CPG's configuration
 * changes (virtual synchrony: every member sees the same changes in the
 * same order) say who joined and who left, whether the dvkd stopped, was
 * killed, or its node was cut off (after Corosync's token timeout).  The
 * totem ring id is the membership's epoch.  votequorum says whether our
 * partition has quorum.
 *
 * Corosync may start after dvkd or die under it: then we try again every
 * second, every 250 ms, and while we have no Corosync we see no other node as a member
 * (we cannot tell who is alive).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <corosync/cpg.h>
#include <corosync/votequorum.h>

#include "cluster.h"
#include "dvs/log.h"

#define CL_RETRY_NS 250000000ull

static struct cl_node *
node_of_cpg(uint32_t nodeid)
{
	/* Corosync's node ids start at 1: DVS node i is Corosync node i+1. */
	return nodeid == 0 ? NULL : cl_node_find((int)nodeid - 1);
}

/* Returns 1 if n joined. */
static int
set_in_cpg(struct cl_node *n, int in)
{
	if (n == NULL || n->in_cpg == in)
		return 0;
	n->in_cpg = in;
	dvs_info("node %d %s the membership", n->id, in ? "joined" : "left");
	if (!in)
		dvkd_dir_node_left(n->id);
	cl_proxy_member_changed(n);
	return in;
}

int
cl_mcast(const void *msg, size_t len)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	cs_error_t e;
	int tries;

	if (cl.cpg == 0)
		return -EIO;
	/* Flow control says "again", never "lost": retry, for at most a
	 * second (the loop waits; directory messages are rare). */
	for (tries = 0; tries < 1000; tries++) {
		e = cpg_mcast_joined(cl.cpg, CPG_TYPE_AGREED, &iov, 1);
		if (e != CS_ERR_TRY_AGAIN)
			break;
		usleep(1000);
	}
	return e == CS_OK ? 0 : -EIO;
}

static void
on_confchg(cpg_handle_t h, const struct cpg_name *group,
	   const struct cpg_address *members, size_t nmembers,
	   const struct cpg_address *left, size_t nleft,
	   const struct cpg_address *joined, size_t njoined)
{
	int seen[CL_MAX_NODES] = { 0 };
	size_t i;
	int k, joined_any = 0;

	(void)h;
	(void)group;
	(void)left;
	(void)nleft;
	(void)joined;
	(void)njoined;
	/* The member list is the whole truth; joined and left follow from it. */
	for (i = 0; i < nmembers; i++) {
		struct cl_node *n = node_of_cpg(members[i].nodeid);

		if (n == NULL) {
			dvs_warn("Corosync node %u is in the group but not in the cluster file",
				 members[i].nodeid);
			continue;
		}
		seen[n - cl.nodes] = 1;
	}
	for (k = 0; k < cl.nnodes; k++)
		if (cl.nodes[k].id != cl.self)
			joined_any |= set_in_cpg(&cl.nodes[k], seen[k]);
	/* Whoever joined learns the DCs and their owners from everyone. */
	if (joined_any)
		dvkd_dir_snapshot();
}

static void
on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *list)
{
	(void)h;
	(void)n;
	(void)list;
	cl.ring_id = ring.seq;
}

static void
on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
	   uint32_t pid, void *msg, size_t len)
{
	(void)h;
	(void)group;
	(void)pid;
	dvkd_dir_deliver(nodeid, msg, len);
}

static void
on_quorum(votequorum_handle_t h, uint64_t ctx, uint32_t quorate, uint32_t n,
	  votequorum_node_t nodes[])
{
	(void)h;
	(void)ctx;
	(void)n;
	(void)nodes;
	if (cl.quorate != (int)quorate)
		dvs_info("this partition %s quorum", quorate ? "has" : "lost");
	cl.quorate = (int)quorate;
}

/* Corosync went away: without it nobody is known to be alive. */
static void
lost_corosync(const char *why)
{
	int k;

	dvs_warn("lost Corosync (%s): every other node counts as down until it is back", why);
	if (cl.cpg_fd >= 0)
		epoll_ctl(dvkd.epfd, EPOLL_CTL_DEL, cl.cpg_fd, NULL);
	if (cl.vq_fd >= 0)
		epoll_ctl(dvkd.epfd, EPOLL_CTL_DEL, cl.vq_fd, NULL);
	if (cl.cpg != 0)
		cpg_finalize(cl.cpg);
	if (cl.vq != 0)
		votequorum_finalize(cl.vq);
	cl.cpg = cl.vq = 0;
	cl.cpg_fd = cl.vq_fd = -1;
	cl.quorate = 0;
	for (k = 0; k < cl.nnodes; k++)
		if (cl.nodes[k].id != cl.self)
			set_in_cpg(&cl.nodes[k], 0);
	cl.next_corosync_ns = dvs_now_ns() + CL_RETRY_NS;
}

static void
cpg_input(void *self, uint32_t events)
{
	cs_error_t e;

	(void)self;
	(void)events;
	e = cpg_dispatch(cl.cpg, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
		lost_corosync("CPG dispatch failed");
}

static void
vq_input(void *self, uint32_t events)
{
	cs_error_t e;

	(void)self;
	(void)events;
	e = votequorum_dispatch(cl.vq, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
		lost_corosync("votequorum dispatch failed");
}

static int
connect_corosync(void)
{
	static cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
		.cpg_totem_confchg_fn = on_totem,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	static votequorum_callbacks_t vcb = {
		.votequorum_quorum_notify_fn = on_quorum,
	};
	struct cpg_name group;
	cpg_handle_t h;
	votequorum_handle_t vh;
	unsigned int local;
	cs_error_t e;

	e = cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL);
	if (e != CS_OK)
		return -ENOTCONN; /* Corosync not (yet) running */
	cl.cpg = h;
	if (cpg_local_get(h, &local) != CS_OK)
		goto fail;
	if ((int)local != cl.self + 1) {
		dvs_err("Corosync says this is its node %u (DVS node %u), but dvkd was started "
			"as node %d: fix corosync.conf or --node",
			local, local - 1, cl.self);
		goto fail;
	}
	snprintf(group.value, sizeof(group.value), "dvs-%s", cl.file.name);
	group.length = (uint32_t)strlen(group.value);
	while ((e = cpg_join(h, &group)) == CS_ERR_TRY_AGAIN)
		;
	if (e != CS_OK) {
		dvs_err("cannot join the CPG group %s (Corosync error %d)", group.value, e);
		goto fail;
	}
	if (cpg_fd_get(h, &cl.cpg_fd) != CS_OK)
		goto fail;
	e = votequorum_initialize(&vh, &vcb);
	if (e != CS_OK) {
		dvs_err("cannot reach votequorum (Corosync error %d): is the quorum "
			"provider corosync_votequorum?", e);
		goto fail;
	}
	cl.vq = vh;
	if (votequorum_trackstart(vh, 0, CS_TRACK_CHANGES | CS_TRACK_CURRENT) != CS_OK ||
	    votequorum_fd_get(vh, &cl.vq_fd) != CS_OK)
		goto fail;
	if (cl_ev_add(cl.cpg_fd, &cl.cpg_ev, EPOLLIN, cpg_input, NULL) < 0 ||
	    cl_ev_add(cl.vq_fd, &cl.vq_ev, EPOLLIN, vq_input, NULL) < 0)
		goto fail;
	dvs_info("joined %s as node %d", group.value, cl.self);
	return 0;
fail:
	lost_corosync("set-up failed");
	return -EIO;
}

void
cl_member_tick(uint64_t now)
{
	if (cl.cpg != 0 || now < cl.next_corosync_ns)
		return;
	if (connect_corosync() < 0)
		cl.next_corosync_ns = now + CL_RETRY_NS;
}

int
cl_member_start(void)
{
	cl.cpg_fd = cl.vq_fd = -1;
	if (connect_corosync() == -ENOTCONN) {
		dvs_warn("Corosync is not running yet; trying every 250 ms");
		cl.next_corosync_ns = dvs_now_ns() + CL_RETRY_NS;
	}
	return 0;
}

void
cl_member_stop(void)
{
	if (cl.cpg != 0) {
		struct cpg_name group;

		snprintf(group.value, sizeof(group.value), "dvs-%s", cl.file.name);
		group.length = (uint32_t)strlen(group.value);
		cpg_leave(cl.cpg, &group);
		cpg_finalize(cl.cpg);
	}
	if (cl.vq != 0)
		votequorum_finalize(cl.vq);
	cl.cpg = cl.vq = 0;
}
