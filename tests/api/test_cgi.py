"""The program under Apache (deploy/apache/), fed the exact variables Apache
2.4 sets, as captured from Debian's apache2 running those examples:

- plain CGI on a shared host (htaccess.example: a RewriteRule to todo.cgi,
  CGIPassAuth On, SetEnv): SCRIPT_NAME=/todo.cgi, PATH_INFO=/api/...,
  REDIRECT_* copies, the body on stdin;
- plain CGI under ScriptAlias /cgi-bin/: SCRIPT_NAME=/cgi-bin/todo.cgi,
  PATH_INFO=/api/health, REQUEST_URI=/cgi-bin/todo.cgi/api/health;
- mod_fcgid under ScriptAliasMatch (todo-fcgid.conf): SCRIPT_NAME empty,
  PATH_INFO=/api/...;
- mod_proxy_fcgi with ProxyPass (todo-proxy-fcgi.conf): no PATH_INFO,
  SCRIPT_NAME=/api/..., SCRIPT_FILENAME=proxy:fcgi://..., so the program
  routes on REQUEST_URI.
test_modes.py covers the CGI mode's basics; this file covers what the Apache
examples rely on beyond them."""

import json
import os
import re
import subprocess
import urllib.parse

import pytest

from helpers import DB, mint, new_user_id
from test_pgbouncer import BIN, DATABASE_URL, SECRET, own_worker  # noqa: F401
import fcgi_client

SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


def apache_cgi_env(method, uri, script_name, path_info, body=b"", token=None,
                   rewritten=False):
    """The environment Apache 2.4's mod_cgi gives a script for `uri`."""
    path, _, query = uri.partition("?")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
        # From SetEnv in .htaccess.
        "DATABASE_URL": DATABASE_URL, "JWT_SECRET": SECRET,
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "Apache/2.4.71 (Debian)", "SERVER_NAME": "todo.example.com",
        "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "443", "REQUEST_SCHEME": "https",
        "HTTPS": "on", "REMOTE_ADDR": "203.0.113.7", "REMOTE_PORT": "51234",
        "DOCUMENT_ROOT": "/home/ana/public_html", "CONTEXT_PREFIX": "",
        "CONTEXT_DOCUMENT_ROOT": "/home/ana/public_html", "SERVER_ADMIN": "[no address given]",
        "SERVER_SIGNATURE": "", "HTTP_HOST": "todo.example.com", "HTTP_ACCEPT": "*/*",
        "HTTP_USER_AGENT": "curl/7.88.1",
        "REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": query,
        "SCRIPT_NAME": script_name,
        "SCRIPT_FILENAME": "/home/ana/public_html" + script_name,
        "PATH_INFO": path_info,
        "PATH_TRANSLATED": "/home/ana/public_html" + path_info,
    }
    if rewritten:
        env.update({"REDIRECT_STATUS": "200", "REDIRECT_URL": path,
                    "REDIRECT_QUERY_STRING": query, "REDIRECT_DATABASE_URL": DATABASE_URL,
                    "REDIRECT_JWT_SECRET": SECRET})
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = "application/json"
    if token:
        env["HTTP_AUTHORIZATION"] = "Bearer " + token        # CGIPassAuth On
    return env


def run(env, body=b""):
    """Runs the program once as Apache would; (status, headers, body, raw)."""
    p = subprocess.run([BIN], input=body, env=env, capture_output=True, timeout=30)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 0, err
    assert not SANITIZER_RE.search(err), err
    status, headers, out = fcgi_client.parse_cgi(p.stdout)
    return status, headers, out, p.stdout


def via_htaccess(method, uri, body=b"", token=None):
    """A request through htaccess.example's RewriteRule ^(api/.*)$ todo.cgi/$1."""
    path = uri.partition("?")[0]
    return run(apache_cgi_env(method, uri, "/todo.cgi", urllib.parse.unquote(path), body, token,
                              rewritten=True), body)


def test_shared_host_htaccess_rewrite_serves_the_api():
    user = new_user_id()
    tok = mint(user)
    body = json.dumps({"title": "From Apache", "priority": "high", "tags": ["home"],
                       "due_date": "2026-11-30T17:00:00Z", "recurrence": "daily"}).encode()
    status, h, out, raw = via_htaccess("POST", f"/api/{user}/tasks", body, tok)
    # Apache needs a CGI header block with Status: for anything but 200.
    assert raw.startswith(b"Status: 201"), raw[:80]
    assert status == 201, out
    task = json.loads(out)
    assert h["location"] == f"/api/{user}/tasks/{task['id']}"
    assert h["content-type"] == "application/json"
    via_htaccess("POST", f"/api/{user}/tasks", b'{"title": "Other", "priority": "low"}', tok)

    status, h, out, _ = via_htaccess("GET", f"/api/{user}/tasks?priority=high&tag=home", token=tok)
    assert status == 200 and h["x-total-count"] == "1", out
    assert [t["title"] for t in json.loads(out)] == ["From Apache"]

    status, h, out, _ = via_htaccess("PATCH", f"/api/{user}/tasks/{task['id']}/complete",
                                     token=tok)
    assert status == 200 and json.loads(out)["completed"] is True, out
    assert "next-occurrence" in h.get("link", "")
    assert [(r["title"], r["completed"]) for r in DB.rows(
        "SELECT title, completed FROM tasks WHERE user_id = :'u' ORDER BY id", u=user)] == \
        [("From Apache", True), ("Other", False), ("From Apache", False)]


def test_shared_host_without_cgipassauth_gets_401():
    user = new_user_id()
    status, h, out, _ = via_htaccess("GET", f"/api/{user}/tasks")
    assert status == 401, out
    assert h["www-authenticate"].lower().startswith("bearer")


def test_cgi_bin_script_alias_routes_on_path_info():
    env = apache_cgi_env("GET", "/cgi-bin/todo.cgi/api/health", "/cgi-bin/todo.cgi",
                         "/api/health")
    status, _, out, _ = run(env)
    assert status == 200 and json.loads(out) == {"status": "ok"}
    user = new_user_id()
    env = apache_cgi_env("GET", f"/cgi-bin/todo.cgi/api/{user}/tasks?status=pending",
                         "/cgi-bin/todo.cgi", f"/api/{user}/tasks", token=mint(user))
    status, h, out, _ = run(env)
    assert status == 200 and json.loads(out) == [] and h["x-total-count"] == "0", out


def test_cgi_body_over_64k_on_stdin_is_413_and_nothing_is_written():
    # Apache writes the whole body to the script's stdin; the program reads
    # one byte past the limit, answers and exits.
    user = new_user_id()
    big = json.dumps({"title": "x", "description": "y" * 70000}).encode()
    status, _, out, _ = via_htaccess("POST", f"/api/{user}/tasks", big, mint(user))
    assert status == 413, out
    assert json.loads(out) == {"detail": "Request body too large"}
    assert DB.count(user) == 0


@pytest.mark.parametrize("module", ["mod_fcgid", "mod_proxy_fcgi"])
def test_apache_fastcgi_parameters_route_the_same(own_worker, module):
    _, addr, _ = own_worker(DATABASE_URL)
    user = new_user_id()
    tok = mint(user)

    def params(method, path, query="", body=b""):
        p = {"REQUEST_METHOD": method, "REQUEST_URI": path + ("?" + query if query else ""),
             "QUERY_STRING": query, "GATEWAY_INTERFACE": "CGI/1.1",
             "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.7",
             "HTTP_AUTHORIZATION": "Bearer " + tok, "CONTENT_LENGTH": str(len(body))}
        if body:
            p["CONTENT_TYPE"] = "application/json"
        if module == "mod_fcgid":       # ScriptAliasMatch "^(/api/.*)$" ".../todo.fcgi$1"
            p.update(SCRIPT_NAME="", PATH_INFO=urllib.parse.unquote(path),
                     SCRIPT_FILENAME="/usr/local/lib/todo-fcgi/todo.fcgi")
        else:                           # ProxyPass "/api/" "unix:...|fcgi://todo-fcgi/api/"
            p.update(SCRIPT_NAME=path, SCRIPT_FILENAME="proxy:fcgi://todo-fcgi" + path)
        return p

    body = b'{"title": "Through Apache", "tags": ["x y"]}'
    status, h, out = fcgi_client.request(addr, params("POST", f"/api/{user}/tasks", body=body),
                                         body)
    assert status == 201, out
    assert h["location"].startswith(f"/api/{user}/tasks/")
    status, h, out = fcgi_client.request(
        addr, params("GET", f"/api/{user}/tasks", "tag=x%20y&status=pending"))
    assert status == 200 and [t["title"] for t in json.loads(out)] == ["Through Apache"], out
    status, _, out = fcgi_client.request(
        addr, params("GET", f"/api/{user}/tasks", "tag=nope"))
    assert status == 200 and json.loads(out) == [], out


@pytest.mark.parametrize("path", ["/api/status", "/api/metrics"])
def test_cgi_operator_endpoints_from_loopback_answer_without_crashing(path):
    # A shared host's own monitoring (curl on the host) reaches the CGI
    # program from 127.0.0.1, which STATUS_ALLOW admits by default.
    env = apache_cgi_env("GET", path, "/todo.cgi", path, rewritten=True)
    env["REMOTE_ADDR"] = "127.0.0.1"
    status, _, out, _ = run(env)
    assert status < 500, out
