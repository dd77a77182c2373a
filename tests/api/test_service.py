"""The service around the tasks: health, readiness, request ids, unknown routes
and methods, and error bodies that never leak internals."""

import contextlib
import json
import os
import re
import secrets
import subprocess
import time

import pytest
import requests

from helpers import (
    REQUEST_ID_RE, Client, assert_detail, header_tokens, json_body, mint, raw_request,
    report, request,
)


def test_health():
    r = request("GET", "/api/health")
    assert r.status_code == 200
    assert json_body(r) == {"status": "ok"}


def test_ready():
    r = request("GET", "/api/ready")
    assert r.status_code == 200
    assert json_body(r) == {"status": "ok", "database": "ok"}


# --------------------------------------------------------------------------
# Request ids


def test_valid_request_id_is_echoed():
    r = request("GET", "/api/health", headers={"X-Request-ID": "abc-123.x:y_z"})
    assert r.headers.get("X-Request-ID") == "abc-123.x:y_z"


def test_request_id_of_128_characters_is_echoed():
    rid = "A1._:-" * 21 + "xy"
    assert len(rid) == 128
    r = request("GET", "/api/health", headers={"X-Request-ID": rid})
    assert r.headers.get("X-Request-ID") == rid


@pytest.mark.parametrize("rid", ["a" * 129, "abc 123", "abc/123", "abc;rm", "é", "a,b"],
                         ids=["129", "space", "slash", "semicolon", "non-ascii", "comma"])
def test_invalid_request_id_is_replaced(rid):
    r = request("GET", "/api/health", headers={"X-Request-ID": rid.encode("utf-8")})
    got = r.headers.get("X-Request-ID")
    assert got and got != rid
    assert REQUEST_ID_RE.match(got), got


def test_a_request_id_is_generated_when_none_is_sent():
    a = request("GET", "/api/health").headers.get("X-Request-ID")
    b = request("GET", "/api/health").headers.get("X-Request-ID")
    assert a and REQUEST_ID_RE.match(a), a
    assert b and a != b


def responses_of_every_kind(api, rid):
    """One response per status a client can meet, all sent with request id `rid`."""
    h = {"X-Request-ID": rid}
    t = api.create("for ids")
    tag = api.get(t["id"]).headers["ETag"]
    return {
        200: api.get(t["id"], headers=h),
        201: api.post(json={"title": "x"}, headers=h),
        204: api.delete(api.create("gone")["id"], headers=h),
        304: api.get(t["id"], headers={**h, "If-None-Match": tag}),
        400: api.post(data=b"{", headers={**h, "Content-Type": "application/json"}),
        401: request("GET", api.tasks, headers=h),
        403: request("GET", "/api/someone-else/tasks", token=api.token, headers=h),
        404: request("GET", "/api/no/such/route", token=api.token, headers=h),
        405: api.delete("", headers=h),
        412: api.put(t["id"], json={"title": "y"}, headers={**h, "If-Match": '"stale"'}),
        413: api.post(data=b'{"title": "' + b"x" * 70000 + b'"}',
                      headers={**h, "Content-Type": "application/json"}),
        415: api.post(data=b'{"title": "x"}', headers={**h, "Content-Type": "text/plain"}),
        422: api.get("abc", headers=h),
    }


def test_request_id_is_on_every_response(api):
    rid = "trace-" + api.user
    for status, r in responses_of_every_kind(api, rid).items():
        assert r.status_code == status, (status, r.status_code, r.text)
        assert r.headers.get("X-Request-ID") == rid, (status, r.headers)


def test_generated_request_id_is_on_error_responses(api):
    for r in (request("GET", "/api/nope"), request("GET", api.tasks),
              api.delete(""), api.post(data=b"x" * 70000,
                                       headers={"Content-Type": "application/json"})):
        rid = r.headers.get("X-Request-ID")
        assert rid and REQUEST_ID_RE.match(rid), (r.status_code, r.headers)


# --------------------------------------------------------------------------
# Unknown routes and methods


@pytest.mark.parametrize("path", ["/api/nope", "/api/", "/api/healthz",
                                  "/api/{u}", "/api/{u}/task", "/api/{u}/tasks/1/nope",
                                  "/api/{u}/tasks/1/complete/extra"])
def test_unknown_route_is_404(api, path):
    r = request("GET", path.replace("{u}", api.user), token=api.token)
    assert_detail(r, 404, "Not Found")


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/{u}/tasks", {"GET", "POST"}),
    ("PUT", "/api/{u}/tasks", {"GET", "POST"}),
    ("POST", "/api/{u}/tasks/1", {"GET", "PUT", "PATCH", "DELETE"}),
    ("GET", "/api/{u}/tasks/1/complete", {"PATCH"}),
    ("POST", "/api/{u}/tasks/1/complete", {"PATCH"}),
    ("POST", "/api/health", {"GET"}),
    ("DELETE", "/api/ready", {"GET"}),
])
def test_wrong_method_is_405_with_allow(api, method, path, allowed):
    r = request(method, path.replace("{u}", api.user), token=api.token)
    assert_detail(r, 405, "Method Not Allowed")
    got = {m.upper() for m in header_tokens(r.headers.get("Allow"))}
    assert allowed <= got, r.headers.get("Allow")
    assert got <= {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


ROUTE_PATHS = ["/api/health", "/api/ready", "/api/status", "/api/metrics", "/api/auth/me",
               "/api/auth/register", "/api/auth/login", "/api/auth/token",
               "/api/auth/refresh", "/api/auth/logout", "/api/{u}/tasks", "/api/{u}/tasks/",
               "/api/{u}/tasks?limit=1", "/api/{u}/tasks/1", "/api/{u}/tasks/1/complete",
               "/api/nope", "/api/{u}/tasks/1/nope"]


def raw(method, path):
    status, headers, body = raw_request(method, path)
    return status, headers, json.loads(body)


@pytest.mark.parametrize("method", ["TRACE", "CONNECT"])
@pytest.mark.parametrize("path", ROUTE_PATHS)
def test_methods_nginx_refuses_itself_answer_as_the_workers_do(api, method, path):
    # nginx refuses TRACE and CONNECT before any worker sees them; its answer
    # must be the one a worker gives a method it does not allow (FOO): the
    # same status, Allow and JSON body. This also keeps nginx's table of
    # methods (todo-http.conf) in step with cgi/routes.c.
    path = path.replace("{u}", api.user)
    want_status, want_headers, want_body = raw("FOO", path)
    status, headers, body = raw(method, path)
    assert (status, headers.get("Allow"), body) == \
        (want_status, want_headers.get("Allow"), want_body)
    assert headers.get("Content-Type") == "application/json"
    assert status in (404, 405) and REQUEST_ID_RE.match(headers.get("X-Request-ID", ""))


def test_wrong_method_changes_nothing(api, db):
    api.create("keep")
    with db.unchanged(api.user):
        r = api.delete("")
    assert r.status_code == 405


# --------------------------------------------------------------------------
# Nothing internal leaks


FORBIDDEN = ["select ", "insert into", "postgres", "sqlstate", "syntax error", "/work",
             "/usr/", "/tmp/", "traceback", "addresssanitizer", "segmentation",
             " at 0x", ".c:", "libpq", "json-c", "<html"]


def test_error_bodies_never_leak_internals(api):
    secretive = Client()
    secretive.create("their secret plan", description="nobody else may read this")
    rid = "leak-check"
    rs = list(responses_of_every_kind(api, rid).values())
    rs += [
        api.get("", params={"q": "'; drop table tasks; --"}),
        api.get("", params={"q": "\\' OR 1=1 --", "sort": "title; drop"}),
        api.get("", params={"limit": "1; drop", "offset": "' OR '1'='1"}),
        api.get("", params={"due_before": "2026-99-99"}),
        api.get("", params={"tag": "x" * 300}),
        api.post(json={"title": "x", "due_date": "0000-00-00T00:00:00Z"}),
        api.post(json={"title": "x", "due_date": "99999-01-01T00:00:00Z"}),
        api.post(json={"title": "x", "tags": ["a"] * 5000}),
        api.post(json={"title": "\ud83d"}),                  # lone surrogate escape
        api.post(data=b'{"title": "\\ud800\\udc00\\u0000"}',
                 headers={"Content-Type": "application/json"}),
        api.post(data=b'{"title": 1e999}', headers={"Content-Type": "application/json"}),
        api.post(data=b'{"title": "x", "priority": "' + b"\xff" * 10 + b'"}',
                 headers={"Content-Type": "application/json"}),
        api.get("9" * 400),
        api.get("..%2f..%2fetc%2fpasswd"),
        request("GET", "/api/" + "x" * 300 + "/tasks", token=mint("x" * 300)),
        request("GET", api.tasks, token=mint(api.user, key="y" * 50)),
        request("GET", api.tasks, headers={"Authorization": "Bearer " + "a" * 6000}),
    ]
    for r in rs:
        assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text)
        text = r.content.decode("utf-8", "replace")
        low = text.lower()
        for word in FORBIDDEN:
            assert word not in low, (word, r.status_code, text[:500])
        assert "their secret plan" not in text and "nobody else may read" not in text
        if r.content:
            json.loads(text)


def test_the_access_log_names_the_method_the_client_sent():
    # A POST to a static path gets nginx's own 405 through an internal
    # redirect, after which $request_method reads GET.
    state = os.environ.get("TODO_STATE_DIR")
    if not state:
        pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
    rid = "log-method-" + secrets.token_hex(6)
    r = request("POST", "/index.html", data=b"{}", headers={"X-Request-ID": rid})
    assert_detail(r, 405, "Method Not Allowed")
    lines, deadline = [], time.time() + 5       # nginx flushes its log each second
    while not lines and time.time() < deadline:
        with open(os.path.join(state, "log", "nginx-access.log"), encoding="utf-8") as f:
            lines = [json.loads(l) for l in f if rid in l]
        time.sleep(0.1)
    assert [(l["method"], l["status"]) for l in lines] == [("POST", 405)], lines


# --------------------------------------------------------------------------
# The per-token and sign-in rate limits (nginx, zones todo_token and
# todo_auth).  The test stack allows so many requests that the suite never
# meets them; these tests run a second nginx from the stack's own generated
# config (the shipped deploy/nginx/*.conf included) with 5 requests/s per
# token and 1 sign-in request/s per address, in front of the same workers.


def edited(text, edits, name):
    for pattern, repl in edits:
        text, n = re.subn(pattern, repl, text)
        assert n == 1, f"{name} has {pattern}"
    return text


@contextlib.contextmanager
def second_nginx(d, *edits, api_edits=()):
    """A second nginx from the stack's own generated nginx.conf (the shipped
    deploy/nginx/*.conf included) on a port of its own, its files in d, with
    each (pattern, replacement) of edits applied once, and of api_edits to a
    copy of deploy/nginx/todo-api.conf; yields its URL."""
    from test_modes import free_port
    state = os.environ.get("TODO_STATE_DIR")
    if not state:
        pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
    port = free_port()
    conf = edited(open(os.path.join(state, "nginx.conf")).read(), edits, "the stack's nginx.conf")
    if api_edits:
        api = re.search(r"include (\S+/todo-api\.conf);", conf).group(1)
        (d / "todo-api.conf").write_text(edited(open(api).read(), api_edits, "todo-api.conf"))
        conf = conf.replace(api, str(d / "todo-api.conf"))
    conf = re.sub(r"listen 127\.0\.0\.1:\d+", f"listen 127.0.0.1:{port}", conf)
    conf = re.sub(r"^pid .*;$", f"pid {d}/nginx.pid;", conf, flags=re.M)
    conf = re.sub(r"^error_log .*;$", f"error_log {d}/error.log warn;", conf, flags=re.M)
    conf = re.sub(r"access_log \S+", f"access_log {d}/access.log", conf)
    (d / "nginx.conf").write_text(conf)
    nginx = ["nginx", "-p", f"{d}/", "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"]
    subprocess.run(nginx, check=True)
    try:
        deadline = time.time() + 10
        while not (d / "nginx.pid").exists():
            assert time.time() < deadline, "the second nginx started"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run(nginx + ["-s", "stop"], check=False)


@pytest.fixture(scope="module")
def slow_nginx(tmp_path_factory):
    with second_nginx(tmp_path_factory.mktemp("slow-nginx"),
                      (r"(zone=todo_token:\S+ rate=)\d+r/s", r"\g<1>5r/s"),
                      (r"(zone=todo_auth:\S+ rate=)\d+r/s", r"\g<1>1r/s")) as url:
        yield url


def test_one_token_past_its_rate_gets_429_and_changes_nothing_while_others_are_served(
        slow_nginx):
    import concurrent.futures

    from helpers import DB, new_user_id

    user = new_user_id()
    headers = {"Authorization": "Bearer " + mint(user, exp=600)}

    def create(i):
        r = requests.post(f"{slow_nginx}/api/{user}/tasks", json={"title": f"flood {i}"},
                          headers=headers)
        return r.status_code, r.headers.get("Retry-After"), r.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(300)))
    other = new_user_id()
    r = requests.get(f"{slow_nginx}/api/{other}/tasks",
                     headers={"Authorization": "Bearer " + mint(other)})
    assert r.status_code == 200, "another token is still served"
    limited = [a for a in answers if a[0] == 429]
    created = [a for a in answers if a[0] == 201]
    # Bursts of 100 pass at once, then 5 a second.
    assert 100 <= len(created) < 200 and len(limited) == 300 - len(created), \
        sorted({a[0] for a in answers})
    assert all(retry == "1" and json.loads(body) == {"detail": "Too many requests"}
               for _, retry, body in limited)
    assert len(DB.snapshot(user)) == len(created), "a limited request created nothing"


def test_sign_in_outside_api_is_rate_limited_as_inside(slow_nginx):
    import concurrent.futures

    def sign_in(i):
        r = requests.post(f"{slow_nginx}/auth/signin",
                          json={"email": f"nobody{i}-{secrets.token_hex(4)}@example.test",
                                "password": "wrong-password"})
        return r.status_code, r.headers.get("Retry-After"), r.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(sign_in, range(40)))
    limited = [a for a in answers if a[0] == 429]
    # Bursts of 20 pass at once, then 1 a second.
    assert 18 <= len(limited) <= 20 and len(answers) - len(limited) <= 22, \
        sorted(a[0] for a in answers)
    assert all(retry == "1" and json.loads(body) == {"detail": "Too many requests"}
               for _, retry, body in limited)


# --------------------------------------------------------------------------
# Overload: every worker busy and the queue full.


@contextlib.contextmanager
def one_held_worker(tmp_path, backlog, **nginx_edits):
    """A pool of one worker with a queue (--backlog) of backlog behind a
    second nginx, and a task whose row is locked, so that a PUT to it holds
    the worker until release(); yields (url, user, put, release), put(i)
    sending that PUT with title "put i" and returning timed()'s answer."""
    import pathlib
    import shutil
    import tempfile

    from helpers import RowLock, new_user_id
    from test_modes import BIN, base_env

    # Where nginx's workers (www-data, when the tests run as root) may connect.
    public = pathlib.Path(tempfile.mkdtemp(prefix="todo-overload-"))
    public.chmod(0o711)
    sock = public / "pool.sock"
    log = open(tmp_path / "pool.log", "wb")
    pool = subprocess.Popen([BIN, "--workers", "1", "--backlog", str(backlog), "--listen", str(sock)],
                            env=base_env(), stdout=log, stderr=log)
    try:
        deadline = time.time() + 20
        while not sock.exists():
            assert pool.poll() is None and time.time() < deadline, "the pool started"
            time.sleep(0.05)
        sock.chmod(0o666)
        with second_nginx(tmp_path, (r"server unix:[^;]+;", f"server unix:{sock};"),
                          **nginx_edits) as url:
            user = new_user_id()
            h = {"Authorization": "Bearer " + mint(user)}
            task = requests.post(f"{url}/api/{user}/tasks", json={"title": "held"}, headers=h)
            assert task.status_code == 201, task.text
            lock = RowLock(task.json()["id"])

            def put(i):
                return timed("PUT", f"{url}/api/{user}/tasks/{task.json()['id']}",
                             json={"title": f"put {i}"}, headers=h)
            try:
                yield url, user, put, lock.release
            finally:
                lock.release()
    finally:
        pool.terminate()
        pool.wait(timeout=20)
        log.close()
        shutil.rmtree(public, ignore_errors=True)


def timed(method, url, **kw):
    """(status, Retry-After, seconds), or the exception's name: never raises."""
    try:
        r = requests.request(method, url, timeout=30, **kw)
        return r.status_code, r.headers.get("Retry-After"), r.elapsed.total_seconds()
    except requests.RequestException as e:
        return type(e).__name__, None, None


def test_a_full_queue_is_answered_503_at_once_never_a_reset(tmp_path):
    # One worker, held by a request waiting on a row lock, and a queue
    # (--backlog) of one: nginx's connect fails at once past that, and each
    # extra client gets 503 with Retry-After; the queued ones are served once
    # the worker is free.
    import concurrent.futures

    from helpers import DB

    with one_held_worker(tmp_path, 1) as (url, user, put, release):
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            first = ex.submit(put, 0)               # takes the worker
            time.sleep(0.5)
            rest = [ex.submit(put, i) for i in range(1, 8)]
            time.sleep(1)
            refused = [f.result() for f in rest if f.done()]
            release()
            answers = [first.result()] + [f.result() for f in rest]
    statuses = sorted(str(a[0]) for a in answers)
    report(f"full queue: answers {statuses}")
    assert set(statuses) <= {"200", "503"}, statuses      # no reset, no error
    assert refused and all(a[0] == 503 and a[1] == "5" and a[2] < 1 for a in refused), refused
    assert statuses.count("200") >= 2, statuses          # the one held and the queued
    assert [t["title"] for t in DB.snapshot(user)] != ["held"]


def test_health_checks_are_answered_while_a_full_pool_turns_clients_away(tmp_path):
    # nginx lets 2 API requests be in progress (limit_conn, 1,000 as
    # shipped); the queue has room for more. The worker is held: one PUT is
    # queued behind it, the others get 503 at once and change nothing, and
    # /api/health and /api/ready, not counted, wait in the queue and are
    # answered 200 once the worker is free, not refused with the clients.
    import concurrent.futures

    from helpers import DB

    cap = (r"limit_conn todo_pool \d+;", "limit_conn todo_pool 2;")
    with one_held_worker(tmp_path, 8, api_edits=[cap]) as (url, user, put, release):
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            first = ex.submit(put, 0)               # takes the worker
            time.sleep(0.5)
            queued = ex.submit(put, 1)
            time.sleep(0.5)
            refused = [ex.submit(put, i) for i in range(2, 6)]
            checks = [ex.submit(timed, "GET", f"{url}/api/{path}") for path in ("health", "ready")]
            time.sleep(1)
            waiting = [f.done() for f in checks]
            refused = [f.result() for f in refused]
            release()
            answers = [first.result(), queued.result()]
            checks = [f.result() for f in checks]
    report(f"full pool: clients {sorted(str(a[0]) for a in answers + refused)}, "
           f"health and ready {[c[0] for c in checks]}")
    assert all(a[0] == 503 and a[1] == "5" and a[2] < 1 for a in refused), refused
    assert [a[0] for a in answers] == [200, 200], answers
    assert waiting == [False, False]                 # queued behind the held worker
    assert [c[0] for c in checks] == [200, 200], checks
    assert [t["title"] for t in DB.snapshot(user)] == ["put 1"]
