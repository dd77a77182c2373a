#!/usr/bin/env bash
# tests/bench/run.sh: `make bench` and `make bench-scale` on a throwaway stack
# with the release build, stopped again at the end.
#
# usage: tests/bench/run.sh [table|scale|load|soak]
#   table  tests/bench/table.py (wrk through nginx against pgbench on the same
#          database), then tests/bench/callgrind.py (instructions per request)
#          and tests/bench/connections.py (new connections per second)
#   scale  tests/bench/scale.py (a user with 100 tasks against one with 100,000)
#   load   tests/bench/load.py (32, 256 and 1,000 connections)
#   soak   tests/bench/soak.py (the mix for SOAK_SECONDS, memory sampled)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
# The soak gets a stack of its own, wiped at the end: an hour of creates is
# about 1.6 million rows, far slower to delete than to throw away.
if [[ ${1:-} == soak ]]; then
    export STATE_DIR=${STATE_DIR:-$REPO/build/soak-stack}
    trap '"$REPO/deploy/stack.sh" wipe >/dev/null' EXIT
else
    export STATE_DIR=${STATE_DIR:-$REPO/build/bench-stack}
    trap '"$REPO/deploy/stack.sh" stop >/dev/null' EXIT
fi
export HTTP_PORT=${HTTP_PORT:-18095}
export AUTH_RATE_LIMIT=${AUTH_RATE_LIMIT:-100000}
export TOKEN_RATE_LIMIT=${TOKEN_RATE_LIMIT:-100000}
export TODO_BIN=${TODO_BIN:-$REPO/build/todo-fcgi}
echo "bench: starting a stack with ${WORKERS:-4} workers in $STATE_DIR"
"$REPO/deploy/stack.sh" start >/dev/null
set -a
# shellcheck source=/dev/null
. "$STATE_DIR/stack.env"
set +a
MASTER_PID=$(cat "$STATE_DIR/run/workers.pid")
export MASTER_PID
case ${1:-table} in
table)
    "$PY" "$REPO/tests/bench/table.py"
    "$PY" "$REPO/tests/bench/callgrind.py" "$TODO_BIN"
    "$PY" "$REPO/tests/bench/connections.py" "$TODO_BIN"
    ;;
scale) "$PY" "$REPO/tests/bench/scale.py" ;;
load) "$PY" "$REPO/tests/bench/load.py" ;;
soak) "$PY" "$REPO/tests/bench/soak.py" ;;
*) echo "usage: $0 [table|scale|load|soak]" >&2; exit 2 ;;
esac
