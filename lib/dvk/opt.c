/*
 * opt.c - the options of one binding (enum dvk_opt in dvs/ipc.h): set by
 * the program through dvk_set_opt(), never read from the environment, so
 * what a library call does depends only on what its caller asked for.
 */
#include <errno.h>

#include "dvk_int.h"

int
dvk_set_opt(struct dvk *h, enum dvk_opt opt, long value)
{
	if (h == NULL)
		return -EINVAL;
	switch (opt) {
	case DVK_OPT_SPIN_US:
		if (value < 0 || value > 60L * 1000 * 1000)
			return -EINVAL;
		h->spin_ns = (int64_t)value * 1000;
		return 0;
	case DVK_OPT_CTL_TIMEOUT_MS:
		if (value < 1 || value > 3599999)
			return -EINVAL;
		h->ctl_timeout_def = (int)value;
		return 0;
	case DVK_OPT_VCOPY_STAGE:
		if (value != 0 && value != 1)
			return -EINVAL;
		h->stage_never = value == 0;
		return 0;
	case DVK_OPT_BUF_WHERE:
		if (value != 0 && value != 1)
			return -EINVAL;
		h->buf_where_off = value == 0;
		return 0;
	}
	return -EINVAL;
}
