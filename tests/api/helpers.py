"""Helpers for the API tests: HTTP to the real stack (nginx in front of the
FastCGI workers), token minting, and psql to look at the database directly, so a
test can prove that a rejected request changed nothing.

Environment:
  TODO_URL           base URL of nginx (default http://127.0.0.1:18090; only
                     127.0.0.1 is accepted, see conftest.py)
  TODO_JWT_SECRET    the HS256 secret the workers verify tokens with
                     (falls back to JWT_SECRET)
  TODO_DATABASE_URL  libpq URI of the stack's database as its workers connect
                     (falls back to DATABASE_URL)
  TODO_ADMIN_DATABASE_URL  the same database as a superuser, which psql uses
                     to look at and arrange it (falls back to TODO_DATABASE_URL)
  TODO_OPENAPI_CHECK "off" stops checking responses against openapi/openapi.json
                     (on by default; see Contract)
"""

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import posixpath
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse

import jwt
import pytest
import requests

BASE_URL = os.environ.get("TODO_URL", "http://127.0.0.1:18090").rstrip("/")
JWT_SECRET = os.environ.get("TODO_JWT_SECRET") or os.environ.get("JWT_SECRET")
DATABASE_URL = os.environ.get("TODO_DATABASE_URL") or os.environ.get("DATABASE_URL")
ADMIN_DATABASE_URL = os.environ.get("TODO_ADMIN_DATABASE_URL") or DATABASE_URL
PSQL = shutil.which("psql")

# The twelve fields of a task, exactly as every endpoint returns it.
TASK_FIELDS = {
    "id", "user_id", "title", "description", "completed", "priority", "tags",
    "due_date", "recurrence", "timezone", "created_at", "updated_at",
}
# RFC 3339 in UTC with Z; six fraction digits only when the fraction is not zero.
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
# What a request id may consist of (API.md, Errors).
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Largest task id that fits a signed 64-bit integer.
MAX_ID = 2**63 - 1


# --------------------------------------------------------------------------
# HTTP

HTTP = requests.Session()
HTTP.trust_env = False          # never send 127.0.0.1 through a proxy from the env
# Every response to an /api/ path is checked against openapi/openapi.json (below).
HTTP.hooks["response"].append(lambda r, *args, **kw: CONTRACT.check(r))


def url(path):
    """An absolute URL for a path on the stack ('/api/...'), or the URL itself."""
    if path.startswith(("http://", "https://")):
        return path
    return BASE_URL + path


def request(method, path, token=None, headers=None, **kw):
    """One HTTP request to the stack, never following redirects."""
    h = {}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    kw.setdefault("timeout", 30)
    kw.setdefault("allow_redirects", False)
    return HTTP.request(method, url(path), headers=h, **kw)


def raw_request(method, target, token=None, body=None, headers=None):
    """One request with the target sent byte for byte (requests would re-encode
    a bad %-escape): (status, headers, body bytes)."""
    u = urllib.parse.urlsplit(BASE_URL)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.request(method, target, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


# --------------------------------------------------------------------------
# Tokens

_OMIT = object()


def b64url(data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":")).encode()
    elif isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secret():
    if not JWT_SECRET:
        pytest.fail("TODO_JWT_SECRET is not set: cannot mint tokens")
    return JWT_SECRET


def mint(sub=_OMIT, *, exp=900, iat=0, alg="HS256", key=None, headers=None,
         omit=(), **claims):
    """An HMAC-signed JWT for `sub` (left out when omitted or None).

    `exp` and `iat` are offsets in seconds from now (None leaves the claim out);
    other keyword arguments are extra claims (None leaves one out); `omit` names
    claims to drop at the end. `key` defaults to the stack's secret.
    """
    now = int(time.time())
    payload = {}
    if sub is not _OMIT and sub is not None:
        payload["sub"] = sub
    if iat is not None:
        payload["iat"] = now + iat
    if exp is not None:
        payload["exp"] = now + exp
    for k, v in claims.items():
        if v is not None:
            payload[k] = v
    for k in omit:
        payload.pop(k, None)
    return jwt.encode(payload, key if key is not None else secret(), algorithm=alg,
                      headers=headers)


def raw_token(header, payload, signature=b""):
    """A token assembled by hand (e.g. alg none): header.payload.signature."""
    return f"{b64url(header)}.{b64url(payload)}.{b64url(signature)}"


def hs_sign(header, payload, key=None, digest=hashlib.sha256):
    """A token whose header may claim anything, HMAC-signed with `key`."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    mac = hmac.new((key or secret()).encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(mac)}"


def claims(sub, exp=900, **extra):
    """A payload dict for hand-made tokens."""
    now = int(time.time())
    return {"sub": sub, "iat": now, "exp": now + exp, **extra}


# --------------------------------------------------------------------------
# Clients


# Lines a test reports for people to read (the fault tests' counts), shown by
# conftest.py at the end of the run whatever the outcome.
REPORT = []


def report(line):
    REPORT.append(line)


def print_report(terminalreporter):
    """pytest_terminal_summary of the suites that report() counts."""
    if REPORT:
        terminalreporter.section("what the fault tests counted")
        for line in REPORT:
            terminalreporter.write_line(line)


def alive(pid):
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def new_user_id():
    return "u_" + secrets.token_hex(8)


class Client:
    """Requests on behalf of one user. Paths are absolute ('/api/...') or
    relative to the user's task collection ('' or 5 or '5/complete')."""

    def __init__(self, user=None, token=None):
        self.user = user or new_user_id()
        self.token = token if token is not None else mint(self.user)
        self.tasks = f"/api/{urllib.parse.quote(self.user, safe='')}/tasks"

    def path(self, p=""):
        p = str(p)
        if p.startswith("/") or p.startswith("http"):
            return p
        return self.tasks + ("/" + p if p else "")

    def request(self, method, p="", **kw):
        kw.setdefault("token", self.token)
        return request(method, self.path(p), **kw)

    def get(self, p="", **kw):
        return self.request("GET", p, **kw)

    def post(self, p="", **kw):
        return self.request("POST", p, **kw)

    def put(self, p="", **kw):
        return self.request("PUT", p, **kw)

    def patch(self, p="", **kw):
        return self.request("PATCH", p, **kw)

    def delete(self, p="", **kw):
        return self.request("DELETE", p, **kw)

    def create(self, title="Task", **fields):
        """Create a task through the API; returns its JSON, after checking 201."""
        body = {"title": title, **fields}
        r = self.post("", json=body)
        assert r.status_code == 201, (r.status_code, r.text, body)
        return r.json()

    def fetch(self, task_id):
        """GET one task; returns its JSON, after checking 200."""
        r = self.get(task_id)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def list(self, params=None, **kw):
        """GET the listing; returns the response, after checking 200."""
        r = self.get("", params=params, **kw)
        assert r.status_code == 200, (r.status_code, r.text, params)
        return r

    def ids(self, params=None):
        """The ids the listing returns for these parameters, in order."""
        return [t["id"] for t in self.list(params).json()]


# --------------------------------------------------------------------------
# Database


class Database:
    """psql over the stack's database, as a superuser (a test may arrange what
    the workers' role may not). Values go in as psql variables (-v) and
    appear in SQL as :'name' (a quoted literal), never by string formatting."""

    def available(self):
        return PSQL is not None

    def rows(self, sql, **params):
        """The rows of a SELECT as a list of dicts (ordered as the SELECT orders)."""
        out = self.scalar(
            f"SELECT coalesce(json_agg(q), '[]'::json) FROM ({sql}) q", **params)
        return json.loads(out)

    def scalar(self, sql, **params):
        """What one SQL statement prints (unaligned, tuples only), as text."""
        if not ADMIN_DATABASE_URL:
            pytest.fail("TODO_DATABASE_URL is not set: cannot check the database")
        cmd = [PSQL, ADMIN_DATABASE_URL, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
        for name, value in params.items():
            cmd += ["-v", f"{name}={value}"]
        # psql interpolates :'var' only in a script it reads, not in -c's string.
        p = subprocess.run(cmd, input=sql + ";\n", capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            pytest.fail(f"psql failed ({p.returncode}): {p.stderr.strip()}")
        return p.stdout.rstrip("\n")

    def snapshot(self, user):
        """Every task row of `user`, every column, ordered by id; None when psql
        is missing."""
        if not self.available():
            return None
        return self.rows("SELECT * FROM tasks WHERE user_id = :'user' ORDER BY id",
                         user=user)

    def count(self, user):
        """How many task rows `user` has; None when psql is missing."""
        if not self.available():
            return None
        return int(self.scalar("SELECT count(*) FROM tasks WHERE user_id = :'user'",
                               user=user))

    @contextlib.contextmanager
    def unchanged(self, *users):
        """Assert that the block leaves every task row of `users` as it was."""
        before = [self.snapshot(u) for u in users]
        yield
        after = [self.snapshot(u) for u in users]
        assert after == before, "the request changed the database"


DB = Database()


# --------------------------------------------------------------------------
# Assertions


def parse_ts(s):
    """A response timestamp as an aware datetime, after checking its format."""
    assert isinstance(s, str) and TIMESTAMP_RE.match(s), s
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def assert_task(t, user=None):
    """`t` has the shape of a task (of `user`)."""
    assert isinstance(t, dict), t
    assert set(t) == TASK_FIELDS, sorted(t)
    assert isinstance(t["id"], int) and not isinstance(t["id"], bool) and t["id"] > 0
    assert isinstance(t["title"], str) and t["title"]
    assert t["description"] is None or isinstance(t["description"], str)
    assert isinstance(t["completed"], bool)
    assert t["priority"] in ("low", "medium", "high")
    assert isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])
    assert t["recurrence"] in (None, "daily", "weekly", "monthly", "yearly")
    assert t["timezone"] is None or isinstance(t["timezone"], str) and t["timezone"]
    if t["due_date"] is not None:
        parse_ts(t["due_date"])
    parse_ts(t["created_at"])
    parse_ts(t["updated_at"])
    if user is not None:
        assert t["user_id"] == user


def json_body(r):
    """The JSON body of `r`, after checking that it is declared and parses."""
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", (r.status_code, ctype, r.text)
    return r.json()


def detail(r, status):
    """The `detail` of an error response with `status`, after checking the shape."""
    assert r.status_code == status, (r.status_code, r.text)
    body = json_body(r)
    assert isinstance(body, dict) and "detail" in body, body
    return body["detail"]


def assert_detail(r, status, message):
    assert detail(r, status) == message, r.text


def validation_errors(r, status=422):
    """The items of a validation error, each checked for FastAPI's shape."""
    items = detail(r, status)
    assert isinstance(items, list) and items, items
    for it in items:
        assert isinstance(it, dict), it
        assert isinstance(it.get("type"), str) and it["type"], it
        assert isinstance(it.get("loc"), list) and it["loc"], it
        assert isinstance(it.get("msg"), str), it
    return items


def assert_validation(r, loc, type_=None, status=422):
    """A validation error with an item at `loc` (of `type_` when given)."""
    items = validation_errors(r, status)
    matching = [it for it in items if it["loc"] == list(loc)]
    assert matching, f"no error at {list(loc)}: {[it['loc'] for it in items]}"
    if type_ is not None:
        types = {it["type"] for it in matching}
        assert type_ in types, (type_, types)
    return items


def links(r):
    """The Link header as a list of (target, set of rel values)."""
    header = r.headers.get("Link", "")
    out = []
    for m in re.finditer(r'<([^>]*)>((?:\s*;\s*[^;,]+)*)', header):
        rels = set()
        for p in m.group(2).split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "rel":
                rels |= set(v.strip().strip('"').split())
        out.append((m.group(1), rels))
    return out


def link_target(r, rel):
    """The target of the Link header's entry with rel=`rel`, or None."""
    found = [t for t, rels in links(r) if rel in rels]
    assert len(found) <= 1, r.headers.get("Link")
    return found[0] if found else None


def header_tokens(value):
    """A comma-separated header value as a set of lower-case tokens."""
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


# --------------------------------------------------------------------------
# The OpenAPI document as a contract: every response the shared session (HTTP,
# request(), Client) gets for an /api/ path must be one the document describes.

OPENAPI_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                            "openapi", "openapi.json")


class Contract:
    """Checks responses against openapi/openapi.json.

    A response is matched to its operation (method and path template) and
    status; the status must be documented for that operation, every header the
    response object marks required must be present, every documented header
    that is present must fit its schema, and the body must fit the schema of
    its media type (JSON Schema 2020-12), or be empty when none is documented.
    An unknown path must be answered with components/responses/NotFound, a
    known path asked with another method with MethodNotAllowed, and a CORS
    preflight (answered by nginx) with an empty 204. X-Request-ID is checked
    on every response. Validators are built once per schema and cached.
    Any mismatch fails the test at once (pytest.fail, which `except Exception`
    does not catch).
    """

    def __init__(self, path=OPENAPI_FILE):
        self.path = path
        self.enabled = os.environ.get("TODO_OPENAPI_CHECK", "on").lower() not in (
            "off", "0", "no", "false")
        self.doc = None
        self.routes = []            # (number of parameters, regex, template)
        self._validators = {}
        self._resolved = {}

    def load(self):
        if self.doc is not None:
            return
        try:
            import jsonschema       # noqa: F401  (Debian: python3-jsonschema)
        except ImportError:
            pytest.fail("python3-jsonschema is missing (run deploy/install-deps.sh): "
                        "cannot check responses against openapi/openapi.json")
        with open(self.path, encoding="utf-8") as f:
            self.doc = json.load(f)
        for template in self.doc["paths"]:
            rx = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            self.routes.append((template.count("{"), re.compile(f"^{rx}$"), template))
        self.routes.sort(key=lambda r: r[0])    # literal paths win

    # ---- the document

    def pointer(self, ref):
        """The node a local $ref ('#/components/...') names."""
        assert ref.startswith("#/"), ref
        node = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def resolve(self, node):
        """node with every $ref replaced by what it names (the document has no
        cycles); a $ref's sibling keywords are kept, as OpenAPI 3.1 allows."""
        if isinstance(node, list):
            return [self.resolve(x) for x in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref not in self._resolved:
                self._resolved[ref] = self.resolve(self.pointer(ref))
            target = self._resolved[ref]
            rest = {k: self.resolve(v) for k, v in node.items() if k != "$ref"}
            if not rest:
                return target
            return {"allOf": [target], **rest}
        return {k: self.resolve(v) for k, v in node.items()}

    def validator(self, key, schema):
        v = self._validators.get(key)
        if v is None:
            from jsonschema import Draft202012Validator
            schema = self.resolve(schema)
            Draft202012Validator.check_schema(schema)
            v = self._validators[key] = Draft202012Validator(schema)
        return v

    def operation(self, method, path):
        """(template, operation or None) for a request; (None, None) for a path
        the document does not have."""
        for _, rx, template in self.routes:
            if rx.match(path):
                return template, self.doc["paths"][template].get(method.lower())
        return None, None

    # ---- responses

    @staticmethod
    def server_path(raw):
        """The path as the server routes on it: nginx's $uri (percent-decoded,
        slashes merged, dot segments resolved), without a trailing slash."""
        path = re.sub(r"/{2,}", "/", urllib.parse.unquote(raw))
        return posixpath.normpath(path)

    def check(self, r):
        if not self.enabled:
            return
        req = r.request
        parts = urllib.parse.urlsplit(req.url)
        base = urllib.parse.urlsplit(BASE_URL)
        if parts.netloc != base.netloc or not parts.path.startswith("/api/"):
            return
        self.load()
        method = req.method.upper()
        path = self.server_path(parts.path)
        where = f"{method} {req.url} -> {r.status_code}"
        problems = []

        rid = r.headers.get("X-Request-ID")
        if not rid or not REQUEST_ID_RE.match(rid):
            problems.append(f"X-Request-ID missing or malformed: {rid!r}")

        if (method == "OPTIONS" and req.headers.get("Origin")
                and req.headers.get("Access-Control-Request-Method")):
            # A CORS preflight: nginx answers it itself (info.description, CORS).
            if r.status_code != 204 or r.content:
                problems.append("a preflight must get an empty 204")
            self.fail(where, problems, r)
            return

        # HEAD: as GET where the path has one (nginx's static files), without
        # a body to check; the worker's routes answer it 405.
        head = method == "HEAD"
        template, op = self.operation("GET" if head else method, path)
        if head and r.status_code == 405:
            op = None
        if template is None:
            key, expected = ("NotFound",), "#/components/responses/NotFound"
            if r.status_code != 404:
                problems.append(f"{path} is not in the document, so only 404 may answer it")
            else:
                self.check_response(key, self.pointer(expected), r, problems, head)
        elif op is None:
            key, expected = ("MethodNotAllowed",), "#/components/responses/MethodNotAllowed"
            if r.status_code != 405:
                problems.append(f"{method} is not documented for {template}, "
                                f"so only 405 may answer it")
            else:
                self.check_response(key, self.pointer(expected), r, problems, head)
        else:
            status = str(r.status_code)
            responses = op["responses"]
            resp = responses.get(status) or responses.get(status[0] + "XX") \
                or responses.get("default")
            if resp is None:
                problems.append(f"status {status} is not documented for {method} "
                                f"{template} (documented: {', '.join(responses)})")
            else:
                self.check_response((template, method, status), resp, r, problems, head)
        self.fail(where, problems, r)

    def check_response(self, key, resp, r, problems, head=False):
        resp = self.resolve(resp)
        for name, h in resp.get("headers", {}).items():
            value = r.headers.get(name)
            if value is None:
                if h.get("required"):
                    problems.append(f"required header {name} is missing")
                continue
            schema = h.get("schema", {})
            if schema.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    problems.append(f"header {name}: {value!r} is not an integer")
                    continue
            for e in self.validator(key + ("header", name), schema).iter_errors(value):
                problems.append(f"header {name}: {e.message}")

        content = resp.get("content")
        if head:
            if r.content:
                problems.append(f"a response to HEAD has a body: {r.content[:200]!r}")
            return
        if not content:
            if r.content:
                problems.append(f"no body is documented, got {r.content[:200]!r}")
            return
        ctype = r.headers.get("Content-Type", "")
        media = ctype.split(";")[0].strip().lower()
        chosen = content.get(ctype) or next(
            (k for k in content if k.split(";")[0].strip().lower() == media), None)
        if chosen is None:
            problems.append(f"Content-Type {ctype!r} is not documented "
                            f"(documented: {', '.join(content)})")
            return
        body = content[chosen] if isinstance(chosen, str) else chosen
        if media != "application/json":
            return
        try:
            value = r.json()
        except ValueError:
            problems.append(f"the body is not JSON: {r.content[:200]!r}")
            return
        v = self.validator(key + ("body",), body.get("schema", {}))
        for e in sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path)):
            at = "/".join(str(p) for p in e.absolute_path) or "(root)"
            problems.append(f"body at {at}: {e.message}")

    @staticmethod
    def fail(where, problems, r):
        if problems:
            pytest.fail(f"response does not match openapi/openapi.json: {where}\n  "
                        + "\n  ".join(problems[:10])
                        + f"\n  body: {r.content[:300]!r}")


CONTRACT = Contract()


class RowLock:
    """Holds a task's row lock from another session (psql), as a long admin
    transaction would, until release(); with user=, that user's row instead,
    which every new task of the user waits for (its foreign key's check)."""

    def __init__(self, task_id=None, user=None):
        self.psql = subprocess.Popen(
            ["psql", DATABASE_URL, "-X", "-q", "-v", "ON_ERROR_STOP=1",
             "-v", f"user={user or ''}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        row = ("users WHERE id = :'user'" if user is not None
               else f"tasks WHERE id = {int(task_id)}")
        self.psql.stdin.write(f"BEGIN;\nSELECT 1 FROM {row} FOR UPDATE;\n"
                              "\\echo locked\n")
        self.psql.stdin.flush()
        while "locked" not in self.psql.stdout.readline():
            assert self.psql.poll() is None, self.psql.stderr.read()

    def release(self, commit=True):
        """Ends the transaction; once: a second call does nothing."""
        if self.psql.stdin.closed:
            return
        self.psql.stdin.write("COMMIT;\n" if commit else "ROLLBACK;\n")
        self.psql.stdin.close()
        self.psql.wait(timeout=10)
