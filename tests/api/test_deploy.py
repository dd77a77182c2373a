"""Deployment (issue 4): the systemd units pass `systemd-analyze verify` and
`security`; the service's exact command line runs a pool on a socket handed
on fd 0, as systemd's StandardInput=socket does, and reloads and stops on the
signals the unit sends; deploy/spawn-fcgi.example starts the same pool; `make
install` honours PREFIX and DESTDIR; nginx.conf.example passes `nginx -t`;
deploy/env.example lists every setting of README.md with its default, and
those defaults start the program."""

import grp
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time

import pytest

import fcgi_client
from helpers import alive, mint, new_user_id
from test_pgbouncer import BIN, DATABASE_URL, SECRET, SANITIZER_RE, private_dir, stop

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
UNITS = os.path.join(REPO, "deploy/systemd")
INSTALLED_BIN = "/usr/local/bin/todo-fcgi"


def unit_values(name, key):
    """Every value of `key=` in deploy/systemd/<name>."""
    with open(os.path.join(UNITS, name)) as f:
        return [l.split("=", 1)[1].strip() for l in f if l.startswith(key + "=")]


def service_argv(env_file):
    """The service's ExecStart=, with the test's program and env file."""
    (cmd,) = unit_values("todo-fcgi.service", "ExecStart")
    argv = shlex.split(cmd)
    assert argv[0] == INSTALLED_BIN, argv
    return [BIN] + [env_file if a == "/etc/todo-fcgi/env" else a for a in argv[1:]]


def timeout_value(name, key):
    (v,) = unit_values(name, key)
    assert v.isdigit(), f"{key}={v}: expected plain seconds"
    return int(v)


def flag_value(argv, flag):
    return argv[argv.index(flag) + 1]


def write_env_file(d):
    path = os.path.join(d, "env")
    with open(path, "w") as f:
        f.write(f"# test settings\nDATABASE_URL={DATABASE_URL}\nJWT_SECRET='{SECRET}'\n")
    os.chmod(path, 0o644)
    return path


def request(sock_path, method, path, token=None, body=b""):
    return fcgi_client.request(sock_path, fcgi_client.params(method, path, body, token),
                               body, timeout=10)


def worker_pids(sock_path):
    """The pool's worker pids, from /api/status; empty while it does not answer."""
    try:
        status, _, body = request(sock_path, "GET", "/api/status")
    except OSError:
        return set()
    if status != 200:
        return set()
    return {w["pid"] for w in json.loads(body)["workers"] if w["state"] in ("idle", "busy")}


def wait_for(cond, what, timeout=20, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    tail = open(log, errors="replace").read()[-3000:] if log and os.path.exists(log) else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


def assert_clean_log(log):
    text = open(log, errors="replace").read()
    assert not SANITIZER_RE.search(text), text[-4000:]


@pytest.fixture
def tmpdir_shared():
    """A temporary folder other users (nobody, postgres) can traverse."""
    d = private_dir("todo-deploy-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# systemd


def test_systemd_units_pass_systemd_analyze():
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not found (Debian package systemd; deploy/install-deps.sh test)")
    p = subprocess.run([os.path.join(UNITS, "verify.sh"), BIN], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "systemd-analyze verify: ok" in p.stdout


def test_units_agree_with_each_other_and_the_program():
    # The socket nginx (www-data) connects to, handed on stdin to the service.
    assert unit_values("todo-fcgi.socket", "ListenStream") == ["/run/todo-fcgi/todo.sock"]
    assert unit_values("todo-fcgi.socket", "SocketGroup") == ["www-data"]
    assert unit_values("todo-fcgi.socket", "SocketMode") == ["0660"]
    assert unit_values("todo-fcgi.socket", "Accept") == ["no"]
    assert unit_values("todo-fcgi.service", "StandardInput") == ["socket"]
    # Output must not go to the socket.
    assert unit_values("todo-fcgi.service", "StandardOutput") == ["journal"]
    assert unit_values("todo-fcgi.service", "StandardError") == ["journal"]
    argv = service_argv("/etc/todo-fcgi/env")
    # Every flag is one the program documents.
    usage = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=10).stdout
    for a in argv[1:]:
        if a.startswith("--"):
            assert a in usage, f"{a} is not in todo-fcgi --help"
    # systemd's SIGKILL comes only after the master's own drain has had its time.
    assert timeout_value("todo-fcgi.service", "TimeoutStopSec") > \
        int(flag_value(argv, "--shutdown-timeout")) + 5
    assert unit_values("todo-fcgi.service", "KillMode") in (["mixed"], ["process"])
    assert unit_values("todo-fcgi.service", "ExecReload") == ["/bin/kill -HUP $MAINPID"]


def test_service_command_line_serves_reloads_and_stops_on_an_inherited_socket(tmpdir_shared):
    """What systemd does with the two units, minus the sandbox: bind the
    socket, start ExecStart= with it on fd 0, ExecReload= (SIGHUP to the main
    process), stop with KillMode=mixed (SIGTERM to the main process only)."""
    d = tmpdir_shared
    sock_path = os.path.join(d, "todo.sock")
    argv = service_argv(write_env_file(d))
    workers = int(flag_value(argv, "--workers"))
    log = os.path.join(d, "service.log")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(128)
    env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=listener.fileno(), stdout=out, stderr=out, env=env)
    listener.close()        # the service holds it now, as systemd would keep its copy
    try:
        first = wait_for(lambda: len(worker_pids(sock_path)) == workers and worker_pids(sock_path),
                         f"{workers} workers", log=log)
        user = new_user_id()
        tok = mint(user)
        status, _, body = request(sock_path, "POST", f"/api/{user}/tasks", tok,
                                  b'{"title": "socket-activated"}')
        assert status == 201, body

        # systemctl reload: every worker replaced, no request failing meanwhile.
        proc.send_signal(signal.SIGHUP)
        failed, sent = 0, 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, _, _ = request(sock_path, "GET", f"/api/{user}/tasks", tok)
            sent += 1
            failed += status != 200
            now = worker_pids(sock_path)
            if len(now) == workers and not now & first:
                break
        else:
            pytest.fail(f"the workers were not replaced after SIGHUP: {first} -> {now}")
        assert failed == 0, f"{failed} of {sent} requests failed during the reload"

        # systemctl stop: SIGTERM to the master alone; it must exit 0, workers
        # gone, well within TimeoutStopSec.
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=timeout_value("todo-fcgi.service", "TimeoutStopSec"))
        assert rc == 0, open(log, errors="replace").read()[-3000:]
        assert not [p for p in now if alive(p)]
    finally:
        stop(proc)
    assert_clean_log(log)


def test_plain_socket_activation_on_fd_3_serves_and_stops(tmpdir_shared):
    """systemd without StandardInput=socket (sd_listen_fds(3)): the socket on
    fd 3, LISTEN_FDS=1 and LISTEN_PID naming the program."""
    d = tmpdir_shared
    sock_path = os.path.join(d, "todo.sock")
    log = os.path.join(d, "activated.log")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(128)
    # The shell moves the socket from fd 0 to fd 3 and execs the program
    # with its own pid, as systemd does.
    argv = ["/bin/sh", "-c", 'exec 3<&0 0</dev/null; LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"',
            "sh", BIN, "--workers", "2", "--env-file", write_env_file(d)]
    env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=listener.fileno(), stdout=out, stderr=out, env=env)
    listener.close()
    try:
        wait_for(lambda: len(worker_pids(sock_path)) == 2, "2 workers", log=log)
        user = new_user_id()
        status, _, body = request(sock_path, "POST", f"/api/{user}/tasks", mint(user),
                                  b'{"title": "on fd 3"}')
        assert status == 201, body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, open(log, errors="replace").read()[-3000:]
    finally:
        stop(proc)
    assert_clean_log(log)


def test_more_than_one_systemd_socket_is_refused_with_one_line():
    argv = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=2 exec "$@"', "sh", BIN]
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": DATABASE_URL, "JWT_SECRET": SECRET}
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "todo-fcgi: systemd passed more than one socket (LISTEN_FDS); "
        "give the socket unit one ListenStream="]


# --------------------------------------------------------------------------
# spawn-fcgi


@pytest.mark.skipif(os.geteuid() != 0, reason="spawn-fcgi.example switches users: needs root")
def test_spawn_fcgi_example_starts_a_supervised_pool(tmpdir_shared):
    if not shutil.which("spawn-fcgi"):
        pytest.skip("spawn-fcgi not found")
    # The workers' user must be one the database admits: the stack's own
    # (its PostgreSQL turns every other local user away).
    run_as = os.environ.get("TODO_WORKER_USER")
    if not run_as:
        pytest.skip("TODO_WORKER_USER is not set (the stack runs as root through run-api.sh)")
    run_group = grp.getgrgid(pwd.getpwnam(run_as).pw_gid).gr_name
    d = tmpdir_shared
    # The example asks that RUN_AS may search every folder above TODO_BIN; a
    # checkout under /root (root on a new server) is not, so the pool runs a copy.
    bin_copy = os.path.join(d, "todo-fcgi")
    shutil.copy2(BIN, bin_copy)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TODO_BIN": bin_copy,
           "ENV_FILE": write_env_file(d), "SOCKET": f"{d}/run/todo.sock",
           "PID_FILE": f"{d}/run/todo-fcgi.pid", "LOG_FILE": f"{d}/log/todo-fcgi.log",
           "WORKERS": "2", "RUN_AS": run_as, "RUN_GROUP": run_group,
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")}
    p = subprocess.run(["sh", os.path.join(REPO, "deploy/spawn-fcgi.example")], env=env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    pid = int(open(env["PID_FILE"]).read())
    try:
        st = os.stat(env["SOCKET"])
        assert (st.st_mode & 0o777, st.st_gid) == (0o660, grp.getgrnam("www-data").gr_gid)
        pids = wait_for(lambda: len(worker_pids(env["SOCKET"])) == 2 and worker_pids(env["SOCKET"]),
                        "2 workers", log=env["LOG_FILE"])
        with open(f"/proc/{pid}/status") as f:
            assert re.search(rf"^Uid:\s+{pwd.getpwnam(run_as).pw_uid}\b", f.read(), re.M), \
                f"the master is not {run_as}"
        status, _, body = request(env["SOCKET"], "GET", "/api/ready")
        assert status == 200, body
        # A worker that dies is replaced.
        os.kill(next(iter(pids)), signal.SIGKILL)
        wait_for(lambda: len(worker_pids(env["SOCKET"])) == 2 and
                 worker_pids(env["SOCKET"]) != pids, "a replacement worker", log=env["LOG_FILE"])
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid), "the master to exit", timeout=15, log=env["LOG_FILE"])
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    assert_clean_log(env["LOG_FILE"])


# --------------------------------------------------------------------------
# make install


def test_make_install_honours_prefix_and_destdir(tmp_path):
    dest = tmp_path / "root"
    # The program given as BIN, and -o: install the build under test as it is
    # (no release build from a tree being edited, no npm run): what is
    # checked is where each file goes.
    make = ["make", "-s", "-C", REPO, "-o", BIN, "-o", "node_modules/.package-lock.json",
            f"BIN={BIN}", f"DESTDIR={dest}", "PREFIX=/usr"]
    p = subprocess.run(make + ["install"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    usr = dest / "usr"
    assert os.access(usr / "bin/todo-fcgi", os.X_OK)
    share = usr / "share/todo-fcgi"
    schema = sorted(f for f in os.listdir(os.path.join(REPO, "schema")) if f.endswith(".sql"))
    assert schema and sorted(os.listdir(share / "schema")) == schema
    for f in ("env.example", "roles.sql", "nginx.conf.example", "nginx/todo-http.conf",
              "nginx/todo-api.conf",
              "apache/htaccess.example", "apache/todo-fcgid.conf", "apache/todo-proxy-fcgi.conf",
              "apache/todo.cgi.example"):
        assert (share / f).is_file(), f
    assert os.access(share / "spawn-fcgi.example", os.X_OK)
    if os.path.isdir(os.path.join(REPO, "web")):
        assert (share / "web/index.html").is_file()
    if os.path.isfile(os.path.join(REPO, "openapi/openapi.json")):
        assert (share / "openapi.json").is_file()
    assert (usr / "share/doc/todo-fcgi/DEPLOY.md").is_file()
    assert (usr / "lib/sysusers.d/todo-fcgi.conf").is_file()
    units = usr / "lib/systemd/system"
    service = (units / "todo-fcgi.service").read_text()
    assert "ExecStart=/usr/bin/todo-fcgi --workers" in service
    assert (units / "todo-fcgi.socket").is_file()
    # Every path inside follows PREFIX.
    for f in [units / "todo-fcgi.service", share / "spawn-fcgi.example",
              share / "apache/todo-fcgid.conf", share / "nginx.conf.example"]:
        assert "/usr/local/" not in f.read_text(), f
    assert "TODO_BIN:-/usr/bin/todo-fcgi" in (share / "spawn-fcgi.example").read_text()
    # Nothing outside DESTDIR/PREFIX.
    assert sorted(os.listdir(dest)) == ["usr"]

    p = subprocess.run(make + ["uninstall"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    left = [os.path.join(r, f) for r, _, fs in os.walk(dest) for f in fs]
    assert left == []


def test_make_install_with_another_prefix_rebuilds_the_schema_path(tmp_path):
    # The schema directory is compiled in: `make` then `make install
    # PREFIX=...` must not install a program looking under the first PREFIX.
    src = tmp_path / "src"
    for d in ("access", "cgi", "common", "schema", "deploy"):
        shutil.copytree(os.path.join(REPO, d), src / d)
    for f in ("Makefile", "README.md", "nginx.conf.example"):
        shutil.copy(os.path.join(REPO, f), src / f)
    prefix = tmp_path / "prefix"
    make = ["make", "-s", "-C", str(src), f"-j{os.cpu_count() or 2}",
            "-o", "node_modules/.package-lock.json"]
    for args in (["build/todo-fcgi"], [f"PREFIX={prefix}", "install"]):
        p = subprocess.run(make + args, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
    # Migrations run as the database's owner, not as the workers' role.
    owner_url = os.environ.get("TODO_OWNER_DATABASE_URL") or DATABASE_URL
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": owner_url, "JWT_SECRET": SECRET}
    migrate = [str(prefix / "bin/todo-fcgi"), "--migrate"]
    p = subprocess.run(migrate, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    shutil.rmtree(prefix / "share/todo-fcgi/schema")
    p = subprocess.run(migrate, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and f"{prefix}/share/todo-fcgi/schema" in p.stderr, p.stderr


# --------------------------------------------------------------------------
# nginx.conf.example


def self_signed(d):
    """A throwaway certificate and key for localhost, as PEM files in d."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    crt, pem = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(pem, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return crt, pem


def test_nginx_conf_example_passes_nginx_t(tmp_path):
    # The file operators start from, with the shared parts where make install
    # puts them (here: the repository's), a throwaway certificate, and logs
    # and pid in a scratch directory.
    crt, key = self_signed(str(tmp_path))
    text = open(os.path.join(REPO, "nginx.conf.example")).read()
    for old, new in [("/etc/nginx/todo-fcgi/", os.path.join(REPO, "deploy/nginx/")),
                     ("/etc/letsencrypt/live/api.example.com/fullchain.pem", crt),
                     ("/etc/letsencrypt/live/api.example.com/privkey.pem", key),
                     ("ssl_dhparam /etc/nginx/ffdhe2048.pem;", ""),
                     ("/run/nginx.pid", f"{tmp_path}/nginx.pid"),
                     ("/var/log/nginx/", f"{tmp_path}/")]:
        assert old in text, old
        text = text.replace(old, new)
    # As shipped, and with the two-host upstream it shows in comments in
    # place of the Unix socket (deploy/README.md, "Scaling out").
    one = re.search(r"^    upstream todo_fcgi \{\n[^}]*\}\n", text, re.M)
    two = re.search(r"^    #upstream todo_fcgi \{\n(    #.*\n)*?    #\}\n", text, re.M)
    assert one and two, "nginx.conf.example shows both upstreams"
    hosts = text[:one.start()] + two.group(0).replace("    #", "    ") + text[one.end():]
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    for name, variant in (("nginx.conf", text), ("two-hosts.conf", hosts)):
        conf = tmp_path / name
        conf.write_text(variant)
        p = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "test is successful" in p.stderr, (name, p.stderr)
    assert "max_fails=" in two.group(0) and "fail_timeout=" in two.group(0)


# --------------------------------------------------------------------------
# env.example


def readme_settings():
    """{name: default} of README.md's configuration table; the default is
    the literal when the cell is exactly `literal`, else ''."""
    text = open(os.path.join(REPO, "README.md")).read()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = section.split("\n\n| variable")[1].split("\n\n")[0]    # the first table
    out = {}
    for line in ("| variable" + table).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        m = re.fullmatch(r"`([^`]*)`", cells[1])
        out[name] = m.group(1) if m else ""
    return out


def env_example():
    """{name: value} of the `# NAME=value` lines of deploy/env.example."""
    out = {}
    for line in open(os.path.join(REPO, "deploy/env.example")):
        m = re.match(r"^# ([A-Z][A-Z0-9_]*)=(.*)$", line.rstrip("\n"))
        if m:
            out[m.group(1)] = m.group(2)
    return out


def test_env_example_lists_every_setting_with_its_default():
    documented, example = readme_settings(), env_example()
    assert "DATABASE_URL" in documented and "LOG_LEVEL" in documented, documented
    for name, default in documented.items():
        assert name in example, f"{name} is in README.md but not in deploy/env.example"
        assert example[name] == default, (name, example[name], default)


def test_env_example_defaults_start_the_program(tmp_path):
    # Every line uncommented: exactly the defaults, so the program starts as
    # it does with none of them (the two required ones come from the
    # environment, which wins over the file).
    f = tmp_path / "env"
    f.write_text("".join(f"{k}={v}\n" for k, v in env_example().items()))
    env = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "DATABASE_URL": DATABASE_URL, "JWT_SECRET": SECRET,
           "REQUEST_METHOD": "GET", "PATH_INFO": "/api/ready", "REMOTE_ADDR": "127.0.0.1"}
    p = subprocess.run([BIN, "--env-file", str(f)], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    status, _, body = fcgi_client.parse_cgi(p.stdout)
    assert status == 200, body
    assert json.loads(body)["database"] == "ok"


# --------------------------------------------------------------------------
# make status (issue 11, item 4)


def test_make_status_on_a_stopped_stack_says_stopped_and_succeeds(tmp_path):
    # A stopped stack is an answer, not a failure: no make "Error" line.
    # deploy/stack.sh status keeps the LSB code (3) for scripts.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "STATE_DIR": str(tmp_path / "var")}
    p = subprocess.run(["make", "-C", REPO, "--no-print-directory", "status"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Error" not in p.stdout + p.stderr, p.stdout + p.stderr
    assert p.stdout.splitlines()[-1] == f"stack: stopped ({tmp_path / 'var'})", p.stdout
    p = subprocess.run([os.path.join(REPO, "deploy/stack.sh"), "status"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3, p.stdout + p.stderr
