#!/usr/bin/env bash
# tests/run-api.sh: runs the API tests (tests/api, pytest) through nginx against a
# throwaway local stack, used by `make test` and `make valgrind`. The stack is
# always stopped on exit; then the workers' log is searched for sanitizer and
# valgrind reports. Exit status is non-zero when a test fails, a worker died,
# or a report was found.
#
# usage: tests/run-api.sh [pytest arguments for tests/api...]
# env:   TODO_BIN (the program to test), STATE_DIR (default <repo>/build/test-stack,
#        wiped first), HTTP_PORT (18090), AUTH_RATE_LIMIT (1000), TOKEN_RATE_LIMIT (100000), PYTHON
#        (/usr/bin/python3), WORKER_WRAPPER and the rest as deploy/stack.sh reads them;
#        BROWSER_TESTS=1 also runs tests/browser/run.sh after pytest; HA_TESTS=1
#        then runs tests/ha (the fault tests of several app hosts and of a
#        database failover, with pools and nginx of their own beside the
#        stack); API_TESTS=0 leaves tests/api out.
# The tests get TODO_URL, TODO_JWT_SECRET, TODO_DATABASE_URL (as the workers
# connect), TODO_OWNER_DATABASE_URL (as the owner, who migrates),
# TODO_ADMIN_DATABASE_URL (as the superuser), TODO_PGDATA,
# TODO_WORKER_USER (the workers' system user when run as root), TODO_STATE_DIR,
# TODO_BIN.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=$REPO/deploy/stack.sh
PYTHON=${PYTHON:-/usr/bin/python3}
STATE_DIR=$(realpath -m -- "${STATE_DIR:-$REPO/build/test-stack}")
export STATE_DIR
export HTTP_PORT=${HTTP_PORT:-18090}
export AUTH_RATE_LIMIT=${AUTH_RATE_LIMIT:-1000}
export TOKEN_RATE_LIMIT=${TOKEN_RATE_LIMIT:-100000}
[[ -z ${TODO_BIN:-} ]] || export TODO_BIN
WORKER_LOG=$STATE_DIR/log/workers.log
STACK_UP=0

say() { printf 'run-api: %s\n' "$*"; }
die() { printf 'run-api: error: %s\n' "$*" >&2; exit 1; }

# The state folder is deleted (stack.sh refuses one it did not make).
wipe_state() {
    "$STACK" wipe >/dev/null
}

stop_stack() {
    ((STACK_UP)) || return 0
    STACK_UP=0
    "$STACK" stop || say "warning: stack.sh stop failed"
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    stop_stack
    exit "$rc"
}

# dead_workers: how many workers the stack started are no longer running.
dead_workers() {
    local line
    line=$("$STACK" status | grep '^workers' || true)
    if [[ $line =~ running\ +([0-9]+)\ of\ ([0-9]+) ]]; then
        echo $((BASH_REMATCH[2] - BASH_REMATCH[1]))
    else
        echo all
    fi
}

# valgrind_bad_pids: the workers valgrind reported errors for. Its
# "ERROR SUMMARY: N errors" line counts when present; --quiet leaves it out, and
# then any stack ("at 0x...") under a report other than a possible, indirect or
# reachable leak counts.
valgrind_bad_pids() {
    awk '
        match($0, /^==[0-9]+== /) {
            pid = substr($0, 3, RLENGTH - 5); text = substr($0, RLENGTH + 1)
            if (text ~ /^ERROR SUMMARY: /) { split(text, w, " "); summary[pid] = w[3] + 0 }
            else if (text ~ /^ +(at|by) 0x/) { if (counted[pid]) stacked[pid] = 1 }
            else if (text ~ /[^ ]/) counted[pid] = (text !~ /are (possibly|indirectly) lost|still reachable/)
            seen[pid] = 1
        }
        END {
            for (pid in seen)
                if ((pid in summary) ? summary[pid] > 0 : stacked[pid]) print pid
        }' "$WORKER_LOG"
}

# scan_worker_log: print each sanitizer or valgrind report in workers.log;
# 1 when there is one.
scan_worker_log() {
    [[ -f $WORKER_LOG ]] || return 0
    local found=0 pid
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORKER_LOG"; then
        found=1
        say "sanitizer reports in $WORKER_LOG:"
        grep -E -A 30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORKER_LOG" | head -n 120
    fi
    while read -r pid; do
        found=1
        say "valgrind errors in worker $pid:"
        grep -F "==$pid==" "$WORKER_LOG" | head -n 120
    done < <(valgrind_bad_pids)
    return $((found))
}

# stack_pytest ARGS...: pytest with the stack's settings (stack.env loaded).
stack_pytest() {
    TODO_URL=$TODO_URL TODO_JWT_SECRET=$JWT_SECRET TODO_DATABASE_URL=$DATABASE_URL \
        TODO_OWNER_DATABASE_URL=$OWNER_DATABASE_URL TODO_ADMIN_DATABASE_URL=$ADMIN_DATABASE_URL \
        TODO_PGDATA=$PG_DATA_DIR \
        TODO_WORKER_USER=$WORKER_USER \
        TODO_STATE_DIR=$STATE_DIR TODO_BIN=${TODO_BIN:-$REPO/build/todo-fcgi} \
        "$PYTHON" -m pytest -q "$@"
}

main() {
    cd "$REPO"
    [[ -x $PYTHON ]] || die "$PYTHON not found (run deploy/install-deps.sh)"
    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    wipe_state
    say "stack in $STATE_DIR on port $HTTP_PORT, TODO_BIN=${TODO_BIN:-<default>}"
    STACK_UP=1
    "$STACK" start

    # shellcheck source=/dev/null
    source "$STATE_DIR/stack.env"
    local rc=0 dead
    if [[ ${API_TESTS:-1} != 0 ]]; then
        stack_pytest tests/api "$@" || rc=$?
        ((rc == 0)) || say "pytest failed (exit $rc)"
    fi
    if [[ ${BROWSER_TESTS:-} == 1 ]]; then     # tests/browser, on the same stack
        TODO_URL=$TODO_URL "$REPO/tests/browser/run.sh" || { say "browser tests failed"; rc=1; }
    fi
    if [[ ${HA_TESTS:-} == 1 ]]; then          # tests/ha, beside the same stack
        stack_pytest tests/ha || { say "HA fault tests failed"; rc=1; }
    fi

    dead=$(dead_workers)
    if [[ $dead != 0 ]]; then
        say "$dead worker(s) died during the tests; last lines of $WORKER_LOG:"
        tail -n 30 "$WORKER_LOG"
        rc=1
    fi
    stop_stack
    scan_worker_log || rc=1
    ((rc == 0)) && say "passed"
    return "$rc"
}

main "$@"
