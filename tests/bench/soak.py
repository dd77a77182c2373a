"""`make soak`: the mix scenario of `make bench` at 64 connections through
nginx for SOAK_SECONDS (3600; 60 for a quick look), sampling every
SOAK_SAMPLE seconds (60, or a sixth of a shorter run): each worker's RSS and
PSS, the database's connections, the requests nginx answered (by status)
and the pool's restarts.  Prints a table and a verdict (0 errors; RSS flat:
the last sample within 10% of the one after the first minute), and writes
build/soak/soak.tsv and build/soak/soak.png (gnuplot: RSS and req/s over
time).  Numbers for the issue note, never assertions.

Environment as tests/bench/table.py, plus STATE_DIR (the stack's, for
nginx's access log)."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import requests
import table as bench

SECONDS = int(os.environ.get("SOAK_SECONDS", "3600"))
SAMPLE = int(os.environ.get("SOAK_SAMPLE", str(min(60, max(5, SECONDS // 6)))))
CLIENTS = 64
OUT = os.path.join(bench.HERE, "..", "..", "build", "soak")
ACCESS_LOG = os.path.join(os.environ["STATE_DIR"], "log", "nginx-access.log")


def mib(pid, field):
    """A field of /proc/PID/smaps_rollup (Rss, Pss) in MiB; 0 for a process gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


def db_connections():
    out = subprocess.run(["psql", "-XAtq", "-d", bench.ADMIN_DB, "-c",
                          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                          " AND backend_type = 'client backend'"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def restarts():
    text = requests.get(bench.URL + "/api/metrics", timeout=10).text
    return int(re.search(r"^todo_worker_restarts_total (\d+)", text, re.M).group(1))


class AccessLog:
    """Answers nginx logged since the last call, by status class."""

    def __init__(self):
        self.offset = os.path.getsize(ACCESS_LOG)

    def since(self):
        counts = {"2xx": 0, "4xx": 0, "5xx": 0, "other": 0}
        with open(ACCESS_LOG, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            try:
                status = json.loads(line)["status"]
            except (ValueError, KeyError):
                continue
            key = f"{status // 100}xx"
            counts[key if key in counts else "other"] += 1
        return counts


def main():
    os.makedirs(OUT, exist_ok=True)
    print(f"soak: mix at {CLIENTS} connections for {SECONDS} s, a sample every {SAMPLE} s, "
          f"{os.cpu_count()} cores, {bench.URL}", flush=True)
    bench.seed()
    rows = []
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as data:
        bench.lua_data(data.name)
        log = AccessLog()
        env = dict(os.environ, BENCH_SCENARIO="mix", BENCH_DATA=data.name)
        wrk = subprocess.Popen(["wrk", "-t2", f"-c{CLIENTS}", f"-d{SECONDS}s", "--timeout", "10s",
                                "--latency", "-s", os.path.join(bench.HERE, "wrk.lua"), bench.URL],
                               env=env, stdout=subprocess.PIPE, text=True)
        start = time.monotonic()
        while wrk.poll() is None:
            time.sleep(max(0.0, start + (len(rows) + 1) * SAMPLE - time.monotonic()))
            if wrk.poll() is not None and time.monotonic() - start < (len(rows) + 0.5) * SAMPLE:
                break
            pids = bench.workers()
            counts = log.since()
            row = {"t": round(time.monotonic() - start), "rps": sum(counts.values()) / SAMPLE,
                   **counts, "rss": [mib(p, "Rss") for p in pids],
                   "pss": sum(mib(p, "Pss") for p in pids), "db": db_connections(),
                   "restarts": restarts()}
            rows.append(row)
            print(f"  {row['t']:>5} s: {row['rps']:,.0f} req/s, 5xx {row['5xx']}, worker RSS "
                  + ", ".join(f"{r:.1f}" for r in row["rss"])
                  + f" MiB, PSS {row['pss']:.1f} MiB, {row['db']} db connections",
                  file=sys.stderr, flush=True)
        out = wrk.stdout.read()
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    total = re.search(r"(\d+) requests in", out).group(1)
    print()
    print("| time s | req/s | 2xx | 4xx | 5xx | worker RSS MiB (min-max) | PSS MiB (all) "
          "| db connections | restarts |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['t']} | {r['rps']:,.0f} | {r['2xx']} | {r['4xx']} | {r['5xx']} | "
              f"{min(r['rss']):.1f}-{max(r['rss']):.1f} | {r['pss']:.1f} | {r['db']} | "
              f"{r['restarts']} |")
    print()
    print(f"wrk: {total} requests, non-2xx {bad.group(1) if bad else 0}, "
          f"socket errors {errs.group(1) if errs else 'none'}")
    with open(os.path.join(OUT, "soak.tsv"), "w") as f:
        f.write("# t\treq/s\tmax_rss_mib\tpss_mib\n")
        for r in rows:
            f.write(f"{r['t']}\t{r['rps']:.0f}\t{max(r['rss']):.2f}\t{r['pss']:.2f}\n")
    plot(os.path.join(OUT, "soak.tsv"), os.path.join(OUT, "soak.png"))
    first = next((r for r in rows if r["t"] >= min(60, SECONDS // 2)), rows[0])
    growth = max(rows[-1]["rss"]) / max(first["rss"]) - 1
    errors = (int(bad.group(1)) if bad else 0) + (1 if errs else 0) + \
        sum(r["5xx"] for r in rows) + rows[-1]["restarts"]
    print(f"verdict: errors {'0: met' if not errors else f'{errors}: missed'}; largest worker RSS "
          f"{max(first['rss']):.1f} MiB at {first['t']} s, {max(rows[-1]['rss']):.1f} MiB at the "
          f"end ({growth:+.0%}: {'flat, met' if growth <= 0.10 else 'growing, missed'}); "
          f"plot in build/soak/soak.png", flush=True)
    # The stack is wiped by tests/bench/run.sh: no rows to delete here.


def plot(tsv, png):
    script = f"""set terminal pngcairo size 900,500
set output '{png}'
set xlabel 'seconds'
set ylabel 'MiB'
set y2label 'requests/s'
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
set key bottom right
plot '{tsv}' using 1:3 with linespoints title 'largest worker RSS (MiB)', \\
     '' using 1:4 with linespoints title 'all workers PSS (MiB)', \\
     '' using 1:2 axes x1y2 with lines title 'req/s'
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"soak: no plot ({e}); install gnuplot-nox", file=sys.stderr)


if __name__ == "__main__":
    main()
