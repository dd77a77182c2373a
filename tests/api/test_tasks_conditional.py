"""ETags on single tasks, cached reads (If-None-Match) and lost-update
protection (If-Match)."""

import re
import threading

import pytest
import requests

from helpers import assert_detail, url

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
    assert "Content-Length" not in r.headers, r.headers


def test_204_carries_no_content_length(api, task):
    # RFC 9110 8.6: a 204 must not, a 304 need not, and a client may choke.
    r = api.delete(task["id"])
    assert r.status_code == 204 and r.content == b""
    assert "Content-Length" not in r.headers, r.headers


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


def version_of(tag):
    """The version an ETag "<id>.<version>" names."""
    return int(tag.strip('"').rsplit(".", 1)[1])


@pytest.mark.parametrize("method, suffix, body", WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize("form", ["other task", "leading zero", "plus sign",
                                  "unquoted", "too large", "next version"])
def test_if_match_naming_another_version_is_412(api, user, db, method, suffix, body, form):
    # Only a tag exactly equal to the task's ETag matches: not another task's
    # tag with the same version, not the same number written differently.
    # (A plain task: test_stale_if_match_is_412_and_changes_nothing has a
    # recurring one.)
    other = api.create("other")
    t = api.create("x", due_date=DUE)
    tag = etag_of(api.get(t["id"]))
    assert etag_of(api.get(other["id"])) == f'"{other["id"]}.{version_of(tag)}"'
    value = {
        "other task": f'"{other["id"]}.{version_of(tag)}"',
        "leading zero": f'"{t["id"]}.0{version_of(tag)}"',
        "plus sign": f'"{t["id"]}.+{version_of(tag)}"',
        "unquoted": tag.strip('"'),
        "too large": f'"{t["id"]}.{2**64 + version_of(tag)}"',
        "next version": f'"{t["id"]}.{version_of(tag) + 1}"',
    }[form]
    with db.unchanged(user):
        r = api.request(method, f"{t['id']}{suffix}", json=body, headers={"If-Match": value})
    assert_detail(r, 412, "Precondition Failed")


@pytest.mark.parametrize("body", [{}, {"title": "x"}, {"recurrence": "weekly"},
                                  {"due_date": None}, {"title": None}],
                         ids=["no-op", "same title", "recurrence", "clear due", "bad title"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_stale_if_match_is_412_before_anything_else_is_judged(api, user, db, method, body):
    # A body that would change nothing, or break the recurrence rule, still
    # gets 412 under a stale tag; only a body that is invalid on its own is 422.
    t = api.create("x", due_date=DUE, recurrence="daily")
    old = stale_tag(api, t)
    with db.unchanged(user):
        r = api.request(method, t["id"], json=body, headers={"If-Match": old})
    if body == {"title": None}:
        assert r.status_code == 422, r.text
    else:
        assert_detail(r, 412, "Precondition Failed")


def test_no_op_update_under_current_if_match_keeps_the_tag(api, user, db):
    t = api.create("x", tags=["a"])
    tag = etag_of(api.get(t["id"]))
    with db.unchanged(user):
        r = api.put(t["id"], json={"title": " x ", "tags": ["a", "a"]},
                    headers={"If-Match": tag})
    assert r.status_code == 200, r.text
    assert etag_of(r) == tag
    assert r.json() == t


@pytest.mark.parametrize("method, suffix, body", WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize("value", ["*", '"1.1"'], ids=["star", "tag"])
def test_if_match_on_a_missing_task_is_404(api, method, suffix, body, value):
    t = api.create("x")
    assert api.delete(t["id"]).status_code == 204
    r = api.request(method, f"{t['id']}{suffix}", json=body, headers={"If-Match": value})
    assert_detail(r, 404, "Task not found")


def test_delete_with_if_match_star_or_a_list_holding_the_tag(api):
    a, b = api.create("a"), api.create("b")
    r = api.delete(a["id"], headers={"If-Match": "*"})
    assert r.status_code == 204, r.text
    tag = etag_of(api.get(b["id"]))
    r = api.delete(b["id"], headers={"If-Match": f'"nope", W/{tag}, {tag}'})
    assert r.status_code == 204, r.text
    assert api.list().json() == []


# --------------------------------------------------------------------------
# Concurrent writers


def race(n, work):
    """Runs work(i) in n threads at once, each on its own connection; returns
    the responses in the order of i."""
    results = [None] * n
    start = threading.Barrier(n)

    def run(i):
        with requests.Session() as s:
            s.trust_env = False
            start.wait()
            results[i] = work(s, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def test_concurrent_updates_lose_none(api, user, db):
    # 8 writers, 3 changing updates each and one that changes nothing: every
    # change gets its own version, and the task ends at 1 + the changes.
    t = api.create("shared")
    auth = {"Authorization": f"Bearer {api.token}"}
    target = url(api.path(t["id"]))

    def work(s, i):
        out = []
        for k in range(3):
            out.append(s.put(target, json={"title": f"writer {i} edit {k}"},
                             headers=auth, timeout=30))
        out.append(s.patch(target, json={}, headers=auth, timeout=30))
        return out

    results = [r for rs in race(8, work) for r in rs]
    assert all(r.status_code == 200 for r in results), [r.status_code for r in results]
    changed = [version_of(etag_of(r)) for r in results
               if r.request.method == "PUT"]
    assert sorted(changed) == list(range(2, 2 + 24))      # no two writes share a version
    final = api.get(t["id"])
    assert version_of(etag_of(final)) == 1 + 24
    assert final.json()["title"] in {f"writer {i} edit 2" for i in range(8)}
    if db.available():
        assert db.scalar("SELECT version FROM tasks WHERE user_id = :'u' AND id = :'id'",
                         u=user, id=t["id"]) == "25"


def test_concurrent_updates_with_the_same_tag_only_one_wins(api, user, db):
    t = api.create("shared")
    tag = etag_of(api.get(t["id"]))
    auth = {"Authorization": f"Bearer {api.token}", "If-Match": tag}
    target = url(api.path(t["id"]))

    results = race(8, lambda s, i: s.patch(target, json={"title": f"writer {i}"},
                                           headers=auth, timeout=30))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [412] * 7, codes
    winner = next(r for r in results if r.status_code == 200)
    assert api.fetch(t["id"]) == winner.json()
    assert version_of(etag_of(api.get(t["id"]))) == version_of(tag) + 1
