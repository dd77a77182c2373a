"""`make bench-load`: the list and mix scenarios of `make bench` through nginx
at 32, 256 and 1,000 connections (wrk, LOAD_SECONDS each, default 10),
printing req/s, p50, p99, non-2xx answers and socket errors per level, and
each level against the targets of issue 14: at least 90% of the 32-client
throughput of the same run, no socket errors, and a p99 no more than three
times what queueing alone explains (clients / throughput).

Numbers only: they go into issue notes, never into assertions.  Environment
as tests/bench/table.py, plus LOAD_LEVELS ("32 256 1000"), LOAD_SECONDS and
LOAD_SCENARIOS ("list mix")."""

import os
import re
import resource
import subprocess
import sys
import tempfile

import table as bench

LEVELS = [int(x) for x in os.environ.get("LOAD_LEVELS", "32 256 1000").split()]
SECONDS = int(os.environ.get("LOAD_SECONDS", "10"))
SCENARIOS = os.environ.get("LOAD_SCENARIOS", "list mix").split()


def run_wrk(scenario, data, clients):
    env = dict(os.environ, BENCH_SCENARIO=scenario, BENCH_DATA=data)
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{SECONDS}s", "--timeout", "10s",
                          "--latency", "-s", os.path.join(bench.HERE, "wrk.lua"), bench.URL],
                         env=env, check=True, capture_output=True, text=True).stdout
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": bench.ms(pct["50"]), "p99": bench.ms(pct["99"]),
            "non2xx": int(bad.group(1)) if bad else 0,
            "errors": dict(zip(("connect", "read", "write", "timeout"),
                               (int(x) for x in errs.groups()))) if errs else {}}


def main():
    # wrk holds one descriptor per connection.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(LEVELS) * 2 + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    print(f"bench-load: {', '.join(map(str, LEVELS))} connections, {SECONDS} s each, "
          f"{bench.USERS} users x {bench.PER} tasks, {os.cpu_count()} cores, {bench.URL}",
          flush=True)
    bench.seed()
    rows = []
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as data:
        bench.lua_data(data.name)
        for scenario in SCENARIOS:
            base = None
            for clients in LEVELS:
                r = run_wrk(scenario, data.name, clients)
                bench.reset()
                base = base or r["rps"]
                queueing = clients / r["rps"] * 1000 if r["rps"] else float("inf")
                errors = sum(r["errors"].values())
                met = (r["rps"] >= 0.9 * base and errors == 0 and r["p99"] <= 3 * queueing)
                rows.append((scenario, clients, r, queueing, met))
                print(f"  {scenario} at {clients}: {r['rps']:.0f} req/s, p99 {r['p99']:.1f} ms, "
                      f"non-2xx {r['non2xx']}, socket errors {r['errors']}",
                      file=sys.stderr, flush=True)
    print()
    print("| scenario | clients | req/s | % of 32 | p50 ms | p99 ms | queueing ms | non-2xx "
          "| socket errors (connect/read/write/timeout) | targets |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for scenario, clients, r, queueing, met in rows:
        base = next(x[2]["rps"] for x in rows if x[0] == scenario)
        e = r["errors"]
        print(f"| {scenario} | {clients} | {r['rps']:,.0f} | {r['rps'] / base:.0%} | "
              f"{r['p50']:.2f} | {r['p99']:.2f} | {queueing:.1f} | {r['non2xx']} | "
              f"{e.get('connect', 0)}/{e.get('read', 0)}/{e.get('write', 0)}/{e.get('timeout', 0)} | "
              f"{'(base)' if clients == LEVELS[0] else 'met' if met else 'missed'} |")


if __name__ == "__main__":
    main()
