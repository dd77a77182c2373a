"""GET /api/openapi.json: the OpenAPI 3.1 document is served with the right
headers, and it describes every route of cgi/routes.c with the same method and
the two security schemes. (That every response of the other tests fits the
document is checked by helpers.Contract, on every request.)"""

import json
import os
import re

import pytest

from helpers import OPENAPI_FILE, json_body, request

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ROUTES_C = os.path.join(REPO, "cgi", "routes.c")

# A row of the route table: { "GET", "/api/{user}/tasks", handler, AUTH_..., BODY_... },
ROUTE_ROW = re.compile(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*(\w+)\s*,\s*(AUTH_\w+)\s*,'
                       r'\s*(BODY_\w+)\s*\}')
# The C table's parameter names, as API.md and the document spell them.
PARAM_NAMES = {"user": "user_id", "id": "task_id"}


def routes():
    with open(ROUTES_C, encoding="utf-8") as f:
        rows = ROUTE_ROW.findall(f.read())
    assert len(rows) >= 15, "cannot read the route table of cgi/routes.c"
    return rows


def document_path(c_pattern):
    return re.sub(r"\{(\w+)\}", lambda m: "{" + PARAM_NAMES.get(m.group(1), m.group(1)) + "}",
                  c_pattern)


@pytest.fixture(scope="module")
def doc():
    with open(OPENAPI_FILE, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def served():
    return request("GET", "/api/openapi.json")


def test_the_document_is_served_as_json_with_caching_headers(served):
    assert served.status_code == 200, served.text[:300]
    assert json_body(served)["openapi"].startswith("3.1.")
    cache = served.headers.get("Cache-Control", "")
    m = re.search(r"max-age=(\d+)", cache)
    assert m and int(m.group(1)) > 0, cache
    assert "no-store" not in cache and "private" not in cache, cache
    assert served.headers.get("ETag"), served.headers


def test_the_served_document_is_the_repositorys(served, doc):
    assert served.status_code == 200
    assert served.json() == doc


def test_if_none_match_gives_304(served):
    assert served.status_code == 200
    r = request("GET", "/api/openapi.json", headers={"If-None-Match": served.headers["ETag"]})
    assert r.status_code == 304, r.status_code
    assert r.content == b""


def test_the_document_needs_no_token(served):
    assert served.status_code == 200
    r = request("GET", "/api/openapi.json", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 200


def test_it_is_openapi_3_1_with_servers_and_info(doc):
    assert doc["openapi"].startswith("3.1.")
    assert [s["url"] for s in doc["servers"]] == ["/"]
    assert doc["info"]["title"] and doc["info"]["version"]


@pytest.mark.parametrize("method, pattern, handler, auth, body", routes(),
                         ids=[f"{m} {p}" for m, p, *_ in routes()])
def test_every_route_is_documented(doc, method, pattern, handler, auth, body):
    path = document_path(pattern)
    assert path in doc["paths"], f"{path} ({handler}) is not in openapi/openapi.json"
    op = doc["paths"][path].get(method.lower())
    assert op is not None, f"{method} {path} ({handler}) is not documented"
    assert op.get("operationId") and op.get("responses")
    # Public routes say so; the others fall back to the document's security.
    security = op.get("security", doc.get("security"))
    if auth == "AUTH_NONE":
        assert security == [], f"{method} {path} needs no token but claims {security}"
    else:
        assert security, f"{method} {path} needs a token but documents none"
        assert "401" in op["responses"], f"{method} {path}: 401 not documented"
    if auth == "AUTH_USER":
        assert "403" in op["responses"], f"{method} {path}: 403 not documented"
    media = set(op.get("requestBody", {}).get("content", {}))
    if body == "BODY_JSON":
        assert "application/json" in media, (method, path, media)
        assert {"413", "415", "422"} <= set(op["responses"]), (method, path)
    elif body == "BODY_FORM":
        assert "application/x-www-form-urlencoded" in media, (method, path, media)
    else:
        assert not media, (method, path, media)


def test_every_documented_operation_is_a_route(doc):
    table = {(m.lower(), document_path(p)) for m, p, *_ in routes()}
    table.add(("get", "/api/openapi.json"))       # served by nginx, not the worker
    documented = {(m, p) for p, item in doc["paths"].items() for m in item
                  if m in ("get", "put", "post", "delete", "patch", "options", "head")}
    assert documented == table


def test_path_parameters_are_described(doc):
    for path, item in doc["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        params = [resolve(doc, p) for p in item.get("parameters", [])]
        got = {p["name"] for p in params if p["in"] == "path"}
        assert got == names, (path, got)


def resolve(doc, node):
    """What a local $ref names (followed until a node without one)."""
    while "$ref" in node:
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def test_both_security_schemes(doc):
    schemes = doc["components"]["securitySchemes"]
    bearer = [s for s in schemes.values() if s["type"] == "http"]
    assert bearer and bearer[0]["scheme"].lower() == "bearer"
    assert bearer[0].get("bearerFormat") == "JWT"
    oauth = [s for s in schemes.values() if s["type"] == "oauth2"]
    assert oauth and oauth[0]["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    assert {next(iter(req)) for req in doc["security"]} == set(schemes)


def test_every_response_documents_x_request_id(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for status, resp in op["responses"].items():
                headers = resolve(doc, resp).get("headers", {})
                assert "X-Request-ID" in headers, (method, path, status)
    for name, resp in doc["components"]["responses"].items():
        assert "X-Request-ID" in resp.get("headers", {}), name
