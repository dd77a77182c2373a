#!/usr/bin/env bash
# tests/bench/run.sh: `make bench`: a throwaway stack with the release build,
# tests/bench/bench.py against it (through nginx), tests/bench/connections.py
# (pools of its own, straight over FastCGI), and the stack stopped again.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export STATE_DIR=${STATE_DIR:-$REPO/build/bench-stack}
export HTTP_PORT=${HTTP_PORT:-18095}
export AUTH_RATE_LIMIT=${AUTH_RATE_LIMIT:-100000}
export TODO_BIN=${TODO_BIN:-$REPO/build/todo-fcgi}
trap '"$REPO/deploy/stack.sh" stop >/dev/null' EXIT
"$REPO/deploy/stack.sh" start >/dev/null
set -a
# shellcheck source=/dev/null
. "$STATE_DIR/stack.env"
set +a
echo "bench: ${WORKERS:-4} workers ($(nproc) cores), $TODO_URL"
TODO_JWT_SECRET=$JWT_SECRET "${PYTHON:-/usr/bin/python3}" "$REPO/tests/bench/bench.py"
DATABASE_URL=$DATABASE_URL JWT_SECRET=$JWT_SECRET "${PYTHON:-/usr/bin/python3}" \
    "$REPO/tests/bench/connections.py" "$TODO_BIN"
