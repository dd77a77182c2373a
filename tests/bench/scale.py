"""`make bench-scale`: whether a listing's cost grows with the user's number
of tasks.  Two users with the same mix of states, priorities, tags, due dates
and words, one with SMALL tasks and one with LARGE; for each listing shape the
median of REPEAT sequential requests through nginx for both, and the ratio.
Numbers go into issue notes, never into assertions.

Environment: ADMIN_DATABASE_URL (seeds and vacuums; else DATABASE_URL),
JWT_SECRET, TODO_URL (the stack's stack.env).
"""

import os
import statistics
import subprocess
import time

import jwt
import requests

DB = os.environ.get("ADMIN_DATABASE_URL") or os.environ["DATABASE_URL"]
URL = os.environ["TODO_URL"]
SMALL, LARGE = 100, 100_000
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
DEPTH = 200                     # pages followed by Link rel="next"

SHAPES = [
    ("default", ""),
    ("status=pending", "status=pending"),
    ("status=completed", "status=completed"),
    ("sort=updated", "sort=updated"),
    ("sort=title", "sort=title"),
    ("sort=due_date", "sort=due_date"),
    ("sort=priority", "sort=priority"),
    ("tag=t7", "tag=t7"),
    # The small user has 10 tasks tagged t7: a page of 10 for both compares
    # the cost of finding them, not of writing 90 more rows.
    ("tag=t7, pages of equal length", "tag=t7&limit=10"),
    ("priority=high&status=pending", "priority=high&status=pending"),
    ("offset at half", None),
    ("q rare word", "q=quetzal"),
    ("q common word", "q=milk"),
    ("q 200 characters", "q=" + "x" * 200),
]


def seed(user, n):
    """n tasks; one in 3 completed, priorities and tags cycling, half with a
    due date, "milk" in one title in 3, "quetzal" in one in 5,000 (at least one)."""
    sql = f"""
        DELETE FROM users WHERE id = '{user}';
        INSERT INTO users (id) VALUES ('{user}');
        INSERT INTO tasks (user_id, title, description, completed, priority, tags,
                           due_date, created_at, updated_at)
        SELECT '{user}',
               (ARRAY['buy', 'call', 'fix', 'read', 'plan'])[1 + k % 5] || ' '
                 || CASE WHEN k % 3 = 0 THEN 'milk ' ELSE 'bread ' END || k
                 || CASE WHEN k % 5000 = 1 THEN ' quetzal' ELSE '' END,
               CASE WHEN k % 4 = 0 THEN 'notes for ' || k END, k % 3 = 0,
               (ARRAY['low', 'medium', 'high'])[1 + k % 3]::task_priority,
               ARRAY['t' || k % 10], CASE WHEN k % 2 = 0 THEN now() + k * interval '1 minute' END,
               now() - k * interval '1 second', now() - k * interval '1 second'
          FROM generate_series(1, {n}) k;
        VACUUM ANALYZE;"""
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB], input=sql, text=True,
                   check=True, stdout=subprocess.DEVNULL)


def deep_page_url(session, base, headers):
    """The URL of the page DEPTH deep (limit=20), by following Link rel="next"."""
    url = base + "?limit=20"
    for _ in range(DEPTH - 1):
        r = session.get(url, headers=headers)
        r.raise_for_status()
        url = URL + r.links["next"]["url"]
    return url


def alternating_ms(session, reqs):
    """For each (url, headers), the median ms and the last response, the
    requests timed in turn so that drift (autovacuum after the seed, other
    load) falls on all of them alike."""
    times, last = [[] for _ in reqs], [None] * len(reqs)
    for _ in range(REPEAT):
        for i, (url, headers) in enumerate(reqs):
            t0 = time.perf_counter()
            last[i] = session.get(url, headers=headers)
            times[i].append((time.perf_counter() - t0) * 1000)
            last[i].raise_for_status()
    return [(statistics.median(t), r) for t, r in zip(times, last)]


def main():
    secret = os.environ["JWT_SECRET"]
    users = {n: f"scale{n}" for n in (SMALL, LARGE)}
    print(f"bench-scale: seeding users with {SMALL:,} and {LARGE:,} tasks", flush=True)
    for n, user in users.items():
        seed(user, n)
    s = requests.Session()
    head = {n: {"Authorization": "Bearer " + jwt.encode(
        {"sub": u, "exp": int(time.time()) + 3600}, secret, algorithm="HS256")}
        for n, u in users.items()}
    base = {n: f"{URL}/api/{u}/tasks" for n, u in users.items()}
    print(f"median of {REPEAT} sequential requests, each row's timed in turn, ms "
          "(limit=100 unless said)\n")
    print(f"| shape | {SMALL:,} tasks | {LARGE:,} tasks | ratio | X-Total-Count | rows |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, query in SHAPES:
        reqs = [(base[n] + "?" + (query if query is not None else f"offset={n // 2}"), head[n])
                for n in (SMALL, LARGE)]
        row = [(t, r.headers.get("X-Total-Count"), len(r.json()))
               for t, r in alternating_ms(s, reqs)]
        print(f"| {name} | {row[0][0]:.2f} | {row[1][0]:.2f} | {row[1][0] / row[0][0]:.2f}x "
              f"| {row[0][1]} / {row[1][1]} | {row[0][2]} / {row[1][2]} |", flush=True)
    deep = deep_page_url(s, base[LARGE], head[LARGE])
    (first, _), (deep, _) = alternating_ms(s, [(base[LARGE] + "?limit=20", head[LARGE]),
                                               (deep, head[LARGE])])
    print(f"| Link rel=next, page {DEPTH} vs page 1 (limit=20, {LARGE:,} tasks) | {first:.2f} "
          f"| {deep:.2f} | {deep / first:.2f}x | | 20 / 20 |")
    for user in users.values():
        subprocess.run(["psql", "-q", "-d", DB, "-c", f"DELETE FROM users WHERE id = '{user}'"],
                       check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
