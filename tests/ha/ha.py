"""What the fault tests of a scaled-out set-up start and measure: app pools
(a master and its workers) on TCP, a second nginx in front of them built from
the stack's generated config, and a client load whose creates carry an
Idempotency-Key and are sent again, with the same key, until acknowledged.

Times are wall-clock seconds (time.time()), the clock of nginx's $msec, so a
client's records and nginx's access log line up."""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests

import fcgi_client
from helpers import DB, alive, mint, new_user_id

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.environ.get("TODO_BIN", os.path.join(REPO, "build/todo-fcgi"))
SECRET = os.environ.get("TODO_JWT_SECRET", "")
DATABASE_URL = os.environ.get("TODO_DATABASE_URL", "")
STATE_DIR = os.environ.get("TODO_STATE_DIR", "")
SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


def wait_for(cond, what, timeout, every=0.05):
    """Polls cond() until it is true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


# --------------------------------------------------------------------------
# Processes


def free_port(*hosts):
    """A TCP port free on every one of hosts (loopback addresses)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
            try:
                for h in hosts[1:]:
                    with socket.socket() as t:
                        t.bind((h, port))
            except OSError:
                continue
            return port
    pytest.fail(f"no port free on all of {hosts}")


def process_tree(pid):
    """pid and every descendant of it, parents first."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out = [pid]
    for p in out:
        out.extend(children.get(p, []))
    return out


def signal_all(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def with_params(url, **params):
    """A libpq URI with query parameters added or replaced (urlunsplit would
    drop the // of postgresql:///db)."""
    base, _, query = url.partition("?")
    q = dict(urllib.parse.parse_qsl(query))
    q.update(params)
    return base + "?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote)


class Pool:
    """`todo-fcgi --workers N --listen HOST:PORT`, standing for an app host:
    a master and its workers in a process group of their own. Its database
    connections carry application_name "pool HOST:PORT"."""

    def __init__(self, tmp_path, host, port=None, workers=3, database_url=DATABASE_URL, **env):
        self.host, self.port = host, port or free_port(host)
        self.name = f"{host}:{self.port}"
        self.addr = (host, self.port)
        self.workers = workers
        self.log = tmp_path / f"pool-{self.name}.log"
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
                    "DATABASE_URL": with_params(database_url, application_name=self.app_name),
                    "JWT_SECRET": SECRET, **env}
        self.proc = None
        self.start()

    @property
    def app_name(self):
        return f"pool {self.name}"

    def start(self):
        """Starts the pool (again, on the same address) and waits for its workers."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [BIN, "--workers", str(self.workers), "--listen", self.name,
                 "--shutdown-timeout", "10"],
                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log, start_new_session=True)

        def up():
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                ws = self.status()["workers"]
            except (OSError, AssertionError):
                return False
            return sum(w["state"] in ("idle", "busy") for w in ws) == self.workers
        wait_for(up, f"the pool on {self.name}", 30)

    def status(self):
        st, _, body = fcgi_client.request(self.addr, fcgi_client.params("GET", "/api/status"),
                                          timeout=5)
        assert st == 200, body
        return json.loads(body)

    def kill(self):
        """SIGKILL to the master and every worker at once, as when a host is
        lost: the listening socket closes with the last of them. Returns the
        time of the kill."""
        pids = process_tree(self.proc.pid)
        killed = time.time()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        wait_for(lambda: not any(alive(p) for p in pids), f"the pool on {self.name} to die", 10)
        return killed

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        pids = process_tree(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        signal_all([p for p in pids if alive(p)], signal.SIGKILL)
        self.proc.wait(timeout=10)

    def sanitizer_report(self):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-4000:] if SANITIZER_RE.search(text) else ""


    def waiting(self):
        """How many of this pool's database sessions wait for a lock (stack's
        database)."""
        return int(DB.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                             " :'app' AND wait_event_type = 'Lock'", app=self.app_name))


class UserLock:
    """Holds a user's row (FOR UPDATE, from a psql session of its own, as a
    long transaction would) until the block ends: that user's creates wait
    inside their workers, in the foreign-key check of the new task."""

    def __init__(self, user):
        self.user = user

    def __enter__(self):
        self.psql = subprocess.Popen(
            ["psql", DATABASE_URL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"u={self.user}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.psql.stdin.write("BEGIN;\nSELECT 1 FROM users WHERE id = :'u' FOR UPDATE;\n"
                              "\\echo locked\n")
        self.psql.stdin.flush()
        while "locked" not in self.psql.stdout.readline():
            assert self.psql.poll() is None, self.psql.stderr.read()
        return self

    def __exit__(self, *exc):
        self.psql.stdin.write("COMMIT;\n")
        self.psql.stdin.close()
        self.psql.wait(timeout=10)


# --------------------------------------------------------------------------
# nginx


def upstream_params():
    """The passive health check nginx.conf.example gives each app host
    (max_fails=... fail_timeout=...), so the tests run what it shows."""
    text = open(os.path.join(REPO, "nginx.conf.example")).read()
    m = re.search(r"^\s*#\s*server 10\.0\.0\.2:9000 ([^;]*);$", text, re.M)
    assert m, "nginx.conf.example shows a two-host upstream"
    return m.group(1)


def fail_timeout():
    m = re.search(r"fail_timeout=(\d+)s", upstream_params())
    return int(m.group(1))


class Nginx:
    """A second nginx: the stack's generated nginx.conf, with upstream
    todo_fcgi made of `servers`, its own port, and an unbuffered access log
    of the time ($msec), the hosts tried and their statuses."""

    # $todo_method (todo-http.conf): the client's method, also after the
    # internal redirect to the JSON error page.
    FORMAT = ("log_format todo_ha escape=json '{\"t\":$msec,\"method\":\"$todo_method\","
              "\"uri\":\"$request_uri\",\"status\":$status,\"upstream\":\"$upstream_addr\","
              "\"upstream_status\":\"$upstream_status\"}';")

    def __init__(self, tmp_path, servers):
        if not STATE_DIR:
            pytest.skip("TODO_STATE_DIR is not set (run through tests/run-api.sh)")
        self.dir = tmp_path / f"nginx-{secrets.token_hex(3)}"
        self.dir.mkdir()
        self.port = free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        self.access = self.dir / "access.log"
        d = self.dir
        conf = open(os.path.join(STATE_DIR, "nginx.conf")).read()
        # A zone: the stack's nginx has a worker process per core, and the
        # hosts' failures must count in all of them (nginx.conf.example).
        upstream = "upstream todo_fcgi {\n        zone todo_fcgi 64k;\n" + "".join(
            f"        server {s};\n" for s in servers) + "    }"
        for pattern, repl, flags in (
                (r"upstream todo_fcgi \{[^}]*\}", upstream, 0),
                (r"listen 127\.0\.0\.1:\d+", f"listen 127.0.0.1:{self.port}", 0),
                (r"^pid .*;$", f"pid {d}/nginx.pid;", re.M),
                (r"^error_log .*;$", f"error_log {d}/error.log warn;", re.M),
                (r"^\s*access_log .*;$",
                 f"    {self.FORMAT}\n    access_log {self.access} todo_ha;", re.M)):
            conf, n = re.subn(pattern, lambda _m, r=repl: r, conf, flags=flags)
            assert n == 1, f"the stack's nginx.conf has one match for {pattern}"
        (d / "nginx.conf").write_text(conf)
        self.cmd = ["nginx", "-p", f"{d}/", "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"]
        subprocess.run(self.cmd, check=True, timeout=30, stdin=subprocess.DEVNULL)
        wait_for(lambda: (d / "nginx.pid").exists(), "the second nginx", 10)

    def entries(self):
        """The access log so far, as dicts (t, method, uri, status, upstream,
        upstream_status), each with `tried`: the hosts in order."""
        out = []
        if self.access.exists():
            for line in self.access.read_text().splitlines():
                e = json.loads(line)
                e["tried"] = [h.strip() for h in e["upstream"].split(",") if h.strip()]
                out.append(e)
        return out

    def stop(self):
        pid_file = self.dir / "nginx.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        pids = process_tree(pid)
        subprocess.run(self.cmd + ["-s", "stop"], timeout=30, stdin=subprocess.DEVNULL,
                       capture_output=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.05)
        signal_all([p for p in pids if alive(p)], signal.SIGKILL)


def served_by(entry):
    """The host that answered a logged request (the last one tried), or None
    when none did (nginx answered 502/504 itself)."""
    statuses = [s.strip() for s in entry["upstream_status"].split(",")]
    if not entry["tried"] or not statuses or statuses[-1] in ("502", "504", "-", ""):
        return None
    return entry["tried"][-1]


# --------------------------------------------------------------------------
# The client


class Load:
    """Client threads, one user, through the nginx at `url`. Each of `threads`
    creates a task with an Idempotency-Key and sends it again with the same
    key on a 5xx, 409, 429 or no answer, 0.2 s apart (sooner than Retry-After
    asks, to time the outage to a fifth of a second), until it is
    acknowledged, giving up only after `give_up` seconds; with reads=True it
    then reads that task and the first page of the listing. Each of
    `readers` only reads that page. Reads are never sent again (nginx must).
    Each thread rests `pause` seconds a round, which keeps the load modest
    on a shared machine. Every attempt is recorded: (sent, answered, kind,
    status, replayed)."""

    RETRY = {0, 409, 429, 500, 502, 503, 504}

    def __init__(self, url, threads=4, readers=0, reads=True, give_up=90, pause=0.02):
        self.url = url.rstrip("/")
        self.user = new_user_id()
        self.tasks = f"{self.url}/api/{self.user}/tasks"
        self.reads = reads
        self.give_up = give_up
        self.pause = pause
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.attempts = []          # (sent, answered, kind, status, replayed)
        self.acked = {}             # key -> (sent, answered, task id) of the acknowledgement
        self.unacked = []           # keys given up on
        self.unexpected = []        # (kind, status, body): neither success nor worth a retry
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True)
                        for n in range(threads)]
        self.threads += [threading.Thread(target=self.run_reader, args=(threads + n,),
                                          daemon=True) for n in range(readers)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """Stops sending new creates; each thread first sees its own through."""
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=self.give_up + 20)
        assert not any(t.is_alive() for t in self.threads), "a client thread is stuck"

    def record(self, sent, kind, status, replayed=False, body=""):
        with self.lock:
            self.attempts.append((sent, time.time(), kind, status, replayed))
            if status not in self.RETRY and not 200 <= status < 300:
                self.unexpected.append((kind, status, body[:300]))

    def session(self, n):
        s = requests.Session()
        s.trust_env = False
        # A token per client, as the per-token rate limit expects of clients.
        s.headers["Authorization"] = "Bearer " + mint(self.user, exp=3600, client=n)
        return s

    def run_reader(self, n):
        s = self.session(n)
        while not self.stop_flag.is_set():
            self.read(s, f"{self.tasks}?limit=5")
            time.sleep(self.pause)

    def run(self, n):
        s = self.session(n)
        i = 0
        while not self.stop_flag.is_set():
            i += 1
            task_id = self.create(s, f"ha-{n}-{i}-{secrets.token_hex(4)}")
            if task_id is not None and self.reads:
                self.read(s, f"{self.tasks}/{task_id}")
                self.read(s, f"{self.tasks}?limit=5")
            time.sleep(self.pause)

    def create(self, s, key):
        deadline = time.monotonic() + self.give_up
        while time.monotonic() < deadline:
            sent = time.time()
            try:
                r = s.post(self.tasks, json={"title": key}, headers={"Idempotency-Key": key},
                           timeout=10)
                status, replayed, body = (r.status_code,
                                          r.headers.get("Idempotent-Replayed") == "true", r.text)
            except requests.RequestException:
                status, replayed, body = 0, False, ""
            self.record(sent, "create", status, replayed, body)
            if status == 201:
                with self.lock:
                    self.acked[key] = (sent, time.time(), r.json()["id"])
                return r.json()["id"]
            if status not in self.RETRY:
                return None
            time.sleep(0.2)
        with self.lock:
            self.unacked.append(key)
        return None

    def read(self, s, url):
        sent = time.time()
        try:
            r = s.get(url, timeout=10)
            status, body = r.status_code, r.text
        except requests.RequestException:
            status, body = 0, ""
        self.record(sent, "read", status, body=body)

    # ---- what was seen

    def of(self, kind, since=0.0, until=float("inf")):
        return [a for a in self.attempts if a[2] == kind and since <= a[0] < until]

    def first_ack_sent_after(self, t):
        """When the first create sent at or after t was acknowledged, or None."""
        times = [a[1] for a in self.of("create", since=t) if a[3] == 201]
        return min(times) if times else None

    def summary(self):
        """(creates: keys, attempts, 5xx, no answer, replayed; reads: sent, failed)."""
        creates, reads = self.of("create"), self.of("read")
        return {
            "keys": len(self.acked) + len(self.unacked),
            "acked": len(self.acked),
            "create_attempts": len(creates),
            "create_5xx": sum(1 for a in creates if a[3] >= 500),
            "create_409": sum(1 for a in creates if a[3] == 409),
            "create_no_answer": sum(1 for a in creates if a[3] == 0),
            "replayed": sum(1 for a in creates if a[4]),
            "reads": len(reads),
            "reads_failed": sum(1 for a in reads if a[3] != 200),
        }
