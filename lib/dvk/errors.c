/* errors.c - names of libdvk's error codes. */
#include <string.h>

#include "dvs/ipc.h"

static const char *const dvk_errs[EDVS_MAX - EDVS_BASE] = {
	[EDVS_DEADPEER - EDVS_BASE] = "peer died or unbound",
	[EDVS_NOTBOUND - EDVS_BASE] = "no process is bound to that endpoint",
	[EDVS_BADEP - EDVS_BASE] = "endpoint number outside the DC",
	[EDVS_NOTADMITTED - EDVS_BASE] = "process not admitted to a DC (run it with dvsctl run)",
	[EDVS_EPRANGE - EDVS_BASE] = "endpoint outside this process's admission",
	[EDVS_EPBUSY - EDVS_BASE] = "endpoint already bound",
	[EDVS_BADGRANT - EDVS_BASE] = "no such grant",
	[EDVS_GRANTRANGE - EDVS_BASE] = "offset/length outside the grant",
	[EDVS_GRANTPEER - EDVS_BASE] = "grant not made for this endpoint",
	[EDVS_GRANTACCESS - EDVS_BASE] = "grant does not allow that direction",
	[EDVS_REVOKED - EDVS_BASE] = "grant revoked",
	[EDVS_NOTWAITING - EDVS_BASE] = "peer is not waiting for a reply from us",
	[EDVS_NODAEMON - EDVS_BASE] = "dvkd is not running or went away",
	[EDVS_PROTO - EDVS_BASE] = "malformed message from a peer or dvkd",
	[EDVS_NODC - EDVS_BASE] = "no such DC",
	[EDVS_LIMIT - EDVS_BASE] = "a bounded resource is exhausted",
	[EDVS_NOQUORUM - EDVS_BASE] = "this node's part of the cluster has no quorum (a minority partition)",
};

const char *
dvk_strerror(int err)
{
	int e = err < 0 ? -err : err;

	if (e > EDVS_BASE && e < EDVS_MAX && dvk_errs[e - EDVS_BASE] != NULL)
		return dvk_errs[e - EDVS_BASE];
	if (e == 0)
		return "success";
	if (e < EDVS_BASE)
		return strerror(e);
	return "unknown DVS error";
}
