"""CORS for browser front ends: nginx answers preflights for allowed origins and
decorates real responses; every other origin gets no CORS headers at all."""

import pytest

from helpers import header_tokens, request

ALLOWED = ["http://localhost:3000", "http://127.0.0.1:3000"]
OTHERS = ["http://evil.example", "http://localhost:3000.evil.example",
          "http://localhost:30000", "https://localhost:3000", "http://localhost",
          "null"]

METHODS = {"get", "post", "put", "patch", "delete"}
REQUEST_HEADERS = {"authorization", "content-type", "if-match", "if-none-match",
                   "x-request-id", "idempotency-key"}
EXPOSED = {"x-total-count", "link", "etag", "location", "x-request-id",
           "idempotent-replayed"}


def cors_headers(r):
    return {k.lower(): v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


def preflight(path, origin, method="POST", headers="authorization,content-type"):
    return request("OPTIONS", path, headers={
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    })


@pytest.mark.parametrize("origin", ALLOWED)
def test_preflight_from_an_allowed_origin(api, origin):
    r = preflight(api.tasks, origin)
    assert r.status_code == 204, r.text
    h = r.headers
    assert h.get("Access-Control-Allow-Origin") == origin
    assert h.get("Access-Control-Allow-Credentials") == "true"
    assert header_tokens(h.get("Access-Control-Allow-Methods")) == METHODS
    assert header_tokens(h.get("Access-Control-Allow-Headers")) == REQUEST_HEADERS


@pytest.mark.parametrize("path", ["/api/{u}/tasks/1", "/api/{u}/tasks/1/complete",
                                  "/api/health"])
def test_preflight_on_any_api_path_needs_no_token(api, path):
    r = preflight(path.replace("{u}", api.user), ALLOWED[0], method="PATCH",
                  headers="authorization,content-type,if-match")
    assert r.status_code == 204, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == ALLOWED[0]


def test_preflight_changes_nothing(api, db):
    t = api.create("x")
    with db.unchanged(api.user):
        r = preflight(f"{api.tasks}/{t['id']}", ALLOWED[0], method="DELETE")
    assert r.status_code == 204


@pytest.mark.parametrize("origin", OTHERS)
def test_preflight_from_another_origin_gets_no_cors_headers(api, origin):
    r = preflight(api.tasks, origin)
    assert cors_headers(r) == {}, r.headers


@pytest.mark.parametrize("origin", ALLOWED)
def test_real_request_from_an_allowed_origin(api, origin):
    api.create("x")
    r = api.get(headers={"Origin": origin})
    assert r.status_code == 200, r.text
    h = r.headers
    assert h.get("Access-Control-Allow-Origin") == origin
    assert h.get("Access-Control-Allow-Credentials") == "true"
    assert EXPOSED <= header_tokens(h.get("Access-Control-Expose-Headers"))


def test_create_from_an_allowed_origin_exposes_location(api):
    r = api.post(json={"title": "x"}, headers={"Origin": ALLOWED[0]})
    assert r.status_code == 201
    assert r.headers.get("Access-Control-Allow-Origin") == ALLOWED[0]
    assert "location" in header_tokens(r.headers.get("Access-Control-Expose-Headers"))


@pytest.mark.parametrize("origin", OTHERS)
def test_real_request_from_another_origin_gets_no_cors_headers(api, origin):
    r = api.get(headers={"Origin": origin})
    assert r.status_code == 200, r.text
    assert cors_headers(r) == {}, r.headers


def test_request_without_origin_gets_no_cors_headers(api):
    r = api.get()
    assert r.status_code == 200
    assert cors_headers(r) == {}, r.headers
