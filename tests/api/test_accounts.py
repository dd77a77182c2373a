"""Accounts and the server's own tokens (API.md, "Accounts and tokens"; the
choices in issue 3's decisions): register, login, the OAuth2 password grant,
refresh rotation and reuse detection, logout, /api/auth/me and login
throttling, through nginx; and one session used across two separately started
workers, which must behave as one server.

Every test registers its own random e-mail address, so tests never share an
account, a session or a throttling window."""

import datetime as dt
import json
import re
import secrets
import time

import jwt
import pytest

from helpers import (
    DB, Client, assert_detail, assert_validation, json_body, mint, new_user_id, parse_ts,
    raw_request, request, secret,
)
from test_modes import DATABASE_URL, fcgi, worker  # noqa: F401  (worker is a fixture)

TOKEN_RESPONSE_FIELDS = {"access_token", "token_type", "expires_in", "refresh_token", "token",
                         "user_id", "user"}
USER_FIELDS = {"id", "email", "name", "role", "created_at"}
ACCESS_CLAIMS = ["sub", "email", "role", "iat", "exp", "jti"]
# Own user ids: random 22-character base64url strings.
OWN_USER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
# libargon2's encoded form: $argon2id$v=19$m=..,t=..,p=..$salt$hash
ARGON2ID_RE = re.compile(
    r"^\$argon2id\$(v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$")
BAD_LOGIN = {"detail": "Invalid email or password"}
BAD_REFRESH = "Invalid refresh token"
THROTTLED = "Too many failed logins; try again later"
ACCESS_TTL = 900


# --------------------------------------------------------------------------
# Helpers


def new_email(local_prefix="t", domain="example.test"):
    """A random address no other test uses."""
    return f"{local_prefix}{secrets.token_hex(8)}@{domain}"


def new_password():
    return "pw-" + secrets.token_urlsafe(15)


def post(path, body, **kw):
    return request("POST", path, json=body, **kw)


def register_raw(email, password, name=None, **extra):
    body = {"email": email, "password": password, **extra}
    if name is not None:
        body["name"] = name
    return post("/api/auth/register", body)


def register(email=None, password=None, name="Test User"):
    """Registers an account; returns (email, password, token response)."""
    email = email or new_email()
    password = password or new_password()
    r = register_raw(email, password, name)
    return email, password, token_response(r, 201)


def login(email, password):
    return post("/api/auth/login", {"email": email, "password": password})


def logged_in(email, password):
    """A fresh login's token response, after checking it."""
    return token_response(login(email, password), 200)


def refresh(refresh_token):
    return post("/api/auth/refresh", {"refresh_token": refresh_token})


def logout(access_token):
    return request("POST", "/api/auth/logout", token=access_token)


def me(access_token):
    return request("GET", "/api/auth/me", token=access_token)


def check_user(u):
    assert isinstance(u, dict) and set(u) == USER_FIELDS, u
    assert isinstance(u["id"], str) and OWN_USER_ID_RE.match(u["id"]), u["id"]
    assert isinstance(u["email"], str) and "@" in u["email"], u
    assert u["name"] is None or isinstance(u["name"], str), u
    assert u["role"] == "user", u
    parse_ts(u["created_at"])
    return u


def token_response(r, status):
    """The body of a token response with `status`, after checking its shape."""
    assert r.status_code == status, (r.status_code, r.text)
    body = json_body(r)
    assert isinstance(body, dict) and set(body) == TOKEN_RESPONSE_FIELDS, body
    assert body["token_type"] == "bearer", body
    assert body["expires_in"] == ACCESS_TTL and type(body["expires_in"]) is int, body
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    # An opaque random string, not a JWT, long enough not to be guessed.
    rt = body["refresh_token"]
    assert isinstance(rt, str) and len(rt) >= 20 and rt != body["access_token"], body
    check_user(body["user"])
    # Where front ends written for other backends look for the same two.
    assert (body["token"], body["user_id"]) == (body["access_token"], body["user"]["id"]), body
    return body


def access_claims(token):
    """The claims of one of the server's access tokens, verified as any client
    holding the secret would verify them."""
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    return jwt.decode(token, secret(), algorithms=["HS256"],
                      options={"require": ACCESS_CLAIMS, "verify_aud": False})


def assert_rejected(r, message="Invalid token"):
    assert_detail(r, 401, message)
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", ""), r.headers


def user_rows(email):
    """The users rows whose e-mail matches `email` case-insensitively."""
    return DB.rows("SELECT id, email, name, role, password_hash FROM users"
                   " WHERE lower(email) = lower(:'email') ORDER BY id", email=email)


def user_count():
    return int(DB.scalar("SELECT count(*) FROM users"))


def tables_containing(needle):
    """The public tables with a row whose text form contains `needle`."""
    names = [r["table_name"] for r in DB.rows(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
    found = []
    for name in names:
        n = int(DB.scalar("SELECT count(*) FROM :\"tbl\" t WHERE strpos(t::text, :'needle') > 0",
                          tbl=name, needle=needle))
        if n:
            found.append(name)
    return found


def long_email(length):
    """A random, well-formed address of exactly `length` characters (labels of
    at most 63 characters, a local part of 17)."""
    local = "t" + secrets.token_hex(8)
    labels, rest = [], length - len(local) - 1 - len(".io")
    while rest > 0:
        n = min(63, rest)
        if rest - n == 1:          # never leave a single character for a "." alone
            n -= 1
        labels.append("d" * n)
        rest -= n + 1
    email = f"{local}@{'.'.join(labels)}.io"
    assert len(email) == length, (len(email), length)
    return email


# --------------------------------------------------------------------------
# Register


@pytest.mark.parametrize("prefix", ["/api/auth", "/auth"])
def test_signup_and_signin_are_register_and_login_under_other_names(prefix):
    # Front ends written for other backends call these, outside /api/ too.
    email, password = new_email("Sign."), new_password()
    made = token_response(post(f"{prefix}/signup", {"email": email, "password": password}), 201)
    assert [r["id"] for r in user_rows(email)] == [made["user_id"]]
    got = token_response(post(f"{prefix}/signin", {"email": email, "password": password}), 200)
    assert got["user_id"] == made["user_id"]
    r = request("GET", f"/api/{got['user_id']}/tasks", token=got["token"])
    assert r.status_code == 200 and r.json() == []
    assert json_body(post(f"{prefix}/signin", {"email": email, "password": "wrong-pw-1"})) \
        == BAD_LOGIN
    # A bad sign-up is a 422 and creates nothing; a second one is a 409.
    before = user_count()
    assert_validation(post(f"{prefix}/signup", {"email": new_email(), "password": "short"}),
                      ["body", "password"])
    assert_detail(post(f"{prefix}/signup", {"email": email, "password": password}), 409,
                  "Email already registered")
    assert user_count() == before


@pytest.mark.parametrize("path", ["/auth/signup", "/auth/signin"])
def test_signup_outside_api_has_what_api_auth_has(path):
    origin = "http://localhost:3000"
    r = request("OPTIONS", path, headers={"Origin": origin,
                                          "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == origin
    r = request("GET", path)
    assert_detail(r, 405, "Method Not Allowed")
    assert r.headers.get("Allow") == "POST"
    r = request("POST", path, data=b"x" * 70000, headers={"Content-Type": "application/json"})
    assert_detail(r, 413, "Request body too large")


def test_register_returns_a_token_response_and_creates_the_user():
    email, password = new_email("Reg."), new_password()
    before = dt.datetime.now(dt.timezone.utc)
    r = register_raw(email, password, "Ada Lovelace")
    body = token_response(r, 201)
    u = body["user"]
    assert (u["email"], u["name"], u["role"]) == (email, "Ada Lovelace", "user")
    assert abs(parse_ts(u["created_at"]) - before) < dt.timedelta(minutes=2), u
    rows = user_rows(email)
    assert [(x["id"], x["email"], x["name"], x["role"]) for x in rows] == \
        [(u["id"], email, "Ada Lovelace", "user")]


def test_register_without_a_name_gives_a_null_name():
    email, password = new_email(), new_password()
    body = token_response(register_raw(email, password), 201)
    assert body["user"]["name"] is None
    assert body["user"]["email"] == email


def test_access_token_is_hs256_with_the_documented_claims():
    email, password, body = register()
    u = body["user"]
    now = time.time()
    c = access_claims(body["access_token"])
    assert (c["sub"], c["email"], c["role"]) == (u["id"], email, "user")
    assert c["exp"] - c["iat"] == ACCESS_TTL, c
    assert abs(c["iat"] - now) < 60, c
    assert isinstance(c["jti"], str) and c["jti"], c
    # Every login gets its own token id.
    again = access_claims(logged_in(email, password)["access_token"])
    assert again["jti"] != c["jti"] and again["sub"] == u["id"]


def test_access_token_opens_the_users_tasks_and_me():
    _, _, body = register()
    u, token = body["user"], body["access_token"]
    c = Client(u["id"], token)
    t = c.create("mine")
    assert t["user_id"] == u["id"]
    assert [x["id"] for x in c.list().json()] == [t["id"]]
    r = me(token)
    assert r.status_code == 200, r.text
    assert json_body(r) == u
    # ...and nobody else's.
    assert_detail(c.get(f"/api/{new_user_id()}/tasks"), 403, "Forbidden")


def test_me_reports_the_role_an_external_token_gives():
    user = new_user_id()
    assert json_body(me(mint(user)))["role"] == "user"
    assert json_body(me(mint(user, role="admin")))["role"] == "admin"


def test_me_needs_a_valid_token():
    r = request("GET", "/api/auth/me")
    assert_detail(r, 401, "Not authenticated")
    assert_rejected(me("not.a.token"))


def test_duplicate_email_is_409_whatever_its_case():
    tag = secrets.token_hex(6)
    first, password = f"Alice.{tag}@X.io", new_password()
    _, _, body = register(first, password)
    other_password = new_password()
    for dup in (f"alice.{tag}@x.io", f"ALICE.{tag}@X.IO", f"  alice.{tag}@X.io  "):
        r = register_raw(dup, other_password, "Impostor")
        assert_detail(r, 409, "Email already registered")
    rows = user_rows(first)
    assert [(x["id"], x["email"], x["name"]) for x in rows] == \
        [(body["user"]["id"], first, "Test User")]
    # The first account keeps its password.
    assert logged_in(first, password)["user"]["id"] == body["user"]["id"]
    assert login(first, other_password).json() == BAD_LOGIN


def test_email_is_trimmed():
    email = new_email()
    _, _, body = register("  " + email + " ")
    assert body["user"]["email"] == email
    assert [x["email"] for x in user_rows(email)] == [email]


def test_email_of_254_characters_is_accepted():
    email = long_email(254)
    _, password, body = register(email)
    assert body["user"]["email"] == email
    assert logged_in(email, password)["user"]["id"] == body["user"]["id"]


_MISSING = object()


@pytest.mark.parametrize("email", [
    "", "   ", "plainaddress", "@example.io", "user@", "two@at@example.io",
    "user@exa mple.io", "LONG-255", 42, None, ["a@example.io"], _MISSING,
], ids=["empty", "blank", "no-at", "no-local", "no-domain", "two-at", "space-in-domain",
        "255-chars", "number", "null", "list", "missing"])
def test_bad_email_is_422_and_creates_nothing(email):
    if email == "LONG-255":
        email = long_email(255)
    body = {"password": new_password(), "name": "x"}
    if email is not _MISSING:
        body["email"] = email
    before = user_count()
    r = post("/api/auth/register", body)
    assert_validation(r, ("body", "email"))
    assert user_count() == before
    if isinstance(email, str) and email.strip():
        assert user_rows(email.strip()) == []


@pytest.mark.parametrize("password", [
    "seven77", "x" * 129, "\u20ac" * 129, "", 12345678, None, ["password1"], _MISSING,
], ids=["7-chars", "129-chars", "129-euro-signs", "empty", "number", "null", "list",
        "missing"])
def test_bad_password_is_422_and_creates_nothing(password):
    email = new_email()
    body = {"email": email}
    if password is not _MISSING:
        body["password"] = password
    before = user_count()
    r = post("/api/auth/register", body)
    assert_validation(r, ("body", "password"))
    assert user_count() == before
    assert user_rows(email) == []


@pytest.mark.parametrize("password", [
    "eight888", "x" * 128, "\u20ac" * 128, "p\u00e4ss w\u00f6rd \U0001F511",
], ids=["8-chars", "128-chars", "128-euro-signs-384-bytes", "non-ascii"])
def test_password_lengths_count_characters_and_the_password_logs_in(password):
    email, _, body = register(password=password)
    assert logged_in(email, password)["user"]["id"] == body["user"]["id"]


@pytest.mark.parametrize("name", [7, ["x"], "n" * 101], ids=["number", "list", "101-chars"])
def test_bad_name_is_422_and_creates_nothing(name):
    email = new_email()
    before = user_count()
    r = post("/api/auth/register", {"email": email, "password": new_password(), "name": name})
    assert_validation(r, ("body", "name"))
    assert user_count() == before
    assert user_rows(email) == []


def test_name_of_100_characters_is_accepted():
    _, _, body = register(name="n" * 100)
    assert body["user"]["name"] == "n" * 100


def test_password_is_stored_only_as_an_argon2id_hash():
    password = new_password()
    email, _, body = register(password=password)
    [row] = user_rows(email)
    h = row["password_hash"]
    assert ARGON2ID_RE.match(h), h
    assert password not in h
    # Salted: the same password gives another hash.
    email2, _, _ = register(password=password)
    [row2] = user_rows(email2)
    assert ARGON2ID_RE.match(row2["password_hash"]) and row2["password_hash"] != h


def test_no_table_holds_the_password_or_a_refresh_token_in_clear():
    email, password, body = register()
    later = logged_in(email, password)
    rotated = token_response(refresh(later["refresh_token"]), 200)
    for needle in (password, body["refresh_token"], later["refresh_token"],
                   rotated["refresh_token"]):
        assert tables_containing(needle) == [], "stored in clear"


# --------------------------------------------------------------------------
# Login


def test_login_works_with_the_email_in_any_case():
    tag = secrets.token_hex(6)
    email = f"Bob.{tag}@Example.io"
    _, password, body = register(email)
    for variant in (email, email.lower(), email.upper()):
        got = logged_in(variant, password)
        # The user as registered, whatever case the login used.
        assert got["user"] == body["user"]
        assert me(got["access_token"]).json() == body["user"]


def test_wrong_password_and_unknown_email_get_the_same_401():
    email, password, _ = register()
    wrong = login(email, password + "x")
    unknown = login(new_email(), password)
    for r in (wrong, unknown):
        assert r.status_code == 401, r.text
        assert json_body(r) == BAD_LOGIN
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
    assert wrong.content == unknown.content


def test_unknown_email_takes_about_as_long_as_a_wrong_password():
    # Three attempts each (under the throttling limit of five per address);
    # the fastest of each is compared, so one slow request does not matter.
    email, password, _ = register()

    def fastest(make_email):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            r = login(make_email(), "wrong-" + password)
            best = min(best, time.perf_counter() - start)
            assert r.status_code == 401, r.text
        return best

    unknown = new_email()
    known_t = fastest(lambda: email)
    unknown_t = fastest(lambda: unknown)
    assert unknown_t > 0.3 * known_t and known_t > 0.3 * unknown_t, (known_t, unknown_t)


def test_password_grant_with_form_data():
    email, password, body = register()
    r = request("POST", "/api/auth/token", data={"username": email.upper(), "password": password})
    got = token_response(r, 200)
    assert got["user"] == body["user"]
    assert me(got["access_token"]).status_code == 200
    # grant_type "password" and a scope, as OAuth2 clients send them.
    r = request("POST", "/api/auth/token",
                data={"grant_type": "password", "username": email, "password": password,
                      "scope": "tasks"})
    assert token_response(r, 200)["user"]["id"] == body["user"]["id"]
    r = request("POST", "/api/auth/token", data={"username": email, "password": "nope-" + password})
    assert r.status_code == 401 and json_body(r) == BAD_LOGIN


def test_password_grant_with_a_browser_formdata_body():
    # fetch(url, {method: "POST", body: new FormData(form)}) sends multipart.
    email, password, body = register()
    r = request("POST", "/api/auth/token", files={"username": (None, email),
                                                 "password": (None, password)})
    assert r.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert token_response(r, 200)["user"]["id"] == body["user"]["id"]


def test_a_multipart_body_broken_at_its_boundary_is_400():
    r = request("POST", "/api/auth/token", data=b"--b\r\nContent-Disposition: form-data; "
                b'name="username"\r\n\r\na@b.co', headers={
                    "Content-Type": "multipart/form-data; boundary=b"})
    assert_detail(r, 400, "There was an error parsing the body")


def test_an_empty_token_request_without_a_type_names_both_missing_fields():
    r = request("POST", "/api/auth/token")
    assert r.status_code == 422
    assert sorted(e["loc"][1] for e in json_body(r)["detail"]) == ["password", "username"]


@pytest.mark.parametrize("form, field", [
    (b"username=%FF%40example.com&password=12345678", "username"),
    (b"username=a%40example.com&password=%C3%28xxxxxxx", "password"),
    (b"username=a%40example.com%00&password=12345678", "username"),
])
def test_a_form_field_that_is_not_text_is_422_in_a_utf8_answer(form, field):
    status, _, body = raw_request("POST", "/api/auth/token", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 422
    (err,) = json.loads(body.decode("utf-8"))["detail"]
    assert (err["type"], err["loc"]) == ("string_unicode", ["body", field])
    assert "input" not in err


def test_password_grant_bad_forms_are_422():
    email, password, _ = register()
    r = request("POST", "/api/auth/token", data={"password": password})
    assert_validation(r, ("body", "username"))
    r = request("POST", "/api/auth/token", data={"username": email})
    assert_validation(r, ("body", "password"))
    r = request("POST", "/api/auth/token",
                data={"grant_type": "client_credentials", "username": email, "password": password})
    assert r.status_code == 422, r.text
    assert "access_token" not in r.text


def test_json_to_the_token_endpoint_and_a_form_to_login_are_415():
    email, password, _ = register()
    r = post("/api/auth/token", {"username": email, "password": password})
    assert r.status_code == 415, r.text
    assert "access_token" not in r.text
    r = request("POST", "/api/auth/login", data={"email": email, "password": password})
    assert r.status_code == 415, r.text
    assert "access_token" not in r.text


# --------------------------------------------------------------------------
# Refresh


def test_refresh_rotates_the_refresh_token():
    email, password, body = register()
    first = logged_in(email, password)
    r = refresh(first["refresh_token"])
    second = token_response(r, 200)
    assert second["user"] == body["user"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    c1, c2 = access_claims(first["access_token"]), access_claims(second["access_token"])
    assert c2["sub"] == c1["sub"] and c2["jti"] != c1["jti"]
    assert me(second["access_token"]).status_code == 200
    # The new refresh token works once more; the old one no longer does.
    third = token_response(refresh(second["refresh_token"]), 200)
    assert me(third["access_token"]).status_code == 200
    assert_detail(refresh(first["refresh_token"]), 401, BAD_REFRESH)


def test_registration_refresh_token_works():
    _, _, body = register()
    got = token_response(refresh(body["refresh_token"]), 200)
    assert got["user"] == body["user"]


@pytest.mark.parametrize("which", ["garbage", "access-token", "altered"])
def test_bad_refresh_tokens_are_401(which):
    _, _, body = register()
    rt = body["refresh_token"]
    value = {"garbage": "not-a-refresh-token-" + secrets.token_hex(16),
             "access-token": body["access_token"],
             "altered": rt[:-1] + ("A" if rt[-1] != "A" else "B")}[which]
    r = refresh(value)
    assert_detail(r, 401, BAD_REFRESH)
    assert "access_token" not in r.text
    # The untouched token still works.
    assert token_response(refresh(rt), 200)["user"] == body["user"]


def test_reusing_a_refresh_token_revokes_the_whole_login():
    email, password, _ = register()
    other = logged_in(email, password)            # another login of the same user
    s0 = logged_in(email, password)
    s1 = token_response(refresh(s0["refresh_token"]), 200)
    s2 = token_response(refresh(s1["refresh_token"]), 200)
    assert me(s2["access_token"]).status_code == 200
    # s1's refresh token was used already: someone replays it.
    assert_detail(refresh(s1["refresh_token"]), 401, BAD_REFRESH)
    # Everything descended from that login is dead now...
    assert_detail(refresh(s2["refresh_token"]), 401, BAD_REFRESH)
    assert_rejected(me(s2["access_token"]))
    assert_rejected(me(s1["access_token"]))
    assert_rejected(request("GET", f"/api/{s2['user']['id']}/tasks", token=s2["access_token"]))
    # ...and the other login is not.
    assert me(other["access_token"]).status_code == 200
    assert token_response(refresh(other["refresh_token"]), 200)["user"]["email"] == email


# --------------------------------------------------------------------------
# Logout


def test_logout_ends_that_login_only():
    email, password, _ = register()
    gone = logged_in(email, password)
    kept = logged_in(email, password)
    r = logout(gone["access_token"])
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_rejected(me(gone["access_token"]))
    assert_rejected(request("GET", f"/api/{gone['user']['id']}/tasks",
                            token=gone["access_token"]))
    assert_detail(refresh(gone["refresh_token"]), 401, BAD_REFRESH)
    assert_rejected(logout(gone["access_token"]))
    # The other login goes on.
    assert me(kept["access_token"]).status_code == 200
    assert token_response(refresh(kept["refresh_token"]), 200)["user"]["email"] == email


def test_logout_with_an_older_access_token_ends_the_session():
    email, password, _ = register()
    s0 = logged_in(email, password)
    s1 = token_response(refresh(s0["refresh_token"]), 200)
    assert logout(s0["access_token"]).status_code == 204
    assert_detail(refresh(s1["refresh_token"]), 401, BAD_REFRESH)


def test_a_logged_out_token_changes_nothing_and_gets_401_before_any_other_answer():
    # The revocation check travels with the request's first statement: a
    # write of a logged-out token must not happen, and 401 still comes before
    # 404, 422 and 403.
    email, password, _ = register()
    s = logged_in(email, password)
    user, token = s["user"]["id"], s["access_token"]
    path = f"/api/{user}/tasks"
    r = request("POST", path, json={"title": "kept"}, token=token)
    assert r.status_code == 201, r.text
    task = r.json()
    assert logout(token).status_code == 204
    with DB.unchanged(user):
        for method, p, body in [
                ("POST", path, {"title": "after logout"}),
                ("PUT", f"{path}/{task['id']}", {"title": "changed"}),
                ("PATCH", f"{path}/{task['id']}/complete", None),
                ("DELETE", f"{path}/{task['id']}", None),
                ("GET", f"{path}/{task['id'] + 1000000}", None),     # no such task
                ("POST", path, {"title": ""}),                       # invalid
                ("PUT", f"{path}/x", {"title": 1}),                  # invalid
                ("GET", f"/api/someone-else/tasks", None)]:          # another user
            r = request(method, p, json=body, token=token)
            assert_rejected(r)
    # The same requests with a live login of the same user go through.
    live = logged_in(email, password)["access_token"]
    assert request("GET", f"{path}/{task['id']}", token=live).status_code == 200
    assert request("GET", "/api/someone-else/tasks", token=live).status_code == 403


def test_logout_needs_a_token():
    r = request("POST", "/api/auth/logout")
    assert_detail(r, 401, "Not authenticated")


def test_logout_revokes_an_external_token_by_its_jti():
    # A token from another issuer (Better Auth) carrying a jti.
    user = new_user_id()
    token = mint(user, jti="ext-" + secrets.token_hex(8))
    path = f"/api/{user}/tasks"
    assert request("GET", path, token=token).status_code == 200
    assert logout(token).status_code == 204
    assert_rejected(request("GET", path, token=token))
    assert request("GET", path, token=mint(user, jti="ext-" + secrets.token_hex(8))).status_code == 200


# --------------------------------------------------------------------------
# Throttling


def assert_throttled(r):
    assert_detail(r, 429, THROTTLED)
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit(), r.headers
    assert 0 < int(retry) <= 900, retry
    assert "access_token" not in r.text


def test_five_failed_logins_lock_the_email_for_a_while():
    email, password, _ = register()
    variants = [email, email.upper(), email, email.upper(), email]   # one address, any case
    for v in variants:
        r = login(v, "wrong-" + password)
        assert r.status_code == 401 and r.json() == BAD_LOGIN, (r.status_code, r.text)
    # The sixth attempt is refused even with the right password, by either endpoint.
    assert_throttled(login(email, password))
    assert_throttled(request("POST", "/api/auth/token",
                             data={"username": email, "password": password}))
    # Another address is not affected.
    other, other_password, _ = register()
    assert logged_in(other, other_password)["user"]["email"] == other


def test_parallel_wrong_logins_let_exactly_five_through():
    # Counting, checking and recording one attempt is one step: 20 wrong
    # passwords at once get five 401s, never a sixth, and the rest 429.
    import concurrent.futures
    email, password, _ = register()
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda i: login(email, f"wrong-{i}-" + password), range(20)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * 5 + [429] * 15, statuses
    assert DB.scalar("SELECT count(*) FROM login_failures WHERE email = lower(:'e')",
                     e=email) == "5"
    assert_throttled(login(email, password))


def test_a_successful_login_is_not_counted_as_a_failure():
    email, password, _ = register()
    for _ in range(4):
        logged_in(email, password)
    for _ in range(4):
        assert login(email, "wrong-" + password).status_code == 401
    assert logged_in(email, password)["user"]["email"] == email


def test_failures_for_an_unknown_email_are_throttled_too():
    email = new_email()
    for _ in range(5):
        r = login(email, new_password())
        assert r.status_code == 401 and r.json() == BAD_LOGIN, (r.status_code, r.text)
    assert_throttled(login(email, new_password()))


def test_four_failures_do_not_lock():
    email, password, _ = register()
    for _ in range(4):
        assert login(email, "wrong-" + password).status_code == 401
    assert logged_in(email, password)["user"]["email"] == email


def test_a_success_does_not_forget_the_failures_of_the_window():
    # "5 failed logins within 15 minutes", whatever came between them.
    email, password, _ = register()
    for _ in range(4):
        assert login(email, "wrong-" + password).status_code == 401
    assert logged_in(email, password)["user"]["email"] == email
    assert login(email, "wrong-" + password).status_code == 401
    assert_throttled(login(email, password))


# --------------------------------------------------------------------------
# Two workers, one server


def call(addr, method, path, payload=None, token=None):
    """One request to a worker started by the test: (status, headers, JSON or None)."""
    raw = json.dumps(payload).encode() if payload is not None else b""
    status, headers, body = fcgi(addr, method, path, raw, token=token)
    return status, headers, (json.loads(body) if body else None)


def test_two_workers_share_logins_refreshes_and_logouts(worker):
    email, password, _ = register()
    _, w1 = worker(DATABASE_URL)
    _, w2 = worker(DATABASE_URL)
    status, _, first = call(w1, "POST", "/api/auth/login", {"email": email, "password": password})
    assert status == 200, first
    status, _, second = call(w2, "POST", "/api/auth/refresh",
                             {"refresh_token": first["refresh_token"]})
    assert status == 200, second
    assert second["user"] == first["user"]
    status, _, got = call(w1, "GET", "/api/auth/me", token=second["access_token"])
    assert status == 200 and got == first["user"], got
    # The refresh token used on w2 is used for w1 too.
    status, _, got = call(w1, "POST", "/api/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert (status, got) == (401, {"detail": BAD_REFRESH})

    # A new login; log out on w1, the tokens are dead on w2 and behind nginx.
    status, _, s = call(w1, "POST", "/api/auth/login", {"email": email, "password": password})
    assert status == 200, s
    status, _, s2 = call(w2, "POST", "/api/auth/refresh", {"refresh_token": s["refresh_token"]})
    assert status == 200, s2
    status, _, _ = call(w1, "POST", "/api/auth/logout", token=s2["access_token"])
    assert status == 204
    status, headers, got = call(w2, "GET", "/api/auth/me", token=s2["access_token"])
    assert (status, got) == (401, {"detail": "Invalid token"})
    assert 'error="invalid_token"' in headers.get("www-authenticate", "")
    status, _, got = call(w2, "GET", f"/api/{s2['user']['id']}/tasks", token=s2["access_token"])
    assert (status, got) == (401, {"detail": "Invalid token"})
    status, _, got = call(w2, "POST", "/api/auth/refresh", {"refresh_token": s2["refresh_token"]})
    assert (status, got) == (401, {"detail": BAD_REFRESH})
    assert_rejected(me(s2["access_token"]))


def test_two_workers_share_reuse_detection(worker):
    email, password, _ = register()
    _, w1 = worker(DATABASE_URL)
    _, w2 = worker(DATABASE_URL)
    status, _, s0 = call(w2, "POST", "/api/auth/login", {"email": email, "password": password})
    assert status == 200, s0
    status, _, s1 = call(w1, "POST", "/api/auth/refresh", {"refresh_token": s0["refresh_token"]})
    assert status == 200, s1
    # Replaying s0's refresh token on w2 kills s1 on w1.
    status, _, got = call(w2, "POST", "/api/auth/refresh", {"refresh_token": s0["refresh_token"]})
    assert (status, got) == (401, {"detail": BAD_REFRESH})
    status, _, got = call(w1, "POST", "/api/auth/refresh", {"refresh_token": s1["refresh_token"]})
    assert (status, got) == (401, {"detail": BAD_REFRESH})
    status, _, got = call(w1, "GET", "/api/auth/me", token=s1["access_token"])
    assert (status, got) == (401, {"detail": "Invalid token"})


def test_two_workers_share_the_login_throttle(worker):
    email, password, _ = register()
    _, w1 = worker(DATABASE_URL)
    _, w2 = worker(DATABASE_URL)
    for addr in (w1, w2, w1, w2):
        status, _, got = call(addr, "POST", "/api/auth/login",
                              {"email": email, "password": "wrong-" + password})
        assert (status, got) == (401, BAD_LOGIN)
    assert login(email, "wrong-" + password).status_code == 401     # the fifth, via nginx
    for addr in (w1, w2):
        status, headers, got = call(addr, "POST", "/api/auth/login",
                                    {"email": email, "password": password})
        assert (status, got) == (429, {"detail": THROTTLED})
        assert 0 < int(headers["retry-after"]) <= 900
