"""PgBouncer in transaction pooling mode, for real (issue 4): the test starts
Debian's pgbouncer on a Unix socket in a temporary folder, in front of the
stack's PostgreSQL, with ONE server connection shared by two workers, so
consecutive transactions of one worker run on a connection the other worker
used in between. Two workers with DB_PREPARE=off then serve a realistic mix
through it (create, filtered listing, If-Match update, completing a recurring
task, delete, a create with an Idempotency-Key and its retry, register + login
+ refresh), every answer checked against the database read directly.

What DB_PREPARE=on does behind the same pooler is printed, not asserted: only
DB_PREPARE=off is promised to work there.

Also home of the helpers the other tests that start their own worker use
(test_pg_tls.py): `own_worker` and `call`."""

import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import types
import urllib.parse

import pytest

import fcgi_client
from helpers import DB, RowLock, link_target, mint, new_user_id

BIN = os.environ.get("TODO_BIN", os.path.join(os.path.dirname(__file__), "../../build/todo-fcgi"))
SECRET = os.environ.get("TODO_JWT_SECRET", "")
DATABASE_URL = os.environ.get("TODO_DATABASE_URL", "")
PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")
DUE = "2026-11-30T17:00:00Z"


# --------------------------------------------------------------------------
# Shared helpers: a worker of our own, and requests to it


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, timeout=10):
    """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


@pytest.fixture
def own_worker(tmp_path):
    """own_worker(database_url, **env) starts `todo-fcgi --listen 127.0.0.1:PORT`
    with those settings and returns (process, address, log path). Each worker
    is stopped after the test, and its log must hold no sanitizer report."""
    started = []

    def start(database_url, **env):
        port = free_port()
        log = tmp_path / f"worker-{port}.log"
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
                "DATABASE_URL": database_url, "JWT_SECRET": SECRET, **env}
        with open(log, "wb") as f:
            p = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{port}"], env=full,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f)
        started.append((p, log))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return p, ("127.0.0.1", port), log
            except OSError:
                if p.poll() is not None:
                    pytest.fail(f"the worker exited ({p.returncode}): {log.read_text()[-2000:]}")
                time.sleep(0.05)
        pytest.fail("the worker did not start listening")

    yield start
    reports = []
    for p, log in started:
        stop(p)
        text = log.read_text(errors="replace")
        if SANITIZER_RE.search(text):
            reports.append(text[-4000:])
    assert not reports, "sanitizer report in a worker's log:\n" + "\n".join(reports)


def call(address, method, path, body=None, token=None, query=None, headers=None):
    """One FastCGI request to a worker; returns (status, headers, JSON or None).
    `body` is sent as JSON; `query` is a dict (lists repeat the name)."""
    raw = b"" if body is None else json.dumps(body).encode()
    params = fcgi_client.params(method, path, raw, token, REQUEST_URI=path,
                                QUERY_STRING=urllib.parse.urlencode(query or {}, doseq=True),
                                SERVER_PROTOCOL="HTTP/1.1")
    for name, value in (headers or {}).items():
        params["HTTP_" + name.upper().replace("-", "_")] = value
    status, hdrs, out = fcgi_client.request(address, params, raw, timeout=20)
    try:
        data = json.loads(out) if out else None
    except ValueError:
        data = out
    return status, hdrs, data


def as_postgres():
    """(uid, gid) of the postgres user when running as root (PostgreSQL and
    PgBouncer refuse root), else None."""
    if os.geteuid() != 0:
        return None
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


def run_as_postgres(cmd):
    ids = as_postgres()
    if ids is None:
        return cmd
    return ["setpriv", f"--reuid={ids[0]}", f"--regid={ids[1]}", "--init-groups", "--"] + cmd


def private_dir(prefix):
    """A temporary folder the postgres user owns and others can traverse
    (pytest's tmp_path lives under a root-only folder)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    ids = as_postgres()
    if ids is not None:
        os.chown(d, *ids)
    return d


# --------------------------------------------------------------------------
# PgBouncer


def stack_db():
    """(socket folder, port, database, user) of the stack's PostgreSQL."""
    u = urllib.parse.urlsplit(DATABASE_URL)
    q = urllib.parse.parse_qs(u.query)
    host = q.get("host", [u.hostname or ""])[0]
    if not host.startswith("/"):
        pytest.skip(f"the stack's database is not on a Unix socket: {DATABASE_URL}")
    port = q.get("port", [str(u.port or 5432)])[0]
    user = q.get("user", [u.username or "postgres"])[0]
    return host, port, u.path.lstrip("/") or "postgres", user


@pytest.fixture(scope="module")
def pgbouncer():
    """A pgbouncer of our own in transaction mode with a single server
    connection; yields (socket folder, port). Stopped after the module."""
    if not PGBOUNCER:
        pytest.skip("pgbouncer is not installed (Debian package pgbouncer; deploy/install-deps.sh test)")
    if not DATABASE_URL:
        pytest.skip("TODO_DATABASE_URL is not set (run through tests/run-api.sh)")
    host, port, dbname, user = stack_db()
    d = private_dir("todo-pgbouncer-")
    listen_port = 6432
    ini = os.path.join(d, "pgbouncer.ini")
    with open(ini, "w") as f:
        f.write(f"""[databases]
{dbname} = host={host} port={port} dbname={dbname} user={user}

[pgbouncer]
listen_addr =
listen_port = {listen_port}
unix_socket_dir = {d}
auth_type = trust
auth_file = {d}/userlist.txt
admin_users = {user}
pool_mode = transaction
default_pool_size = 1
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 50
ignore_startup_parameters = extra_float_digits
logfile = {d}/pgbouncer.log
pidfile = {d}/pgbouncer.pid
""")
    with open(os.path.join(d, "userlist.txt"), "w") as f:
        f.write(f'"{user}" ""\n')
    for name in ("pgbouncer.ini", "userlist.txt"):
        os.chmod(os.path.join(d, name), 0o644)
    proc = subprocess.Popen(run_as_postgres([PGBOUNCER, ini]), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        sock = os.path.join(d, f".s.PGSQL.{listen_port}")
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = open(os.path.join(d, "pgbouncer.log")).read() if os.path.exists(
                    os.path.join(d, "pgbouncer.log")) else ""
                pytest.fail(f"pgbouncer did not start: {proc.stderr.read().decode()} {log}")
            time.sleep(0.05)
        yield d, listen_port
    finally:
        stop(proc)
        shutil.rmtree(d, ignore_errors=True)


def admin(pgb, command):
    """Rows of a PgBouncer admin console command, as dicts."""
    d, port = pgb
    _, _, _, user = stack_db()
    p = subprocess.run(["psql", f"host={d} port={port} dbname=pgbouncer user={user}",
                        "-X", "-A", "-F", "\t", "-P", "footer=off", "-c", command],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    names = lines[0].split("\t")
    return [dict(zip(names, l.split("\t"))) for l in lines[1:]]


def through(pgb, **extra):
    """The worker's DATABASE_URL through PgBouncer."""
    d, port = pgb
    _, _, dbname, user = stack_db()
    q = urllib.parse.urlencode({"host": d, "port": port, "user": user, **extra})
    return f"postgresql:///{dbname}?{q}"


# --------------------------------------------------------------------------
# Tests


def test_pgbouncer_pools_in_transaction_mode_with_one_server_connection(pgbouncer):
    config = {r["key"]: r["value"] for r in admin(pgbouncer, "SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"
    dbs = {r["name"]: r for r in admin(pgbouncer, "SHOW DATABASES")}
    _, _, dbname, _ = stack_db()
    assert dbs[dbname]["pool_mode"] in ("", "transaction")   # empty: the default above
    assert dbs[dbname]["pool_size"] == "1"


def test_db_prepare_off_serves_a_realistic_mix_through_transaction_pooling(
        pgbouncer, own_worker):
    url = through(pgbouncer)
    _, w1, log1 = own_worker(url, DB_PREPARE="off")
    _, w2, log2 = own_worker(url, DB_PREPARE="off")
    before = {r["database"]: int(r["total_xact_count"])
              for r in admin(pgbouncer, "SHOW STATS")}
    user = new_user_id()
    tok = mint(user)
    tasks = f"/api/{user}/tasks"

    # Creates, alternating workers: each statement may land on a server
    # connection the other worker used last.
    made = []
    for i, (title, prio, tags) in enumerate([("Buy milk", "high", ["home"]),
                                             ("File taxes", "low", ["work"]),
                                             ("Water plants", "high", ["home", "garden"])]):
        status, h, t = call((w1, w2)[i % 2], "POST", tasks,
                            {"title": title, "priority": prio, "tags": tags}, tok)
        assert status == 201, t
        assert h["location"] == f"{tasks}/{t['id']}"
        made.append(t)
    status, h, daily = call(w2, "POST", tasks, {"title": "Stand-up", "due_date": DUE,
                                                "recurrence": "daily"}, tok)
    assert status == 201, daily

    # Listing with filters, on both workers.
    for w in (w1, w2):
        status, h, got = call(w, "GET", tasks, token=tok,
                              query={"status": "pending", "priority": "high", "tag": "home",
                                     "sort": "title"})
        assert status == 200, got
        assert [t["title"] for t in got] == ["Buy milk", "Water plants"]
        assert h["x-total-count"] == "2"
        status, h, got = call(w, "GET", tasks, token=tok, query={"q": "tax"})
        assert status == 200 and [t["id"] for t in got] == [made[1]["id"]], got

    # Update with If-Match (read, compare, write in one transaction); then the
    # stale tag is refused by the other worker.
    status, h, t = call(w1, "GET", f"{tasks}/{made[0]['id']}", token=tok)
    assert status == 200
    etag = h["etag"]
    status, h, t = call(w2, "PATCH", f"{tasks}/{made[0]['id']}", {"title": "Buy oat milk"},
                        tok, headers={"If-Match": etag})
    assert status == 200 and t["title"] == "Buy oat milk", t
    assert h["etag"] != etag
    status, _, t = call(w1, "PATCH", f"{tasks}/{made[0]['id']}", {"title": "lost update"},
                        tok, headers={"If-Match": etag})
    assert status == 412, t

    # Completing a recurring task: the completion and the next occurrence in
    # one transaction.
    status, h, done = call(w1, "PATCH", f"{tasks}/{daily['id']}/complete", token=tok)
    assert status == 200 and done["completed"] is True, done
    nxt = link_target(types.SimpleNamespace(headers={"Link": h.get("link", "")}),
                      "next-occurrence")
    assert nxt and nxt.startswith(f"{tasks}/"), h
    status, _, spawned = call(w2, "GET", nxt, token=tok)
    assert status == 200, spawned
    assert (spawned["title"], spawned["completed"], spawned["due_date"]) == \
        ("Stand-up", False, "2026-12-01T17:00:00Z")

    # Delete.
    status, _, _ = call(w2, "DELETE", f"{tasks}/{made[1]['id']}", token=tok)
    assert status == 204
    status, _, _ = call(w1, "GET", f"{tasks}/{made[1]['id']}", token=tok)
    assert status == 404

    # A create with an Idempotency-Key: the key's lock, the task and its
    # stored answer are one transaction over two round trips; the retry,
    # sent to the other worker, is answered from it.
    key = {"Idempotency-Key": "pgb-" + secrets.token_hex(8)}
    status, h, once = call(w1, "POST", tasks, {"title": "Once"}, tok, headers=key)
    assert status == 201 and "idempotent-replayed" not in h, once
    status, h, again = call(w2, "POST", tasks, {"title": "Once"}, tok, headers=key)
    assert status == 201 and h.get("idempotent-replayed") == "true", again
    assert again == once

    # The database, read directly, agrees.
    rows = DB.rows("SELECT title, completed FROM tasks WHERE user_id = :'u' ORDER BY id", u=user)
    assert rows == [{"title": "Buy oat milk", "completed": False},
                    {"title": "Water plants", "completed": False},
                    {"title": "Stand-up", "completed": True},
                    {"title": "Stand-up", "completed": False},
                    {"title": "Once", "completed": False}]

    # Accounts: register, login and refresh are transactions too.
    email = f"pgb{secrets.token_hex(6)}@example.test"
    password = "pw-" + secrets.token_urlsafe(12)
    status, _, reg = call(w1, "POST", "/api/auth/register",
                          {"email": email, "password": password, "name": "Pooled"})
    assert status == 201, reg
    status, _, log = call(w2, "POST", "/api/auth/login", {"email": email, "password": password})
    assert status == 200, log
    assert log["user"]["id"] == reg["user"]["id"]
    status, _, ref = call(w1, "POST", "/api/auth/refresh",
                          {"refresh_token": log["refresh_token"]})
    assert status == 200, ref
    assert ref["refresh_token"] not in (log["refresh_token"], reg["refresh_token"])
    own = reg["user"]["id"]
    status, _, t = call(w2, "POST", f"/api/{own}/tasks", {"title": "mine"}, ref["access_token"])
    assert status == 201, t
    # Presenting the rotated-out token again (to the other worker) ends that
    # login: its newest refresh token is refused as well.
    status, _, again = call(w2, "POST", "/api/auth/refresh",
                            {"refresh_token": log["refresh_token"]})
    assert status == 401, again
    status, _, again = call(w1, "POST", "/api/auth/refresh",
                            {"refresh_token": ref["refresh_token"]})
    assert status == 401, again

    # And all of it went through PgBouncer.
    after = {r["database"]: int(r["total_xact_count"]) for r in admin(pgbouncer, "SHOW STATS")}
    _, _, dbname, _ = stack_db()
    assert after[dbname] - before.get(dbname, 0) >= 20
    # Each transaction's own time limit raised no server warning.
    for log in (log1, log2):
        assert "WARNING" not in log.read_text(), log.read_text()[-2000:]



def test_db_prepare_off_still_ends_a_statement_at_request_timeout(pgbouncer, own_worker):
    # Behind the pooler the time limit cannot be a session setting: each
    # transaction sets its own, and none is left on the shared server connection.
    _, w, log = own_worker(through(pgbouncer), DB_PREPARE="off", REQUEST_TIMEOUT="1")
    user = new_user_id()
    tok = mint(user)
    status, _, task = call(w, "POST", f"/api/{user}/tasks", {"title": "stuck"}, tok)
    assert status == 201, task
    lock = RowLock(task["id"])
    try:
        started = time.monotonic()
        status, _, out = call(w, "PUT", f"/api/{user}/tasks/{task['id']}", {"title": "never"}, tok)
        waited = time.monotonic() - started
    finally:
        lock.release(commit=False)
    assert (status, out) == (504, {"detail": "Request timed out"}), (status, out, waited)
    assert [t["title"] for t in DB.snapshot(user)] == ["stuck"]
    status, _, out = call(w, "PUT", f"/api/{user}/tasks/{task['id']}", {"title": "done"}, tok)
    assert status == 200 and out["title"] == "done", out
    d, port = pgbouncer
    _, _, dbname, dbuser = stack_db()
    left = subprocess.run(["psql", f"host={d} port={port} dbname={dbname} user={dbuser}", "-XAtc",
                           "SHOW statement_timeout"], capture_output=True, text=True, timeout=10)
    assert left.stdout.strip() == "0", left.stdout + left.stderr
    assert "WARNING" not in log.read_text(), log.read_text()[-2000:]
