#!/usr/bin/env bash
# tests/openapi/lint.sh: lints openapi/openapi.json with Redocly CLI, pinned in
# package.json / package-lock.json, under the rules of redocly.yaml (and the
# deliberate exceptions of .redocly.lint-ignore.yaml). Exit status is non-zero
# when the linter reports an error; warnings are printed but pass.
#
# node_modules/ is (re)installed with `npm ci` only when it is missing or older
# than package-lock.json. Needs Node.js 18 or later with npm (Debian 12's
# nodejs and npm: deploy/install-deps.sh build), and the npm registry (or a
# cache) the first time.
#
# usage: tests/openapi/lint.sh [extra redocly lint arguments...]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

say() { printf 'openapi-lint: %s\n' "$*"; }
die() { printf 'openapi-lint: error: %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm not found (run deploy/install-deps.sh build)"
[[ -f package-lock.json ]] || die "package-lock.json is missing"

# npm writes node_modules/.package-lock.json on every install: its age is the
# install's age.
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || ! -x node_modules/.bin/redocly || package-lock.json -nt $stamp ]]; then
    say "installing the pinned node packages (npm ci)"
    npm ci --no-audit --no-fund
fi

# No telemetry, no update notices: the tests talk to nothing outside.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true \
    REDOCLY_SUPPRESS_UPDATE_NOTICE=true
node_modules/.bin/redocly lint --config redocly.yaml --format stylish "$@"
say "openapi/openapi.json passed"
