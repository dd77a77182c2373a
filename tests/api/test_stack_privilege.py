"""Who may reach the local stack's database (issue 10, item 20; issue 11,
item 3).

`make run`'s PostgreSQL answers only the stack's own users: its socket folder
admits no one else, and peer authentication maps each operating-system user
to the roles it may use. The workers connect as a role that owns nothing and
may only read and write the application's rows; the migrations ran as the
owner, which is no superuser either. And a checkout in a folder only root may
enter (/root on a new VPS), started as root, runs."""

import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import jwt
import pytest

from helpers import ADMIN_DATABASE_URL, DATABASE_URL, new_user_id

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BIN = os.environ.get("TODO_BIN", os.path.join(REPO, "build/todo-fcgi"))
# The workers' operating-system user (set when the stack runs as root).
WORKER_USER = os.environ.get("TODO_WORKER_USER", "")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="acts as other users: needs root")


def url_param(url, name):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.parse_qs(u.query).get(name, [""])[0]


def socket_dir():
    if not DATABASE_URL:
        pytest.skip("TODO_DATABASE_URL is not set (run through tests/run-api.sh)")
    host = url_param(DATABASE_URL, "host")
    if not host.startswith("/"):
        pytest.skip(f"the stack's database is not on a Unix socket: {DATABASE_URL}")
    return host


@pytest.fixture(scope="module")
def app():
    """The workers' role: the user of the DATABASE_URL the stack gives them."""
    socket_dir()
    return url_param(DATABASE_URL, "user")


def db_owner():
    return admin("SELECT r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba"
                 " WHERE d.datname = current_database()")


def with_user(url, user, dbname=None):
    """`url` with another role (and database)."""
    u = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(u.query))
    q["user"] = user
    # By hand: urlunsplit drops the // of an empty host (postgresql:///db).
    return (f"{u.scheme}://{u.netloc}{'/' + dbname if dbname else u.path}"
            f"?{urllib.parse.urlencode(q)}")


def psql(url, sql, os_user=None):
    """Runs `sql` through psql (as `os_user` when given); the CompletedProcess."""
    cmd = ["psql", url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
    if os_user:
        pw = pwd.getpwnam(os_user)
        cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups",
               "--"] + cmd
    return subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=30,
                          cwd="/", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def admin(sql):
    p = psql(ADMIN_DATABASE_URL, sql)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


# --------------------------------------------------------------------------
# The socket and authentication


def test_the_socket_folder_admits_no_other_user():
    st = os.stat(socket_dir())
    assert st.st_mode & 0o007 == 0, f"{socket_dir()} has mode {st.st_mode & 0o7777:o}"
    assert st.st_mode & 0o020 == 0, "group members may not add files beside the socket"


@as_root
def test_another_local_user_cannot_connect(app):
    # nobody stands for any local account: a web application, a shell user.
    for role in {"postgres", app}:
        p = psql(with_user(DATABASE_URL, role), "SELECT 1", os_user="nobody")
        assert p.returncode != 0, f"nobody connected as {role}: {p.stdout}"


@as_root
def test_the_workers_user_may_use_only_the_workers_role(app):
    if not WORKER_USER:
        pytest.skip("TODO_WORKER_USER is not set (the stack runs as root through run-api.sh)")
    p = psql(DATABASE_URL, "SELECT current_user", os_user=WORKER_USER)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == app
    for other in {"postgres", db_owner()} - {app}:
        p = psql(with_user(DATABASE_URL, other), "SELECT 1", os_user=WORKER_USER)
        assert p.returncode != 0, f"{WORKER_USER} connected as {other}"


# --------------------------------------------------------------------------
# The workers' role


def test_the_workers_connect_as_a_role_that_is_no_superuser(app):
    assert app and app != "postgres", DATABASE_URL
    rows = json.loads(admin(
        "SELECT coalesce(json_agg(DISTINCT a.usename), '[]') FROM pg_stat_activity a"
        " WHERE a.application_name = 'todo-fcgi' AND a.pid <> pg_backend_pid()"))
    assert rows == [app], rows
    flags = admin(f"SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
                  f" FROM pg_roles WHERE rolname = '{app}'")
    assert flags == "f|f|f|f|f", flags


def test_the_workers_role_owns_nothing(app):
    owned = admin(f"""
        WITH r AS (SELECT oid FROM pg_roles WHERE rolname = '{app}')
        SELECT (SELECT count(*) FROM pg_class, r WHERE relowner = r.oid)
             + (SELECT count(*) FROM pg_type, r WHERE typowner = r.oid)
             + (SELECT count(*) FROM pg_proc, r WHERE proowner = r.oid)
             + (SELECT count(*) FROM pg_namespace, r WHERE nspowner = r.oid)
             + (SELECT count(*) FROM pg_database, r WHERE datdba = r.oid)""")
    assert owned == "0"


def test_the_workers_role_reads_and_writes_tasks(app):
    user = new_user_id()
    p = psql(DATABASE_URL, f"""
        BEGIN;
        INSERT INTO users (id) VALUES ('{user}');
        INSERT INTO tasks (user_id, title) VALUES ('{user}', 'by the workers'' role');
        UPDATE tasks SET completed = true WHERE user_id = '{user}';
        SELECT title, completed FROM tasks WHERE user_id = '{user}';
        DELETE FROM tasks WHERE user_id = '{user}';
        DELETE FROM users WHERE id = '{user}';
        COMMIT;""", os_user=WORKER_USER or None)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "by the workers' role|t"


@pytest.mark.parametrize("sql", [
    "CREATE TABLE intruder (x int)",
    "CREATE TEMP TABLE intruder (x int)",
    "DROP TABLE tasks",
    "ALTER TABLE tasks ADD COLUMN intruder int",
    "TRUNCATE tasks",
    "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE INDEX intruder ON tasks (title)",
    "COPY (SELECT 1) TO PROGRAM 'true'",
    "SELECT pg_read_file('postgresql.conf')",
    "DELETE FROM schema_migrations WHERE false",
    "CREATE ROLE intruder",
    "CREATE DATABASE intruder",
], ids=["create", "temp", "drop", "alter", "truncate", "function", "index",
        "copy-to-program", "read-file", "migrations", "role", "database"])
def test_the_workers_role_may_not(app, sql):
    # Each in a transaction that is rolled back, should the role be allowed.
    txn = "CREATE DATABASE" not in sql
    p = psql(DATABASE_URL, f"BEGIN; {sql}; ROLLBACK;" if txn else f"{sql};",
             os_user=WORKER_USER or None)
    assert p.returncode != 0, f"the workers' role may: {sql}"
    assert "permission denied" in p.stderr or "must be" in p.stderr, p.stderr
    if not txn:
        admin("DROP DATABASE IF EXISTS intruder")


def test_the_workers_role_reaches_no_other_database(app):
    p = psql(with_user(DATABASE_URL, app, dbname="postgres"), "SELECT 1",
             os_user=WORKER_USER or None)
    assert p.returncode != 0, "the workers' role connected to the database postgres"


def schema_tables():
    """The tables schema/*.sql creates."""
    names = set()
    for f in glob.glob(os.path.join(REPO, "schema/*.sql")):
        names |= set(re.findall(r"^CREATE TABLE (\w+)", open(f).read(), re.M))
    return sorted(names)


def test_the_migrations_ran_as_an_owner_that_is_no_superuser(app):
    tables = schema_tables()
    assert "tasks" in tables, tables
    owners = json.loads(admin(f"""
        SELECT coalesce(json_agg(DISTINCT r.rolname), '[]')
        FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relname IN ('schema_migrations', '{"', '".join(tables)}')"""))
    assert len(owners) == 1 and owners[0] not in ("postgres", app), owners
    assert admin(f"SELECT rolsuper FROM pg_roles WHERE rolname = '{owners[0]}'") == "f"
    assert db_owner() == owners[0]


def test_roles_sql_gives_any_database_the_same_least_privilege():
    # Production runs deploy/roles.sql by hand, with names of its own: the
    # migrations then apply as that owner (no superuser), and that app role
    # reads and writes rows and nothing more.
    tag = new_user_id()[2:]
    owner, app, db = f"t_owner_{tag}", f"t_app_{tag}", f"t_db_{tag}"
    roles = ["-v", f"owner={owner}", "-v", f"app={app}", "-v", f"db={db}",
             "-f", os.path.join(REPO, "deploy/roles.sql")]
    other_db = ADMIN_DATABASE_URL.replace("/todo?", f"/{db}?", 1)
    assert other_db != ADMIN_DATABASE_URL, ADMIN_DATABASE_URL

    def run(url, *args, sql=None):
        p = subprocess.run(["psql", url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", *args],
                           input=sql, capture_output=True, text=True, timeout=60)
        return p

    try:
        p = run(ADMIN_DATABASE_URL, *roles)
        assert p.returncode == 0, p.stderr
        migrations = "".join(f"\\i {f}\n" for f in sorted(
            glob.glob(os.path.join(REPO, "schema/*.sql"))))
        p = run(other_db, sql=f"SET ROLE {owner};\n{migrations}")
        assert p.returncode == 0, p.stderr
        p = run(other_db, *roles)
        assert p.returncode == 0, p.stderr
        p = run(other_db, sql=f"""SET ROLE {app};
            INSERT INTO users (id) VALUES ('u1');
            INSERT INTO tasks (user_id, title) VALUES ('u1', 'x');
            UPDATE tasks SET completed = true;
            SELECT count(*) FROM tasks WHERE completed;
            DELETE FROM users;""")
        assert p.returncode == 0 and p.stdout.strip() == "1", p.stderr
        for sql in ("CREATE TABLE intruder (x int)", "CREATE TEMP TABLE intruder (x int)",
                    "DROP TABLE tasks", "COPY (SELECT 1) TO PROGRAM 'true'"):
            p = run(other_db, sql=f"SET ROLE {app}; {sql};")
            assert p.returncode != 0, f"{app} may: {sql}"
        assert run(other_db, "-c", f"SELECT rolsuper FROM pg_roles WHERE rolname = '{owner}'"
                   ).stdout.strip() == "f"
    finally:
        run(ADMIN_DATABASE_URL, "-c", f"DROP DATABASE IF EXISTS {db}")
        run(ADMIN_DATABASE_URL, "-c", f"DROP ROLE IF EXISTS {owner}", "-c",
            f"DROP ROLE IF EXISTS {app}")


# --------------------------------------------------------------------------
# A checkout only root may enter (issue 11, item 3)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, token=None, data=None):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def read_env(path):
    out = {}
    for line in open(path):
        if "=" in line and not line.startswith("#"):
            k, v = line.rstrip("\n").split("=", 1)
            out[k] = v.strip("'")
    return out


@as_root
def test_a_checkout_under_a_root_only_folder_starts_as_root():
    home = tempfile.mkdtemp(prefix="todo-root-home-")     # mode 0700, like /root
    assert os.stat(home).st_mode & 0o777 == 0o700
    clone = os.path.join(home, "todo-fcgi")
    for d in ("deploy", "schema", "web", "openapi"):
        shutil.copytree(os.path.join(REPO, d), os.path.join(clone, d))
    os.makedirs(os.path.join(clone, "build"))
    shutil.copy2(BIN, os.path.join(clone, "build/todo-fcgi"))
    stack = os.path.join(clone, "deploy/stack.sh")
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "HTTP_PORT": str(free_port()), "WORKERS": "2", "HOME": home}
    try:
        p = subprocess.run([stack, "start"], cwd=clone, env=env, capture_output=True,
                           text=True, timeout=180)
        assert p.returncode == 0, p.stdout + p.stderr
        settings = read_env(os.path.join(clone, "var/stack.env"))
        base = settings["TODO_URL"]
        assert fetch(base + "/api/health")[0] == 200
        status, body = fetch(base + "/")
        assert status == 200 and b"<html" in body.lower(), body[:200]
        user = new_user_id()
        token = jwt.encode({"sub": user, "exp": int(time.time()) + 300},
                           settings["JWT_SECRET"], algorithm="HS256")
        status, body = fetch(f"{base}/api/{user}/tasks", token, b'{"title": "from /root"}')
        assert status == 201, body
        status, body = fetch(f"{base}/api/{user}/tasks", token)
        assert status == 200 and [t["title"] for t in json.loads(body)] == ["from /root"]
        # Nothing of the checkout was opened up to let the services in.
        assert os.stat(home).st_mode & 0o777 == 0o700
    finally:
        p = subprocess.run([stack, "wipe"], cwd=clone, env=env, capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            subprocess.run([stack, "stop"], cwd=clone, env=env, timeout=120)
        shutil.rmtree(home, ignore_errors=True)
    assert p.returncode == 0, p.stdout + p.stderr
