#!/usr/bin/env bash
# tests/browser/run.sh: the browser tests (tests/browser/*.test.mjs, node's test
# runner + playwright-core driving Debian's /usr/bin/chromium headless) against
# a running stack. tests/run-api.sh calls it with BROWSER_TESTS=1, on its
# throwaway stack; or run it against any stack:
#
#   TODO_URL=http://127.0.0.1:18090 tests/browser/run.sh
#
# env: TODO_URL (required: the stack's base URL), BROWSER_OUT (screenshots,
#      default <repo>/build/browser, emptied first), BROWSER_TIMEOUT (seconds for
#      the whole run, default 85), CHROMIUM (default /usr/bin/chromium), NODE.
# Needs `npm ci` (node_modules/playwright-core) and the chromium package
# (deploy/install-deps.sh test). Exit status is non-zero when a test fails.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NODE=${NODE:-node}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export BROWSER_OUT=${BROWSER_OUT:-$REPO/build/browser}
BROWSER_TIMEOUT=${BROWSER_TIMEOUT:-85}

die() { printf 'browser-tests: error: %s\n' "$*" >&2; exit 1; }

[[ -n ${TODO_URL:-} ]] || die "set TODO_URL to the stack's URL, e.g. http://127.0.0.1:18090"
export TODO_URL
command -v "$NODE" >/dev/null || die "node not found (run deploy/install-deps.sh build)"
[[ -x $CHROMIUM ]] || die "$CHROMIUM not found (run deploy/install-deps.sh test)"
[[ -f $REPO/node_modules/playwright-core/package.json ]] ||
    die "node_modules/playwright-core is missing (run npm ci in $REPO)"
curl -fsS -o /dev/null --max-time 5 "$TODO_URL/api/health" || die "no stack answers at $TODO_URL"

mkdir -p "$BROWSER_OUT"
rm -f "$BROWSER_OUT"/*.png
printf 'browser-tests: %s, screenshots in %s\n' "$TODO_URL" "$BROWSER_OUT"
cd "$REPO"
rc=0
timeout -k 5 "$BROWSER_TIMEOUT" "$NODE" --test --test-reporter=spec --test-concurrency=1 \
    tests/browser/*.test.mjs || rc=$?
((rc != 124 && rc != 137)) || printf 'browser-tests: timed out after %ss\n' "$BROWSER_TIMEOUT" >&2
exit "$rc"
