"""Fixtures of the fault tests of a scaled-out set-up (issue 12; `make
test-ha`): app pools on TCP at 127.0.0.2 and 127.0.0.3 behind an nginx of
their own, and a pg_auto_failover formation. They run against the throwaway
stack tests/run-api.sh starts, for its nginx.conf, secret and database; the
helpers of the API tests (tests/api) are shared.

Everything a test starts is stopped when it ends, passed or failed."""

import os
import sys

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))

import helpers  # noqa: E402
import formation as pgaf  # noqa: E402
import ha  # noqa: E402


pytest_terminal_summary = helpers.print_report


@pytest.fixture(scope="session", autouse=True)
def stack_is_up():
    """The stack whose config, secret and database the tests use answers."""
    if not os.environ.get("TODO_STATE_DIR"):
        pytest.exit("TODO_STATE_DIR is not set: run through tests/run-api.sh (make test-ha)",
                    returncode=1)
    try:
        helpers.HTTP.get(helpers.url("/api/health"), timeout=10)
    except requests.ConnectionError as e:
        pytest.exit(f"the stack does not answer at {helpers.BASE_URL}: {e}", returncode=1)


@pytest.fixture
def pools(tmp_path):
    """pools(host, port=None, database_url=..., **env) starts a pool (a master
    and its workers) on host:port; every pool is stopped after the test and
    its log must hold no sanitizer report."""
    started = []

    def start(host, port=None, **kw):
        p = ha.Pool(tmp_path, host, port, **kw)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()
    reports = [r for r in (p.sanitizer_report() for p in started) if r]
    assert not reports, "sanitizer report in a pool's log:\n" + "\n".join(reports)


@pytest.fixture
def ha_nginx(tmp_path):
    """ha_nginx(servers) starts a second nginx from the stack's generated
    config (the shipped deploy/nginx/*.conf included) whose upstream todo_fcgi
    is `servers` (lines such as "127.0.0.2:9000 max_fails=2 fail_timeout=5s");
    stopped after the test."""
    started = []

    def start(servers):
        n = ha.Nginx(tmp_path, servers)
        started.append(n)
        return n

    yield start
    for n in started:
        n.stop()


@pytest.fixture
def formation():
    """A running pg_auto_failover formation with the schema (formation.py);
    stopped and deleted after the test."""
    why = pgaf.available()
    if why:
        pytest.skip(why)
    f = pgaf.Formation()
    try:
        f.start()
        f.setup_database()
        yield f
    finally:
        f.stop()
