/*
 * timestamp: RFC 3339 timestamps as microseconds since the Unix epoch (UTC).
 *
 * ts_parse() accepts what API.md promises clients: "YYYY-MM-DDTHH:MM:SS",
 * optional fraction (any number of digits, truncated to microseconds), and
 * an offset "Z", "z", "+HH:MM" or "-HH:MM" (no offset means UTC); 't' or ' '
 * may replace 'T'; a bare date "YYYY-MM-DD" means midnight UTC.  Years
 * 0001..9999 only; the fields are range-checked (Feb 30 is refused, leap
 * years honoured, second 60 refused).  ts_parse_offset() also gives the
 * offset the timestamp was written with, which recurrence steps on (the
 * calendar arithmetic itself is PostgreSQL's: schema/008_calendar.sql).
 * ts_format() writes UTC with a 'Z' and a six-digit fraction only when the
 * fraction is not zero, as pydantic does.  Nothing here allocates.
 */
#ifndef TODO_TIMESTAMP_H
#define TODO_TIMESTAMP_H

#include <stdint.h>
#include <time.h>

#define TS_BUFSZ 40

int ts_parse(const char *s, int64_t *out_us);        /* 0, or -1 if malformed */
/* ts_parse(), and the offset in seconds east of UTC into *off_s (0 for "Z"
 * or none; off_s may be NULL). */
int ts_parse_offset(const char *s, int64_t *out_us, int *off_s);
void ts_format(int64_t us, char buf[TS_BUFSZ]);
int64_t ts_now(void);                                 /* wall clock, us */
int64_t ts_mono(void);                                /* monotonic clock, us */

#endif
