"""Creating, reading, updating and deleting one's own tasks."""

import json

import pytest

from helpers import (
    BASE_URL, MAX_ID, assert_detail, assert_task, assert_validation, new_user_id,
    parse_ts, raw_request,
)


# --------------------------------------------------------------------------
# Create


def test_create_minimal_task_gets_defaults(api, user):
    r = api.post(json={"title": "Buy milk"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert_task(t, user)
    assert t["title"] == "Buy milk"
    assert t["description"] is None
    assert t["completed"] is False
    assert t["priority"] == "medium"
    assert t["tags"] == []
    assert t["due_date"] is None
    assert t["recurrence"] is None
    assert parse_ts(t["updated_at"]) >= parse_ts(t["created_at"])


def test_create_answers_with_location_of_the_new_task(api, user):
    r = api.post(json={"title": "Buy milk"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert r.headers.get("Location") in (
        f"/api/{user}/tasks/{t['id']}", f"{BASE_URL}/api/{user}/tasks/{t['id']}")
    assert api.fetch(t["id"]) == t


def test_create_with_every_field(api, user):
    body = {
        "title": "Pay rent",
        "description": "Bank transfer",
        "completed": True,
        "priority": "high",
        "tags": ["home", "money"],
        "due_date": "2026-11-30T17:00:00Z",
        "recurrence": "monthly",
    }
    t = api.create(**body)
    assert_task(t, user)
    for k, v in body.items():
        assert t[k] == v, k


def test_create_is_stored_in_the_database(api, user, db):
    t = api.create("Buy milk", tags=["home"], priority="low")
    rows = db.snapshot(user)
    if rows is not None:
        assert len(rows) == 1
        row = rows[0]
        assert row["id"] == t["id"]
        assert row["user_id"] == user
        assert row["title"] == "Buy milk"
        assert row["priority"] == "low"
        assert row["tags"] == ["home"]
        assert row["completed"] is False


def test_title_is_trimmed(api):
    t = api.create(" \t Buy milk \n\r ")
    assert t["title"] == "Buy milk"


def test_title_keeps_inner_white_space(api):
    t = api.create("Buy  oat\tmilk")
    assert t["title"] == "Buy  oat\tmilk"


def test_title_of_200_emoji_is_accepted(api, user, db):
    title = "\U0001F600" * 200            # 200 code points, 800 bytes of UTF-8
    t = api.create(title)
    assert t["title"] == title
    rows = db.snapshot(user)
    if rows is not None:
        assert rows[0]["title"] == title


def test_title_of_201_emoji_is_rejected(api, user, db):
    with db.unchanged(user):
        r = api.post(json={"title": "\U0001F600" * 201})
    assert_validation(r, ["body", "title"], "string_too_long")


def test_title_length_counts_after_trimming(api):
    title = "x" * 200
    assert api.create("   " + title + "   ")["title"] == title


def test_title_with_combining_and_cjk_characters(api):
    title = "e\u0301t\u00e9 \u8cb7\u3044\u7269 \u05e9\u05dc\u05d5\u05dd"
    assert api.create(title)["title"] == title


def test_description_of_1000_characters_is_accepted(api):
    d = "\u00e9" * 1000
    assert api.create("x", description=d)["description"] == d


def test_tags_are_trimmed_deduplicated_and_keep_their_order(api):
    t = api.create("x", tags=[" work", "home ", "work", "urgent", " home", "work"])
    assert t["tags"] == ["work", "home", "urgent"]


def test_twenty_tags_of_fifty_characters_are_accepted(api):
    tags = [f"{i:02d}" + "\u00e4" * 48 for i in range(20)]
    t = api.create("x", tags=tags)
    assert t["tags"] == tags


def test_server_assigned_fields_in_the_body_are_ignored(api, user, db):
    other = new_user_id()
    r = api.post(json={
        "title": "Mine",
        "id": MAX_ID - 7,
        "user_id": other,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "version": 77,
    })
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["id"] != MAX_ID - 7
    assert t["user_id"] == user
    assert parse_ts(t["created_at"]).year > 2000
    assert parse_ts(t["updated_at"]).year > 2000
    assert db.count(other) in (0, None)


def test_unknown_fields_are_ignored(api):
    r = api.post(json={"title": "x", "colour": "red", "nested": {"a": [1, None]},
                       "assignee": None})
    assert r.status_code == 201, r.text
    assert_task(r.json())


def test_explicit_nulls_on_create_where_allowed(api):
    t = api.create("x", description=None, due_date=None, recurrence=None)
    assert (t["description"], t["due_date"], t["recurrence"]) == (None, None, None)


@pytest.mark.parametrize("given, stored", [
    ("2026-11-30T18:00:00+01:00", "2026-11-30T17:00:00Z"),
    ("2026-11-30T12:00:00-05:00", "2026-11-30T17:00:00Z"),
    ("2026-11-30T17:00:00.5Z", "2026-11-30T17:00:00.500000Z"),
    ("2026-11-30T17:00:00.000Z", "2026-11-30T17:00:00Z"),
    ("2026-11-30", "2026-11-30T00:00:00Z"),
    # What pydantic also reads: a browser's datetime-local (no seconds, no
    # offset), a space for the T, an offset without its colon.
    ("2026-11-30T17:00", "2026-11-30T17:00:00Z"),
    ("2026-11-30 17:00:00", "2026-11-30T17:00:00Z"),
    ("2026-11-30T18:00+0100", "2026-11-30T17:00:00Z"),
    ("2026-11-30T12:00:00.250-0500", "2026-11-30T17:00:00.250000Z"),
])
def test_due_date_is_normalised_to_utc(api, given, stored):
    assert api.create("x", due_date=given)["due_date"] == stored
    t = api.create("y")
    r = api.patch(t["id"], json={"due_date": given})
    assert r.status_code == 200 and r.json()["due_date"] == stored, r.text


def test_charset_in_content_type_is_accepted(api):
    r = api.post(data='{"title": "x"}'.encode(),
                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


# --------------------------------------------------------------------------
# Read


def test_get_returns_the_task(api, user, task):
    r = api.get(task["id"])
    assert r.status_code == 200, r.text
    assert r.json() == task


def test_get_of_a_missing_task_is_404(api, task):
    assert_detail(api.get(task["id"] + 1000000), 404, "Task not found")


def test_get_largest_possible_id_is_404(api):
    assert_detail(api.get(MAX_ID), 404, "Task not found")


@pytest.mark.parametrize("bad", ["0", "-1", "abc", str(2**63), "99999999999999999999999",
                                 "1.5", "1e3", "0x10"])
def test_malformed_task_id_is_422(api, bad):
    r = api.get(bad)
    assert_validation(r, ["path", "task_id"])


@pytest.mark.parametrize("method, suffix, body, locs", [
    ("PUT", "", {"title": 5, "priority": "urgent"}, [["body", "title"], ["body", "priority"]]),
    ("PATCH", "", {"title": 5, "priority": "urgent"}, [["body", "title"], ["body", "priority"]]),
    ("PUT", "", None, [["body"]]),
    ("PATCH", "/complete", [], [["body"]]),
    ("PATCH", "/complete", {"completed": "yes"}, [["body", "completed"]]),
])
def test_a_bad_task_id_and_a_bad_body_are_reported_together(api, method, suffix, body, locs):
    r = api.request(method, "abc" + suffix, json=body)
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["path", "task_id"]] + locs


def test_a_task_id_that_is_not_utf8_is_422_in_a_utf8_answer(api):
    # The error names the bad id without echoing bytes that are not text.
    status, _, body = raw_request("GET", f"/api/{api.user}/tasks/%FF%FE", token=api.token)
    assert status == 422
    (err,) = json.loads(body.decode("utf-8"))["detail"]
    assert err["loc"] == ["path", "task_id"] and "input" not in err


@pytest.mark.parametrize("method, suffix, body", [
    ("PUT", "", {"title": "x"}),
    ("PATCH", "", {"title": "x"}),
    ("DELETE", "", None),
    ("PATCH", "/complete", None),
])
@pytest.mark.parametrize("bad", ["0", "abc", str(2**63)])
def test_malformed_task_id_is_422_for_every_method(api, user, db, method, suffix, body, bad):
    api.create("untouched")
    with db.unchanged(user):
        r = api.request(method, bad + suffix, json=body)
    assert_validation(r, ["path", "task_id"])


@pytest.mark.parametrize("method, suffix, body", [
    ("PUT", "", {"title": "x"}),
    ("PATCH", "", {"title": "x"}),
    ("DELETE", "", None),
    ("PATCH", "/complete", None),
])
def test_largest_id_is_404_for_every_method(api, method, suffix, body):
    r = api.request(method, f"{MAX_ID}{suffix}", json=body)
    assert_detail(r, 404, "Task not found")


# --------------------------------------------------------------------------
# Update


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_changes_only_the_fields_sent(api, method):
    t = api.create("Old", description="keep", priority="high", tags=["a"],
                   due_date="2026-11-30T17:00:00Z", recurrence="weekly")
    r = api.request(method, t["id"], json={"title": "New"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["title"] == "New"
    for k in ("id", "user_id", "description", "completed", "priority", "tags",
              "due_date", "recurrence", "created_at"):
        assert u[k] == t[k], k
    assert parse_ts(u["updated_at"]) > parse_ts(t["updated_at"])
    assert api.fetch(t["id"]) == u


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_several_fields(api, method):
    t = api.create("Old")
    body = {"description": "now", "priority": "low", "tags": [" x ", "y", "x"],
            "due_date": "2027-01-01T08:00:00+02:00", "completed": True}
    u = api.request(method, t["id"], json=body).json()
    assert u["description"] == "now"
    assert u["priority"] == "low"
    assert u["tags"] == ["x", "y"]
    assert u["due_date"] == "2027-01-01T06:00:00Z"
    assert u["completed"] is True
    assert u["title"] == "Old"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_empty_update_changes_nothing(api, user, db, method):
    t = api.create("Same", description="d", tags=["a"])
    etag = api.get(t["id"]).headers.get("ETag")
    with db.unchanged(user):
        r = api.request(method, t["id"], json={})
    assert r.status_code == 200, r.text
    assert r.json() == t                     # updated_at did not move either
    assert r.headers.get("ETag") == etag
    assert api.fetch(t["id"]) == t


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_to_the_stored_values_changes_nothing(api, user, db, method):
    # The same values, written differently (untrimmed, duplicate tags, another
    # offset), are no change: same task, same ETag, updated_at unmoved.
    t = api.create("Same", description="d", priority="high", tags=["a", "b"],
                   due_date="2026-11-30T17:00:00Z", recurrence="weekly")
    etag = api.get(t["id"]).headers.get("ETag")
    body = {"title": "  Same ", "description": "d", "priority": "high",
            "tags": [" a", "b", "a"], "due_date": "2026-11-30T18:00:00+01:00",
            "recurrence": "weekly", "completed": False}
    with db.unchanged(user):
        r = api.request(method, t["id"], json=body)
    assert r.status_code == 200, r.text
    assert r.json() == t
    assert r.headers.get("ETag") == etag


@pytest.mark.parametrize("method, suffix, body", [
    ("PUT", "", {"title": "mine now"}),
    ("PATCH", "", {"title": "mine now"}),
    ("PATCH", "", {}),
    ("PATCH", "/complete", None),
    ("PATCH", "/complete", {"completed": True}),
    ("DELETE", "", None),
])
@pytest.mark.parametrize("if_match", [None, "*", "tag"])
def test_writes_to_another_users_task_are_404(api, db, make_client, method, suffix,
                                              body, if_match):
    owner = make_client()
    t = owner.create("theirs", due_date="2026-11-30T17:00:00Z", recurrence="daily")
    headers = {}
    if if_match == "*":
        headers["If-Match"] = "*"
    elif if_match == "tag":
        headers["If-Match"] = owner.get(t["id"]).headers["ETag"]
    with db.unchanged(owner.user, api.user):
        r = api.request(method, f"{t['id']}{suffix}", json=body, headers=headers)
    assert_detail(r, 404, "Task not found")
    assert owner.fetch(t["id"]) == t


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_ignores_server_assigned_and_unknown_fields(api, user, method):
    t = api.create("x")
    r = api.request(method, t["id"], json={
        "id": t["id"] + 1, "user_id": new_user_id(), "created_at": "2000-01-01T00:00:00Z",
        "colour": "red", "title": "y"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert (u["id"], u["user_id"], u["created_at"], u["title"]) == (
        t["id"], user, t["created_at"], "y")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("field", ["description", "due_date", "recurrence"])
def test_null_clears_nullable_fields(api, method, field):
    t = api.create("x", description="d", due_date="2026-11-30T17:00:00Z")
    if field == "recurrence":
        t = api.patch(t["id"], json={"recurrence": "daily"}).json()
        assert t["recurrence"] == "daily"
    r = api.request(method, t["id"], json={field: None})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u[field] is None
    assert api.fetch(t["id"])[field] is None
    others = {"description", "due_date", "recurrence"} - {field}
    for k in others:
        assert u[k] == t[k], k


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("field", ["title", "completed", "priority", "tags"])
def test_null_is_rejected_for_other_fields(api, user, db, method, field):
    t = api.create("x")
    with db.unchanged(user):
        r = api.request(method, t["id"], json={field: None})
    assert_validation(r, ["body", field])
    assert api.fetch(t["id"]) == t


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_of_a_missing_task_is_404(api, user, db, method):
    t = api.create("x")
    with db.unchanged(user):
        r = api.request(method, t["id"] + 1000000, json={"title": "y"})
    assert_detail(r, 404, "Task not found")


# --------------------------------------------------------------------------
# Delete


def test_delete_then_gone(api, user, db):
    keep = api.create("keep")
    t = api.create("drop")
    r = api.delete(t["id"])
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_detail(api.get(t["id"]), 404, "Task not found")
    assert [x["id"] for x in api.list().json()] == [keep["id"]]
    rows = db.snapshot(user)
    if rows is not None:
        assert [x["id"] for x in rows] == [keep["id"]]


def test_a_delete_sent_again_answers_as_the_first_did(api, user, db, make_client):
    # The client (or nginx, or the worker on a new database connection) sends
    # a DELETE again because the first answer was lost: the task is gone
    # either way, and saying 404 would report a failure that did not happen.
    keep, t = api.create("keep"), api.create("drop")
    tag = api.get(t["id"]).headers["ETag"]
    assert api.delete(t["id"]).status_code == 204
    for headers in ({}, {"If-Match": tag}):
        with db.unchanged(user):
            r = api.delete(t["id"], headers=headers)
        assert r.status_code == 204 and r.content == b"", r.text
    assert_detail(api.get(t["id"]), 404, "Task not found")
    assert [x["id"] for x in api.list().json()] == [keep["id"]]
    # Only its owner's DELETE finds the trace; a tag it never had, or "*"
    # (a task that exists), does not.
    assert_detail(make_client().delete(t["id"]), 404, "Task not found")
    for other in ('"1.1"', "*"):
        assert_detail(api.delete(t["id"], headers={"If-Match": other}), 404, "Task not found")
    # A day later it is a task like any other that is not there.
    db.scalar("UPDATE deleted_tasks SET deleted_at = now() - interval '25 hours'"
              " WHERE id = :'id'", id=str(t["id"]))
    assert_detail(api.delete(t["id"]), 404, "Task not found")


def test_deleted_task_cannot_be_updated_or_completed(api):
    t = api.create("x")
    assert api.delete(t["id"]).status_code == 204
    assert_detail(api.put(t["id"], json={"title": "y"}), 404, "Task not found")
    assert_detail(api.patch(f"{t['id']}/complete"), 404, "Task not found")


# --------------------------------------------------------------------------
# Trailing slash


def test_trailing_slash_is_ignored_everywhere(api, user):
    r = api.post("/api/%s/tasks/" % user, json={"title": "slash"})
    assert r.status_code == 201, r.text
    t = r.json()
    r = api.get(api.tasks + "/")
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [t["id"]]
    r = api.get(f"{t['id']}/")
    assert r.status_code == 200, r.text
    assert r.json() == t
    r = api.patch(f"{t['id']}/", json={"title": "slashed"})
    assert r.status_code == 200 and r.json()["title"] == "slashed", r.text
    r = api.patch(f"{t['id']}/complete/")
    assert r.status_code == 200 and r.json()["completed"] is True, r.text
    r = api.delete(f"{t['id']}/")
    assert r.status_code == 204, r.text
