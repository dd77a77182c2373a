"""ETags on single tasks, cached reads (If-None-Match) and lost-update
protection (If-Match)."""

import re

import pytest

from helpers import assert_detail

STRONG_ETAG = re.compile(r'^"[\x21\x23-\x7e]+"$')

DUE = "2026-11-30T17:00:00Z"


def etag_of(r):
    tag = r.headers.get("ETag")
    assert tag and STRONG_ETAG.match(tag), (r.status_code, tag)
    return tag


def test_every_single_task_response_carries_an_etag(api):
    r = api.post(json={"title": "x"})
    assert r.status_code == 201
    created = etag_of(r)
    tid = r.json()["id"]

    r = api.get(tid)
    assert etag_of(r) == created

    r = api.put(tid, json={"title": "y"})
    assert r.status_code == 200
    after_put = etag_of(r)
    assert after_put != created

    r = api.patch(tid, json={"priority": "high"})
    assert r.status_code == 200
    after_patch = etag_of(r)
    assert after_patch not in (created, after_put)

    r = api.patch(f"{tid}/complete")
    assert r.status_code == 200
    after_complete = etag_of(r)
    assert after_complete not in (created, after_put, after_patch)

    assert etag_of(api.get(tid)) == after_complete


def test_etags_of_different_tasks_differ(api):
    a, b = api.create("a"), api.create("b")
    assert etag_of(api.get(a["id"])) != etag_of(api.get(b["id"]))


# --------------------------------------------------------------------------
# If-None-Match


def test_matching_if_none_match_gives_304_without_body(api, task):
    tag = etag_of(api.get(task["id"]))
    r = api.get(task["id"], headers={"If-None-Match": tag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers.get("ETag") == tag


@pytest.mark.parametrize("form", ["star", "list", "weak"])
def test_if_none_match_forms_that_match(api, task, form):
    tag = etag_of(api.get(task["id"]))
    value = {"star": "*", "list": f'"nope", {tag}', "weak": f"W/{tag}"}[form]
    assert api.get(task["id"], headers={"If-None-Match": value}).status_code == 304


def test_non_matching_if_none_match_gives_the_task(api, task):
    r = api.get(task["id"], headers={"If-None-Match": '"not-the-tag"'})
    assert r.status_code == 200
    assert r.json() == task


def test_stale_if_none_match_after_a_change_gives_the_new_task(api, task):
    old = etag_of(api.get(task["id"]))
    assert api.patch(task["id"], json={"title": "changed"}).status_code == 200
    r = api.get(task["id"], headers={"If-None-Match": old})
    assert r.status_code == 200
    assert r.json()["title"] == "changed"
    assert etag_of(r) != old


def test_if_none_match_on_a_missing_task_is_404(api):
    r = api.get(9_000_000_000, headers={"If-None-Match": "*"})
    assert_detail(r, 404, "Task not found")


# --------------------------------------------------------------------------
# If-Match


def stale_tag(api, t):
    """An ETag the task had before its latest change."""
    old = etag_of(api.get(t["id"]))
    assert api.patch(t["id"], json={"description": "moved on"}).status_code == 200
    return old


WRITES = [
    ("PUT", "", {"title": "lost update"}),
    ("PATCH", "", {"title": "lost update"}),
    ("DELETE", "", None),
    ("PATCH", "/complete", None),
    ("PATCH", "/complete", {"completed": True}),
]
WRITE_IDS = ["put", "patch", "delete", "toggle", "complete"]


@pytest.mark.parametrize("method, suffix, body", WRITES, ids=WRITE_IDS)
def test_stale_if_match_is_412_and_changes_nothing(api, user, db, method, suffix, body):
    t = api.create("x", due_date=DUE, recurrence="daily")
    old = stale_tag(api, t)
    current = api.fetch(t["id"])
    with db.unchanged(user):
        r = api.request(method, f"{t['id']}{suffix}", json=body, headers={"If-Match": old})
    assert_detail(r, 412, "Precondition Failed")
    assert api.fetch(t["id"]) == current
    assert len(api.list().json()) == 1             # no next occurrence either


@pytest.mark.parametrize("method, suffix, body", WRITES, ids=WRITE_IDS)
def test_current_if_match_succeeds(api, method, suffix, body):
    t = api.create("x")
    tag = etag_of(api.get(t["id"]))
    r = api.request(method, f"{t['id']}{suffix}", json=body, headers={"If-Match": tag})
    if method == "DELETE":
        assert r.status_code == 204, r.text
        assert_detail(api.get(t["id"]), 404, "Task not found")
    else:
        assert r.status_code == 200, r.text
        assert etag_of(r) != tag
        assert r.json() == api.fetch(t["id"])


def test_if_match_star_and_lists(api):
    t = api.create("x")
    r = api.patch(t["id"], json={"title": "y"}, headers={"If-Match": "*"})
    assert r.status_code == 200, r.text
    tag = etag_of(r)
    r = api.patch(t["id"], json={"title": "z"}, headers={"If-Match": f'"nope", {tag}'})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "z"


def test_weak_if_match_never_matches(api, user, db):
    t = api.create("x")
    tag = etag_of(api.get(t["id"]))
    with db.unchanged(user):
        r = api.put(t["id"], json={"title": "y"}, headers={"If-Match": f"W/{tag}"})
    assert_detail(r, 412, "Precondition Failed")


def test_two_clients_racing_with_the_same_tag_only_one_wins(api):
    t = api.create("shared")
    tag = etag_of(api.get(t["id"]))
    first = api.put(t["id"], json={"title": "first"}, headers={"If-Match": tag})
    second = api.put(t["id"], json={"title": "second"}, headers={"If-Match": tag})
    assert first.status_code == 200, first.text
    assert second.status_code == 412, second.text
    assert api.fetch(t["id"])["title"] == "first"


def test_empty_update_with_current_if_match_keeps_the_tag(api):
    t = api.create("x")
    tag = etag_of(api.get(t["id"]))
    r = api.patch(t["id"], json={}, headers={"If-Match": tag})
    assert r.status_code == 200, r.text
    assert etag_of(r) == tag
