"""The program's process modes, talked to directly (no nginx): plain CGI, a
worker listening on a TCP port, start-up errors, and a worker whose database
is unreachable."""

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.parse

import pytest

import fcgi_client
from helpers import DB, mint, new_user_id

BIN = os.environ.get("TODO_BIN", os.path.join(os.path.dirname(__file__), "../../build/todo-fcgi"))
SECRET = os.environ.get("TODO_JWT_SECRET", "")
DATABASE_URL = os.environ.get("TODO_DATABASE_URL", "")
# A database that cannot be reached: its socket folder does not exist.
NO_DATABASE = "postgresql:///todo?host=/nonexistent/todo-test&user=postgres&connect_timeout=2"


def base_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "DATABASE_URL": DATABASE_URL, "JWT_SECRET": SECRET,
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")}
    env.update(extra)
    return env


def run_cgi(method, path, body=b"", token=None, **extra):
    """Runs the program once as a CGI script; returns (status, headers, body)."""
    env = base_env(REQUEST_METHOD=method, PATH_INFO=path, QUERY_STRING="",
                   CONTENT_LENGTH=str(len(body)), **extra)
    if body:
        env["CONTENT_TYPE"] = "application/json"
    if token:
        env["HTTP_AUTHORIZATION"] = "Bearer " + token
    p = subprocess.run([BIN], input=body, env=env, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    return fcgi_client.parse_cgi(p.stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def worker(tmp_path):
    """worker(database_url=DATABASE_URL, **env) starts `todo-fcgi --listen
    127.0.0.1:PORT` with the stack's secret plus `env`, and returns (process,
    address); it is stopped after the test. Its log is in tmp_path."""
    procs = []

    def start(database_url=DATABASE_URL, **env):
        port = free_port()
        log_path = tmp_path / f"worker-{port}.log"
        with open(log_path, "wb") as log:
            p = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{port}"],
                                 env=base_env(DATABASE_URL=database_url, **env),
                                 stdout=subprocess.DEVNULL, stderr=log)
        procs.append(p)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return p, ("127.0.0.1", port)
            except OSError:
                if p.poll() is not None:
                    pytest.fail(f"the worker exited with {p.returncode}:\n"
                                + log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.05)
        pytest.fail("the worker did not start listening")

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)


def fcgi(address, method, path, body=b"", token=None, **params):
    return fcgi_client.request(address, fcgi_client.params(method, path, body, token, **params),
                               body)


def test_cgi_mode_answers_one_request():
    status, headers, body = run_cgi("GET", "/api/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert headers["content-type"] == "application/json"
    assert 1 <= len(headers["x-request-id"]) <= 128


def test_cgi_mode_creates_a_task_in_the_database():
    user = new_user_id()
    status, headers, body = run_cgi("POST", f"/api/{user}/tasks",
                                    json.dumps({"title": "From CGI"}).encode(),
                                    token=mint(user))
    assert status == 201, body
    task = json.loads(body)
    assert headers["location"] == f"/api/{user}/tasks/{task['id']}"
    assert [r["title"] for r in DB.snapshot(user)] == ["From CGI"]


def test_cgi_mode_routes_on_request_uri_without_path_info():
    status, _, body = run_cgi("GET", "", REQUEST_URI="/api/health?x=1")
    assert status == 200, body


def test_worker_refuses_a_body_over_64k_whatever_content_length_says(worker):
    _, addr = worker(DATABASE_URL)
    user = new_user_id()
    big = json.dumps({"title": "x", "description": "y" * 70000}).encode()
    status, headers, body = fcgi(addr, "POST", f"/api/{user}/tasks", big,
                                 token=mint(user), CONTENT_LENGTH="20")
    assert status == 413
    assert json.loads(body) == {"detail": "Request body too large"}
    assert DB.snapshot(user) == []
    # The worker is still there and serves the next request.
    status, _, _ = fcgi(addr, "GET", "/api/health")
    assert status == 200


def test_worker_echoes_the_request_id_nginx_passes(worker):
    _, addr = worker(DATABASE_URL)
    status, headers, _ = fcgi(addr, "GET", "/api/health", REQUEST_ID="trace-42.a:b_c")
    assert status == 200
    assert headers["x-request-id"] == "trace-42.a:b_c"


def test_unreachable_database_gives_503_and_the_worker_stays_up(worker):
    proc, addr = worker(NO_DATABASE)
    user = new_user_id()
    status, _, body = fcgi(addr, "GET", "/api/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, headers, body = fcgi(addr, "GET", "/api/ready")
    assert status == 503
    assert json.loads(body)["database"] == "unavailable"
    assert int(headers["retry-after"]) > 0
    for method, path, payload in (("GET", f"/api/{user}/tasks", b""),
                                  ("POST", f"/api/{user}/tasks", b'{"title": "x"}')):
        status, headers, body = fcgi(addr, method, path, payload, token=mint(user))
        assert status == 503, body
        assert json.loads(body) == {"detail": "Service unavailable"}
        assert int(headers["retry-after"]) > 0
        text = body.decode().lower()
        assert "nonexistent" not in text and "postgres" not in text
    assert proc.poll() is None


@pytest.mark.parametrize("env, names", [
    ({"DATABASE_URL": ""}, "DATABASE_URL"),
    ({"JWT_SECRET": "", "BETTER_AUTH_SECRET": ""}, "JWT_SECRET"),
    ({"JWT_SECRET": "short-secret-0123456789"}, "JWT_SECRET"),
    ({"JWT_ALGORITHMS": "none"}, "JWT_ALGORITHMS"),
    ({"JWT_LEEWAY": "soon"}, "JWT_LEEWAY"),
    ({"DB_PREPARE": "maybe"}, "DB_PREPARE"),
])
def test_bad_settings_stop_start_up_with_one_clear_line(env, names):
    p = subprocess.run([BIN, "--listen", f"127.0.0.1:{free_port()}"],
                       env=base_env(**env), capture_output=True, timeout=30)
    assert p.returncode == 2
    err = p.stderr.decode().strip()
    assert names in err and len(err.splitlines()) == 1, err
    assert SECRET not in err


def test_better_auth_secret_is_an_alias():
    user = new_user_id()
    env = {"JWT_SECRET": "", "BETTER_AUTH_SECRET": SECRET}
    status, _, body = run_cgi("GET", f"/api/{user}/tasks", token=mint(user), **env)
    assert status == 200, body


def restart_postgresql():
    """Restarts the stack's PostgreSQL (fast mode: open connections are cut).
    Its output goes on to the stack's log, which this process opens: as root,
    postgres may not enter the state folder."""
    state = os.environ.get("TODO_STATE_DIR")
    if not state:
        pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
    pgdata = os.environ.get("TODO_PGDATA") or f"{state}/pgdata"
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                            text=True).stdout.strip() or "/usr/lib/postgresql/15/bin"
    cmd = [f"{bindir}/pg_ctl", "-D", pgdata, "-m", "fast", "-w", "-s", "restart"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    with open(f"{state}/log/postgresql.log", "ab") as log:
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                       timeout=60, cwd="/")


def test_worker_reconnects_after_the_database_restarts(worker):
    proc, addr = worker(DATABASE_URL)
    user = new_user_id()
    token = mint(user)
    status, _, body = fcgi(addr, "POST", f"/api/{user}/tasks", b'{"title": "before"}',
                           token=token)
    assert status == 201, body
    restart_postgresql()
    # The worker's connection was cut: the next read reconnects and succeeds,
    # and so does the next write.
    status, headers, body = fcgi(addr, "GET", f"/api/{user}/tasks", token=token)
    assert status == 200, body
    assert [t["title"] for t in json.loads(body)] == ["before"]
    status, _, body = fcgi(addr, "POST", f"/api/{user}/tasks", b'{"title": "after"}',
                           token=token)
    assert status == 201, body
    assert proc.poll() is None


@pytest.mark.parametrize("prepare", ["on", "off"])
def test_a_write_first_after_the_server_closed_the_connection_succeeds(worker, prepare):
    # A serverless database closes idle connections; a create (which may not
    # be sent twice) must not be the request that pays for it.
    proc, addr = worker(DB_PREPARE=prepare)
    user = new_user_id()
    token = mint(user)
    status, _, body = fcgi(addr, "GET", f"/api/{user}/tasks", token=token)
    assert status == 200, body
    assert DB.scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                     " WHERE application_name = 'todo-fcgi'"
                     " AND pid <> pg_backend_pid()") not in (None, "0")
    time.sleep(0.2)
    status, _, body = fcgi(addr, "POST", f"/api/{user}/tasks", b'{"title": "first"}',
                           token=token)
    assert status == 201, body
    assert [t["title"] for t in DB.snapshot(user)] == ["first"]
    assert proc.poll() is None


def test_unprepared_statements_work_for_pgbouncer():
    # DB_PREPARE=off sends every statement with its parameters, unprepared.
    user = new_user_id()
    token = mint(user)
    body = json.dumps({"title": "no prepare", "tags": ["a"]}).encode()
    status, _, out = run_cgi("POST", f"/api/{user}/tasks", body, token=token, DB_PREPARE="off")
    assert status == 201, out
    status, headers, out = run_cgi("GET", f"/api/{user}/tasks", token=token, DB_PREPARE="off")
    assert status == 200 and headers["x-total-count"] == "1"
    assert [t["title"] for t in json.loads(out)] == ["no prepare"]


def test_a_failed_connection_logs_why_for_every_address_libpq_tried():
    # libpq tries each host in turn, a line each; the cause is often in the
    # last one (on Debian, localhost is ::1 first, then 127.0.0.1).
    url = urllib.parse.urlsplit(DATABASE_URL)
    query = dict(urllib.parse.parse_qsl(url.query))
    if "host" not in query:
        pytest.skip("needs a DATABASE_URL with host= (the local stack's)")
    query["host"] = "/nonexistent-dir," + query["host"]
    query["user"] = "no_such_role_" + secrets.token_hex(4)
    bad = f"{url.scheme}://{url.netloc}{url.path}?{urllib.parse.urlencode(query)}"
    env = base_env(DATABASE_URL=bad, REQUEST_METHOD="GET", PATH_INFO="/api/ready",
                   QUERY_STRING="", CONTENT_LENGTH="0")
    p = subprocess.run([BIN], env=env, capture_output=True, timeout=30)
    assert b"Status: 503" in p.stdout, p.stdout
    lines = [json.loads(l) for l in p.stderr.decode("utf-8").splitlines()
             if "cannot connect" in l]
    assert lines, p.stderr
    assert "/nonexistent-dir" in lines[0]["msg"] and query["user"] in lines[0]["msg"], lines[0]


def test_a_server_notice_goes_to_the_json_log():
    # A trigger (or PgBouncer) may send a NOTICE: it is a log line like any
    # other, not libpq's raw "NOTICE:" text on stderr.
    state = os.environ.get("TODO_STATE_DIR")
    if not state:
        pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
    from helpers import DB, request
    user = new_user_id()
    tag = "notice-" + user
    DB.scalar(f"""
        CREATE FUNCTION test_notice_fn_{user[2:]}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE NOTICE '{tag}'; RETURN NEW; END $$;
        CREATE TRIGGER notice_{user[2:]} BEFORE INSERT ON tasks FOR EACH ROW
            WHEN (NEW.user_id = '{user}') EXECUTE FUNCTION test_notice_fn_{user[2:]}()""")
    try:
        r = request("POST", f"/api/{user}/tasks", json={"title": "x"}, token=mint(user))
        assert r.status_code == 201, r.text
    finally:
        DB.scalar(f"DROP TRIGGER notice_{user[2:]} ON tasks;"
                  f" DROP FUNCTION test_notice_fn_{user[2:]}()")
    lines = []
    deadline = time.time() + 5
    while not lines and time.time() < deadline:
        with open(f"{state}/log/workers.log", "rb") as f:
            lines = [l for l in f if tag.encode() in l]
        time.sleep(0.05)
    assert lines, "the notice reached the log"
    for line in lines:
        entry = json.loads(line.decode("utf-8"))
        assert entry["level"] == "warn" and tag in entry["msg"], entry


def test_log_lines_stay_utf8_json_whatever_the_client_sends():
    # A path of bytes that are not UTF-8 (%ff, an overlong %c0%af) must not
    # reach the log raw: each line is JSON that a strict parser accepts.
    state = os.environ.get("TODO_STATE_DIR")
    if not state:
        pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
    from helpers import raw_request
    rid = "utf8-log-" + new_user_id()
    status, _, _ = raw_request("GET", "/api/%ff%fe%c0%af/tasks", token=mint("alice"),
                               headers={"X-Request-ID": rid})
    assert status == 403
    lines = []
    deadline = time.time() + 5
    while len(lines) < 2 and time.time() < deadline:
        with open(f"{state}/log/workers.log", "rb") as f:
            lines = [l for l in f if rid.encode() in l]
        time.sleep(0.05)
    assert len(lines) >= 2, lines       # the 403's warning and the access line
    access = [json.loads(l.decode("utf-8")) for l in lines]
    assert access[-1]["path"] == "/api/\ufffd\ufffd\ufffd\ufffd/tasks", access[-1]


def test_access_log_line_has_the_request_and_never_the_token():
    state = os.environ.get("TODO_STATE_DIR")
    if not state:
        pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
    from helpers import request
    user = new_user_id()
    token = mint(user)
    rid = "log-check-" + user
    r = request("GET", f"/api/{user}/tasks", token=token, headers={"X-Request-ID": rid})
    assert r.status_code == 200
    lines = []
    deadline = time.time() + 5
    while not lines and time.time() < deadline:
        with open(f"{state}/log/workers.log", encoding="utf-8", errors="replace") as f:
            lines = [json.loads(l) for l in f if rid in l and l.startswith("{")]
        time.sleep(0.05)
    access = [l for l in lines if l.get("msg") == "request"]
    assert len(access) == 1, lines
    line = access[0]
    assert line["request_id"] == rid
    assert (line["method"], line["path"], line["status"], line["user"]) == \
        ("GET", f"/api/{user}/tasks", 200, user)
    assert line["duration_ms"] >= 0 and line["time"].endswith("Z")
    with open(f"{state}/log/workers.log", encoding="utf-8", errors="replace") as f:
        assert token not in f.read()


def test_fcgi_web_server_addrs_names_who_may_connect_over_tcp(worker):
    # libfcgi's own allow-list, which the worker checks itself since it
    # accepts connections itself (issue 10, item 17).
    _, addr = worker(FCGI_WEB_SERVER_ADDRS="127.0.0.2,127.0.0.3")
    params = fcgi_client.params("GET", "/api/health")
    status, _, body = fcgi_client.request(addr, params, source="127.0.0.3")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    with pytest.raises(ConnectionError):
        fcgi_client.request(addr, params, source="127.0.0.1")
