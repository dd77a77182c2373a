"""Whether a listing's cost stays with the page, not with the user's number of
tasks: for every listing shape, the plan PostgreSQL runs (`todo-fcgi --explain`,
the statement the workers send, planned as they run it) reads no table whole
and sorts no more than the rows that match.  And the counts behind
X-Total-Count, kept by triggers, stay equal to the rows they count.

The user has enough tasks, among other users' tasks, that the planner would
rather scan or sort than walk an index if the SQL let it."""

import json
import os
import subprocess
import urllib.parse

import pytest

from helpers import DATABASE_URL, DB, Client, link_target, new_user_id

BIN = os.environ.get("TODO_BIN")
N = 3000            # the user's tasks
OTHERS = 40000      # other users' tasks

SORTS = ["created", "updated", "title", "due_date", "priority"]
# Filters that leave the whole of the user's rows to walk in index order.
UNSELECTIVE = ["", "status=pending", "status=completed", "priority=high",
               "priority=low&status=pending"]
# Others: the planner may read the matching rows by another index, and sort
# those (a tag on 1 task in 10: cheaper than walking 10 rows per row shown).
SELECTIVE = ["tag=t3", "tag=t3&status=completed", "q=quetzal", "q=QUETZAL&status=pending", "tag=rare&tag=t1",
             "due_after=2030-01-01T00:00:00Z&due_before=2030-01-03T00:00:00Z",
             "tag=rare&priority=high"]


def seed(user, n, words=True):
    DB.scalar(f"""
        INSERT INTO users (id) VALUES (:'user');
        INSERT INTO tasks (user_id, title, description, completed, priority, tags,
                           due_date, created_at, updated_at)
        SELECT :'user',
               (ARRAY['buy', 'call', 'fix'])[1 + k % 3] || ' ' || k
                 || CASE WHEN {str(words).lower()} AND k % 500 = 7 THEN ' Quetzal' ELSE '' END,
               CASE WHEN k % 4 = 0 THEN 'notes ' || k END, k % 3 = 0,
               (ARRAY['low', 'medium', 'high'])[1 + k % 3]::task_priority,
               ARRAY['t' || k % 10] || CASE WHEN k % 97 = 0 THEN ARRAY['rare'] ELSE '{{}}' END,
               CASE WHEN k % 2 = 0 THEN timestamptz '2030-01-01' + k * interval '1 minute' END,
               now() - k * interval '1 second', now() - (k * 7 % {n}) * interval '1 second'
          FROM generate_series(1, {n}) k""", user=user)


@pytest.fixture(scope="module")
def big_user():
    if not BIN or not DB.available():
        pytest.skip("needs TODO_BIN and psql (run through tests/run-api.sh)")
    user = new_user_id()
    seed(user, N)
    for i in range(3):
        seed(new_user_id(), OTHERS // 3, words=False)
    DB.scalar("ANALYZE tasks; ANALYZE task_counts; ANALYZE tag_counts")
    return user


def explain(user, query):
    p = subprocess.run([BIN, "--explain", user, query], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, DATABASE_URL=DATABASE_URL,
                                            JWT_SECRET=os.environ["TODO_JWT_SECRET"],
                                            LOG_LEVEL="error"))
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)[0]["Plan"]


def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def matching(user, query):
    """What X-Total-Count says for the query (the count the plan may read)."""
    c = Client(user)
    r = c.get("", params=dict(urllib.parse.parse_qsl(query)) | {"limit": 1})
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


def check(user, query, selective):
    plan = explain(user, query)
    for n in nodes(plan):
        assert not (n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "tasks"), \
            f"{query}: a sequential scan of tasks"
        if n["Node Type"] == "Sort":
            assert selective, f"{query}: a sort where an index gives the order"
            rows = sum(c["Actual Rows"] for c in n["Plans"])
            assert rows <= matching(user, query), f"{query}: sorts {rows} rows"
    return plan


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_no_listing_scans_or_sorts_all_of_a_users_rows(big_user, sort, order):
    for f in UNSELECTIVE + SELECTIVE:
        query = "&".join(x for x in (f, f"sort={sort}&order={order}") if x)
        check(big_user, query, f in SELECTIVE)


@pytest.mark.parametrize("sort", SORTS)
def test_a_page_reached_by_cursor_reads_only_that_page(big_user, sort):
    c = Client(big_user)
    r = c.get("", params={"sort": sort, "limit": 50, "offset": N // 2})
    assert r.status_code == 200
    r = c.get("", params={"sort": sort, "limit": 50})
    for _ in range(3):
        r = c.get(link_target(r, "next"))
    query = urllib.parse.urlsplit(link_target(r, "next")).query
    plan = check(big_user, query, False)
    scanned = [n for n in nodes(plan) if n.get("Relation Name") == "tasks"]
    # The page: limit + 1 rows (the one more tells whether a next page exists).
    assert [n["Actual Rows"] for n in scanned] == [51], [n["Node Type"] for n in scanned]


def test_counts_stay_equal_to_the_rows_they_count(big_user):
    c = Client(new_user_id())
    a = c.create(title="a", tags=["x", "y"], priority="high")
    b = c.create(title="b", tags=["x"], completed=True)
    c.create(title="c", tags=["y", "y"])
    assert c.put(a["id"], json={"completed": True, "tags": ["y", "z"]}).status_code == 200
    assert c.patch(f"{b['id']}/complete").status_code == 200
    assert c.put(b["id"], json={"priority": "low"}).status_code == 200
    assert c.delete(a["id"]).status_code == 204
    for user in (c.user, big_user):
        assert DB.rows("""
            SELECT priority, completed, n FROM task_counts WHERE user_id = :'u' AND n > 0
            EXCEPT SELECT priority, completed, count(*) FROM tasks WHERE user_id = :'u'
            GROUP BY 1, 2""", u=user) == []
        assert DB.rows("""
            SELECT tag, completed, n FROM tag_counts WHERE user_id = :'u' AND n > 0
            EXCEPT SELECT tag, completed, count(*)
              FROM (SELECT DISTINCT id, completed, unnest(tags) tag FROM tasks
                     WHERE user_id = :'u') t GROUP BY 1, 2""", u=user) == []
    # Left: b (pending again, low, x) and c (pending, medium, y).
    for query, want in [("", 2), ("status=pending", 2), ("status=completed", 0),
                        ("tag=y", 1), ("tag=x", 1), ("tag=z", 0), ("priority=low", 1),
                        ("priority=low&status=completed", 0), ("tag=y&status=pending", 1)]:
        assert matching(c.user, query) == want, query
