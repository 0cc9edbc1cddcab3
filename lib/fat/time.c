/* time.c - FAT's local date/time fields <-> Unix time. */
#include <time.h>

#include "fat_int.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void dos_from_time(time_t lt, uint16_t *date, uint16_t *tim,
			  uint8_t *cs10);

void
fat_time_to_dos(const struct fat_vol *vol, time_t t, uint16_t *date,
		uint16_t *tim, uint8_t *cs10)
{
	/* the last second converted, per thread: every write stamps the
	 * entry with "now", and gmtime_r was a visible cost of a create */
	static __thread time_t c_lt = (time_t)-1;
	static __thread uint16_t c_date, c_tim;
	static __thread uint8_t c_cs10;
	time_t lt = t + (vol ? vol->tz_off_sec : 0);

	if (lt == c_lt) {
		*date = c_date;
		*tim = c_tim;
		if (cs10)
			*cs10 = c_cs10;
		return;
	}
	dos_from_time(lt, &c_date, &c_tim, &c_cs10);
	c_lt = lt;
	*date = c_date;
	*tim = c_tim;
	if (cs10)
		*cs10 = c_cs10;
}

static void
dos_from_time(time_t lt, uint16_t *date, uint16_t *tim, uint8_t *cs10)
{
	struct tm tm;

	gmtime_r(&lt, &tm);
	if (tm.tm_year < 80) {
		/* FAT starts at 1980 */
		*date = (0 << 9) | (1 << 5) | 1;
		*tim = 0;
		if (cs10)
			*cs10 = 0;
		return;
	}
	if (tm.tm_year > 207) {
		*date = (uint16_t)((127 << 9) | (12 << 5) | 31);
		*tim = (uint16_t)((23 << 11) | (59 << 5) | 29);
		if (cs10)
			*cs10 = 199;
		return;
	}
	*date = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) |
			   tm.tm_mday);
	*tim = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) |
			  (tm.tm_sec / 2));
	if (cs10)
		*cs10 = (uint8_t)((tm.tm_sec % 2) * 100);
}

struct timespec
fat_time_from_dos(const struct fat_vol *vol, uint16_t date, uint16_t tim,
		  uint8_t cs10)
{
	struct timespec ts = {0, 0};
	unsigned y = 1980 + (date >> 9), m = (date >> 5) & 15, d = date & 31;
	unsigned hh = tim >> 11, mm = (tim >> 5) & 63, s2 = tim & 31;

	if (m < 1 || m > 12)
		m = 1;
	if (d < 1)
		d = 1;
	if (hh > 23)
		hh = 23;
	if (mm > 59)
		mm = 59;
	if (s2 > 29)
		s2 = 29;
	if (cs10 > 199)
		cs10 = 0;
	ts.tv_sec = (time_t)(days_from_civil((int)y, m, d) * 86400 + hh * 3600 +
			     mm * 60 + s2 * 2 + cs10 / 100);
	ts.tv_nsec = (long)(cs10 % 100) * 10000000L;
	if (vol)
		ts.tv_sec -= vol->tz_off_sec;
	return ts;
}
