"""Benchmarks through the real stack (nginx -> workers -> PostgreSQL), on
loopback.  Prints one line per measurement; numbers go into issue notes, never
into assertions.

  login            the whole POST /api/auth/login (Argon2id verify + tokens)
  list/own-token   GET /api/{u}/tasks with a token this server issued (jti + sid:
                   the revocation check runs)
  list/external    the same with an external HS256 token without jti/sid (no
                   revocation check); the difference is the check's cost
  create xN        POST /api/{u}/tasks from N client threads: requests per second
"""

import concurrent.futures
import os
import secrets
import statistics
import sys
import time

import jwt
import requests

BASE = os.environ.get("TODO_URL", "http://127.0.0.1:18095")
SECRET = os.environ["TODO_JWT_SECRET"]
N = int(os.environ.get("BENCH_N", "400"))


def timed(fn, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.95) - 1]


def report(name, med, p95):
    print(f"{name:<22} median {med:7.2f} ms   p95 {p95:7.2f} ms")


def main():
    s = requests.Session()
    email = f"bench-{secrets.token_hex(6)}@example.com"
    r = s.post(f"{BASE}/api/auth/register", json={"email": email, "password": "bench-password"})
    r.raise_for_status()
    own = r.json()
    user = own["user"]["id"]

    def login():
        s.post(f"{BASE}/api/auth/login",
               json={"email": email, "password": "bench-password"}).raise_for_status()

    report("login", *timed(login, max(N // 20, 10)))

    own_h = {"Authorization": "Bearer " + own["access_token"]}
    ext = jwt.encode({"sub": user, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
    ext_h = {"Authorization": "Bearer " + ext}
    url = f"{BASE}/api/{user}/tasks"
    for _ in range(50):         # warm every worker's prepared statements
        s.get(url, headers=own_h)
        s.get(url, headers=ext_h)
    a = timed(lambda: s.get(url, headers=own_h).raise_for_status(), N)
    b = timed(lambda: s.get(url, headers=ext_h).raise_for_status(), N)
    report("list/own-token", *a)
    report("list/external", *b)
    print(f"{'revocation check':<22} median {a[0] - b[0]:+7.2f} ms per request")

    threads = int(os.environ.get("BENCH_THREADS", "8"))
    per = max(N // threads, 1)

    def creator(_):
        c = requests.Session()
        for i in range(per):
            c.post(url, headers=ext_h, json={"title": f"t{i}", "tags": ["bench"]}).raise_for_status()

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        list(ex.map(creator, range(threads)))
    dt = time.perf_counter() - t0
    print(f"{'create x' + str(threads):<22} {threads * per / dt:7.0f} requests/s ({threads * per} requests)")


if __name__ == "__main__":
    sys.exit(main())
