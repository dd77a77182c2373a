"""Two app hosts behind one nginx (issue 12, items 3 and 4): pools on
127.0.0.2 and 127.0.0.3 (a master and its workers each), in the upstream of an
nginx made from the stack's own config, with the passive health check that
nginx.conf.example shows and the retry policy of deploy/nginx/todo-api.conf.

Under a steady mixed load one pool is killed with SIGKILL, master and workers
at once, as a lost host: no read fails, since nginx sends a read that found
the pool dead to the other one; creates, which nginx does not send again once
a worker may have seen them, are sent again by the client with their
Idempotency-Key and end with exactly one task each. Then a pool is killed and
started again: it takes its share of the requests again."""

import time

import pytest

import ha
from helpers import DB, report


def two_pools(pools, ha_nginx):
    port = ha.free_port("127.0.0.2", "127.0.0.3")
    a, b = pools("127.0.0.2", port), pools("127.0.0.3", port)
    check = ha.upstream_params()
    return a, b, ha_nginx([f"{a.name} {check}", f"{b.name} {check}"])


def creates_in_database(load):
    """(acknowledged keys without their task, {title: n} of titles with more
    than one task, number of tasks)."""
    rows = DB.rows("SELECT title, count(*) AS n FROM tasks WHERE user_id = :'u' GROUP BY title",
                   u=load.user)
    counts = {r["title"]: int(r["n"]) for r in rows}
    lost = [k for k in load.acked if k not in counts]
    twice = {t: n for t, n in counts.items() if n > 1}
    return lost, twice, sum(counts.values())


# nginx logs a request once it has answered it: an answer the pool sent just
# before it was killed may be logged a little after.
GRACE = 0.2


def served(entries, pool, since=0.0, until=float("inf")):
    return sum(1 for e in entries if since <= e["t"] < until and ha.served_by(e) == pool.name)


def kill_with_creates_in_hand(a, b, load, threads):
    """Kills pool a while creates wait in it, so that the kill leaves
    creates unanswered every time, not by chance: the user's row is held
    until the create of each writing client waits (in a or b), then a is
    killed, then the row is let go. What a's workers had sent may then
    commit, answered to no one; the client sends it again with its key.
    Reads go on meanwhile. Returns (creates that waited in a, time of the kill)."""
    for _ in range(5):
        with ha.UserLock(load.user):
            ha.wait_for(lambda: a.waiting() + b.waiting() == threads,
                        "every writing client's create to wait", 10)
            n = a.waiting()
            if n:
                return n, a.kill()
        time.sleep(0.3)                 # all in b: let them through, and again
    pytest.fail("no create waited in the pool to kill, five times")


def test_a_killed_app_host_fails_no_read_and_duplicates_no_create(pools, ha_nginx):
    a, b, nginx = two_pools(pools, ha_nginx)
    fail_timeout = ha.fail_timeout()
    threads = 4
    with ha.Load(nginx.url, threads=threads, readers=2) as load:
        time.sleep(1.5)
        in_hand, killed = kill_with_creates_in_hand(a, b, load, threads)
        time.sleep(fail_timeout + 2)    # long enough for nginx to try the dead pool again
        ended = time.time()

    log = nginx.entries()
    # Requests nginx tried on the dead pool after the kill: a burst until it
    # counts max_fails failures, then one every fail_timeout to see if it is back.
    tried = sorted(e["t"] for e in log if e["t"] >= killed and a.name in e["tried"])
    burst = tried[:1]
    for t in tried[1:]:
        if t - burst[-1] >= 1.0:
            break
        burst.append(t)
    stopped = (burst[-1] - killed) if burst else 0.0
    probes = len(tried) - len(burst)
    moved = sum(1 for e in log if e["method"] == "GET" and len(e["tried"]) > 1
                and ha.served_by(e) == b.name)
    lost, twice, tasks = creates_in_database(load)
    s = load.summary()
    report(f"kill -9 one of two app pools: reads {s['reads']}, failed {s['reads_failed']} "
           f"({moved} sent on to the other pool by nginx); "
           f"creates {s['keys']}, {in_hand} of them in the killed pool's hands "
           f"({s['create_attempts']} attempts: 5xx {s['create_5xx']}, 409 {s['create_409']}, "
           f"no answer {s['create_no_answer']}, replayed {s['replayed']}), "
           f"lost {len(lost)}, twice {len(twice)}, tasks {tasks}")
    report(f"  nginx stopped sending to the dead pool {stopped * 1000:.0f} ms after the kill "
           f"({len(burst)} requests tried there, each sent on to the other pool or failed "
           f"if a create); then {probes} probe(s) in {ended - killed - stopped:.1f} s "
           f"(fail_timeout {fail_timeout} s)")

    assert served(log, a, until=killed) > 20 and served(log, b, until=killed) > 20, \
        "both pools served before the kill"
    assert s["reads"] > 50 and s["reads_failed"] == 0
    assert load.unexpected == [] and load.unacked == []
    assert lost == [] and twice == {} and tasks == s["keys"]
    assert served(log, a, since=killed + GRACE) == 0
    assert stopped < 2.0, "nginx kept sending to the dead pool"
    assert probes <= (ended - killed) // fail_timeout + 1, "the dead pool was tried too often"


def test_a_restarted_app_host_takes_traffic_again(pools, ha_nginx):
    a, b, nginx = two_pools(pools, ha_nginx)
    fail_timeout = ha.fail_timeout()
    with ha.Load(nginx.url, threads=4) as load:
        time.sleep(1.0)
        killed = a.kill()
        time.sleep(1.0)
        a.start()
        back = time.time()
        ha.wait_for(lambda: served(nginx.entries(), a, since=back) >= 20,
                    "the restarted pool to serve again", fail_timeout + 10, every=0.2)
        first = min(e["t"] for e in nginx.entries()
                    if e["t"] >= back and ha.served_by(e) == a.name)
        time.sleep(2.0)
        ended = time.time()

    log = nginx.entries()
    own = a.status()["requests"]    # the restarted master's count, its status polls included
    phases = [("before the kill", 0.0, killed), ("down", killed + GRACE, first),
              ("after it took traffic again", first, ended)]
    counts = [(name, served(log, a, t0, t1), served(log, b, t0, t1)) for name, t0, t1 in phases]
    lost, twice, tasks = creates_in_database(load)
    s = load.summary()
    report(f"restart one of two app pools: it served again {first - back:.2f} s after it was "
           f"back (fail_timeout {fail_timeout} s); requests served by the restarted pool / "
           f"the other: " + "; ".join(f"{n} {x} / {y}" for n, x, y in counts)
           + f"; its own count since the restart {own}")
    report(f"  reads {s['reads']}, failed {s['reads_failed']}; creates {s['keys']} "
           f"({s['create_attempts']} attempts), lost {len(lost)}, twice {len(twice)}")

    _, again_a, again_b = counts[2]
    assert again_a >= 0.25 * (again_a + again_b), "the restarted pool takes its share again"
    assert counts[1][1] == 0, "nothing served by the pool while it was down"
    assert own >= again_a
    assert first - back <= fail_timeout + 1
    assert s["reads_failed"] == 0
    assert load.unexpected == [] and load.unacked == []
    assert lost == [] and twice == {} and tasks == s["keys"]
