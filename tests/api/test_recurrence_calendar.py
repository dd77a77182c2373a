"""Recurrence in the user's calendar: a series keeps its day of the month, and
its steps are taken on the wall clock of the offset its due date was given
with, else UTC (API.md, Tasks; issue 10 items 11 and 12).

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
    sql = ("SELECT string_agg((todo_next_due(due, rec::task_recurrence, NULL, off, NULL)"
           " AT TIME ZONE 'UTC')::text, ' ' ORDER BY n) FROM (VALUES"
           " (1, timestamptz '2025-01-31T01:00:00Z', 'monthly', -18000),"
           " (2, '2026-03-28T08:00:00Z', 'daily', 3600),"
           " (3, '2027-01-31T09:00:00Z', 'monthly', 0)) v (n, due, rec, off)")
    expected = "2025-03-01 01:00:00 2026-03-29 08:00:00 2027-02-28 09:00:00"
    for zone in ("UTC", "Pacific/Auckland", "America/St_Johns"):
        assert db.scalar(f"SET TimeZone = '{zone}'; {sql}") == expected, zone


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
