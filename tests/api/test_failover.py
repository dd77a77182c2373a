"""A database that fails over (issue 12): DATABASE_URL may list several hosts,
as pg_auto_failover's connection string does; a worker writes only to the
one that takes writes, finds it again by itself, and answers 503 with
Retry-After meanwhile. A standby is stood for here by the stack's own
server in a session that only reads (default_transaction_read_only), which
is what a standby reports and how it refuses writes."""

import json
import os
import urllib.parse

import pytest

from helpers import DB, mint, new_user_id
from test_modes import DATABASE_URL, fcgi, worker  # noqa: F401  (worker is a fixture)


def url_with(**params):
    """The stack's DATABASE_URL with query parameters added or replaced."""
    url = urllib.parse.urlsplit(DATABASE_URL)
    query = dict(urllib.parse.parse_qsl(url.query))
    if "host" not in query:
        pytest.skip("needs a DATABASE_URL with host= (the local stack's)")
    query.update(params)
    return (f"{url.scheme}://{url.netloc}{url.path}?"
            + urllib.parse.urlencode(query, quote_via=urllib.parse.quote))


READ_ONLY = "-c default_transaction_read_only=on"


def create(addr, user, title):
    body = json.dumps({"title": title}).encode()
    return fcgi(addr, "POST", f"/api/{user}/tasks", body, token=mint(user))


def test_a_server_that_only_reads_is_never_used(worker):
    _, addr = worker(database_url=url_with(options=READ_ONLY))
    user = new_user_id()
    status, headers, body = create(addr, user, "never written")
    assert (status, json.loads(body)) == (503, {"detail": "Service unavailable"}), body
    assert headers.get("retry-after") == "5"
    status, _, body = fcgi(addr, "GET", "/api/ready")
    assert status == 503 and json.loads(body)["database"] == "unavailable", body
    assert DB.count(user) == 0


def test_a_connection_to_a_server_that_became_a_standby_is_dropped(worker, tmp_path):
    # The URL asks for any server (target_session_attrs=any), so the worker
    # connects; its write is refused as a standby refuses it: 503, nothing
    # written, and the connection is let go so the next one can find the
    # primary. Reads keep working.
    _, addr = worker(database_url=url_with(options=READ_ONLY, target_session_attrs="any"))
    user = new_user_id()
    status, headers, body = create(addr, user, "refused")
    assert status == 503 and headers.get("retry-after") == "5", body
    assert DB.count(user) == 0
    status, _, body = fcgi(addr, "GET", f"/api/{user}/tasks", token=mint(user))
    assert status == 200 and json.loads(body) == [], body
    log = next(tmp_path.glob("worker-*.log")).read_text()
    assert "takes no writes" in log, log[-2000:]


def test_of_several_hosts_the_one_that_answers_is_used(worker):
    # pg_auto_failover's URL lists every node; one that is down is skipped.
    host = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(DATABASE_URL).query)).get("host")
    if not host:
        pytest.skip("needs a DATABASE_URL with host= (the local stack's)")
    _, addr = worker(database_url=url_with(host=f"/nonexistent-dir,{host}"))
    user = new_user_id()
    status, _, body = create(addr, user, "written")
    assert status == 201, body
    assert DB.count(user) == 1
