"""The database connection's own C tests (tests/unit/test_db.c), run against
the stack's database as the workers connect: two connections in one process
each prepare their statements, a transaction's state is libpq's, and a
statement lost after it went out is not sent again."""

import os
import subprocess

from helpers import DATABASE_URL

TEST_DB = os.path.join(os.path.dirname(__file__), "../../build/asan/test_db")


def test_each_connection_in_a_process_prepares_its_own_statements():
    env = dict(os.environ, TODO_DATABASE_URL=DATABASE_URL, ASAN_OPTIONS="detect_leaks=1")
    r = subprocess.run([TEST_DB], env=env, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "[  PASSED  ] 3 test(s)." in out, out
