"""Tokens signed with public keys (RS256, ES256, EdDSA), from a PEM file, a JWKS
file or Better Auth's `jwks` table. The stack's workers know only the HMAC
secret, so every test here starts its own worker (`todo-fcgi --listen`, as in
test_modes.py) with the keys it needs, written into pytest's tmp_path; keys are
generated here and tokens minted with PyJWT."""

import json
import secrets
import time
import urllib.parse

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from helpers import DATABASE_URL, DB, b64url, hs_sign, mint, new_user_id, raw_token, report
from test_modes import fcgi, worker  # noqa: F401  (worker is a fixture)

ALG = {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA"}
ISSUER = "https://auth.example.test"
AUDIENCE = "todo-api"


# --------------------------------------------------------------------------
# Keys, key files and tokens


def new_key(kind):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def kind_of(priv):
    if isinstance(priv, rsa.RSAPrivateKey):
        return "rsa"
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        return "ec"
    return "ed"


@pytest.fixture(scope="module")
def keys():
    """Two keys of each kind: 'rsa', 'rsa2', 'ec', 'ec2', 'ed', 'ed2'."""
    out = {}
    for kind in ALG:
        out[kind] = new_key(kind)
        out[kind + "2"] = new_key(kind)
    return out


def public_pem(priv):
    return priv.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_jwk(priv, kid=None, with_alg=True):
    """The public half of `priv` as a JWK dict (no "kid" unless given)."""
    pub = priv.public_key()
    kind = kind_of(priv)
    to_jwk = {"rsa": RSAAlgorithm, "ec": ECAlgorithm, "ed": OKPAlgorithm}[kind].to_jwk
    j = to_jwk(pub)
    d = json.loads(j) if isinstance(j, str) else dict(j)
    if kind == "ec":
        # RFC 7518 6.2.1.2: full-length coordinates, as jose (Better Auth)
        # writes them; PyJWT 2.6 drops leading zero bytes (1 key in 128).
        n = pub.public_numbers()
        d["x"], d["y"] = (b64url(v.to_bytes(32, "big")) for v in (n.x, n.y))
    d.pop("kid", None)
    if kid is not None:
        d["kid"] = kid
    if with_alg:
        d["alg"] = ALG[kind]
        d["use"] = "sig"
    return d


def write_pem(tmp_path, priv):
    path = tmp_path / f"public-{secrets.token_hex(4)}.pem"
    path.write_text(public_pem(priv))
    return str(path)


def write_jwks(tmp_path, jwks):
    path = tmp_path / f"jwks-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps({"keys": jwks}))
    return str(path)


def payload(sub, exp=900, iat=0, **extra):
    now = int(time.time())
    out = {"sub": sub, **extra}
    if iat is not None:
        out["iat"] = now + iat
    if exp is not None:
        out["exp"] = now + exp
    return out


def sign(priv, claims, kid=None, alg=None):
    """A token signed with `priv` (its algorithm unless `alg`), with `kid` when given."""
    return jwt.encode(claims, priv, algorithm=alg or ALG[kind_of(priv)],
                      headers={"kid": kid} if kid is not None else None)


# --------------------------------------------------------------------------
# A worker of our own


@pytest.fixture
def key_worker(worker):
    """key_worker(**env) starts a worker of our own (test_modes.worker) on the
    stack's database with the stack's secret plus `env`, and returns its
    address."""
    return lambda **env: worker(**env)[1]


def get_tasks(addr, user, token):
    return fcgi(addr, "GET", f"/api/{user}/tasks", token=token)


def assert_accepted(addr, user, token):
    status, _, body = get_tasks(addr, user, token)
    assert status == 200, (status, body)
    assert json.loads(body) == []


def assert_rejected(addr, user, token, message="Invalid token"):
    status, headers, body = get_tasks(addr, user, token)
    assert status == 401, (status, body)
    assert json.loads(body) == {"detail": message}
    assert 'error="invalid_token"' in headers.get("www-authenticate", ""), headers


# --------------------------------------------------------------------------
# Each algorithm from each kind of key file


@pytest.mark.parametrize("source", ["pem", "jwks"])
@pytest.mark.parametrize("kind", ["rsa", "ec", "ed"])
def test_public_key_token_is_accepted(key_worker, tmp_path, keys, kind, source):
    priv = keys[kind]
    kid = None
    if source == "pem":
        addr = key_worker(JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, priv))
    else:
        kid = f"{kind}-key-1"
        # The EC key's JWK leaves out "alg" and "use", which are optional.
        jwk = public_jwk(priv, kid, with_alg=(kind != "ec"))
        addr = key_worker(JWT_JWKS_FILE=write_jwks(tmp_path, [jwk]))
    user = new_user_id()
    assert_accepted(addr, user, sign(priv, payload(user), kid))
    if kid is not None:
        # With one key, a token without a kid is accepted too.
        assert_accepted(addr, user, sign(priv, payload(user)))
    # Another key of the same type under the same header: refused.
    assert_rejected(addr, user, sign(keys[kind + "2"], payload(user), kid))
    # The HMAC secret works alongside the key.
    assert_accepted(addr, user, mint(user))


def test_public_key_token_can_write(key_worker, tmp_path, keys):
    addr = key_worker(JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, keys["ed"]))
    user = new_user_id()
    token = sign(keys["ed"], payload(user))
    status, headers, body = fcgi(addr, "POST", f"/api/{user}/tasks", b'{"title": "signed"}',
                                 token=token)
    assert status == 201, body
    assert json.loads(body)["user_id"] == user
    assert [r["title"] for r in DB.snapshot(user)] == ["signed"]


# --------------------------------------------------------------------------
# Choosing the key


@pytest.fixture
def four_keys(key_worker, tmp_path, keys):
    """A worker with a JWKS of four keys: ed 'a', ed2 'b', rsa 'r', ec 'e'."""
    jwks = [public_jwk(keys["ed"], "a"), public_jwk(keys["ed2"], "b"),
            public_jwk(keys["rsa"], "r"), public_jwk(keys["ec"], "e")]
    return key_worker(JWT_JWKS_FILE=write_jwks(tmp_path, jwks))


def test_kid_selects_the_key(four_keys, keys):
    user = new_user_id()
    for name, kid in (("ed", "a"), ("ed2", "b"), ("rsa", "r"), ("ec", "e")):
        assert_accepted(four_keys, user, sign(keys[name], payload(user), kid))
    # The right key under the other key's kid: only the named key is tried.
    assert_rejected(four_keys, user, sign(keys["ed2"], payload(user), "a"))
    assert_rejected(four_keys, user, sign(keys["ed"], payload(user), "b"))
    # A kid naming a key of another type: that key is not used for this algorithm.
    assert_rejected(four_keys, user, sign(keys["ed"], payload(user), "r"))


def test_unknown_kid_is_invalid(four_keys, keys):
    user = new_user_id()
    assert_accepted(four_keys, user, sign(keys["ed"], payload(user), "a"))
    assert_rejected(four_keys, user, sign(keys["ed"], payload(user), "no-such-kid"))
    # kids are compared exactly: "A" is not "a".
    assert_rejected(four_keys, user, sign(keys["ed"], payload(user), "A"))


def test_token_without_kid_tries_every_key_of_its_type(four_keys, keys):
    user = new_user_id()
    assert_accepted(four_keys, user, sign(keys["ed2"], payload(user)))
    assert_accepted(four_keys, user, sign(keys["ed"], payload(user)))
    assert_rejected(four_keys, user, sign(new_key("ed"), payload(user)))


# --------------------------------------------------------------------------
# Algorithms


def test_alg_none_is_invalid_with_public_keys(four_keys, keys):
    user = new_user_id()
    assert_rejected(four_keys, user, raw_token({"alg": "none", "typ": "JWT"}, payload(user)))
    assert_rejected(four_keys, user, raw_token({"alg": "none", "kid": "r"}, payload(user)))
    # A genuine RS256 signature kept, the header switched to none.
    _, body, sig = sign(keys["rsa"], payload(user), "r").split(".")
    forged = f"{b64url({'alg': 'none', 'kid': 'r'})}.{body}.{sig}"
    assert_rejected(four_keys, user, forged)
    assert_accepted(four_keys, user, sign(keys["rsa"], payload(user), "r"))


def test_asymmetric_token_is_refused_when_jwt_algorithms_is_hs256(key_worker, tmp_path, keys):
    addr = key_worker(JWT_ALGORITHMS="HS256", JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, keys["rsa"]))
    user = new_user_id()
    assert_rejected(addr, user, sign(keys["rsa"], payload(user)))
    assert_accepted(addr, user, mint(user))


def test_hmac_token_is_refused_when_jwt_algorithms_is_rs256(key_worker, tmp_path, keys):
    addr = key_worker(JWT_ALGORITHMS="RS256", JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, keys["rsa"]))
    user = new_user_id()
    assert_rejected(addr, user, mint(user))
    assert_accepted(addr, user, sign(keys["rsa"], payload(user)))


@pytest.mark.parametrize("kind", ["rsa", "ec", "ed"])
def test_public_key_used_as_hmac_secret_is_refused(key_worker, tmp_path, keys, kind):
    # The algorithm-confusion attack: the public key is public, so an HS256
    # token "signed" with its PEM text must never verify.
    priv = keys[kind]
    own_secret = secrets.token_urlsafe(36)
    pem = public_pem(priv)
    addr = key_worker(JWT_ALGORITHMS=f"HS256,{ALG[kind]}", JWT_SECRET=own_secret,
                      JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, priv))
    user = new_user_id()
    body_only = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    for key in (pem, pem.strip(), body_only):
        forged = hs_sign({"alg": "HS256", "typ": "JWT"}, payload(user), key=key)
        assert_rejected(addr, user, forged)
    # The worker's own secret and the key itself do work, the stack's secret does not.
    assert_accepted(addr, user, mint(user, key=own_secret))
    assert_accepted(addr, user, sign(priv, payload(user)))
    assert_rejected(addr, user, mint(user))


def test_jwk_used_as_hmac_secret_is_refused(key_worker, tmp_path, keys):
    jwk = public_jwk(keys["rsa"], "r")
    own_secret = secrets.token_urlsafe(36)
    addr = key_worker(JWT_ALGORITHMS="HS256,RS256", JWT_SECRET=own_secret,
                      JWT_JWKS_FILE=write_jwks(tmp_path, [jwk]))
    user = new_user_id()
    for key in (json.dumps(jwk), public_pem(keys["rsa"]), jwk["n"]):
        forged = hs_sign({"alg": "HS256", "typ": "JWT", "kid": "r"}, payload(user), key=key)
        assert_rejected(addr, user, forged)
    assert_accepted(addr, user, sign(keys["rsa"], payload(user), "r"))


# --------------------------------------------------------------------------
# Claims


def test_expired_public_key_token(key_worker, tmp_path, keys):
    addr = key_worker(JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, keys["rsa"]))
    user = new_user_id()
    assert_rejected(addr, user, sign(keys["rsa"], payload(user, exp=-120, iat=-1000)),
                    "Token expired")
    # Within the 30 s leeway: still good.
    assert_accepted(addr, user, sign(keys["rsa"], payload(user, exp=-10, iat=-1000)))
    assert_rejected(addr, user, sign(keys["rsa"], payload(user, exp=None)))


def test_issuer_and_audience_are_checked_when_configured(key_worker, tmp_path, keys):
    addr = key_worker(JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE,
                      JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, keys["rsa"]))
    user = new_user_id()

    def token(**extra):
        return sign(keys["rsa"], payload(user, **extra))

    assert_accepted(addr, user, token(iss=ISSUER, aud=AUDIENCE))
    assert_accepted(addr, user, token(iss=ISSUER, aud=["web", AUDIENCE]))
    for bad in (dict(iss="https://evil.example.test", aud=AUDIENCE),
                dict(iss=ISSUER + "/", aud=AUDIENCE),
                dict(iss=ISSUER, aud="another-api"),
                dict(iss=ISSUER, aud=["web", "mobile"]),
                dict(aud=AUDIENCE),
                dict(iss=ISSUER)):
        assert_rejected(addr, user, token(**bad))
    # The same rules hold for HS256 tokens.
    assert_accepted(addr, user, mint(user, iss=ISSUER, aud=AUDIENCE))
    assert_rejected(addr, user, mint(user))


def test_tampered_public_key_token_is_invalid(key_worker, tmp_path, keys):
    addr = key_worker(JWT_PUBLIC_KEY_FILE=write_pem(tmp_path, keys["rsa"]))
    user, other = new_user_id(), new_user_id()
    head, _, sig = sign(keys["rsa"], payload(user)).split(".")
    assert_rejected(addr, other, f"{head}.{b64url(payload(other))}.{sig}")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    good = sign(keys["rsa"], payload(user))
    h, b, _ = good.split(".")
    assert_rejected(addr, user, f"{h}.{b}.{flipped}")
    assert_accepted(addr, user, good)


# --------------------------------------------------------------------------
# Better Auth's jwks table in the shared database


@pytest.fixture
def jwks_table():
    """add(priv) stores the public half of a key in Better Auth's `jwks` table
    (created when missing), as Better Auth does: a JWK without kid, the row's
    random id being the kid; returns the id. add(None) only makes sure the
    table exists. Rows are removed afterwards."""
    DB.scalar('CREATE TABLE IF NOT EXISTS jwks (id text PRIMARY KEY, "publicKey" text NOT NULL,'
              ' "privateKey" text NOT NULL, "createdAt" timestamptz NOT NULL)')
    # Better Auth's table is not the API's: the workers' role is granted the
    # columns it reads, never the private keys (deploy/README.md).
    app = urllib.parse.parse_qs(urllib.parse.urlsplit(DATABASE_URL).query).get("user", [""])[0]
    if app:
        DB.scalar('GRANT SELECT (id, "publicKey", "createdAt") ON jwks TO :"app"', app=app)
    ids = []

    def add(priv):
        if priv is None:
            return None
        kid = secrets.token_hex(16)
        ids.append(kid)
        DB.scalar('INSERT INTO jwks (id, "publicKey", "privateKey", "createdAt")'
                  " VALUES (:'id', :'pub', 'not-used-by-the-api', now())",
                  id=kid, pub=json.dumps(public_jwk(priv, with_alg=False)))
        return kid

    yield add
    for kid in ids:
        DB.scalar("DELETE FROM jwks WHERE id = :'id'", id=kid)


def test_better_auth_jwks_table_key_is_used(key_worker, jwks_table):
    key = new_key("ed")
    kid = jwks_table(key)
    addr = key_worker()                 # no key files: the table is the only key source
    user = new_user_id()
    assert_accepted(addr, user, sign(key, payload(user), kid))
    # Another key under that kid, and the row's public key as an HMAC secret: refused.
    assert_rejected(addr, user, sign(new_key("ed"), payload(user), kid))
    jwk_text = json.dumps(public_jwk(key, with_alg=False))
    assert_rejected(addr, user, hs_sign({"alg": "HS256", "kid": kid}, payload(user), key=jwk_text))


@pytest.mark.parametrize("first, later", [(None, "ed"), (None, "rsa"), (None, "ec"),
                                          ("ed", "rsa"), ("rsa", "ec"), ("ec", "ed")])
def test_a_key_that_appears_in_the_table_while_the_worker_runs_is_used_at_once(
        worker, jwks_table, first, later):
    # Better Auth makes its first key on the first /api/auth/token call, often
    # after the API started, and a new key when it switches algorithm
    # (keyPairConfig): its first token must be accepted, not after a restart
    # or JWT_JWKS_RELOAD_SECONDS (60 s by default).
    jwks_table(None)                    # the table exists, as Better Auth's migration leaves it
    user = new_user_id()
    if first is not None:
        old = new_key(first)
        kid1 = jwks_table(old)
    _, addr = worker()
    if first is not None:
        assert_accepted(addr, user, sign(old, payload(user), kid1))
    key = new_key(later)
    kid2 = jwks_table(key)
    assert_accepted(addr, user, sign(key, payload(user), kid2))
    # A key of that kind the table does not hold is still refused.
    assert_rejected(addr, user, sign(new_key(later), payload(user), secrets.token_hex(16)))


def test_made_up_kids_read_the_table_at_most_about_once_a_second(worker, jwks_table, tmp_path):
    key = new_key("ed")
    jwks_table(key)
    proc, addr = worker(LOG_LEVEL="info")
    log = next(tmp_path.glob(f"worker-{addr[1]}.log"))
    reads = lambda: log.read_text().count('"keys: ')    # noqa: E731
    user = new_user_id()
    before, t0, sent = reads(), time.monotonic(), 0
    while time.monotonic() - t0 < 2.5:
        assert_rejected(addr, user, sign(key, payload(user), secrets.token_hex(16)))
        sent += 1
    seconds = time.monotonic() - t0
    made = reads() - before
    report(f"{sent} made-up kids in {seconds:.1f} s: {made} reads of the jwks table")
    assert sent >= 10 and 1 <= made <= seconds + 1, (sent, made, seconds)


def test_a_key_removed_from_the_table_stops_working_after_the_reload_interval(
        worker, jwks_table):
    key = new_key("ed")
    kid = jwks_table(key)
    _, addr = worker(JWT_JWKS_RELOAD_SECONDS="1")
    user = new_user_id()
    assert_accepted(addr, user, sign(key, payload(user), kid))
    DB.scalar("DELETE FROM jwks WHERE id = :'id'", id=kid)
    time.sleep(1.2)
    assert_rejected(addr, user, sign(key, payload(user), kid))
