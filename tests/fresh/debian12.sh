#!/usr/bin/env bash
# tests/fresh/debian12.sh: the README's two commands on a fresh Debian 12.
#
# debootstraps bookworm (minbase) into build/fresh/bookworm, gives it what a
# new Debian 12 server has (apt sources with security updates, a standard
# /etc/hosts, C.UTF-8), installs exactly git, make and ca-certificates, clones
# this repository's HEAD under /root, and runs as root, with CI=true:
#
#   make run     then checks that its URL serves /, /docs/ and the API; make stop
#   make test
#
# and reports each command's exit status, time and test counts, what the
# first run downloaded, and the last lines of each log. Run by hand (as root,
# on a Debian-like host with debootstrap), not by `make test`; `make
# fresh-check` runs it too. About 5 minutes on 2 cores with a fast mirror;
# 3 GB under build/fresh.
#
# What differs from a real server, and why:
#   - the chroot shares the host's network, so the stack's ports must be free
#     on the host (RUN_PORT, TEST_PORT), and services that packages start on
#     installation (PostgreSQL's main cluster, nginx on port 80) are kept from
#     starting by /usr/sbin/policy-rc.d, as in a container;
#   - the host's own CA certificates (/usr/local/share/ca-certificates) are
#     installed in the chroot, and *_proxy variables passed through, for
#     machines that reach the registries through a proxy.
#
# env: FRESH_DIR (default <repo>/build/fresh; the chroot is its bookworm/,
#      deleted and made again on every run), MIRROR (default
#      http://deb.debian.org/debian), CLONE_DIR (default /root/todo-fcgi),
#      RUN_PORT / TEST_PORT (HTTP_PORT for make run / make test; unset: the
#      README's defaults, 8080 and 18090), TAIL (log lines shown, default 15).
# Exit status: 0 when both commands and every check passed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FRESH_DIR=$(realpath -m -- "${FRESH_DIR:-$REPO/build/fresh}")
ROOT=$FRESH_DIR/bookworm
LOGS=$FRESH_DIR/logs
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CLONE_DIR=${CLONE_DIR:-/root/todo-fcgi}
TAIL=${TAIL:-15}
REPORT=$FRESH_DIR/report.txt
MOUNTED=0
STACK_STARTED=0

say() { printf 'fresh-debian12: %s\n' "$*" | tee -a "$REPORT"; }
die() { printf 'fresh-debian12: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

# mounts_under DIR: the mount points at or below DIR, deepest first.
mounts_under() {
    awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

# In the chroot: a root login's environment, plus CI, the host's proxy
# settings if it has any, plus the NAME=VALUE arguments. (No
# NODE_EXTRA_CA_CERTS: Debian's Node reads the system's CA certificates.)
in_chroot() {
    local -a envs=(HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CI=true)
    local v
    while IFS= read -r v; do envs+=("$v"); done < <(env | grep -iE '^[a-z]+_proxy=' || true)
    while [[ $# -gt 0 && $1 == *=* ]]; do envs+=("$1"); shift; done
    chroot "$ROOT" /usr/bin/env -i "${envs[@]}" "$@"
}

installed_count() {
    # shellcheck disable=SC2016
    in_chroot dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -c '^ii'
}

# The processes whose root is the chroot: only ever ours.
chroot_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        if [[ $r == "$ROOT" ]]; then echo "${p#/proc/}"; fi
    done
}

unmount_all() {
    local m
    while IFS= read -r m; do
        if [[ -n $m ]]; then umount "$m" 2>/dev/null || umount -l "$m"; fi
    done < <(mounts_under "$ROOT")
    MOUNTED=0
}

cleanup() {
    local rc=$? pids
    trap - EXIT INT TERM
    set +e      # clean up all the way, whatever fails
    if ((STACK_STARTED)); then
        in_chroot bash -c "cd $CLONE_DIR && make stop" >>"$LOGS/make-stop.log" 2>&1 || true
    fi
    if [[ -d $ROOT ]]; then
        pids=$(chroot_pids)
        if [[ -n $pids ]]; then
            say "stopping processes left in the chroot: ${pids//$'\n'/ }"
            # shellcheck disable=SC2086
            kill $pids 2>/dev/null || true
            sleep 2
            pids=$(chroot_pids)
            # shellcheck disable=SC2086
            [[ -z $pids ]] || kill -9 $pids 2>/dev/null || true
        fi
    fi
    if ((MOUNTED)); then unmount_all; fi
    exit "$rc"
}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

preflight() {
    ((EUID == 0)) || die "run as root (debootstrap and chroot need it)"
    local c
    for c in debootstrap chroot git ss curl; do
        command -v "$c" >/dev/null || die "$c not found"
    done
    port_free "${RUN_PORT:-8080}" ||
        die "port ${RUN_PORT:-8080} is in use on this host, which the chroot shares: set RUN_PORT"
    port_free "${TEST_PORT:-18090}" ||
        die "port ${TEST_PORT:-18090} is in use on this host, which the chroot shares: set TEST_PORT"
}

make_chroot() {
    local t m
    if [[ -e $ROOT ]]; then
        unmount_all
        [[ -z $(mounts_under "$ROOT") ]] || die "cannot unmount everything under $ROOT"
        rm -rf --one-file-system -- "$ROOT"
    fi
    t=$(now)
    debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 ||
        { tail -n "$TAIL" "$LOGS/debootstrap.log" >&2; die "debootstrap failed (see $LOGS/debootstrap.log)"; }
    say "debootstrap bookworm (minbase) from $MIRROR: $(($(now) - t)) s"

    # What a Debian 12 server has that a minbase debootstrap lacks.
    m=${MIRROR%/debian}
    cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $m/debian-security bookworm-security main
EOF
    cat >"$ROOT/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	fresh-debian12

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
EOF
    echo fresh-debian12 >"$ROOT/etc/hostname"
    echo LANG=C.UTF-8 >"$ROOT/etc/default/locale"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    printf '#!/bin/sh\n# fresh-debian12: no service starts in this chroot\nexit 101\n' \
        >"$ROOT/usr/sbin/policy-rc.d"
    chmod 755 "$ROOT/usr/sbin/policy-rc.d"
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
        mkdir -p "$ROOT/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
        say "host CA certificates copied: $(cd /usr/local/share/ca-certificates && echo *.crt)"
    fi

    mount -t proc proc "$ROOT/proc"
    MOUNTED=1
    mount -t sysfs sysfs "$ROOT/sys"
    mount --bind /dev "$ROOT/dev"
    mount --bind /dev/pts "$ROOT/dev/pts"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/dev/shm"
}

# The user's first step: git and make (and ca-certificates, which git only
# recommends: HTTPS clones and the npm registry need it).
add_git_make() {
    local t
    t=$(now)
    in_chroot bash -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends git make ca-certificates && update-ca-certificates' \
        >"$LOGS/git-make.log" 2>&1 ||
        { tail -n "$TAIL" "$LOGS/git-make.log" >&2; die "installing git and make failed (see $LOGS/git-make.log)"; }
    say "apt-get install git make ca-certificates: $(($(now) - t)) s," \
        "$(installed_count) packages installed"
}

clone() {
    local rev
    rev=$(git -C "$REPO" rev-parse --short HEAD)
    git -C "$REPO" bundle create "$ROOT/tmp/todo-fcgi.bundle" HEAD >/dev/null 2>&1
    in_chroot git clone -q /tmp/todo-fcgi.bundle "$CLONE_DIR" >"$LOGS/clone.log" 2>&1 ||
        { cat "$LOGS/clone.log" >&2; die "git clone failed"; }
    say "cloned $rev ($(git -C "$REPO" log -1 --format=%s HEAD | cut -c1-72)) into $CLONE_DIR"
    [[ -z $(git -C "$REPO" status --porcelain) ]] ||
        say "note: the checkout has uncommitted changes; they are not in the clone"
}

# run_make NAME PORT TARGET: runs `make TARGET` in the clone, its output in
# $LOGS/NAME.log; sets RC and SECS.
run_make() {
    local name=$1 port=$2 target=$3 t
    local -a envs=()
    [[ -z $port ]] || envs=(HTTP_PORT="$port")
    t=$(now)
    RC=0
    in_chroot "${envs[@]}" bash -c "cd $CLONE_DIR && make $target" >"$LOGS/$name.log" 2>&1 || RC=$?
    SECS=$(($(now) - t))
}

# check PATH [CURL ARGS...]: what the stack answers to a GET of PATH.
check() {
    local path=$1 code
    shift
    code=$(in_chroot curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$URL$path" 2>&1) || true
    if [[ $code == 2* ]]; then
        say "  GET $path -> $code"
    else
        say "  GET $path -> $code  FAILED"
        CHECKS_FAILED=1
    fi
}

check_stack() {
    local tok body code
    URL=$(grep -o 'ready at http://[^ ]*' "$LOGS/make-run.log" | tail -n 1 | cut -d' ' -f3)
    if [[ -z $URL ]]; then
        say "  make run printed no URL"
        CHECKS_FAILED=1
        return
    fi
    say "  URL: $URL"
    check /
    body=$(in_chroot curl -sS --max-time 10 "$URL/docs/" 2>&1 || true)
    [[ $body == *swagger-ui* ]] || { say "  /docs/ is not Swagger UI"; CHECKS_FAILED=1; }
    check /docs/
    check /docs/swagger-ui-bundle.js
    check /api/health
    check /api/openapi.json
    tok=$(in_chroot bash -c "cd $CLONE_DIR && make -s token USER_ID=fresh" 2>/dev/null | tail -n 1) || true
    check /api/fresh/tasks -H "Authorization: Bearer $tok"
    code=$(in_chroot curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
        -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        -d '{"title": "first task on a fresh Debian 12"}' "$URL/api/fresh/tasks" 2>&1) || true
    say "  POST /api/fresh/tasks -> $code$([[ $code == 201 ]] || echo '  FAILED')"
    [[ $code == 201 ]] || CHECKS_FAILED=1
}

# test_counts LOG: one line of what make test ran.
test_counts() {
    local log=$1 unit progs pytest browser lint
    progs=$(grep -c '^\[  PASSED  \]' "$log" || true)
    unit=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    lint=$(grep -q '^openapi-lint: .* passed' "$log" && echo passed || echo 'not passed')
    # One pytest summary per run: the API tests, then the fault tests (tests/ha).
    pytest=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?)' "$log" | sed 's/=//g; s/^ *//; s/ *$//' |
        paste -sd ';' - | sed 's/;/; then /g')
    browser=$(awk '/^ℹ (tests|pass|fail|skipped) / {printf "%s%s %s", sep, $2, $3; sep = ", "}' "$log")
    echo "unit: $unit tests passed in $progs programs; lint: $lint; api: ${pytest:-no summary}; browser: ${browser:-no summary}"
}

# show_tail LOG: its last lines, without the compiler's command lines.
show_tail() {
    say "last $TAIL lines of $1 (compiler command lines left out):"
    grep -vE '^(cc|gcc|clang) ' "$LOGS/$1" | tail -n "$TAIL" | sed 's/^/    /' | tee -a "$REPORT"
}

main() {
    preflight
    mkdir -p "$FRESH_DIR"
    rm -rf -- "$LOGS"
    mkdir -p "$LOGS"
    : >"$REPORT"
    trap cleanup EXIT INT TERM
    local t0 run_rc run_secs test_rc test_secs apt_mb npm_mb pkgs
    t0=$(now)
    say "host $(uname -r), $(nproc) cores; logs in $LOGS"
    make_chroot
    add_git_make
    clone

    STACK_STARTED=1
    run_make make-run "${RUN_PORT:-}" run
    run_rc=$RC run_secs=$SECS
    say "make run: rc $run_rc, $run_secs s"
    CHECKS_FAILED=0
    if ((run_rc == 0)); then check_stack; else CHECKS_FAILED=1; fi
    run_make make-stop "" stop
    say "make stop: rc $RC"
    STACK_STARTED=0

    run_make make-test "${TEST_PORT:-}" test
    test_rc=$RC test_secs=$SECS
    say "make test: rc $test_rc, $test_secs s"
    say "  $(test_counts "$LOGS/make-test.log")"

    # apt keeps what it downloaded in its cache; npm in ~/.npm.
    apt_mb=$(du -sm "$ROOT/var/cache/apt/archives" | cut -f1)
    npm_mb=$(du -sm "$ROOT/root/.npm" 2>/dev/null | cut -f1 || echo 0)
    pkgs=$(installed_count)
    say "downloads: ${apt_mb} MB of Debian packages ($pkgs installed in all), ${npm_mb:-0} MB from the npm registry"
    show_tail make-run.log
    show_tail make-test.log
    say "total $(($(now) - t0)) s; report in $REPORT"
    if ((run_rc == 0 && CHECKS_FAILED == 0 && test_rc == 0)); then
        say "PASS: make run and make test on a fresh Debian 12"
        return 0
    fi
    local checks=passed
    ((CHECKS_FAILED == 0)) || checks=failed
    ((run_rc == 0)) || checks='not run'
    say "FAIL: make run rc $run_rc, checks of its URL $checks, make test rc $test_rc"
    return 1
}

main "$@"
