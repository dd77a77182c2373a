"""The prefork master (`--workers N`) under a steady load of writes and reads:
a worker killed with SIGKILL, PostgreSQL restarted, a SIGHUP reload, a SIGTERM
stop.  Each scenario prints its counts (sent, 2xx, 5xx, lost) and checks that
no write acknowledged with a 2xx is missing from the database afterwards.

The load goes straight to the master's socket over FastCGI (one connection
per request), so what is measured is the pool, not nginx."""

import json
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

import fcgi_client
from helpers import DB, RowLock, mint, new_user_id, report
from test_modes import BIN, DATABASE_URL, base_env, free_port, restart_postgresql

WORKERS = 3


class Pool:
    """A master with WORKERS workers on 127.0.0.1:port."""

    def __init__(self, tmp_path, args=(), **env):
        self.port = free_port()
        self.addr = ("127.0.0.1", self.port)
        self.log = tmp_path / f"master-{self.port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [BIN, "--workers", str(WORKERS), "--listen", f"127.0.0.1:{self.port}",
                 "--shutdown-timeout", "10", *args],
                env=base_env(**env), stdout=subprocess.DEVNULL, stderr=log)
        self.wait_until(lambda: len(self.workers("idle", "busy")) == WORKERS, "workers up")

    def request(self, method, path, body=b"", token=None, timeout=10, conn=None):
        """One request on a connection of its own, or on conn."""
        params = fcgi_client.params(method, path, body, token)
        if conn is not None:
            return conn.request(params, body)
        return fcgi_client.request(self.addr, params, body, timeout=timeout)

    def status(self):
        st, _, body = self.request("GET", "/api/status")
        assert st == 200, body
        return json.loads(body)

    def workers(self, *states):
        try:
            ws = self.status()["workers"]
        except OSError:
            return []
        return [w for w in ws if not states or w["state"] in states]

    def wait_until(self, cond, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}\n" + self.log.read_text()[-3000:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=30)
        return self.proc.returncode


@pytest.fixture
def pool(tmp_path):
    pools = []

    def start(args=(), **env):
        p = Pool(tmp_path, args, **env)
        pools.append(p)
        return p

    yield start
    for p in pools:
        if p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
            try:
                p.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.proc.kill()       # its workers follow (PR_SET_PDEATHSIG)
                p.proc.wait()


class Load:
    """Client threads, each alternating a create (write) and a listing (read)
    until stopped; records every answer with its time."""

    def __init__(self, pool, threads=4):
        self.pool = pool
        self.user = new_user_id()
        self.token = mint(self.user, exp=3600)
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.results = []           # (time, kind, status)
        self.acked = []             # titles of writes answered 2xx
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, n):
        i = 0
        while not self.stop_flag.is_set():
            i += 1
            title = f"load-{n}-{i}"
            for kind in ("write", "read"):
                try:
                    if kind == "write":
                        st, _, _ = self.pool.request("POST", f"/api/{self.user}/tasks",
                                                     json.dumps({"title": title}).encode(),
                                                     self.token)
                    else:
                        st, _, _ = self.pool.request("GET", f"/api/{self.user}/tasks",
                                                     token=self.token)
                except OSError:
                    st = 0              # no answer at all
                with self.lock:
                    self.results.append((time.monotonic(), kind, st))
                    if kind == "write" and 200 <= st < 300:
                        self.acked.append(title)

    def __enter__(self):
        for t in self.threads:
            t.start()
        time.sleep(0.5)             # steady state before the fault
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=30)

    def counts(self, name):
        sent = len(self.results)
        ok = sum(1 for _, _, s in self.results if 200 <= s < 300)
        err5 = sum(1 for _, _, s in self.results if s >= 500)
        failed = sum(1 for _, _, s in self.results if s == 0)
        titles = {r["title"] for r in DB.snapshot(self.user)}
        lost = len([t for t in self.acked if t not in titles])
        report(f"{name}: sent {sent}, 2xx {ok}, 5xx {err5}, no answer {failed}, lost {lost}")
        return sent, ok, err5, failed, lost


def test_killed_worker_is_replaced_and_no_acknowledged_write_is_lost(pool):
    p = pool()
    with Load(p) as load:
        victim = p.workers()[0]["pid"]
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        p.wait_until(lambda: len(p.workers("idle", "busy")) == WORKERS and
                     victim not in [w["pid"] for w in p.workers()], "a replacement")
        replaced = time.monotonic() - killed
    sent, ok, err5, failed, lost = load.counts("kill -9 a worker")
    report(f"  the replacement served {replaced:.2f} s after the kill")
    assert lost == 0
    assert err5 + failed <= 1, "only the killed worker's request in hand may fail"
    assert ok >= sent - 1 and sent > 50
    assert p.status()["restarts"] == 1


def test_postgresql_restart_gives_503_only_while_it_is_down(pool):
    p = pool()
    with Load(p) as load:
        down = time.monotonic()
        restart_postgresql()
        up = time.monotonic()
        time.sleep(2.5)
    sent, ok, err5, failed, lost = load.counts("restart PostgreSQL")
    assert lost == 0 and failed == 0
    # Every failure is a 503 while PostgreSQL was down or coming back...
    bad = [(t, s) for t, _, s in load.results if not 200 <= s < 300]
    assert all(s == 503 for _, s in bad), bad
    assert all(down <= t <= up + 2 for t, _ in bad), "503s after recovery"
    # ...and within 2 s of it being back every request succeeds.
    after = [s for t, _, s in load.results if t > up + 2]
    assert after and all(200 <= s < 300 for s in after)
    report(f"  PostgreSQL down for {up - down:.2f} s; last failure "
          f"{max((t for t, _ in bad), default=up) - up:+.2f} s after it was back")


def test_reload_replaces_every_worker_without_a_failed_request(pool):
    p = pool()
    before = {w["pid"] for w in p.workers()}
    with Load(p) as load:
        hup = time.monotonic()
        p.proc.send_signal(signal.SIGHUP)
        p.wait_until(lambda: not before & {w["pid"] for w in p.workers()} and
                     len(p.workers("idle", "busy")) == WORKERS, "all workers replaced")
        replaced = time.monotonic() - hup
    sent, ok, err5, failed, lost = load.counts("SIGHUP")
    report(f"  every worker replaced {replaced:.2f} s after SIGHUP")
    assert (err5, failed, lost) == (0, 0, 0) and ok == sent > 50
    assert {w["generation"] for w in p.workers()} == {2}


def test_reload_with_a_bad_setting_keeps_the_running_workers(pool, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("LOG_LEVEL=info\n")
    p = pool(args=("--env-file", str(env_file)))
    before = {w["pid"] for w in p.workers()}
    env_file.write_text("LOG_LEVEL=info\nJWT_LEEWAY=soon\n")
    p.proc.send_signal(signal.SIGHUP)
    p.wait_until(lambda: "reload failed" in p.log.read_text(), "the reload to fail")
    time.sleep(0.3)
    assert {w["pid"] for w in p.workers()} == before
    assert "JWT_LEEWAY" in p.log.read_text()
    # Mended, the next reload goes through and replaces every worker.
    env_file.write_text("LOG_LEVEL=info\nJWT_LEEWAY=10\n")
    p.proc.send_signal(signal.SIGHUP)
    p.wait_until(lambda: {w["generation"] for w in p.workers()} == {2} and
                 len(p.workers("idle", "busy")) == WORKERS, "the second reload")
    assert not before & {w["pid"] for w in p.workers()}


def test_stop_lets_requests_in_hand_finish_and_exits_0(pool):
    p = pool()
    user = new_user_id()
    token = mint(user, exp=3600)
    st, _, body = p.request("POST", f"/api/{user}/tasks", b'{"title": "locked"}', token)
    assert st == 201, body
    task = json.loads(body)
    # Hold the row so that updates wait inside the workers, in hand.
    lock = RowLock(task["id"])
    answers = []

    def update(n):
        answers.append(p.request("PUT", f"/api/{user}/tasks/{task['id']}",
                                 json.dumps({"title": f"update {n}"}).encode(), token,
                                 timeout=20)[0])

    # One worker stays free to answer the status requests below.
    in_hand = WORKERS - 1
    threads = [threading.Thread(target=update, args=(n,)) for n in range(in_hand)]
    for t in threads:
        t.start()
    p.wait_until(lambda: len(p.workers("busy")) == in_hand + 1, "updates in hand", timeout=10)
    p.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert p.proc.poll() is None, "the master left before its workers finished"
    lock.release()
    for t in threads:
        t.join(timeout=20)
    assert p.proc.wait(timeout=20) == 0
    report(f"SIGTERM: {len(answers)} requests in hand, answers {sorted(answers)}")
    assert answers == [200] * in_hand


def test_a_leaving_worker_answers_the_request_in_hand_then_closes_its_connection(pool):
    # A web server that keeps connections (FCGI_KEEP_CONN; nginx.conf.example
    # does not) gets the answer to the request in hand when a reload comes,
    # then a closed connection: never a request dropped half way.
    p = pool()
    user = new_user_id()
    token = mint(user, exp=3600)
    st, _, body = p.request("POST", f"/api/{user}/tasks", b'{"title": "locked"}', token)
    task = json.loads(body)
    before = {w["pid"] for w in p.workers()}
    lock = RowLock(task["id"])
    with fcgi_client.Connection(p.addr, timeout=20) as conn:
        answers = []
        update = threading.Thread(target=lambda: answers.append(p.request(
            "PUT", f"/api/{user}/tasks/{task['id']}", b'{"title": "updated"}', token,
            conn=conn)[0]))
        update.start()
        p.wait_until(lambda: len(p.workers("busy")) == 2, "the update in hand")
        p.proc.send_signal(signal.SIGHUP)
        p.wait_until(lambda: all(w["state"] == "stopping" for w in p.workers()
                                 if w["pid"] in before), "every old worker told to stop")
        lock.release()
        update.join(timeout=20)
        assert answers == [200]
        conn.sock.settimeout(5)
        assert conn.sock.recv(1) == b"", "the leaving worker closed the connection"
    p.wait_until(lambda: not before & {w["pid"] for w in p.workers()},
                 "every old worker to leave", timeout=5)
    assert p.request("GET", f"/api/{user}/tasks/{task['id']}", token=token)[0] == 200
    assert [t["title"] for t in DB.snapshot(user)] == ["updated"]


def test_stop_does_not_wait_for_kept_alive_connections(pool):
    # Shutting down, nobody takes over: an idle kept-alive connection does
    # not hold the stop up (the master would otherwise wait for nginx).
    p = pool()
    with fcgi_client.Connection(p.addr) as conn:
        assert p.request("GET", "/api/health", conn=conn)[0] == 200
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(timeout=5) == 0
        assert conn.sock.recv(1) == b"", "the worker closed the connection"


def test_statement_timeout_answers_504_and_the_worker_lives(pool):
    p = pool(REQUEST_TIMEOUT="1")
    user = new_user_id()
    token = mint(user, exp=3600)
    st, _, body = p.request("POST", f"/api/{user}/tasks", b'{"title": "stuck"}', token)
    task = json.loads(body)
    lock = RowLock(task["id"])
    try:
        st, _, body = p.request("PUT", f"/api/{user}/tasks/{task['id']}",
                                b'{"title": "never"}', token, timeout=20)
        assert st == 504 and json.loads(body) == {"detail": "Request timed out"}
    finally:
        lock.release(commit=False)
    assert [t["title"] for t in DB.snapshot(user)] == ["stuck"]
    assert p.status()["restarts"] == 0
    st, _, _ = p.request("GET", f"/api/{user}/tasks/{task['id']}", token=token)
    assert st == 200


def test_max_requests_recycles_workers(pool):
    p = pool()
    p.proc.send_signal(signal.SIGTERM)
    p.proc.wait(timeout=20)
    port = free_port()
    proc = subprocess.Popen([BIN, "--workers", "1", "--max-requests", "5", "--listen",
                             f"127.0.0.1:{port}"], env=base_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        addr = ("127.0.0.1", port)
        pids = set()
        deadline = time.time() + 20
        statuses = []
        while len(statuses) < 12 and time.time() < deadline:
            try:
                st, _, body = fcgi_client.request(addr, fcgi_client.params("GET", "/api/status"))
            except OSError:
                time.sleep(0.05)
                continue
            statuses.append(st)
            pids |= {w["pid"] for w in json.loads(body)["workers"]}
        assert statuses == [200] * 12
        assert len(pids) >= 3, "a new worker every 5 requests"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def stack_pid(pid_file):
    """The pid in the first line of a file of the stack's state directory."""
    state = os.environ.get("TODO_STATE_DIR")
    if not state:
        pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
    with open(f"{state}/{pid_file}") as f:
        return int(f.readline())


def postgres_pids():
    """The stack's PostgreSQL processes: the postmaster and its children."""
    pgdata = os.environ.get("TODO_PGDATA")
    if pgdata:
        with open(f"{pgdata}/postmaster.pid") as f:
            master = int(f.readline())
    else:
        master = stack_pid("pgdata/postmaster.pid")
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                              text=True).stdout.split()
    return [master] + [int(c) for c in children]


def test_a_new_generation_that_dies_at_start_is_restarted_with_back_off(pool):
    # Each worker of the new generation dies as soon as it appears (killed
    # here, as a crash at start-up would end it): the master must back off,
    # not fork one every tick, while the old workers go on serving.
    p = pool()
    old = set(pool_pids(p))
    p.proc.send_signal(signal.SIGHUP)
    killed = set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for pid in set(pool_pids(p)) - old - killed:
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.005)
    assert 2 <= len(killed) <= 12, f"{len(killed)} new workers started in 3 s"
    assert old <= set(pool_pids(p)), "the old workers still serve"
    assert p.request("GET", "/api/health")[0] == 200


def pool_pids(p):
    out = subprocess.run(["pgrep", "-P", str(p.proc.pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def test_workers_clear_out_expired_rows_without_a_cron_job(pool):
    # Sessions, refresh and revoked tokens, login failures, deleted tasks'
    # traces and idempotency keys' answers past any use are deleted by the
    # workers themselves (at start, then every 1,000 requests); those still
    # of use stay.
    user, tag = new_user_id(), secrets.token_hex(6)
    ids = [secrets.randbelow(2**62) + 1 for _ in range(2)]
    DB.scalar(f"""
        INSERT INTO users (id) VALUES (:'u');
        INSERT INTO sessions (id, user_id, expires_at) VALUES
            ('old-{tag}', :'u', now() - interval '2 days'),
            ('new-{tag}', :'u', now() + interval '2 days');
        INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES
            (repeat('a', 52) || '{tag}', 'new-{tag}', now() - interval '2 days'),
            (repeat('b', 52) || '{tag}', 'new-{tag}', now() + interval '2 days');
        INSERT INTO revoked_tokens (jti, expires_at) VALUES
            ('old-{tag}', now() - interval '2 hours'), ('new-{tag}', now() + interval '1 hour');
        INSERT INTO login_failures (email, failed_at) VALUES
            ('old-{tag}@example.com', now() - interval '20 minutes'),
            ('new-{tag}@example.com', now() - interval '1 minute');
        INSERT INTO deleted_tasks (id, user_id, version, deleted_at) VALUES
            (-{ids[0]}, :'u', 1, now() - interval '25 hours'),
            (-{ids[1]}, :'u', 1, now() - interval '23 hours');
        INSERT INTO idempotency_keys (user_id, key, fingerprint, status, headers, body,
                                      created_at) VALUES
            (:'u', 'old-{tag}', repeat('0', 64), 201, '', '{{}}', now() - interval '25 hours'),
            (:'u', 'new-{tag}', repeat('0', 64), 201, '', '{{}}', now() - interval '23 hours')""", u=user)

    def left():
        return DB.rows(f"""
            SELECT 's' AS t, id AS k FROM sessions WHERE id LIKE '%{tag}'
            UNION ALL SELECT 'f', left(token_hash, 1) FROM refresh_tokens WHERE token_hash LIKE '%{tag}'
            UNION ALL SELECT 'r', jti FROM revoked_tokens WHERE jti LIKE '%{tag}'
            UNION ALL SELECT 'l', email FROM login_failures WHERE email LIKE '%{tag}%'
            UNION ALL SELECT 'd', id::text FROM deleted_tasks WHERE user_id = '{user}'
            UNION ALL SELECT 'i', key FROM idempotency_keys WHERE user_id = '{user}'
            ORDER BY 1, 2""")
    assert len(left()) == 12
    p = pool()
    p.wait_until(lambda: len(left()) == 6, "the expired rows to go")
    assert left() == [{"t": "d", "k": str(-ids[1])},
                      {"t": "f", "k": "b"}, {"t": "i", "k": f"new-{tag}"},
                      {"t": "l", "k": f"new-{tag}@example.com"},
                      {"t": "r", "k": f"new-{tag}"}, {"t": "s", "k": f"new-{tag}"}]


def test_a_reload_gives_the_watchdog_the_new_time_limit(pool, tmp_path):
    # REQUEST_TIMEOUT from 60 s to 1 s by SIGHUP: a request stuck on a frozen
    # database is then ended after about 1 + 2 s, not 62.
    env_file = tmp_path / "env"
    env_file.write_text("REQUEST_TIMEOUT=60\n")
    p = pool(args=("--env-file", str(env_file)))
    env_file.write_text("REQUEST_TIMEOUT=1\n")
    p.proc.send_signal(signal.SIGHUP)
    p.wait_until(lambda: {w["generation"] for w in p.workers()} == {2} and
                 len(p.workers("idle", "busy")) == WORKERS, "the reload")
    waited = seconds_stuck_on_a_frozen_database(p, timeout=20)
    assert waited < 10, f"the stuck request ended after {waited:.1f} s"


def seconds_stuck_on_a_frozen_database(p, timeout):
    """Freezes PostgreSQL (SIGSTOP: its sockets stay open, nothing answers),
    sends a listing, and returns how long until the pool cut it off."""
    user = new_user_id()
    token = mint(user, exp=3600)
    pids = postgres_pids()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        with pytest.raises(OSError):
            p.request("GET", f"/api/{user}/tasks", token=token, timeout=timeout)
        return time.monotonic() - t0
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


@pytest.mark.skipif(not os.path.exists(FAKETIME), reason="needs libfaketime")
def test_a_wall_clock_step_kills_no_busy_worker(pool):
    # NTP may step the wall clock.  The pool's clock jumps a day ahead 4 s
    # after it starts (libfaketime; its monotonic clock stays true) while a
    # request is held by a row lock: the watchdog must not take the step for
    # a request stuck for a day.
    # An ASan build wants to come first; libfaketime is preloaded before it.
    asan = ":".join(x for x in (os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0") if x)
    p = pool(REQUEST_TIMEOUT="30", LD_PRELOAD=FAKETIME, FAKETIME="+1d",
             FAKETIME_START_AFTER_SECONDS="4", FAKETIME_DONT_FAKE_MONOTONIC="1",
             ASAN_OPTIONS=asan)
    user = new_user_id()
    token = mint(user, exp=3 * 86400)
    st, _, body = p.request("POST", f"/api/{user}/tasks", b'{"title": "held"}', token)
    assert st == 201, body
    task = json.loads(body)
    lock = RowLock(task["id"])
    answers = []
    put = threading.Thread(target=lambda: answers.append(p.request(
        "PUT", f"/api/{user}/tasks/{task['id']}", b'{"title": "after the step"}', token,
        timeout=60)[0]))
    try:
        put.start()
        # Two: the held request, and the one that asks for the status.
        p.wait_until(lambda: len(p.workers("busy")) >= 2, "the held request")
        time.sleep(6)                       # the step, then the watchdog's rounds
    finally:
        lock.release()
        put.join(timeout=30)
    assert answers == [200], answers
    assert p.status()["restarts"] == 0


def test_watchdog_replaces_a_worker_stuck_past_the_time_limit(pool):
    # A frozen database (not down: its sockets stay open, nothing answers) is
    # what statement_timeout cannot end; the master's watchdog must.
    p = pool(REQUEST_TIMEOUT="1")
    waited = seconds_stuck_on_a_frozen_database(p, timeout=30)
    report(f"watchdog: the stuck request ended after {waited:.1f} s")
    assert 1 < waited < 10
    # Counted once the master has reaped the killed worker and replaced it.
    p.wait_until(lambda: p.status()["restarts"] == 1 and
                 len(p.workers("idle", "busy")) == WORKERS, "a replacement")
    user = new_user_id()
    st, _, _ = p.request("GET", f"/api/{user}/tasks", token=mint(user))
    assert st == 200


def partial_requests():
    """What a client of the FastCGI socket may send and then stop: nothing, part
    of a record header, a request cut off in its parameters, one cut off in
    its body."""
    begin = fcgi_client._record(fcgi_client.FCGI_BEGIN_REQUEST, struct.pack("!HB5x", 1, 0))
    params = fcgi_client._record(fcgi_client.FCGI_PARAMS, fcgi_client._params(
        fcgi_client.params("POST", "/api/x/tasks", b"x" * 100)))
    whole = params + fcgi_client._record(fcgi_client.FCGI_PARAMS, b"")
    body = fcgi_client._record(fcgi_client.FCGI_STDIN, b'{"title": "never sent"}')
    return [b"", begin[:5], begin + params[:40], begin + whole + body[:12]]


def test_clients_that_send_part_of_a_request_do_not_hold_the_workers(pool):
    p = pool(REQUEST_TIMEOUT="2")
    user = new_user_id()
    held = []
    for data in partial_requests():
        s = socket.create_connection(p.addr)
        s.sendall(data)
        held.append(s)
    assert len(held) > WORKERS
    try:
        # Every worker took one of them; a real request still gets its answer.
        st, _, body = p.request("GET", f"/api/{user}/tasks", token=mint(user), timeout=30)
        assert st == 200, body
        for s in held:
            s.settimeout(20)
            try:
                while s.recv(4096):     # the end of a request cut off in its body
                    pass
            except ConnectionResetError:
                pass
    finally:
        for s in held:
            s.close()
    assert p.status()["restarts"] == 0
    assert "without a whole request" in p.log.read_text()


def test_the_watchdog_sees_a_worker_fed_its_request_a_byte_at_a_time(pool):
    # Each byte comes within the read time limit, so only the watchdog, which
    # counts from the moment the worker took the connection, can end it.
    p = pool(REQUEST_TIMEOUT="1")
    data = b"".join(partial_requests()[2:])
    busy, sent = [], 0
    with socket.create_connection(p.addr) as s:
        deadline = time.monotonic() + 20
        try:
            while sent < len(data) and time.monotonic() < deadline:
                s.sendall(data[sent:sent + 1])
                sent += 1
                busy.append(len(p.workers("busy")))
                time.sleep(0.3)
            s.settimeout(5)
            while s.recv(4096):
                pass
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert sent < len(data), "the whole request went through, a byte at a time"
    assert max(busy) >= 2, f"busy workers seen (the status request is one): {busy}"
    p.wait_until(lambda: p.status()["restarts"] == 1, "the watchdog's kill")


def test_status_is_for_operator_networks_only(pool):
    p = pool(STATUS_ALLOW="127.0.0.0/8 ::1 192.0.2.0/28")
    for addr, expected in (("127.0.0.1", 200), ("192.0.2.9", 200), ("192.0.2.17", 403),
                           ("10.0.0.1", 403), ("::1", 200), ("2001:db8::1", 403), ("", 403)):
        for path in ("/api/status", "/api/metrics"):
            st, headers, body = fcgi_client.request(
                p.addr, fcgi_client.params("GET", path, REMOTE_ADDR=addr))
            assert st == expected, (addr, path, body)
            if st == 403:
                assert json.loads(body) == {"detail": "Forbidden"}
    st, headers, body = fcgi_client.request(p.addr, fcgi_client.params("GET", "/api/metrics"))
    text = body.decode()
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    states = dict(re.findall(r'^todo_workers\{state="(\w+)"\} (\d+)$', text, re.M))
    assert int(states["idle"]) + int(states["busy"]) == WORKERS and int(states["busy"]) >= 1, text
    assert "todo_database_up 1" in text and "todo_requests_total " in text


def test_reload_through_nginx_fails_nothing():
    # The stack's own pool behind nginx, as deployed: clients keep their
    # connections to nginx alive, nginx opens one to a worker per request.
    import requests
    from helpers import BASE_URL
    master = stack_pid("run/workers.pid")
    user = new_user_id()
    stop = threading.Event()
    results, acked = [], []
    lock = threading.Lock()

    def run(n):
        # A token per client, as the per-token rate limit expects of clients.
        headers = {"Authorization": "Bearer " + mint(user, exp=3600, client=n)}
        s = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            title = f"nginx-{n}-{i}"
            r1 = s.post(f"{BASE_URL}/api/{user}/tasks", json={"title": title}, headers=headers)
            r2 = s.get(f"{BASE_URL}/api/{user}/tasks?limit=5", headers=headers)
            with lock:
                results.extend([r1.status_code, r2.status_code])
                if r1.status_code == 201:
                    acked.append(title)

    def workers():
        return subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                              text=True).stdout.split()

    before = set(workers())
    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    os.kill(master, signal.SIGHUP)
    deadline = time.time() + 30
    while time.time() < deadline and (before & set(workers()) or len(workers()) < len(before)):
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    titles = {r["title"] for r in DB.snapshot(user)}
    failed = [s for s in results if s >= 300]
    report(f"SIGHUP through nginx: sent {len(results)}, 2xx {len(results) - len(failed)}, "
          f"failed {len(failed)}, lost {len([t for t in acked if t not in titles])}")
    assert not before & set(workers()), "every worker was replaced"
    assert failed == [] and all(t in titles for t in acked)


def test_a_worker_that_cannot_accept_is_restarted_with_back_off(tmp_path):
    # A socket that is no listening socket (never listen()ed): every worker
    # fails at once.  The master must back off, not respawn in a tight loop.
    log = tmp_path / "master.log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, open(log, "wb") as out:
        s.bind(str(tmp_path / "not-listening.sock"))
        proc = subprocess.Popen([BIN, "--workers", "1"], stdin=s.fileno(),
                                env=base_env(LOG_LEVEL="info"), stdout=out, stderr=out)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    text = log.read_text()
    started = text.count('" ready"') + text.count(' ready"')
    assert "cannot accept a FastCGI connection" in text
    assert "exited with 1" in text, text[-2000:]
    assert 2 <= started <= 10, f"{started} workers started in 2 s"


def test_sigusr1_to_the_workers_stops_nothing(pool):
    # Log rotation scripts send SIGUSR1; libfcgi would take it as a shutdown
    # request that breaks its accept.
    p = pool()
    for w in p.workers():
        os.kill(w["pid"], signal.SIGUSR1)
    time.sleep(0.3)
    statuses = [p.request("GET", "/api/health")[0] for _ in range(20)]
    assert statuses == [200] * 20
    assert p.status()["restarts"] == 0 and len(p.workers("idle", "busy")) == WORKERS


def test_workers_leave_when_their_master_is_killed(pool):
    p = pool()
    pids = [w["pid"] for w in p.workers()]
    p.proc.kill()
    p.proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline:
        alive = [pid for pid in pids if os.path.exists(f"/proc/{pid}") and
                 open(f"/proc/{pid}/stat").read().split()[2] != "Z"]
        if not alive:
            break
        time.sleep(0.05)
    assert alive == [], "orphaned workers still running"
