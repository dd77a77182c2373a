"""Retrying a create safely (API.md, "Retrying safely"): POST /api/{user}/tasks
with an Idempotency-Key.  The first request's answer is stored with its task;
a repeat by the same user with the same key within 24 hours gets that answer
again (with Idempotent-Replayed: true) and creates nothing; the same key with
another body is 422, and while the first is still being answered, 409.

The slow first request is made deterministic by holding, from psql, the row
lock of the user that every new task of that user waits for (its foreign
key), and by watching pg_stat_activity until the worker waits on it."""

import json
import secrets
import string
import threading
import time

import pytest

from helpers import (
    DB, RowLock, assert_detail, assert_validation, mint, new_user_id, request,
)

KEY = "Idempotency-Key"


def new_key():
    return "k-" + secrets.token_urlsafe(16)


def keyed(api, key, body, **kw):
    """A keyed create with exactly these body bytes."""
    return api.post(data=body if isinstance(body, bytes) else json.dumps(body).encode(),
                    headers={KEY: key, "Content-Type": "application/json"}, **kw)


def stored_keys(user):
    return int(DB.scalar("SELECT count(*) FROM idempotency_keys WHERE user_id = :'u'",
                         u=user))


def wait_for_a_blocked_create(timeout=10):
    """The pid of the worker's backend once it waits for a lock; fails after
    timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = DB.scalar("SELECT pid FROM pg_stat_activity WHERE usename = 'todo_app'"
                        " AND wait_event_type = 'Lock' AND query ~* 'insert into tasks'"
                        " LIMIT 1")
        if pid:
            return int(pid)
        time.sleep(0.05)
    pytest.fail("no create waited for the user's row lock")


class Background:
    """One request run in a thread; result() waits for its response."""

    def __init__(self, fn):
        self.response = self.error = None
        self.thread = threading.Thread(target=self.run, args=(fn,))
        self.thread.start()

    def run(self, fn):
        try:
            self.response = fn()
        except Exception as e:      # noqa: BLE001  (reported by result())
            self.error = e

    def result(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the request did not end"
        if self.error is not None:
            raise self.error
        return self.response


# --------------------------------------------------------------------------
# The rules


def test_a_repeat_gets_the_first_answer_again_and_creates_nothing(api, user):
    key, body = new_key(), {"title": "Pay rent", "tags": ["home"]}
    first = keyed(api, key, body)
    assert first.status_code == 201, first.text
    assert first.headers.get("Location") == f"{api.tasks}/{first.json()['id']}"
    assert "Idempotent-Replayed" not in first.headers
    # The task changes after the first answer; the stored answer does not.
    assert api.put(first.json()["id"], json={"title": "Paid"}).status_code == 200
    for _ in range(2):
        again = keyed(api, key, body)
        assert again.status_code == 201, again.text
        assert again.content == first.content
        assert again.headers.get("Location") == first.headers["Location"]
        assert again.headers.get("ETag") == first.headers["ETag"]
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert DB.count(user) == 1
    assert [t["title"] for t in api.list().json()] == ["Paid"]


def test_the_same_key_with_another_body_is_422_and_creates_nothing(api, user):
    key, body = new_key(), {"title": "Buy milk"}
    assert keyed(api, key, body).status_code == 201
    for other in ({"title": "Buy oat milk"},
                  b'{"title":  "Buy milk"}'):     # the same JSON, other bytes
        r = keyed(api, key, other)
        items = assert_validation(r, ["header", KEY], "value_error")
        assert [it["input"] for it in items] == [key]
    assert DB.count(user) == 1
    # The first body still gets its answer.
    assert keyed(api, key, body).headers.get("Idempotent-Replayed") == "true"


def test_a_repeat_while_the_first_is_still_answered_is_409(api, user):
    api.create("the user's row exists")
    key, body = new_key(), {"title": "Slow"}
    lock = RowLock(user=user)
    try:
        first = Background(lambda: keyed(api, key, body))
        wait_for_a_blocked_create()
        r = keyed(api, key, body, timeout=10)
        assert_detail(r, 409, "A request with this Idempotency-Key is still being answered")
        assert DB.count(user) == 1
    finally:
        lock.release(commit=False)
    first = first.result()
    assert first.status_code == 201, first.text
    again = keyed(api, key, body)
    assert again.status_code == 201 and again.content == first.content
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert DB.count(user) == 2


def test_keys_of_different_users_never_meet(make_client):
    alice, bob = make_client(), make_client()
    key, body = new_key(), {"title": "Same key, same body"}
    a = keyed(alice, key, body)
    b = keyed(bob, key, body)
    assert (a.status_code, b.status_code) == (201, 201), (a.text, b.text)
    assert "Idempotent-Replayed" not in b.headers
    assert b.json()["user_id"] == bob.user and b.json()["id"] != a.json()["id"]
    # An admin acting on alice's path uses its own keys, not alice's.
    admin = make_client(alice.user, mint(new_user_id(), role="admin"))
    c = keyed(admin, key, body)
    assert c.status_code == 201 and "Idempotent-Replayed" not in c.headers, c.text
    assert (DB.count(alice.user), DB.count(bob.user)) == (2, 1)
    assert keyed(bob, key, body).headers.get("Idempotent-Replayed") == "true"


def test_a_key_is_kept_for_24_hours_then_creates_anew(api, user):
    key, body = new_key(), {"title": "Water plants"}
    first = keyed(api, key, body)
    assert first.status_code == 201

    def age(hours):
        DB.scalar("UPDATE idempotency_keys SET created_at = now() - make_interval(hours => :h)"
                  " WHERE user_id = :'u'", u=user, h=hours)

    age(23)
    r = keyed(api, key, body)
    assert r.headers.get("Idempotent-Replayed") == "true" and r.content == first.content
    age(25)
    r = keyed(api, key, {"title": "Another body: the old answer is gone"})
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.text
    assert DB.count(user) == 2 and stored_keys(user) == 1
    r = keyed(api, key, {"title": "Another body: the old answer is gone"})
    assert r.headers.get("Idempotent-Replayed") == "true"


@pytest.mark.parametrize("key, type_", [
    ("", "string_too_short"),
    ("k" * 256, "string_too_long"),
    ("two words", "string_pattern_mismatch"),
    ("tab\there", "string_pattern_mismatch"),
    ("del\x7f", "string_pattern_mismatch"),
    ("ключ".encode(), "string_pattern_mismatch"),
])
def test_a_malformed_key_is_422_and_changes_nothing(api, user, key, type_):
    r = keyed(api, key, {"title": "never"})
    assert_validation(r, ["header", KEY], type_)
    # With a bad body as well, both errors come back, the header's first.
    r = keyed(api, key, {"title": ""})
    assert [it["loc"] for it in assert_validation(r, ["header", KEY], type_)] == \
        [["header", KEY], ["body", "title"]]
    assert DB.count(user) == 0
    assert DB.scalar("SELECT count(*) FROM users WHERE id = :'u'", u=user) == "0"


def test_keys_of_1_to_255_visible_characters_are_accepted(api, user):
    visible = "".join(chr(c) for c in range(0x21, 0x7f))
    for key in ("x", (visible * 3)[:255]):
        first = keyed(api, key, {"title": "ok"})
        assert first.status_code == 201, first.text
        assert keyed(api, key, {"title": "ok"}).headers.get("Idempotent-Replayed") == "true"
    assert DB.count(user) == 2
    assert set(string.punctuation) <= set(visible)


# --------------------------------------------------------------------------
# Which answers are kept


def test_an_answer_that_failed_is_not_kept_so_the_retry_runs_again(api, user):
    # A 503: the database connection is lost while the first attempt waits.
    api.create("the user's row exists")
    key, body = new_key(), {"title": "Lost on the way"}
    lock = RowLock(user=user)
    try:
        first = Background(lambda: keyed(api, key, body))
        pid = wait_for_a_blocked_create()
        DB.scalar("SELECT pg_terminate_backend(:pid)", pid=pid)
        assert first.result().status_code == 503, first.result().text
    finally:
        lock.release(commit=False)
    assert DB.count(user) == 1
    r = keyed(api, key, body)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.text
    again = keyed(api, key, body)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.content == r.content
    assert DB.count(user) == 2 and stored_keys(user) == 1


def test_a_rejected_request_is_not_kept_so_a_corrected_one_may_use_its_key(api, user):
    key = new_key()
    r = keyed(api, key, {"title": ""})
    assert_validation(r, ["body", "title"])
    r = keyed(api, key, {"title": "x", "timezone": "Mars/Olympus_Mons"})
    assert_validation(r, ["body", "timezone"])      # refused by the database
    r = keyed(api, key, {"title": "Corrected"})
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.text
    assert keyed(api, key, {"title": "Corrected"}).headers.get("Idempotent-Replayed") == "true"
    assert DB.count(user) == 1 and stored_keys(user) == 1


def test_a_revoked_token_is_401_and_leaves_the_key_unused(make_client):
    body = {"email": f"idem-{secrets.token_hex(6)}@example.test",
            "password": "correct horse battery"}
    reg = request("POST", "/api/auth/register", json=body)
    assert reg.status_code == 201, reg.text
    user = reg.json()["user_id"]
    gone = make_client(user, reg.json()["access_token"])
    assert request("POST", "/api/auth/logout", token=gone.token).status_code == 204
    key = new_key()
    assert_detail(keyed(gone, key, {"title": "t"}), 401, "Invalid token")
    fresh = make_client(user, request("POST", "/api/auth/login", json=body).json()["token"])
    r = keyed(fresh, key, {"title": "t"})
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.text
    assert keyed(fresh, key, {"title": "t"}).headers.get("Idempotent-Replayed") == "true"
    assert DB.count(user) == 1


# --------------------------------------------------------------------------
# Where the header means nothing


def test_without_the_header_every_post_creates(api, user):
    a = api.post(json={"title": "twice"})
    b = api.post(json={"title": "twice"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in a.headers and "Idempotent-Replayed" not in b.headers
    assert DB.count(user) == 2 and stored_keys(user) == 0


def test_the_account_posts_ignore_the_header():
    # Their answers carry fresh tokens, which are never stored in clear; a
    # repeated register is a 409, a repeated login a new session.
    email = f"idem-{secrets.token_hex(6)}@example.test"
    body = {"email": email, "password": "correct horse battery"}
    h = {KEY: ""}                    # not even checked
    r = request("POST", "/api/auth/register", json=body, headers=h)
    assert r.status_code == 201, r.text
    r = request("POST", "/api/auth/register", json=body, headers=h)
    assert_detail(r, 409, "Email already registered")
    assert "Idempotent-Replayed" not in r.headers
    h = {KEY: new_key()}
    a = request("POST", "/api/auth/login", json=body, headers=h)
    b = request("POST", "/api/auth/login", json=body, headers=h)
    assert (a.status_code, b.status_code) == (200, 200), b.text
    assert a.json()["refresh_token"] != b.json()["refresh_token"]
    assert "Idempotent-Replayed" not in b.headers


def test_the_document_shows_the_header_where_it_is_honoured():
    doc = request("GET", "/api/openapi.json").json()
    honoured = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            names = {doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
                     if "$ref" in p else p["name"] for p in op.get("parameters", [])}
            if KEY in names:
                honoured.append((method, path))
    assert honoured == [("post", "/api/{user_id}/tasks")]
    create = doc["paths"]["/api/{user_id}/tasks"]["post"]["responses"]
    assert "Idempotent-Replayed" in create["201"]["headers"]
    assert "409" in create
