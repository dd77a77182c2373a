#!/usr/bin/env bash
# deploy/install-deps.sh: installs the Debian 12 packages todo-fcgi needs, only
# those missing. Silent when everything is there; without root it prints the one
# command to run and exits 1.
#
# usage: deploy/install-deps.sh [run|build|test|bench|all]     (default: all)
#   run    run a built program and the local stack (deploy/stack.sh)
#   build  run + compiler and -dev libraries (make)
#   test   build + test tools (make test, make valgrind)
#   bench  test + load generator (make bench); same as all
set -euo pipefail

# nginx (not nginx-light): in Debian 12 `nginx` is the full-featured core
# (map, limit_req, fastcgi, ssl, http2); nginx-light only adds the echo module.
RUN_PKGS=(postgresql-15 postgresql-client-15 nginx spawn-fcgi curl procps
    libfcgi0ldbl libpq5 libjson-c5 libssl3 libargon2-1)
# nodejs and npm: `make` runs `npm ci` for Swagger UI (/docs/), and `make test`
# for the OpenAPI linter and Playwright; package.json pins versions that run on
# Debian 12's Node 18.
BUILD_PKGS=(build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev libssl-dev
    libargon2-dev nodejs npm)
# libfaketime: a pool test steps the wall clock of the pool alone (the
# watchdog must go by the monotonic clock).  libjwt-dev (1.10): a second,
# independent opinion on JWT signatures in test_libjwt and the fuzzer; the
# program never links it (DESIGN.md: it is no verifier).
# postgresql-15-auto-failover, pg-auto-failover-cli: the fault tests' database
# formation (monitor, primary, synchronous secondary; tests/ha).
TEST_PKGS=(chromium fonts-dejavu-core libcmocka-dev python3-pytest python3-requests python3-jwt
    python3-cryptography python3-jsonschema valgrind pgbouncer systemd libfaketime libjwt-dev
    postgresql-15-auto-failover pg-auto-failover-cli)
# make bench: wrk (HTTP load; pgbench comes with postgresql-15); make soak:
# gnuplot-nox (its plot of memory and requests over time).
BENCH_PKGS=(wrk gnuplot-nox)

usage() { echo "usage: $0 [run|build|test|bench|all]" >&2; exit 2; }

# packages GROUP: the package names GROUP needs.
packages() {
    case $1 in
    run) echo "${RUN_PKGS[@]}" ;;
    build) echo "${RUN_PKGS[@]}" "${BUILD_PKGS[@]}" ;;
    test) echo "${RUN_PKGS[@]}" "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" ;;
    bench | all) echo "${RUN_PKGS[@]}" "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}" ;;
    *) usage ;;
    esac
}

installed() {
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]] && return 0
    # NodeSource's nodejs package brings npm along and conflicts with Debian's.
    [[ $1 == npm ]] && command -v npm >/dev/null
}

main() {
    (($# <= 1)) || usage
    local group=${1:-all} p pkgs missing=()
    [[ $group =~ ^(run|build|test|bench|all)$ ]] || usage
    read -r -a pkgs <<<"$(packages "$group")"
    for p in "${pkgs[@]}"; do
        installed "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0

    if ((EUID != 0)); then
        echo "install-deps: missing packages; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        return 1
    fi
    echo "install-deps: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

main "$@"
