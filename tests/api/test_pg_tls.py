"""TLS to PostgreSQL (issue 4; what a Neon URL needs): the test starts a
throwaway PostgreSQL 15 cluster of its own with ssl=on and a certificate for
localhost signed by a CA made here with openssl, listening on 127.0.0.1 on a
free port, whose pg_hba.conf admits TCP clients only over TLS. Then:

- `sslmode=require` (encrypted, certificate not checked) works: the schema
  migrates, a worker serves reads and writes, and PostgreSQL reports the
  worker's connection as TLS;
- `sslmode=verify-full` with the right CA and host=localhost works;
- `verify-full` with another CA fails cleanly: the worker stays up, /api/health
  answers 200, /api/ready and task requests 503, and the log says why;
- without TLS the server refuses the worker (so the passes above were TLS).
"""

import os
import shutil
import subprocess
import urllib.parse

import pytest

from helpers import mint, new_user_id
from test_pgbouncer import (  # noqa: F401  (own_worker is a fixture)
    BIN, call, free_port, own_worker, private_dir, run_as_postgres,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
OPENSSL = shutil.which("openssl")


def pg_bindir():
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    for d in (out, "/usr/lib/postgresql/15/bin"):
        if d and os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    return None


def openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_ca(d, name):
    """A self-signed CA: <name>.key, <name>.pem."""
    openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
            "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def make_server_cert(d, ca):
    """server.key and server.crt for CN=localhost (SAN DNS:localhost,
    IP:127.0.0.1), signed by `ca`."""
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
            cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
            cwd=d)


@pytest.fixture(scope="module")
def tls_pg():
    """A PostgreSQL 15 cluster with ssl=on on 127.0.0.1:<port>; yields
    (port, folder holding ca.pem and other-ca.pem). Stopped (immediate) and
    deleted after the module."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server programs not found (postgresql-15)")
    if OPENSSL is None:
        pytest.skip("openssl not found")
    d = private_dir("todo-pgtls-")
    pgdata = os.path.join(d, "pgdata")
    log = os.path.join(d, "postgresql.log")
    port = free_port()
    started = False
    try:
        make_ca(d, "ca")
        make_ca(d, "other-ca")
        make_server_cert(d, "ca")
        for name in os.listdir(d):
            path = os.path.join(d, name)
            os.chmod(path, 0o600 if name.endswith(".key") else 0o644)
            if os.geteuid() == 0:
                st = os.stat(d)
                os.chown(path, st.st_uid, st.st_gid)
        subprocess.run(run_as_postgres([f"{bindir}/initdb", "-D", pgdata, "-U", "postgres",
                                        "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                                        "--no-sync"]),
                       check=True, capture_output=True, timeout=60, cwd="/")
        with open(os.path.join(pgdata, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "hostssl all all 127.0.0.1/32 trust\n"
                    "hostnossl all all 127.0.0.1/32 reject\n")
        opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={d}"
                f" -c ssl=on -c ssl_cert_file={d}/server.crt -c ssl_key_file={d}/server.key"
                " -c fsync=off -c max_connections=20")
        subprocess.run(run_as_postgres([f"{bindir}/pg_ctl", "-D", pgdata, "-l", log, "-w",
                                        "-t", "30", "-s", "-o", opts, "start"]),
                       check=True, capture_output=True, timeout=40, cwd="/")
        started = True
        yield port, d
    except subprocess.CalledProcessError as e:
        tail = open(log).read()[-2000:] if os.path.exists(log) else ""
        pytest.fail(f"{e.cmd[0]} failed: {e.stderr.decode()[-2000:]} {tail}")
    finally:
        if started:
            subprocess.run(run_as_postgres([f"{bindir}/pg_ctl", "-D", pgdata, "-m",
                                            "immediate", "-w", "-t", "20", "-s", "stop"]),
                           capture_output=True, timeout=30, cwd="/")
        shutil.rmtree(d, ignore_errors=True)


def url(port, **params):
    return (f"postgresql://postgres@127.0.0.1:{port}/postgres?"
            + urllib.parse.urlencode({"connect_timeout": "5", **params}))


@pytest.fixture(scope="module")
def migrated(tls_pg):
    """The schema applied through an sslmode=require connection."""
    port, d = tls_pg
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "DATABASE_URL": url(port, sslmode="require")}
    p = subprocess.run([BIN, "--migrate", "--schema-dir", os.path.join(REPO, "schema")],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return tls_pg


def serves_tasks(addr):
    """A write and a read through the worker succeed."""
    user = new_user_id()
    tok = mint(user)
    status, _, body = call(addr, "GET", "/api/ready")
    assert status == 200, body
    status, _, t = call(addr, "POST", f"/api/{user}/tasks", {"title": "over TLS"}, tok)
    assert status == 201, t
    status, h, got = call(addr, "GET", f"/api/{user}/tasks", token=tok)
    assert status == 200 and [x["title"] for x in got] == ["over TLS"], got


def tls_backends(port):
    """How many of the cluster's client backends use TLS (asked over TLS)."""
    p = subprocess.run(["psql", url(port, sslmode="require"), "-X", "-A", "-t", "-c",
                        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                        " WHERE s.ssl AND a.application_name = 'todo-fcgi'"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.strip())


def test_sslmode_require_migrates_and_serves(migrated, own_worker):
    port, _ = migrated
    _, addr, _ = own_worker(url(port, sslmode="require"))
    serves_tasks(addr)
    assert tls_backends(port) >= 1


def test_sslmode_verify_full_with_the_right_ca_serves(migrated, own_worker):
    port, d = migrated
    _, addr, _ = own_worker(url(port, sslmode="verify-full", sslrootcert=f"{d}/ca.pem",
                                host="localhost"))
    serves_tasks(addr)


def test_verify_full_with_another_ca_fails_cleanly_and_the_worker_stays_up(migrated, own_worker):
    port, d = migrated
    proc, addr, log = own_worker(url(port, sslmode="verify-full",
                                     sslrootcert=f"{d}/other-ca.pem", host="localhost"))
    status, _, body = call(addr, "GET", "/api/health")
    assert status == 200, body
    status, h, body = call(addr, "GET", "/api/ready")
    assert status == 503, body
    assert int(h["retry-after"]) > 0
    user = new_user_id()
    status, h, body = call(addr, "GET", f"/api/{user}/tasks", token=mint(user))
    assert status == 503 and body == {"detail": "Service unavailable"}, body
    assert proc.poll() is None
    assert "certificate verify failed" in log.read_text(errors="replace")


def test_without_tls_the_server_refuses_the_worker(migrated, own_worker):
    port, _ = migrated
    proc, addr, _ = own_worker(url(port, sslmode="disable"))
    status, _, body = call(addr, "GET", "/api/ready")
    assert status == 503, body
    assert proc.poll() is None
