"""Who may call what: bearer tokens, their checks, and per-user authorization."""

import hashlib
import hmac
import time

import pytest

from helpers import (
    Client, assert_detail, b64url, claims, detail, hs_sign, mint, new_user_id, raw_token,
    request, secret,
)


def admin_client():
    me = new_user_id()
    return Client(me, mint(me, role="admin"))


def tasks_path(user):
    return f"/api/{user}/tasks"


def assert_not_authenticated(r):
    assert_detail(r, 401, "Not authenticated")
    www = r.headers.get("WWW-Authenticate", "")
    assert www.split()[0:1] == ["Bearer"], www
    assert "error=" not in www, www


def assert_rejected(r, message="Invalid token"):
    assert_detail(r, 401, message)
    www = r.headers.get("WWW-Authenticate", "")
    assert www.startswith("Bearer"), www
    assert 'error="invalid_token"' in www, www


def get_tasks(user, token, scheme="Bearer"):
    return request("GET", tasks_path(user), headers={"Authorization": f"{scheme} {token}"})


# --------------------------------------------------------------------------
# No token, other schemes


@pytest.mark.parametrize("method, suffix", [("GET", ""), ("POST", ""), ("GET", "/1"),
                                            ("PUT", "/1"), ("PATCH", "/1"), ("DELETE", "/1"),
                                            ("PATCH", "/1/complete")])
def test_no_token_is_not_authenticated(user, method, suffix):
    r = request(method, tasks_path(user) + suffix,
                json={"title": "x"} if method in ("POST", "PUT", "PATCH") else None)
    assert_not_authenticated(r)


def test_no_token_writes_nothing(user, db):
    with db.unchanged(user):
        r = request("POST", tasks_path(user), json={"title": "sneaky"})
    assert_not_authenticated(r)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNzd29yZA==", "Token abc", "Bearer",
                                    "Digest username=x"])
def test_other_schemes_are_not_authenticated(user, header):
    r = request("GET", tasks_path(user), headers={"Authorization": header})
    assert r.status_code == 401, r.text
    assert detail(r, 401) in ("Not authenticated", "Invalid token")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_basic_credentials_are_not_authenticated(user):
    r = request("GET", tasks_path(user), headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_not_authenticated(r)


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_name_is_case_insensitive(user, scheme):
    r = get_tasks(user, mint(user), scheme)
    assert r.status_code == 200, r.text


def test_public_endpoints_need_no_token():
    # /api/openapi.json joins these with the OpenAPI issue.
    for path in ("/api/health", "/api/ready"):
        r = request("GET", path)
        assert r.status_code == 200, (path, r.status_code, r.text)


# --------------------------------------------------------------------------
# Time claims (leeway 30 s)


def test_expired_token(user):
    r = get_tasks(user, mint(user, exp=-120, iat=-1000))
    assert_rejected(r, "Token expired")


def test_expired_token_writes_nothing(user, db):
    with db.unchanged(user):
        r = request("POST", tasks_path(user), token=mint(user, exp=-120, iat=-1000),
                    json={"title": "late"})
    assert_rejected(r, "Token expired")


def test_token_expired_within_leeway_still_works(user):
    assert get_tasks(user, mint(user, exp=-10, iat=-1000)).status_code == 200


def test_token_without_exp_is_invalid(user):
    assert_rejected(get_tasks(user, mint(user, exp=None)))


def test_non_numeric_exp_is_rejected(user):
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, {**claims(user), "exp": "tomorrow"})
    r = get_tasks(user, token)
    assert detail(r, 401) in ("Invalid token", "Token expired")
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")


def future(user, claim, seconds):
    if claim == "iat":
        return mint(user, iat=seconds)
    return mint(user, nbf=int(time.time()) + seconds)


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_claim_in_the_future_beyond_leeway_is_invalid(user, claim):
    assert_rejected(get_tasks(user, future(user, claim, 300)))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_claim_in_the_future_within_leeway_is_accepted(user, claim):
    assert get_tasks(user, future(user, claim, 10)).status_code == 200


def test_past_nbf_is_accepted(user):
    assert get_tasks(user, mint(user, nbf=int(time.time()) - 60)).status_code == 200


def test_token_without_iat_is_accepted(user):
    assert get_tasks(user, mint(user, iat=None)).status_code == 200


# --------------------------------------------------------------------------
# Algorithm and signature


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_token_is_invalid(user, alg):
    token = raw_token({"alg": alg, "typ": "JWT"}, claims(user))
    assert_rejected(get_tasks(user, token))


def test_unsigned_token_with_a_signature_part_is_invalid(user):
    token = raw_token({"alg": "none"}, claims(user), b"whatever")
    assert_rejected(get_tasks(user, token))


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algorithms_are_not_allowed_by_default(user, alg):
    assert_rejected(get_tasks(user, mint(user, alg=alg)))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA", "PS256"])
def test_asymmetric_alg_header_signed_with_the_secret_is_invalid(user, alg):
    # A token may not choose its own verification: HMAC with the shared secret
    # under an RS/ES/EdDSA header must not pass.
    token = hs_sign({"alg": alg, "typ": "JWT"}, claims(user))
    assert_rejected(get_tasks(user, token))


def test_alg_header_missing_is_invalid(user):
    token = hs_sign({"typ": "JWT"}, claims(user))
    assert_rejected(get_tasks(user, token))


def test_hand_made_hs256_token_is_accepted(user):
    # The control for the forged variants around it.
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims(user))
    assert get_tasks(user, token).status_code == 200


def test_hs384_signature_under_hs256_header_is_invalid(user):
    token = hs_sign({"alg": "HS256"}, claims(user), digest=hashlib.sha384)
    assert_rejected(get_tasks(user, token))


def test_wrong_secret_is_invalid(user):
    assert_rejected(get_tasks(user, mint(user, key="x" * 40)))


def test_tampered_payload_is_invalid(user):
    other = new_user_id()
    good = mint(user)
    head, _, sig = good.split(".")
    forged = f"{head}.{b64url(claims(other))}.{sig}"
    assert_rejected(get_tasks(other, forged))


def test_tampered_signature_is_invalid(user):
    head, body, sig = mint(user).split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert_rejected(get_tasks(user, f"{head}.{body}.{flipped}"))


@pytest.mark.parametrize("token", ["abc", "a.b", "a.b.c", "a.b.c.d", "...", "e30.e30.",
                                   "!!!.???.***"])
def test_garbage_tokens_are_invalid(user, token):
    assert_rejected(get_tasks(user, token))


def test_token_whose_payload_is_not_json_is_invalid(user):
    signing_input = f"{b64url({'alg': 'HS256'})}.{b64url(b'not json')}"
    mac = hmac.new(secret().encode(), signing_input.encode(), hashlib.sha256).digest()
    assert_rejected(get_tasks(user, f"{signing_input}.{b64url(mac)}"))


# --------------------------------------------------------------------------
# Which claim names the user


@pytest.mark.parametrize("claim", ["user_id", "userId", "id"])
def test_user_claim_fallbacks_when_sub_is_absent(user, claim):
    token = mint(None, **{claim: user})
    r = get_tasks(user, token)
    assert r.status_code == 200, r.text
    r = request("POST", tasks_path(user), token=token, json={"title": "via " + claim})
    assert r.status_code == 201, r.text
    assert r.json()["user_id"] == user


def test_agreeing_user_claims_are_accepted(user):
    token = mint(user, user_id=user, userId=user, id=user)
    assert get_tasks(user, token).status_code == 200


@pytest.mark.parametrize("claim", ["user_id", "userId", "id"])
def test_disagreeing_user_claims_are_invalid(user, claim):
    token = mint(user, **{claim: new_user_id()})
    assert_rejected(get_tasks(user, token))


def test_disagreeing_fallback_claims_are_invalid(user):
    token = mint(None, user_id=user, userId=new_user_id())
    assert_rejected(get_tasks(user, token))


def test_token_without_any_user_claim_is_invalid(user):
    assert_rejected(get_tasks(user, mint(None, email="a@example.com")))


def test_empty_user_is_invalid(user):
    assert_rejected(get_tasks(user, mint("")))


@pytest.mark.parametrize("sub", [123, 0, True, ["u"], {"id": "u"}])
def test_user_that_is_not_a_string_is_invalid(user, sub):
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims(sub))
    assert_rejected(get_tasks(user, token))


def test_numeric_fallback_user_is_invalid(user):
    assert_rejected(get_tasks(user, mint(None, user_id=42)))


def test_user_of_255_bytes_is_accepted():
    u = "u" * 255
    r = get_tasks(u, mint(u))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path_user", ["u" * 256, "%FF"], ids=["256-bytes", "not-utf8"])
def test_a_path_user_no_account_can_have_is_still_401_then_403_then_404(user, path_user):
    # Authentication comes first, as FastAPI's security dependency does:
    # no token 401, another user's token 403, and only an admin learns 404.
    path = f"/api/{path_user}/tasks"
    r = request("GET", path)
    assert_detail(r, 401, "Not authenticated")
    assert r.headers.get("WWW-Authenticate") == "Bearer"
    assert_detail(request("GET", path, token=mint(user)), 403, "Forbidden")
    assert_detail(request("GET", path, token=mint(user, role="admin")), 404, "Not Found")


@pytest.mark.parametrize("u", ["u" * 256, "\u00e9" * 128], ids=["256-ascii", "128-e-acute"])
def test_user_over_255_bytes_is_invalid(u):
    r = request("GET", "/api/someone/tasks", token=mint(u))
    assert_rejected(r)


# --------------------------------------------------------------------------
# Issuer and audience (not configured on the test stack)


def test_any_issuer_and_audience_are_accepted_when_unconfigured(user):
    token = mint(user, iss="https://auth.example", aud=["web", "mobile"])
    assert get_tasks(user, token).status_code == 200
    token = mint(user, iss="someone-else", aud="another")
    assert get_tasks(user, token).status_code == 200


def test_token_with_jti_is_accepted(user):
    assert get_tasks(user, mint(user, jti="never-revoked-" + user)).status_code == 200


# --------------------------------------------------------------------------
# Per-user authorization


def test_another_users_path_is_forbidden(api, db):
    victim = Client()
    victim.create("private")
    with db.unchanged(victim.user):
        for method, suffix in (("GET", ""), ("POST", ""), ("GET", "/1"),
                               ("DELETE", "/1")):
            r = api.request(method, victim.tasks + suffix,
                            json={"title": "x"} if method == "POST" else None)
            assert_detail(r, 403, "Forbidden")


def test_user_ids_are_case_sensitive():
    token = mint("Alice")
    r = request("GET", "/api/alice/tasks", token=token)
    assert_detail(r, 403, "Forbidden")
    assert request("GET", "/api/Alice/tasks", token=token).status_code == 200


def test_percent_encoded_path_user_matches_token_user():
    u = "Ren\u00e9-" + new_user_id()
    c = Client(u)
    t = c.create("encoded")
    assert t["user_id"] == u
    assert [x["id"] for x in c.list().json()] == [t["id"]]


def test_admin_may_act_on_another_users_tasks(db):
    owner = Client()
    t = owner.create("owned")
    admin = admin_client()
    r = admin.get(owner.tasks)
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [t["id"]]
    r = admin.get(f"{owner.tasks}/{t['id']}")
    assert r.status_code == 200 and r.json() == t
    r = admin.patch(f"{owner.tasks}/{t['id']}", json={"title": "moderated"})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == owner.user
    assert owner.fetch(t["id"])["title"] == "moderated"


def test_admin_creates_a_task_for_a_new_user():
    someone = Client()
    admin = admin_client()
    r = admin.post(someone.tasks, json={"title": "welcome"})
    assert r.status_code == 201, r.text
    assert r.json()["user_id"] == someone.user
    assert [x["title"] for x in someone.list().json()] == ["welcome"]


@pytest.mark.parametrize("role", ["Admin", "ADMIN", " admin", "admin ", "administrator",
                                  "user", ["admin"], True])
def test_only_the_exact_admin_role_is_admin(db, role):
    owner = Client()
    owner.create("owned")
    me = new_user_id()
    other = Client(me, mint(me, role=role))
    with db.unchanged(owner.user):
        assert_detail(other.get(owner.tasks), 403, "Forbidden")
        assert_detail(other.post(owner.tasks, json={"title": "x"}), 403, "Forbidden")


@pytest.mark.parametrize("method, suffix, body", [
    ("GET", "", None),
    ("PUT", "", {"title": "hijacked"}),
    ("PATCH", "", {"title": "hijacked"}),
    ("DELETE", "", None),
    ("PATCH", "/complete", None),
    ("PATCH", "/complete", {"completed": True}),
])
def test_another_users_task_id_is_not_found(api, db, method, suffix, body):
    owner = Client()
    t = owner.create("private", due_date="2026-11-30T17:00:00Z", recurrence="daily")
    with db.unchanged(owner.user, api.user):
        r = api.request(method, f"{t['id']}{suffix}", json=body)
    assert_detail(r, 404, "Task not found")
    assert owner.fetch(t["id"]) == t


def test_another_users_task_is_absent_from_listing_and_404_like_a_missing_one(api):
    owner = Client()
    t = owner.create("private")
    assert api.list().json() == []
    theirs = api.get(t["id"])
    missing = api.get(9_000_000_000_000)
    assert_detail(theirs, 404, "Task not found")
    assert theirs.json() == missing.json()


@pytest.mark.parametrize("raw_sub", [b"alic\xc1\xa5", b"\xed\xa0\x80", b"a\xff"])
def test_a_signed_token_whose_user_id_is_not_utf8_is_invalid(raw_sub):
    # Signed with the right secret, but the claim's bytes are not UTF-8 (an
    # overlong form, a surrogate, a stray byte): 401, not a 500 from the
    # database on /api/auth/me.
    now = int(time.time())
    payload = b'{"sub":"' + raw_sub + b'","iat":%d,"exp":%d}' % (now, now + 600)
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, payload)
    for path in ("/api/auth/me", "/api/alice/tasks"):
        r = request("GET", path, token=token)
        assert_detail(r, 401, "Invalid token")
