#!/usr/bin/env bash
# tests/faults/nginx.sh: issue 4's fault scenarios by hand, through nginx, with
# curl as the load generator (nothing shared with the pytest harness).
#
# usage: make run     # the local stack; STATE_DIR as for make run (default var)
#        tests/faults/nginx.sh kill9|pgrestart|sighup|sigterm
#
# CLIENTS curl loops (default 4) each alternate a create (POST) and a listing
# (GET) for a fresh user; after LOAD_SECONDS (default 2) the fault comes, and
# the load goes on for LOAD_SECONDS more.  Prints sent, 2xx, 5xx, failed (no
# HTTP answer), lost (writes answered 2xx that are not in the database), the
# recovery time, and from nginx's error log the requests whose upstream
# connection closed before the answer and those refused because no worker
# was listening.  sigterm stops the pool: `make run` starts it again.
set -euo pipefail

die() { printf 'faults: %s\n' "$*" >&2; exit 1; }

cd "$(dirname "$0")/../.."
STATE_DIR=$(cd "${STATE_DIR:-var}" 2>/dev/null && pwd) || die "no stack state in ${STATE_DIR:-var}: run make run first"
CLIENTS=${CLIENTS:-4}
LOAD_SECONDS=${LOAD_SECONDS:-2}
BIN=${TODO_BIN:-build/todo-fcgi}

[[ $# == 1 && $1 =~ ^(kill9|pgrestart|sighup|sigterm)$ ]] ||
    die "usage: $0 kill9|pgrestart|sighup|sigterm"
fault=$1
[[ -r $STATE_DIR/stack.env ]] || die "no stack in $STATE_DIR: run make run first"
set -a
# shellcheck disable=SC1091 # written by deploy/stack.sh start
. "$STATE_DIR/stack.env"
set +a
RUN=$STATE_DIR/run
master=$(head -n 1 "$RUN/workers.pid" 2>/dev/null) || die "no workers.pid in $RUN"
kill -0 "$master" 2>/dev/null || die "the pool is not running (make run)"

user=u_fault_$$_$RANDOM
token=$("$BIN" --token "$user" --ttl 600)
out=$(mktemp -d)
trap 'touch "$out/stop"; wait; rm -rf "$out"' EXIT

now() { date +%s.%N; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# One client: "start end kind status title" per request.
client() {
    local n=$1 i=0 t0 code
    while [[ ! -e $out/stop ]]; do
        i=$((i + 1))
        t0=$(now)
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
            -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"title\": \"f-$n-$i\"}" "$TODO_URL/api/$user/tasks") || true
        echo "$t0 $(now) write $code f-$n-$i" >>"$out/$n"
        t0=$(now)
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
            -H "Authorization: Bearer $token" "$TODO_URL/api/$user/tasks?limit=5") || true
        echo "$t0 $(now) read $code -" >>"$out/$n"
    done
}

# Workers serving (idle or busy), from the status endpoint (loopback only).
serving() {
    curl -s "$TODO_URL/api/status" |
        /usr/bin/python3 -c 'import json,sys
ws = json.load(sys.stdin)["workers"]
print(" ".join(str(w["pid"]) for w in ws if w["state"] in ("idle", "busy")))' 2>/dev/null || true
}

wait_for() {    # wait_for WHAT COMMAND...: up to 30 s; prints the seconds it took
    local what=$1 t0
    shift
    t0=$(now)
    until "$@"; do
        (($(date +%s) - ${t0%.*} < 30)) || die "timed out waiting for $what"
        sleep 0.05
    done
    minus "$(now)" "$t0"
}

errlog=$STATE_DIR/log/nginx-error.log
errs_before=$(wc -l <"$errlog")
before=$(serving)
wanted=$(wc -w <<<"$before")
for ((n = 0; n < CLIENTS; n++)); do client "$n" & done
sleep "$LOAD_SECONDS"
at=$(now)
case $fault in
kill9)
    victim=${before%% *}
    kill -KILL "$victim"
    replaced() { local s; s=$(serving); [[ $(wc -w <<<"$s") == "$wanted" && " $s " != *" $victim "* ]]; }
    echo "kill -9 worker $victim: replacement serving after $(wait_for 'a replacement' replaced) s"
    ;;
pgrestart)
    restart=("$(pg_config --bindir)/pg_ctl" restart -m fast -w -s
             -D "$STATE_DIR/pgdata" -l "$STATE_DIR/log/postgresql.log")
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "${restart[@]}")
    else
        "${restart[@]}"
    fi
    up=$(now)
    echo "PostgreSQL down for $(minus "$up" "$at") s"
    ;;
sighup)
    kill -HUP "$master"
    renewed() { local s w; s=$(serving); [[ $(wc -w <<<"$s") == "$wanted" ]] || return 1
        for w in $before; do [[ " $s " != *" $w "* ]] || return 1; done; }
    echo "SIGHUP: every worker replaced after $(wait_for 'the workers to be replaced' renewed) s"
    ;;
sigterm)
    kill -TERM "$master"
    gone() { [[ $(ps -o stat= -p "$master") != [^Z]* ]]; }     # gone, or a zombie
    echo "SIGTERM: master $master gone after $(wait_for 'the master to exit' gone) s"
    tail -n 1 "$STATE_DIR/log/workers.log" | grep -q '"master: stopped"' &&
        echo "workers.log ends with \"master: stopped\""
    ;;
esac
[[ $fault == sigterm ]] || sleep "$LOAD_SECONDS"
touch "$out/stop"
wait

# shellcheck disable=SC2016 # awk's own variables
cat "$out"/[0-9]* | awk -v up="${up:-0}" -v fault="$fault" '
    { sent++ }
    $4 ~ /^2/ { ok++; if ($3 == "write") print $5 > "'"$out"'/acked" }
    $4 ~ /^5/ { e5++; codes[$4]++ }
    $4 == "000" { none++ }
    $4 !~ /^2/ && $2 > last { last = $2 }
    END {
        printf "%s: sent %d, 2xx %d, 5xx %d", fault, sent, ok, e5
        for (c in codes) printf " (%s: %d)", c, codes[c]
        printf ", failed %d", none
        if (fault == "pgrestart" && last > 0) printf ", last failure %+.2f s after PostgreSQL was back", last - up
        printf "\n"
    }'
# nginx's view: requests it sent whose connection was closed or reset before
# the answer (a killed worker's request in hand; at a stop, requests sent as
# the pool closed), and those refused because no worker was listening.
tail -n +"$((errs_before + 1))" "$errlog" >"$out/errors"
echo "nginx: closed or reset before the answer $(grep -cE 'prematurely closed|reset by peer|timed out' "$out/errors"), refused (no worker listening) $(grep -c 'Connection refused' "$out/errors")"
touch "$out/acked"
lost=$(echo "SELECT title FROM tasks WHERE user_id = :'user'" |
    psql "$DATABASE_URL" -X -At -v ON_ERROR_STOP=1 -v user="$user" |
    sort | comm -13 - <(sort "$out/acked") | wc -l)
echo "lost (2xx writes not in the database): $lost"
