"""Recurring tasks: completing one creates its next occurrence, exactly once."""

import threading

import pytest
import requests

from helpers import assert_task, link_target, url

DUE = "2026-11-30T17:00:00Z"


def spawn_target(r, user):
    """The id of the task the next-occurrence Link points to (checked for form)."""
    target = link_target(r, "next-occurrence")
    assert target, (r.status_code, r.headers.get("Link"))
    prefix = f"/api/{user}/tasks/"
    assert target.startswith(prefix), target
    tail = target[len(prefix):]
    assert tail.isdigit(), target
    return int(tail)


def count(api, db):
    """Tasks of the user, by the API and (when psql exists) by the database."""
    n = int(api.list().headers["X-Total-Count"])
    in_db = db.count(api.user)
    if in_db is not None:
        assert in_db == n
    return n


# How a task can become completed: (id, function(api, task) -> response)
COMPLETERS = [
    ("toggle", lambda api, t: api.patch(f"{t['id']}/complete")),
    ("complete-true", lambda api, t: api.patch(f"{t['id']}/complete", json={"completed": True})),
    ("put", lambda api, t: api.put(t["id"], json={"completed": True})),
    ("patch", lambda api, t: api.patch(t["id"], json={"completed": True})),
]


@pytest.mark.parametrize("complete", [c[1] for c in COMPLETERS], ids=[c[0] for c in COMPLETERS])
def test_completing_a_daily_task_creates_the_next_one(api, user, db, complete):
    t = api.create("Water plants", description="balcony too", priority="high",
                   tags=["home", "garden"], due_date=DUE, recurrence="daily")
    r = complete(api, t)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["completed"] is True
    assert done["due_date"] == DUE                       # keeps its own due date
    assert done["recurrence"] == "daily"
    new_id = spawn_target(r, user)
    assert new_id != t["id"]

    nxt = api.fetch(new_id)
    assert_task(nxt, user)
    assert nxt["title"] == "Water plants"
    assert nxt["description"] == "balcony too"
    assert nxt["priority"] == "high"
    assert nxt["tags"] == ["home", "garden"]
    assert nxt["recurrence"] == "daily"
    assert nxt["completed"] is False
    assert nxt["due_date"] == "2026-12-01T17:00:00Z"
    assert count(api, db) == 2
    assert api.fetch(t["id"]) == done


@pytest.mark.parametrize("complete", [c[1] for c in COMPLETERS], ids=[c[0] for c in COMPLETERS])
def test_completing_under_a_current_if_match_creates_the_next_one(api, user, db, complete):
    t = api.create("Water plants", due_date=DUE, recurrence="daily")
    tag = api.get(t["id"]).headers["ETag"]
    real = api.request

    def with_tag(method, p="", **kw):
        return real(method, p, headers={"If-Match": tag}, **kw)

    api.request = with_tag
    try:
        r = complete(api, t)
    finally:
        api.request = real
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] != tag
    nxt = api.fetch(spawn_target(r, user))
    assert nxt["due_date"] == "2026-12-01T17:00:00Z"
    assert count(api, db) == 2


def test_completing_with_other_changes_carries_them_to_the_next_one(api, user, db):
    # The next occurrence is made from the task as this request leaves it.
    t = api.create("Water plants", due_date=DUE, recurrence="daily", tags=["home"])
    r = api.put(t["id"], json={"completed": True, "title": "Water the plants",
                               "due_date": "2026-12-05T08:00:00Z", "priority": "low"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["title"], done["due_date"], done["priority"]) == (
        "Water the plants", "2026-12-05T08:00:00Z", "low")
    nxt = api.fetch(spawn_target(r, user))
    assert (nxt["title"], nxt["due_date"], nxt["priority"], nxt["tags"]) == (
        "Water the plants", "2026-12-06T08:00:00Z", "low", ["home"])
    assert nxt["completed"] is False
    assert count(api, db) == 2


@pytest.mark.parametrize("recurrence, due, next_due", [
    ("daily", "2026-12-31T23:30:00Z", "2027-01-01T23:30:00Z"),
    ("daily", "2028-02-28T08:00:00Z", "2028-02-29T08:00:00Z"),
    ("weekly", "2026-11-30T17:00:00Z", "2026-12-07T17:00:00Z"),
    ("weekly", "2026-12-28T09:15:00Z", "2027-01-04T09:15:00Z"),
    ("monthly", "2026-11-30T17:00:00Z", "2026-12-30T17:00:00Z"),
    ("monthly", "2026-12-31T12:00:00Z", "2027-01-31T12:00:00Z"),
    ("monthly", "2027-01-31T12:00:00Z", "2027-02-28T12:00:00Z"),
    ("monthly", "2028-01-31T12:00:00Z", "2028-02-29T12:00:00Z"),
    ("monthly", "2027-03-31T06:00:00Z", "2027-04-30T06:00:00Z"),
    ("monthly", "2027-01-15T00:00:00Z", "2027-02-15T00:00:00Z"),
])
def test_next_due_date_is_one_period_later(api, user, recurrence, due, next_due):
    t = api.create("Repeat", due_date=due, recurrence=recurrence)
    r = api.patch(f"{t['id']}/complete")
    assert r.status_code == 200, r.text
    nxt = api.fetch(spawn_target(r, user))
    assert nxt["due_date"] == next_due
    assert nxt["recurrence"] == recurrence


def test_monthly_series_keeps_the_day_it_started_on(api, user):
    # Each occurrence is a month after the one completed, on the series' day:
    # Jan 31, Feb 28, Mar 31 (it used to drift to Mar 28).
    t = api.create("Rent", due_date="2027-01-31T09:00:00Z", recurrence="monthly")
    r = api.patch(f"{t['id']}/complete")
    feb = api.fetch(spawn_target(r, user))
    assert feb["due_date"] == "2027-02-28T09:00:00Z"
    r = api.patch(f"{feb['id']}/complete")
    mar = api.fetch(spawn_target(r, user))
    assert mar["due_date"] == "2027-03-31T09:00:00Z"


def test_due_date_given_with_an_offset_advances_on_that_offset(api, user):
    # A fixed offset keeps no daylight saving: a day later is 24 hours later.
    # (Months and years: test_recurrence_calendar.py.)
    t = api.create("Standup", due_date="2026-11-30T09:00:00+01:00", recurrence="daily")
    r = api.patch(f"{t['id']}/complete")
    assert api.fetch(spawn_target(r, user))["due_date"] == "2026-12-01T08:00:00Z"


def test_next_occurrence_is_itself_recurring(api, user, db):
    t = api.create("Daily review", due_date=DUE, recurrence="daily")
    second = spawn_target(api.patch(f"{t['id']}/complete"), user)
    third = spawn_target(api.patch(f"{second}/complete"), user)
    assert api.fetch(third)["due_date"] == "2026-12-02T17:00:00Z"
    assert count(api, db) == 3


def test_reopening_and_completing_again_creates_nothing_more(api, user, db):
    t = api.create("Once", due_date=DUE, recurrence="weekly")
    r = api.patch(f"{t['id']}/complete")
    spawn_target(r, user)
    assert count(api, db) == 2

    r = api.patch(f"{t['id']}/complete")                 # toggle back to pending
    assert r.status_code == 200 and r.json()["completed"] is False
    assert link_target(r, "next-occurrence") is None
    r = api.patch(f"{t['id']}/complete")                 # and completed again
    assert r.status_code == 200 and r.json()["completed"] is True
    assert link_target(r, "next-occurrence") is None
    r = api.patch(t["id"], json={"completed": False})
    r = api.put(t["id"], json={"completed": True})
    assert r.status_code == 200
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 2


def test_completing_an_already_completed_task_creates_nothing(api, user, db):
    t = api.create("x", due_date=DUE, recurrence="daily")
    spawn_target(api.patch(f"{t['id']}/complete", json={"completed": True}), user)
    r = api.patch(f"{t['id']}/complete", json={"completed": True})
    assert r.status_code == 200 and r.json()["completed"] is True
    assert link_target(r, "next-occurrence") is None
    r = api.patch(t["id"], json={"completed": True, "title": "renamed"})
    assert r.status_code == 200
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 2


def test_completing_a_plain_task_creates_nothing(api, user, db):
    t = api.create("Plain", due_date=DUE)
    r = api.patch(f"{t['id']}/complete")
    assert r.status_code == 200 and r.json()["completed"] is True
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 1


def test_creating_a_task_already_completed_creates_nothing(api, user, db):
    r = api.post(json={"title": "x", "due_date": DUE, "recurrence": "daily",
                       "completed": True})
    assert r.status_code == 201, r.text
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 1


def test_other_changes_to_a_recurring_task_create_nothing(api, user, db):
    t = api.create("x", due_date=DUE, recurrence="daily")
    r = api.patch(t["id"], json={"title": "y", "due_date": "2026-12-24T10:00:00Z"})
    assert r.status_code == 200
    assert link_target(r, "next-occurrence") is None
    r = api.put(t["id"], json={"completed": False})
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 1


def test_concurrent_completions_create_one_next_occurrence(api, user, db):
    t = api.create("Race", due_date=DUE, recurrence="daily")
    results = []

    def complete():
        with requests.Session() as s:           # one connection per racer
            s.trust_env = False
            results.append(s.patch(url(api.path(f"{t['id']}/complete")),
                                   json={"completed": True}, timeout=30,
                                   headers={"Authorization": f"Bearer {api.token}"}))

    threads = [threading.Thread(target=complete) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r.status_code == 200 for r in results), [r.status_code for r in results]
    spawned = [link_target(r, "next-occurrence") for r in results]
    assert len([s for s in spawned if s]) == 1, spawned
    assert count(api, db) == 2


@pytest.mark.parametrize("complete", [c[1] for c in COMPLETERS], ids=[c[0] for c in COMPLETERS])
def test_a_task_whose_next_occurrence_would_pass_year_9999_completes_and_ends_its_series(
        api, user, db, complete):
    # API.md: a next due date past year 9999 creates no new task; the task
    # itself completes (it used to be a 422 that left it open for ever).
    t = api.create("Last", due_date="9999-12-31T12:00:00Z", recurrence="daily")
    r = complete(api, t)
    assert r.status_code == 200, r.text
    assert r.json()["completed"] is True and r.json()["due_date"] == "9999-12-31T12:00:00Z"
    assert link_target(r, "next-occurrence") is None
    assert count(api, db) == 1
    # Reopened and completed again: still nothing new.
    assert api.patch(f"{t['id']}/complete").json()["completed"] is False
    assert api.patch(f"{t['id']}/complete").json()["completed"] is True
    assert count(api, db) == 1