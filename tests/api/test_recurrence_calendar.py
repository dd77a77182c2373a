"""Recurrence in the user's calendar: a series keeps its day of the month, and
its steps are taken on the wall clock of the task's time zone, else of the offset
its due date was given with, else UTC (API.md, Tasks; issue 10 items 11 and 12).

Every expected instant below was worked out with PostgreSQL's own calendar
(`(ts AT TIME ZONE zone + interval) AT TIME ZONE zone`), not by the code under
test."""

import pytest

from helpers import assert_task, assert_validation, link_target, validation_errors

from test_recurrence import count, spawn_target


def series(api, user, first, n, **fields):
    """Creates a task due `first` and completes it and each next occurrence, n
    times; returns the due dates of the n tasks that were made."""
    t = api.create("Series", due_date=first, **fields)
    dues = []
    for _ in range(n):
        r = api.patch(f"{t['id']}/complete")
        assert r.status_code == 200, r.text
        t = api.fetch(spawn_target(r, user))
        dues.append(t["due_date"])
    return dues


# --------------------------------------------------------------------------
# The day of the month


@pytest.mark.parametrize("first, expected", [
    ("2027-01-31T09:00:00Z",
     ["2027-02-28T09:00:00Z", "2027-03-31T09:00:00Z", "2027-04-30T09:00:00Z"]),
    ("2028-01-31T09:00:00Z",                                   # a leap year
     ["2028-02-29T09:00:00Z", "2028-03-31T09:00:00Z", "2028-04-30T09:00:00Z"]),
    ("2027-08-31T23:59:59.5Z",
     ["2027-09-30T23:59:59.500000Z", "2027-10-31T23:59:59.500000Z",
      "2027-11-30T23:59:59.500000Z"]),
    ("2027-01-30T06:00:00Z",
     ["2027-02-28T06:00:00Z", "2027-03-30T06:00:00Z", "2027-04-30T06:00:00Z"]),
], ids=["jan-31", "jan-31-leap", "aug-31-fraction", "jan-30"])
def test_a_monthly_series_keeps_its_day_of_the_month(api, user, first, expected):
    # It used to drift: Jan 31, Feb 28, Mar 28, Apr 28.
    assert series(api, user, first, 3, recurrence="monthly") == expected


def test_a_yearly_series_from_feb_29_returns_to_feb_29_in_a_leap_year(api, user):
    # Feb 28 in the years between; the series keeps the 29th it started on.
    assert series(api, user, "2024-02-29T12:00:00Z", 4, recurrence="yearly") == [
        "2025-02-28T12:00:00Z", "2026-02-28T12:00:00Z", "2027-02-28T12:00:00Z",
        "2028-02-29T12:00:00Z"]


@pytest.mark.parametrize("due, next_due", [
    ("2026-11-30T17:00:00Z", "2027-11-30T17:00:00Z"),
    ("2027-12-31T23:30:00Z", "2028-12-31T23:30:00Z"),
    ("2027-02-28T08:00:00Z", "2028-02-28T08:00:00Z"),
])
def test_a_yearly_task_is_due_a_calendar_year_later(api, user, db, due, next_due):
    t = api.create("Birthday", due_date=due, recurrence="yearly")
    assert t["recurrence"] == "yearly"
    r = api.patch(f"{t['id']}/complete")
    assert r.status_code == 200, r.text
    nxt = api.fetch(spawn_target(r, user))
    assert_task(nxt, user)
    assert (nxt["due_date"], nxt["recurrence"]) == (next_due, "yearly")
    assert count(api, db) == 2


def test_a_yearly_task_whose_next_year_is_past_9999_ends_its_series(api, user, db):
    t = api.create("Last", due_date="9999-03-01T00:00:00Z", recurrence="yearly")
    r = api.patch(f"{t['id']}/complete")
    assert r.status_code == 200 and r.json()["completed"] is True, r.text
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 1


def test_a_new_due_date_starts_the_series_again(api, user):
    # Moving a task of the Jan 31 series to the 27th: the series now keeps the 27th.
    dues = series(api, user, "2027-01-31T09:00:00Z", 1, recurrence="monthly")
    assert dues == ["2027-02-28T09:00:00Z"]
    feb = api.list({"status": "pending"}).json()[0]
    r = api.patch(feb["id"], json={"due_date": "2027-02-27T09:00:00Z"})
    assert r.status_code == 200, r.text
    r = api.patch(f"{feb['id']}/complete")
    assert api.fetch(spawn_target(r, user))["due_date"] == "2027-03-27T09:00:00Z"


def test_sending_back_the_same_due_date_keeps_the_series(api, user):
    # A front end's PUT of the whole task, the due date as it was read (or
    # the same instant in another offset), changes nothing: Mar 31 follows.
    series(api, user, "2027-01-31T09:00:00Z", 1, recurrence="monthly")
    feb = api.list({"status": "pending"}).json()[0]
    body = {k: v for k, v in feb.items()
            if k not in ("id", "user_id", "created_at", "updated_at")}
    r = api.put(feb["id"], json={**body, "title": "Rent",
                                 "due_date": "2027-02-28T10:00:00+01:00"})
    assert r.status_code == 200, r.text
    assert r.json()["due_date"] == "2027-02-28T09:00:00Z"
    r = api.patch(f"{feb['id']}/complete")
    assert api.fetch(spawn_target(r, user))["due_date"] == "2027-03-31T09:00:00Z"


# --------------------------------------------------------------------------
# The offset a due date was given with


@pytest.mark.parametrize("first, recurrence, expected", [
    # Jan 30 20:00 at -05:00 is Jan 31 01:00Z: a month later on that wall
    # clock is Feb 28 20:00 -05:00 (clamped from the 30th), then Mar 30.
    ("2025-01-30T20:00:00-05:00", "monthly",
     ["2025-03-01T01:00:00Z", "2025-03-31T01:00:00Z"]),
    # Mar 1 02:00 at +05:00 is Feb 28 21:00Z: the 1st of each month, local.
    ("2026-03-01T02:00:00+05:00", "monthly",
     ["2026-03-31T21:00:00Z", "2026-04-30T21:00:00Z"]),
    # Dec 31 22:00 at -03:00 is Jan 1 01:00Z: Dec 31 again, local.
    ("2026-12-31T22:00:00-03:00", "yearly",
     ["2028-01-01T01:00:00Z", "2029-01-01T01:00:00Z"]),
], ids=["minus-5-monthly", "plus-5-monthly", "minus-3-yearly"])
def test_steps_are_taken_on_the_wall_clock_of_the_given_offset(api, user, first,
                                                              recurrence, expected):
    # It used to add the period in UTC: 2025-02-28T01:00Z for the first case.
    assert series(api, user, first, 2, recurrence=recurrence) == expected


def test_a_series_ends_where_the_wall_clock_passes_year_9999(api, user, db):
    # 9999-12-30 20:00 at -05:00 is 9999-12-31T01:00Z; a day later on that
    # wall clock is 10000-01-01T01:00Z: no next task.
    t = api.create("Last", due_date="9999-12-30T20:00:00-05:00", recurrence="daily")
    r = api.patch(f"{t['id']}/complete")
    assert r.status_code == 200 and r.json()["completed"] is True, r.text
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 1


def test_the_calendar_does_not_depend_on_the_sessions_time_zone(db):
    # todo_next_due() names every zone it uses: a connection whose TimeZone
    # is not UTC (a pooler's, an operator's) computes the same instants.
    if not db.available():
        pytest.skip("psql is missing")
    sql = ("SELECT string_agg((todo_next_due(due, rec::task_recurrence, zone, off, NULL)"
           " AT TIME ZONE 'UTC')::text, ' ' ORDER BY n) FROM (VALUES"
           " (1, timestamptz '2025-01-31T01:00:00Z', 'monthly', NULL, -18000),"
           " (2, '2026-03-28T08:00:00Z', 'daily', NULL, 3600),"
           " (3, '2027-01-31T09:00:00Z', 'monthly', NULL, 0),"
           " (4, '2026-03-28T08:00:00Z', 'daily', 'Europe/Berlin', 0))"
           " v (n, due, rec, zone, off)")
    expected = ("2025-03-01 01:00:00 2026-03-29 08:00:00 2027-02-28 09:00:00"
                " 2026-03-29 07:00:00")
    for zone in ("UTC", "Pacific/Auckland", "America/St_Johns"):
        assert db.scalar(f"SET TimeZone = '{zone}'; {sql}") == expected, zone


# --------------------------------------------------------------------------
# The task's time zone


@pytest.mark.parametrize("zone, first, recurrence, expected", [
    # Berlin moves to summer time on 2026-03-29: 09:00 stays 09:00 local.
    ("Europe/Berlin", "2026-03-28T09:00:00+01:00", "daily",
     ["2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"]),
    # ... and back on 2026-10-25.
    ("Europe/Berlin", "2026-10-24T09:00:00+02:00", "daily",
     ["2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"]),
    # The zone, not the offset the due date was written in, decides.
    ("Europe/Berlin", "2026-03-28T08:00:00Z", "daily",
     ["2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"]),
    # New York moves on 2026-03-08.
    ("America/New_York", "2026-03-02T09:00:00-05:00", "weekly",
     ["2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"]),
    # The day of the month and the wall clock together.
    ("America/New_York", "2026-01-31T09:00:00-05:00", "monthly",
     ["2026-02-28T14:00:00Z", "2026-03-31T13:00:00Z", "2026-04-30T13:00:00Z"]),
    # Feb 29 in Sydney is Feb 28 in UTC.
    ("Australia/Sydney", "2028-02-29T08:00:00+11:00", "yearly",
     ["2029-02-27T21:00:00Z", "2030-02-27T21:00:00Z"]),
    # 02:30 does not exist on 2026-03-29 in Berlin (03:30 is taken); the series
    # keeps 02:30 on the days that have it.
    ("Europe/Berlin", "2026-03-28T02:30:00+01:00", "daily",
     ["2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"]),
], ids=["berlin-spring", "berlin-autumn", "berlin-given-in-utc", "new-york-weekly",
        "new-york-monthly", "sydney-feb-29", "berlin-gap"])
def test_steps_are_taken_on_the_wall_clock_of_the_time_zone(api, user, zone, first,
                                                           recurrence, expected):
    # Daily tasks used to move an hour at each change of the clocks.
    assert series(api, user, first, len(expected), recurrence=recurrence,
                  timezone=zone) == expected


def test_a_new_time_zone_starts_the_series_again(api, user):
    # The New York series of the 31st at 09:00, moved to Berlin at its Feb 28
    # occurrence (15:00 there): it now keeps the 28th at 15:00 Berlin time.
    assert series(api, user, "2026-01-31T09:00:00-05:00", 1, recurrence="monthly",
                  timezone="America/New_York") == ["2026-02-28T14:00:00Z"]
    feb = api.list({"status": "pending"}).json()[0]
    r = api.patch(feb["id"], json={"timezone": "Europe/Berlin"})
    assert r.status_code == 200 and r.json()["due_date"] == "2026-02-28T14:00:00Z", r.text
    r = api.patch(f"{feb['id']}/complete")
    nxt = api.fetch(spawn_target(r, user))
    assert (nxt["due_date"], nxt["timezone"]) == ("2026-03-28T14:00:00Z", "Europe/Berlin")


def test_the_next_occurrence_copies_the_time_zone(api, user, db):
    t = api.create("Standup", due_date="2026-03-28T09:00:00+01:00", recurrence="daily",
                   timezone="Europe/Berlin", tags=["work"])
    r = api.patch(f"{t['id']}/complete")
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] == "Europe/Berlin"
    nxt = api.fetch(spawn_target(r, user))
    assert_task(nxt, user)
    assert (nxt["timezone"], nxt["recurrence"], nxt["tags"], nxt["completed"]) == (
        "Europe/Berlin", "daily", ["work"], False)
    assert count(api, db) == 2


def test_a_time_zone_set_while_completing_is_used_for_the_next_one(api, user):
    t = api.create("Standup", due_date="2026-03-28T08:00:00Z", recurrence="daily")
    r = api.patch(t["id"], json={"completed": True, "timezone": "Europe/Berlin"})
    assert r.status_code == 200, r.text
    nxt = api.fetch(spawn_target(r, user))
    assert (nxt["due_date"], nxt["timezone"]) == ("2026-03-29T07:00:00Z", "Europe/Berlin")


# --------------------------------------------------------------------------
# The timezone field


def test_timezone_is_null_by_default_and_sits_after_recurrence(api, user):
    t = api.create("x")
    assert_task(t, user)
    assert t["timezone"] is None
    keys = list(t)
    assert keys.index("timezone") == keys.index("recurrence") + 1
    assert keys.index("created_at") == keys.index("timezone") + 1


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires",
                                  "Asia/Kolkata", "Pacific/Chatham", "Etc/GMT+5"])
def test_a_known_time_zone_is_stored_and_returned(api, user, zone):
    t = api.create("x", timezone=zone)
    assert t["timezone"] == zone
    assert api.fetch(t["id"])["timezone"] == zone
    assert [x["timezone"] for x in api.list().json()] == [zone]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_timezone_is_kept_when_absent_set_when_given_and_cleared_by_null(api, method):
    t = api.create("x", timezone="Europe/Berlin")
    r = api.request(method, t["id"], json={"title": "y"})
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Berlin", r.text
    r = api.request(method, t["id"], json={"timezone": "Asia/Tokyo"})
    assert r.status_code == 200 and r.json()["timezone"] == "Asia/Tokyo", r.text
    r = api.request(method, t["id"], json={"timezone": None})
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] is None
    assert api.fetch(t["id"])["timezone"] is None
    assert api.fetch(t["id"])["title"] == "y"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_setting_the_same_time_zone_changes_nothing(api, user, db, method):
    t = api.create("x", timezone="Europe/Berlin")
    assert t["timezone"] == "Europe/Berlin"
    tag = api.get(t["id"]).headers["ETag"]
    with db.unchanged(user):
        r = api.request(method, t["id"], json={"timezone": "Europe/Berlin"})
    assert r.status_code == 200 and r.json() == t
    assert r.headers["ETag"] == tag


BAD_ZONES = [
    ("unknown", "Mars/Olympus_Mons", "zoneinfo_str"),
    ("lower case", "europe/berlin", "zoneinfo_str"),
    ("posix rule", "UTC+3", "zoneinfo_str"),
    ("offset", "+02:00", "zoneinfo_str"),
    ("not a zone file", "localtime", "zoneinfo_str"),
    ("path", "../../etc/passwd", "zoneinfo_str"),
    ("padded", " Europe/Berlin", "zoneinfo_str"),
    ("empty", "", "zoneinfo_str"),
    ("long", "Europe/" + "x" * 5000, "zoneinfo_str"),
    ("NUL", "Europe/Berlin\u0000", None),
    ("number", 1, "string_type"),
    ("bool", True, "string_type"),
    ("list", ["Europe/Berlin"], "string_type"),
    ("object", {"name": "Europe/Berlin"}, "string_type"),
]


@pytest.mark.parametrize("zone, type_", [c[1:] for c in BAD_ZONES],
                         ids=[c[0] for c in BAD_ZONES])
def test_create_with_a_bad_time_zone_is_422_and_creates_nothing(api, user, db, zone, type_):
    api.create("existing")
    with db.unchanged(user):
        r = api.post(json={"title": "x", "due_date": "2026-11-30T17:00:00Z",
                           "recurrence": "daily", "timezone": zone})
    items = assert_validation(r, ["body", "timezone"], type_)
    assert [it["loc"] for it in items] == [["body", "timezone"]]
    assert count(api, db) == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("zone, type_", [c[1:] for c in BAD_ZONES],
                         ids=[c[0] for c in BAD_ZONES])
def test_update_with_a_bad_time_zone_is_422_and_changes_nothing(api, user, db, method,
                                                                zone, type_):
    t = api.create("x", due_date="2026-11-30T17:00:00Z", timezone="Europe/Berlin")
    tag = api.get(t["id"]).headers["ETag"]
    with db.unchanged(user):
        r = api.request(method, t["id"], json={"title": "changed", "timezone": zone})
    assert_validation(r, ["body", "timezone"], type_)
    assert api.fetch(t["id"]) == t
    assert api.get(t["id"]).headers["ETag"] == tag


@pytest.mark.parametrize("complete", [
    lambda api, t: api.patch(t["id"], json={"completed": True, "timezone": "Mars/Base"}),
    lambda api, t: api.put(t["id"], json={"completed": True, "timezone": "Mars/Base"}),
], ids=["patch", "put"])
def test_completing_with_a_bad_time_zone_completes_nothing_and_spawns_nothing(
        api, user, db, complete):
    t = api.create("Daily", due_date="2026-11-30T17:00:00Z", recurrence="daily")
    with db.unchanged(user):
        r = complete(api, t)
    assert_validation(r, ["body", "timezone"], "zoneinfo_str")
    assert link_target(r, "next-occurrence") is None
    assert api.fetch(t["id"]) == t
    assert count(api, db) == 1


# --------------------------------------------------------------------------
# recurring_interval, the alias some front ends send


@pytest.mark.parametrize("value", ["daily", "weekly", "monthly", "yearly"])
def test_recurring_interval_is_accepted_for_recurrence(api, user, value):
    t = api.create("x", due_date="2026-11-30T17:00:00Z", recurring_interval=value)
    assert t["recurrence"] == value
    assert "recurring_interval" not in t


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_recurring_interval_sets_and_clears_on_update(api, method):
    t = api.create("x", due_date="2026-11-30T17:00:00Z")
    r = api.request(method, t["id"], json={"recurring_interval": "yearly"})
    assert r.status_code == 200 and r.json()["recurrence"] == "yearly", r.text
    r = api.request(method, t["id"], json={"recurring_interval": None})
    assert r.status_code == 200 and r.json()["recurrence"] is None, r.text


def test_recurrence_wins_over_recurring_interval(api):
    t = api.create("x", due_date="2026-11-30T17:00:00Z", recurrence="weekly",
                   recurring_interval="daily")
    assert t["recurrence"] == "weekly"


def test_a_completed_task_made_with_recurring_interval_spawns(api, user):
    t = api.create("x", due_date="2027-01-31T09:00:00Z", recurring_interval="monthly")
    r = api.patch(f"{t['id']}/complete")
    assert api.fetch(spawn_target(r, user))["due_date"] == "2027-02-28T09:00:00Z"


@pytest.mark.parametrize("body, loc", [
    ({"title": "x", "due_date": "2026-11-30T17:00:00Z", "recurring_interval": "hourly"},
     ["body", "recurring_interval"]),
    ({"title": "x", "due_date": "2026-11-30T17:00:00Z", "recurring_interval": 7},
     ["body", "recurring_interval"]),
])
def test_a_bad_recurring_interval_is_422_and_creates_nothing(api, user, db, body, loc):
    with db.unchanged(user):
        r = api.post(json=body)
    assert_validation(r, loc)


def test_recurring_interval_needs_a_due_date_too(api, user, db):
    with db.unchanged(user):
        r = api.post(json={"title": "x", "recurring_interval": "daily"})
    assert all(it["loc"][0] == "body" for it in validation_errors(r))
