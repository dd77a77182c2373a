"""A pg_auto_failover formation for the tests (Debian 12: postgresql-15-auto-
failover, pg-auto-failover-cli): a monitor, a primary and a synchronous
secondary, each a PostgreSQL listening on 127.0.0.1 only, on a port of its
own, with its Unix socket in the formation's temporary folder. All of it runs
as the postgres user (PostgreSQL refuses root); the folder holds the data,
pg_autoctl's configuration and state (XDG_CONFIG_HOME, XDG_DATA_HOME) and the
logs, and is deleted when the formation stops. pg_hba.conf trusts loopback
(initdb --auth=trust): a throwaway cluster that lives for one test.

The failover is made to take seconds, not a minute, and stays safe in the
same way: the monitor checks each node every second and gives up on one after
2 s without an answer; it then waits PRIMARY_DEMOTE_TIMEOUT (5 s, default 30)
for the lost primary to step down before letting the secondary take writes,
and a primary's keeper that cannot reach the monitor steps down by itself
after NETWORK_PARTITION_TIMEOUT (3 s, default 20), well within that wait."""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import ha

REPO = ha.REPO
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_AUTOCTL = shutil.which("pg_autoctl")

# Monitor settings (schema pgautofailover's GUCs), milliseconds.
MONITOR_CONF = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 2000,
    "pgautofailover.primary_demote_timeout": 5000,
}
NETWORK_PARTITION_TIMEOUT = 3       # seconds, each keeper


def available():
    """Why the formation cannot run here, or None."""
    if not PG_AUTOCTL:
        return "pg_autoctl is not installed (deploy/install-deps.sh test)"
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        return f"PostgreSQL 15 is not in {PG_BIN}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "run as root, the tests need the postgres user"
    return None


def as_postgres(cmd):
    if os.geteuid() != 0:
        return cmd
    pw = pwd.getpwnam("postgres")
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups",
            "--"] + cmd


class Node:
    def __init__(self, formation, name, port):
        self.name, self.port = name, port
        self.pgdata = os.path.join(formation.dir, name)
        self.log = os.path.join(formation.dir, f"{name}.log")
        self.proc = None            # pg_autoctl run (or create --run)

    def conninfo(self, db="todo", user="postgres"):
        return f"host=127.0.0.1 port={self.port} dbname={db} user={user} connect_timeout=3"


class Formation:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="todo-pgaf-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.sock = os.path.join(self.dir, "sock")
        ports = [ha.free_port("127.0.0.1") for _ in range(3)]
        while len(set(ports)) < 3:
            ports = [ha.free_port("127.0.0.1") for _ in range(3)]
        self.monitor = Node(self, "monitor", ports[0])
        self.nodes = [Node(self, "node1", ports[1]), Node(self, "node2", ports[2])]
        self.env = {"PATH": f"{PG_BIN}:/usr/bin:/bin", "HOME": self.dir, "PGHOST": self.sock,
                    "XDG_CONFIG_HOME": os.path.join(self.dir, "config"),
                    "XDG_DATA_HOME": os.path.join(self.dir, "data"),
                    "XDG_RUNTIME_DIR": os.path.join(self.dir, "run")}
        self.monitor_url = (f"postgres://autoctl_node@127.0.0.1:{self.monitor.port}"
                            "/pg_auto_failover?sslmode=disable")

    # ---- running things as postgres

    def run(self, *cmd, timeout=60):
        p = subprocess.run(as_postgres(list(cmd)), env=self.env, cwd=self.dir,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        if p.returncode != 0:
            pytest.fail(f"{' '.join(cmd[:3])}... failed ({p.returncode}):\n"
                        f"{p.stdout[-2000:]}{p.stderr[-3000:]}")
        return p.stdout

    def spawn(self, node, *cmd):
        log = open(node.log, "ab")
        node.proc = subprocess.Popen(as_postgres(list(cmd)), env=self.env, cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()

    def initdb(self, node):
        """A cluster of our own making, so that its socket is in our folder
        and it listens on loopback only from its first start."""
        self.run(f"{PG_BIN}/initdb", "-D", node.pgdata, "--auth=trust", "-U", "postgres",
                 "-E", "UTF8", "--locale=C.UTF-8")
        conf = {"unix_socket_directories": f"'{self.sock}'", "listen_addresses": "'127.0.0.1'"}
        if node is self.monitor:
            conf.update(MONITOR_CONF)
        with open(os.path.join(node.pgdata, "postgresql.conf"), "a") as f:
            f.write("\n# tests/ha/formation.py\n")
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())

    def psql(self, node, sql, db="todo", user="postgres"):
        """Rows of one statement, as lists of strings (psql's unaligned output)."""
        p = subprocess.run(["psql", node.conninfo(db, user), "-XAtq", "-F", "\t",
                            "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, timeout=20)
        if p.returncode != 0:
            raise RuntimeError(p.stderr.strip())
        return [line.split("\t") for line in p.stdout.splitlines()]

    def states(self):
        """{node name: (reported state, assigned state)} as the monitor sees them."""
        try:
            rows = self.psql(self.monitor, "SELECT nodename, reportedstate, goalstate"
                             " FROM pgautofailover.node", db="pg_auto_failover")
        except (RuntimeError, subprocess.TimeoutExpired):
            return {}
        return {r[0]: (r[1], r[2]) for r in rows}

    def monitor_answers(self):
        try:
            return self.psql(self.monitor, "SELECT 1", db="pg_auto_failover") == [["1"]]
        except (RuntimeError, subprocess.TimeoutExpired):
            return False

    def wait_states(self, want, timeout, nudge=None):
        """Waits until every node in `want` reports and is assigned its state;
        CHECKPOINT on `nudge` meanwhile (pg_basebackup, which pg_autoctl runs
        for a new secondary, waits for a checkpoint, by default a spread one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.states()
            if all(st.get(n) == (s, s) for n, s in want.items()):
                return
            for node in self.monitor, *self.nodes:
                if node.proc is not None and node.proc.poll() is not None:
                    pytest.fail(f"pg_autoctl of {node.name} exited:\n{self.tail(node)}")
            if nudge is not None:
                try:
                    self.psql(nudge, "CHECKPOINT", db="postgres")
                except (RuntimeError, subprocess.TimeoutExpired):
                    pass
            time.sleep(0.5)
        pytest.fail(f"the formation did not reach {want} in {timeout} s: {self.states()}\n"
                    + "\n".join(self.tail(n) for n in self.nodes))

    def tail(self, node, n=3000):
        try:
            with open(node.log, errors="replace") as f:
                return f"--- {node.name}:\n" + f.read()[-n:]
        except OSError:
            return ""

    # ---- start and stop

    def start(self):
        os.makedirs(self.sock, mode=0o700, exist_ok=True)
        for d in ("config", "data", "run"):
            os.makedirs(os.path.join(self.dir, d), mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for d in ("sock", "config", "data", "run"):
                os.chown(os.path.join(self.dir, d), pw.pw_uid, pw.pw_gid)
        common = ["--pgctl", f"{PG_BIN}/pg_ctl", "--listen", "127.0.0.1", "--hostname",
                  "127.0.0.1", "--auth", "trust", "--no-ssl"]
        m = self.monitor
        self.initdb(m)
        self.run(PG_AUTOCTL, "create", "monitor", "--pgdata", m.pgdata, "--pgport", str(m.port),
                 *common)
        self.spawn(m, PG_AUTOCTL, "run", "--pgdata", m.pgdata)
        ha.wait_for(self.monitor_answers,
                    "the monitor", 30, every=0.2)
        for i, node in enumerate(self.nodes):
            if i == 0:
                self.initdb(node)       # the secondary is a copy of the primary
            self.spawn(node, PG_AUTOCTL, "create", "postgres", "--pgdata", node.pgdata,
                       "--pgport", str(node.port), "--name", node.name, "--dbname", "todo",
                       "--monitor", self.monitor_url, *common, "--run")
            if i == 0:
                self.wait_states({"node1": "single"}, 60)
            else:
                self.wait_states({"node1": "primary", "node2": "secondary"}, 90,
                                 nudge=self.nodes[0])
            self.run(PG_AUTOCTL, "config", "set", "--pgdata", node.pgdata,
                     "timeout.network_partition_timeout", str(NETWORK_PARTITION_TIMEOUT))
            os.kill(node.proc.pid, signal.SIGHUP)      # pg_autoctl reloads its configuration

    def setup_database(self):
        """The roles and the schema, as deploy/README.md sets them up: roles.sql,
        the database handed to the owner role, --migrate as the owner, roles.sql
        again. Written to the primary, read back from the secondary."""
        primary = self.nodes[0]
        roles = ["psql", primary.conninfo("postgres"), "-Xq", "-v", "ON_ERROR_STOP=1",
                 "-f", os.path.join(REPO, "deploy/roles.sql")]
        for cmd in (roles,
                    ["psql", primary.conninfo("postgres"), "-Xq", "-v", "ON_ERROR_STOP=1",
                     "-c", "ALTER DATABASE todo OWNER TO todo_owner"],
                    [ha.BIN, "--migrate", "--schema-dir", os.path.join(REPO, "schema")],
                    roles):
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
                   "DATABASE_URL": primary.conninfo(user="todo_owner"), "JWT_SECRET": ha.SECRET}
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, (cmd[:3], p.stdout[-2000:], p.stderr[-2000:])
        ha.wait_for(lambda: self.has_schema(self.nodes[1]), "the schema on the secondary", 30)

    def has_schema(self, node):
        try:
            return self.psql(node, "SELECT to_regclass('tasks') IS NOT NULL") == [["t"]]
        except (RuntimeError, subprocess.TimeoutExpired):
            return False

    def uri(self, **params):
        """The formation's connection string (`pg_autoctl show uri`), every
        node in it, with extra query parameters."""
        out = self.run(PG_AUTOCTL, "show", "uri", "--pgdata", self.monitor.pgdata,
                       "--formation", "default").strip()
        return ha.with_params(out, **params)

    def kill(self, node):
        """SIGKILL to the node's keeper (pg_autoctl) and its PostgreSQL, every
        process at once, as when its host is lost. Returns the time of the kill."""
        pids = ha.process_tree(node.proc.pid)
        killed = time.time()
        ha.signal_all(pids, signal.SIGKILL)
        node.proc.wait(timeout=10)
        ha.wait_for(lambda: not any(ha.alive(p) for p in pids), f"{node.name} to die", 10)
        return killed

    def stop(self):
        procs = [n for n in (*self.nodes, self.monitor) if n.proc is not None]
        trees = {n.name: ha.process_tree(n.proc.pid) for n in procs}
        for n in procs:                 # data nodes first, the monitor last
            if n.proc.poll() is None:
                n.proc.send_signal(signal.SIGTERM)
                try:
                    n.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
        left = [p for pids in trees.values() for p in pids if ha.alive(p)]
        ha.signal_all(left, signal.SIGKILL)
        for n in procs:
            if n.proc.poll() is None:
                n.proc.wait(timeout=10)
        # A postmaster that pg_autoctl started outside its tree, if any.
        for n in (*self.nodes, self.monitor):
            pid_file = os.path.join(n.pgdata, "postmaster.pid")
            try:
                with open(pid_file) as f:
                    pid = int(f.readline())
            except (OSError, ValueError):
                continue
            if ha.alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

