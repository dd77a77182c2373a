"""Connections per second straight over FastCGI, a new connection for every
request (as Apache's mod_proxy_fcgi without connection reuse, or nginx
without fastcgi_keep_conn), for a small and a large pool: how well idle
workers share the listening socket.  GET /api/health from CLIENTS processes
for SECONDS each; one line per pool size.  Numbers go into issue notes.

usage: connections.py BIN   (DATABASE_URL and JWT_SECRET from the environment)
"""

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../api"))
import fcgi_client  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
HEALTH = fcgi_client.params("GET", "/api/health")


def hammer(sock):
    n, end = 0, time.monotonic() + SECONDS
    while time.monotonic() < end:
        status, _, _ = fcgi_client.request(sock, HEALTH)
        assert status == 200, status
        n += 1
    return n


def measure(binary, workers, sock):
    env = dict(os.environ, LOG_LEVEL="error")
    proc = subprocess.Popen([binary, "--workers", str(workers), "--listen", sock], env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                fcgi_client.request(sock, HEALTH)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        time.sleep(1)           # every worker up
        with multiprocessing.Pool(CLIENTS) as pool:
            t0 = time.monotonic()
            total = sum(pool.map(hammer, [sock] * CLIENTS))
            elapsed = time.monotonic() - t0
        print(f"connections {workers:>3} workers  {total / elapsed:8.0f} requests/s "
              f"({CLIENTS} clients, a new connection each)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    with tempfile.TemporaryDirectory() as d:
        for workers in (4, 32):
            measure(sys.argv[1], workers, os.path.join(d, f"bench-{workers}.sock"))


if __name__ == "__main__":
    main()
