/*
 * timestamp: RFC 3339 parsing and formatting by integer arithmetic alone.
 *
 * Dates become day numbers with Howard Hinnant's days_from_civil and back
 * with civil_from_days, so nothing here reads TZ, the locale, or calls
 * timegm()/gmtime().  Every value this module produces lies between
 * 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
 */
#include "timestamp.h"

#include <stddef.h>

#define US_SEC  INT64_C(1000000)
#define US_DAY  (INT64_C(86400) * US_SEC)

/* Day numbers of 0001-01-01 and 9999-12-31 relative to 1970-01-01. */
#define DAY_MIN INT64_C(-719162)
#define DAY_MAX INT64_C(2932896)
#define US_MIN  (DAY_MIN * US_DAY)
#define US_MAX  ((DAY_MAX + 1) * US_DAY - 1)

/* -------------------------------------------------- calendar arithmetic */

/* Takes a proleptic Gregorian year; returns 1 if it is a leap year. */
static int leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Takes a year and a month 1..12; returns the number of days in it. */
static int mdays(int64_t y, int m)
{
    static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* Takes a valid civil date; returns its day number (0 is 1970-01-01). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Takes a day number; stores the civil date it names in *y, *m, *d. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Takes microseconds; stores the floor of the day number in *day and the
 * microseconds since that midnight in *rem (always 0 <= *rem < US_DAY). */
static void split(int64_t us, int64_t *day, int64_t *rem)
{
    *day = us / US_DAY;
    *rem = us % US_DAY;
    if (*rem < 0) {
        *rem += US_DAY;
        (*day)--;
    }
}

/* -------------------------------------------------------------- parsing */

/* Takes a string and a count n; reads exactly n decimal digits into *v.
 * Returns 0, or -1 if any of the n characters is not a digit. */
static int digits(const char *s, int n, int *v)
{
    int i, r = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        r = r * 10 + (s[i] - '0');
    }
    *v = r;
    return 0;
}

/* Takes a NUL-terminated RFC 3339 timestamp; stores microseconds since the
 * epoch (UTC) in *out_us and, when off_s is not NULL, the offset it was
 * written with in seconds east of UTC in *off_s.  Returns 0, or -1 if
 * malformed or out of range. */
int ts_parse_offset(const char *s, int64_t *out_us, int *off_s)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, n, has_sec, rc = -1;
    int64_t frac = 0, off = 0, us;

    if (s == NULL || out_us == NULL)
        goto out;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d))
        goto out;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo))
        goto out;
    s += 10;
    if (*s != '\0') {
        if (*s != 'T' && *s != 't' && *s != ' ')
            goto out;
        /* Seconds are optional (a browser's datetime-local leaves them
         * out), and a fraction needs them. */
        if (digits(s + 1, 2, &h) || s[3] != ':' || digits(s + 4, 2, &mi))
            goto out;
        s += 6;
        has_sec = *s == ':';
        if (has_sec) {
            if (digits(s + 1, 2, &sec))
                goto out;
            s += 3;
        }
        if (h > 23 || mi > 59 || sec > 59)
            goto out;
        if (has_sec && *s == '.') {
            /* Any number of digits; those past the sixth are dropped. */
            for (n = 0, s++; *s >= '0' && *s <= '9'; s++, n++)
                if (n < 6)
                    frac = frac * 10 + (*s - '0');
            if (n == 0)
                goto out;
            for (; n < 6; n++)
                frac *= 10;
        }
        if (*s == 'Z' || *s == 'z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            /* +HH:MM, or +HHMM as pydantic also reads it. */
            if (digits(s + 1, 2, &oh))
                goto out;
            n = s[3] == ':';
            if (digits(s + 3 + n, 2, &om))
                goto out;
            if (oh > 23 || om > 59)
                goto out;
            off = ((int64_t)oh * 3600 + om * 60) * US_SEC;
            if (*s == '-')
                off = -off;
            s += 5 + n;
        }
        if (*s != '\0')
            goto out;
    }
    /* The local time minus its offset is UTC. */
    us = days_from_civil(y, mo, d) * US_DAY +
         ((int64_t)h * 3600 + mi * 60 + sec) * US_SEC + frac - off;
    if (us < US_MIN || us > US_MAX)
        goto out;
    *out_us = us;
    if (off_s != NULL)
        *off_s = (int)(off / US_SEC);
    rc = 0;
out:
    return rc;
}

int ts_parse(const char *s, int64_t *out_us)
{
    return ts_parse_offset(s, out_us, NULL);
}

/* ------------------------------------------------ formatting and clocks */

/* Takes a number v and a width n; writes v as n zero-padded digits at p.
 * Returns the position after them. */
static char *put(char *p, int64_t v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Takes microseconds since the epoch; writes "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
 * into buf.  Values outside years 1..9999 are clamped to that range. */
void ts_format(int64_t us, char buf[TS_BUFSZ])
{
    int64_t day, rem, y;
    int m, d;
    char *p = buf;

    if (us < US_MIN)
        us = US_MIN;
    if (us > US_MAX)
        us = US_MAX;
    split(us, &day, &rem);
    civil_from_days(day, &y, &m, &d);
    p = put(p, y, 4);
    *p++ = '-';
    p = put(p, m, 2);
    *p++ = '-';
    p = put(p, d, 2);
    *p++ = 'T';
    p = put(p, rem / (3600 * US_SEC), 2);
    *p++ = ':';
    p = put(p, rem / (60 * US_SEC) % 60, 2);
    *p++ = ':';
    p = put(p, rem / US_SEC % 60, 2);
    if (rem % US_SEC != 0) {
        *p++ = '.';
        p = put(p, rem % US_SEC, 6);
    }
    *p++ = 'Z';
    *p = '\0';
}

/* Returns the wall clock in microseconds since the epoch (0 if the clock
 * cannot be read, which CLOCK_REALTIME never fails to do on Linux). */
int64_t ts_now(void)
{
    struct timespec t;

    if (clock_gettime(CLOCK_REALTIME, &t) != 0)
        return 0;
    return (int64_t)t.tv_sec * US_SEC + t.tv_nsec / 1000;
}

int64_t ts_mono(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
