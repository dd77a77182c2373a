"""Losing the database's primary (issue 12, items 2 and 4). A pool (standing
for an app host, on 127.0.0.2) whose DATABASE_URL is the formation's own
connection string (`pg_autoctl show uri`: both nodes,
target_session_attrs=read-write), behind nginx, under a steady load of
creates, each with an Idempotency-Key and sent again with it on a 503 or no
answer. The primary's keeper and PostgreSQL are killed with SIGKILL; the
monitor promotes the synchronous secondary. Every create the client saw
acknowledged must be on the new primary, none twice; the time from the kill to
the first create acknowledged after it is printed."""

import time

import ha
from helpers import report


def test_losing_the_primary_loses_no_acknowledged_create_and_duplicates_none(
        formation, pools, ha_nginx):
    primary, secondary = formation.nodes
    # Synchronous: a commit is acknowledged once the secondary has it too.
    sync = formation.psql(primary, "SELECT application_name, sync_state FROM pg_stat_replication")
    assert len(sync) == 1 and sync[0][1] in ("sync", "quorum"), sync
    url = formation.uri(user="todo_app", connect_timeout="2")
    pool = pools("127.0.0.2", database_url=url)
    nginx = ha_nginx([pool.name])

    with ha.Load(nginx.url, threads=4, reads=False) as load:
        time.sleep(1.5)                 # steady state before the fault
        acked_before = len(load.acked)
        killed = formation.kill(primary)
        promoted = []

        def recovered():
            if not promoted and formation.states().get(secondary.name, ("",))[0] in (
                    "wait_primary", "primary"):
                promoted.append(time.time() - killed)
            return promoted and load.first_ack_sent_after(killed) is not None
        ha.wait_for(recovered, "the secondary's promotion and a create acknowledged after it",
                    90, every=0.1)
        back = load.first_ack_sent_after(killed) - killed
        time.sleep(1.5)                 # steady state after it

    states = formation.states()
    role = formation.psql(secondary, "SELECT pg_is_in_recovery(),"
                          " current_setting('transaction_read_only')")
    rows = formation.psql(secondary, "SELECT title, count(*) FROM tasks"
                          f" WHERE user_id = '{load.user}' GROUP BY title")
    counts = {title: int(n) for title, n in rows}
    lost = [k for k in load.acked if k not in counts]
    twice = {t: n for t, n in counts.items() if n > 1}
    s = load.summary()
    report(f"kill -9 the database primary (keeper and PostgreSQL): creates {s['keys']} "
           f"({s['create_attempts']} attempts: 5xx {s['create_5xx']}, 409 {s['create_409']}, "
           f"no answer {s['create_no_answer']}, replayed {s['replayed']}), acknowledged "
           f"{s['acked']} ({acked_before} before the kill), lost {len(lost)}, "
           f"twice {len(twice)}, tasks {sum(counts.values())}")
    report(f"  first create acknowledged {back:.2f} s after the kill; {secondary.name} "
           f"seen taking writes (wait_primary, polling the monitor) {promoted[0]:.2f} s after it")

    assert role == [["f", "off"]], f"{secondary.name} takes writes: {role}"
    assert states.get(secondary.name, ("",))[0] in ("wait_primary", "primary"), states
    assert load.unexpected == [] and load.unacked == []
    assert acked_before > 0 and s["acked"] > acked_before
    assert lost == [], f"acknowledged, not on the new primary: {lost[:10]}"
    assert twice == {}, f"created twice: {list(twice.items())[:10]}"
    assert sum(counts.values()) == s["keys"], "every key has its one task"
