"""Fixtures for the API tests; the helpers themselves live in helpers.py."""

import os
import sys
import urllib.parse

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helpers  # noqa: E402


def pytest_configure(config):
    host = urllib.parse.urlsplit(helpers.BASE_URL).hostname
    if host != "127.0.0.1":
        raise pytest.UsageError(
            f"TODO_URL must point at 127.0.0.1, not {helpers.BASE_URL!r}")


pytest_terminal_summary = helpers.print_report


@pytest.fixture(scope="session", autouse=True)
def stack_is_up():
    """Stop at once, failing, when nothing answers: one line beats 300 errors."""
    try:
        helpers.HTTP.get(helpers.url("/api/health"), timeout=10)
    except requests.ConnectionError as e:
        pytest.exit(f"the stack does not answer at {helpers.BASE_URL}: {e}",
                    returncode=1)


@pytest.fixture
def user():
    """A fresh random user id (u_<hex>), unknown to the server before the test."""
    return helpers.new_user_id()


@pytest.fixture
def api(user):
    """A client holding a valid token for `user`."""
    return helpers.Client(user)


@pytest.fixture
def task(api):
    """A plain task belonging to `api`'s user."""
    return api.create("Buy milk")


@pytest.fixture(scope="session")
def make_client():
    """make_client(user=None, token=None): a client, for a fresh user by default."""
    return helpers.Client


@pytest.fixture(scope="session")
def mint():
    """mint(sub, exp=..., iat=..., alg=..., key=..., **claims): a signed token."""
    return helpers.mint


@pytest.fixture(scope="session")
def db():
    """The stack's database through psql (see helpers.Database)."""
    return helpers.DB


@pytest.fixture(scope="session")
def snapshot():
    """snapshot(user): that user's task rows ordered by id, for before/after checks."""
    return helpers.DB.snapshot
