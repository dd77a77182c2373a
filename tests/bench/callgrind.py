"""Instructions one worker executes per request, counted by valgrind's
callgrind: deterministic, unlike timings on a shared machine.  A worker runs
under callgrind twice, serving FEW and then MANY identical requests straight
over FastCGI (a new connection each, as nginx opens them); the difference
divided by MANY - FEW is the cost of one request, start-up and exit excluded.

usage: callgrind.py BIN   (DATABASE_URL, JWT_SECRET from the environment;
                           the users table.py seeded)
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import jwt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../api"))
import fcgi_client  # noqa: E402

FEW, MANY = 50, 550
TOKEN = jwt.encode({"sub": "b1", "exp": int(time.time()) + 3600}, os.environ["JWT_SECRET"],
                   algorithm="HS256")
REQUESTS = {
    "list": fcgi_client.params("GET", "/api/b1/tasks", token=TOKEN, QUERY_STRING="limit=20"),
    "get": fcgi_client.params("GET", "/api/b1/tasks/7", token=TOKEN),
}


def instructions(binary, params, n, d):
    sock, out = os.path.join(d, "w.sock"), os.path.join(d, f"callgrind.{n}")
    env = dict(os.environ, LOG_LEVEL="error")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--quiet",
                             f"--callgrind-out-file={out}", binary, "--listen", sock], env=env)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(sock):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the worker under callgrind did not start")
            time.sleep(0.1)
        for _ in range(n):
            status, _, _ = fcgi_client.request(sock, params, timeout=60)
            assert status == 200, status
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    with open(out) as f:
        total = int(re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M).group(1))
    os.unlink(sock)
    return total


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        for name, params in REQUESTS.items():
            few = instructions(binary, params, FEW, d)
            many = instructions(binary, params, MANY, d)
            print(f"callgrind {name:<5} {(many - few) / (MANY - FEW):>10,.0f} instructions "
                  f"per request (worker only; {FEW} vs {MANY} requests)", flush=True)


if __name__ == "__main__":
    main()
