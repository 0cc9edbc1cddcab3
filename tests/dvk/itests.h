/* itests.h - the DVK integration tests (one function each). */
#ifndef DVK_ITESTS_H
#define DVK_ITESTS_H

int t_calls(void);
int t_timeouts(void);
int t_notify(void);
int t_threads(void);
int t_deadpeer(void);
int t_grants(void);
int t_vcopy_kill(void);
int t_vcopy_shared(void);
int t_backup(void);
int t_rogue(void);
int t_rogue_ring(void);
int t_garbage(void);
int t_dvkd_stop(void);
int t_dvkd_kill(void);
int t_noadmit(void);
int t_limits(void);
int t_gen_grant(void);
int t_peer_gone(void);
int t_stuck(void);
int t_stuck_dc2(void);
int t_ctl_recover(void);
int t_quota(void);
int t_quota_hog(void);
int t_admit_steal(void);
int t_stopped(void);
int t_stopped_dc(void);
int t_rogue_range(void);
int t_rogue_dc2(void);
int t_garbage_admit(void);
int t_hold17(void);

#endif
