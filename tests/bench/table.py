"""`make bench`: each scenario through nginx with wrk, against its ceiling:
pgbench running the plainest statement the scenario needs, on the same
database in the same run.  Prints one table (medians of BENCH_RUNS runs),
the workers' memory, and numbers only: they go into issue notes, never into
assertions.

  list    GET /api/{u}/tasks?limit=20          pgbench: the page query
  get     GET /api/{u}/tasks/{id}              pgbench: the row by (user_id, id)
  create  POST /api/{u}/tasks                  pgbench: INSERT ... RETURNING
  update  PUT /api/{u}/tasks/{id} (the title)  pgbench: UPDATE ... RETURNING
  mix     40% list, 40% get, 10% create, 10% update, against the same mix

USERS users with PER tasks each are seeded first; after each scenario that
writes, the rows it added are deleted again, so every run sees the same data.

Environment: DATABASE_URL (pgbench connects as the workers do),
ADMIN_DATABASE_URL (seeds and vacuums), JWT_SECRET, TODO_URL (the stack's stack.env),
MASTER_PID (the pool's master), BENCH_SECONDS (10), BENCH_RUNS (3),
BENCH_CLIENTS (32), BENCH_SCENARIOS (all).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import jwt
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.environ["DATABASE_URL"]
ADMIN_DB = os.environ.get("ADMIN_DATABASE_URL") or DB
URL = os.environ["TODO_URL"]
SECRET = os.environ["JWT_SECRET"]
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
SCENARIOS = os.environ.get("BENCH_SCENARIOS", "list get create update mix").split()
USERS, PER = 100, 100
SEEDED = USERS * PER            # ids 1 .. SEEDED are the seeded tasks


def psql(sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", ADMIN_DB], input=sql,
                   text=True, check=True, stdout=subprocess.DEVNULL)


def seed():
    """USERS users b1..bN with PER tasks each, a mix of states, tags and due
    dates; user i owns ids (i-1)*PER+1 .. i*PER."""
    psql(f"""
        DELETE FROM users WHERE id ~ '^b[0-9]+$';
        INSERT INTO users (id) SELECT 'b' || u FROM generate_series(1, {USERS}) u;
        INSERT INTO tasks (user_id, id, title, description, completed, priority, tags,
                           due_date, created_at, updated_at)
        SELECT 'b' || u, (u - 1) * {PER} + k, 'task ' || k || ' of user ' || u,
               CASE WHEN k % 4 = 0 THEN 'notes for task ' || k END, k % 3 = 0,
               (ARRAY['low', 'medium', 'high'])[1 + k % 3]::task_priority,
               ARRAY['t' || k % 10], CASE WHEN k % 2 = 0 THEN now() + k * interval '1 hour' END,
               now() - k * interval '1 minute', now() - k * interval '1 minute'
          FROM generate_series(1, {USERS}) u, generate_series(1, {PER}) k;
        SELECT setval(pg_get_serial_sequence('tasks', 'id'),
                      greatest((SELECT max(id) FROM tasks), {SEEDED}));
        VACUUM ANALYZE tasks;""")


def reset():
    """Deletes what a writing scenario added, so the next one sees the seed."""
    psql(f"DELETE FROM tasks WHERE user_id ~ '^b[0-9]+$' AND id > {SEEDED}; VACUUM tasks;")


def lua_data(path):
    exp = int(time.time()) + 4 * 3600
    tokens = [jwt.encode({"sub": f"b{i}", "exp": exp}, SECRET, algorithm="HS256")
              for i in range(1, USERS + 1)]
    with open(path, "w") as f:
        f.write("return { per = %d, tokens = {\n%s\n} }\n"
                % (PER, ",\n".join(json.dumps(t) for t in tokens)))


def ms(text):
    """wrk's latency text (812.00us, 1.62ms, 2.01s) in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[m.group(2)]


def run_wrk(scenario, data):
    env = dict(os.environ, BENCH_SCENARIO=scenario, BENCH_DATA=data)
    out = subprocess.run(["wrk", "-t2", f"-c{CLIENTS}", f"-d{SECONDS}s", "--latency",
                          "-s", os.path.join(HERE, "wrk.lua"), URL],
                         env=env, check=True, capture_output=True, text=True).stdout
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": ms(pct["50"]), "p99": ms(pct["99"]),
            "bad": (int(bad.group(1)) if bad else 0) +
                   (sum(int(x) for x in errs.groups()) if errs else 0)}


def run_pgbench(scenario):
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", f"-c{CLIENTS}", "-j2",
                          f"-T{SECONDS}", "-f", os.path.join(HERE, "pgbench", scenario + ".sql"),
                          DB], check=True, capture_output=True, text=True).stdout
    return {"tps": float(re.search(r"^tps = ([\d.]+)", out, re.M).group(1)),
            "lat": float(re.search(r"^latency average = ([\d.]+) ms", out, re.M).group(1))}


def workers():
    """The pool's worker processes: the master's children."""
    master = os.environ["MASTER_PID"]
    out = subprocess.run(["pgrep", "-P", master], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


def report_rss(what):
    sizes = sorted(rss_kib(p) for p in workers())
    print(f"worker RSS {what}: " + ", ".join(f"{s / 1024:.1f}" for s in sizes) + " MiB")


def mixed_with_logins(n=1000):
    """n requests, one in ten a login (Argon2id), the rest the task mix."""
    s = requests.Session()
    accounts = []
    for i in range(4):
        email = f"bench-{os.getpid()}-{i}@example.com"
        r = s.post(URL + "/api/auth/register", json={"email": email, "password": "bench password"})
        r.raise_for_status()
        accounts.append((email, r.json()))
    for i in range(n):
        email, tok = accounts[i % len(accounts)]
        h = {"Authorization": "Bearer " + tok["access_token"]}
        base = f"{URL}/api/{tok['user']['id']}/tasks"
        if i % 10 == 0:
            r = s.post(URL + "/api/auth/login", json={"email": email, "password": "bench password"})
        elif i % 10 < 5:
            r = s.get(base + "?limit=20", headers=h)
        elif i % 10 < 8:
            r = s.post(base, json={"title": f"memory {i}", "tags": ["a", "b"]}, headers=h)
        else:
            r = s.get(base + "?q=memory&sort=title", headers=h)
        r.raise_for_status()


def main():
    print(f"bench: {CLIENTS} clients, {SECONDS} s x {RUNS} runs per scenario, "
          f"{USERS} users x {PER} tasks, {os.cpu_count()} cores, {URL}", flush=True)
    seed()
    rows = {}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as data:
        lua_data(data.name)
        for scenario in SCENARIOS:
            api, db = [], []
            for run in range(RUNS):
                api.append(run_wrk(scenario, data.name))
                reset()
                db.append(run_pgbench(scenario))
                reset()
                print(f"  {scenario} run {run + 1}: {api[-1]['rps']:.0f} req/s "
                      f"(p99 {api[-1]['p99']:.1f} ms), pgbench {db[-1]['tps']:.0f} tx/s",
                      file=sys.stderr, flush=True)
            med = lambda key, xs: statistics.median(x[key] for x in xs)  # noqa: E731
            rows[scenario] = (med("rps", api), med("p50", api), med("p99", api),
                              sum(x["bad"] for x in api), med("tps", db), med("lat", db))
    print()
    print(f"| scenario | req/s | p50 ms | p99 ms | non-2xx | pgbench tx/s | pgbench avg ms | ratio |")
    print(f"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (rps, p50, p99, bad, tps, lat) in rows.items():
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {bad} | {tps:,.0f} | "
              f"{lat:.2f} | {rps / tps:.0%} |")
    print()
    report_rss("after the scenarios")
    mixed_with_logins()
    report_rss("after 1,000 mixed requests with logins")


if __name__ == "__main__":
    main()
