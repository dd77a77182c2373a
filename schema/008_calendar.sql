-- Recurrence in the user's calendar (API.md, Tasks; issue 10, items 11 and
-- 12; issue 11, item 10).  A next occurrence is one period later on a wall
-- clock: that of the task's time zone (so 09:00 stays 09:00 across a
-- daylight-saving change), else of the offset its due date was given with,
-- else UTC; and a series keeps the day of the month and the time of day it
-- started on.  Adding the period to the UTC instant, as before, moved Jan 30
-- 20:00 -05:00 to Feb 27 20:00 local, daily tasks an hour at each change of
-- the clocks, and a Jan 31 series to the 28th for ever after February.
--
-- * timezone: an IANA name (Europe/Berlin) or NULL.  A name must be one of
--   time_zones, PostgreSQL's own list (pg_timezone_names, less its two
--   files that are not zones) as it stood when this ran: the foreign key
--   fails the statement that writes an unknown name (SQLSTATE 23503 on
--   tasks_timezone_fkey, a 422 to the client: common/db.c), for the price
--   of one index probe, where reading pg_timezone_names takes ~25 ms.  A
--   name a later tzdata adds needs a migration that inserts it.
-- * yearly: a calendar year; Feb 29 gives Feb 28 in other years and Feb 29
--   again in the next leap year (the series keeps its day).
-- * due_offset: the UTC offset, in seconds east, the due date was given
--   with (0 for "Z" or none).  It goes with the instant: a due date sent
--   again as the same instant written in another offset (a front end
--   sending back what it read, in "Z") changes nothing.
-- * series_start: the wall-clock date and time, in the task's zone, of the
--   first due date of the series the task continues; NULL: the series
--   starts at this task.  The next occurrence gets it; a change of the due
--   date, the recurrence or the time zone starts the series again (NULL).
--
-- The arithmetic is PostgreSQL's calendar, in the functions below: the
-- statements that complete a task (common/db_task.c, task_spawn) call them.

-- Not usable before this transaction commits: nothing below names it.
ALTER TYPE task_recurrence ADD VALUE 'yearly';

CREATE TABLE time_zones (
    name        text PRIMARY KEY
);
INSERT INTO time_zones (name)
SELECT name FROM pg_timezone_names WHERE name NOT IN ('localtime', 'posixrules');

ALTER TABLE tasks
    ADD COLUMN due_offset integer NOT NULL DEFAULT 0
        CHECK (due_offset BETWEEN -86399 AND 86399),
    ADD COLUMN series_start timestamp,
    ADD COLUMN timezone text
        CONSTRAINT tasks_timezone_fkey REFERENCES time_zones (name);

-- The wall-clock time of the instant ts in a task's zone: the time zone
-- zone, else the fixed offset off (seconds east of UTC).
CREATE FUNCTION todo_wall(ts timestamptz, zone text, off integer)
RETURNS timestamp LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN zone IS NULL THEN (ts AT TIME ZONE 'UTC') + make_interval(secs => off)
            ELSE ts AT TIME ZONE zone END;

-- The instant a wall-clock time names in a task's zone: todo_wall's
-- inverse.  A time the zone skips or shows twice (02:30 as the clocks go
-- forward or back) is read as standard time, as PostgreSQL reads it: 03:30
-- summer time in spring, the second 02:30 in autumn.
CREATE FUNCTION todo_instant(wall timestamp, zone text, off integer)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN zone IS NULL THEN (wall - make_interval(secs => off)) AT TIME ZONE 'UTC'
            ELSE wall AT TIME ZONE zone END;

-- The due date of the occurrence after one due at due, in the zone (zone,
-- off), of a series that started at the wall-clock time start (NULL: at
-- due): the next day, the same weekday a week later, or the series' day of
-- the month a month or a year later (clamped to the month's last day: the
-- 31st gives Feb 28 or 29, Apr 30, then Mar 31 again), at the series' time
-- of day.  NULL when that is past year 9999: the series ends there.  The
-- recurrence is compared as text, so the function does not depend on the
-- enum's values.
CREATE FUNCTION todo_next_due(due timestamptz, recurrence task_recurrence,
                              zone text, off integer, start timestamp)
RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    wall timestamp := todo_wall(due, zone, off);
    anchor timestamp := coalesce(start, wall);
    month date;         -- the first day of the next occurrence's month
    last int;           -- that month's last day
    due_next timestamptz;
BEGIN
    CASE recurrence::text
    WHEN 'daily' THEN
        due_next := todo_instant(wall::date + 1 + anchor::time, zone, off);
    WHEN 'weekly' THEN
        due_next := todo_instant(wall::date + 7 + anchor::time, zone, off);
    ELSE
        month := date_trunc('month', wall) + CASE recurrence::text
            WHEN 'monthly' THEN interval '1 month' ELSE interval '1 year' END;
        last := extract(day FROM month + interval '1 month - 1 day');
        due_next := todo_instant(month + least(extract(day FROM anchor)::int, last) - 1
                                 + anchor::time, zone, off);
    END CASE;
    RETURN CASE WHEN due_next < '10000-01-01 00:00:00+00' THEN due_next END;
END
$$;
