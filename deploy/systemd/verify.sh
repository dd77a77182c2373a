#!/usr/bin/env bash
# deploy/systemd/verify.sh: checks todo-fcgi.socket and todo-fcgi.service with
# `systemd-analyze verify` (syntax, directives, dependencies) and their
# sandboxing with `systemd-analyze security --offline` (exposure at most
# MAX_EXPOSURE, default 2.0 on systemd's 0-10 scale), and that
# todo-fcgi.sysusers creates the service's User=.
#
# usage: deploy/systemd/verify.sh [PROGRAM]
#
# verify refuses a unit whose ExecStart= program does not exist, and the units
# name the installed path (/usr/local/bin/todo-fcgi). So the check runs on
# copies in a temporary folder in which ExecStart= names PROGRAM instead
# (default: /usr/local/bin/todo-fcgi when installed, else build/todo-fcgi,
# else /bin/true; the program is not run). Exit status 0 when both checks pass.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
INSTALLED=/usr/local/bin/todo-fcgi
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}

die() { printf 'verify: %s\n' "$*" >&2; exit 1; }

command -v systemd-analyze >/dev/null ||
    die "systemd-analyze not found (Debian package systemd; deploy/install-deps.sh test)"

program=${1:-}
if [[ -z $program ]]; then
    for program in "$INSTALLED" "$REPO/build/todo-fcgi" /bin/true; do
        [[ -x $program ]] && break
    done
fi
[[ -x $program ]] || die "not an executable: $program"
program=$(realpath -- "$program")

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
cp "$HERE/todo-fcgi.socket" "$HERE/todo-fcgi.service" "$tmp/"
sed -i "s#^ExecStart=$INSTALLED #ExecStart=$program #" "$tmp/todo-fcgi.service"
grep -q "^ExecStart=$program " "$tmp/todo-fcgi.service" ||
    die "todo-fcgi.service: ExecStart= does not start with $INSTALLED"

# The user the service runs as, made by systemd-sysusers in an empty root.
mkdir -p "$tmp/root/etc"
out=$(systemd-sysusers --root="$tmp/root" "$HERE/todo-fcgi.sysusers" 2>&1) ||
    die "systemd-sysusers failed:"$'\n'"$out"
user=$(sed -n 's/^User=//p' "$tmp/todo-fcgi.service")
grep -q "^$user:" "$tmp/root/etc/passwd" ||
    die "todo-fcgi.sysusers does not create User=$user"
echo "verify: systemd-sysusers: creates user $user"

# verify exits 0 on some warnings: any line about these units fails too.
out=$(cd "$tmp" && systemd-analyze verify ./todo-fcgi.socket ./todo-fcgi.service 2>&1) ||
    die "systemd-analyze verify failed:"$'\n'"$out"
if grep -F 'todo-fcgi' <<<"$out"; then
    die "systemd-analyze verify warned about the units (above)"
fi
echo "verify: systemd-analyze verify: ok (ExecStart=$program)"

# --threshold counts in tenths: 2.0 -> 20.
threshold=$(awk -v x="$MAX_EXPOSURE" 'BEGIN { printf "%d", x * 10 + 0.5 }')
out=$(cd "$tmp" && systemd-analyze security --offline=true --threshold="$threshold" \
    ./todo-fcgi.service 2>&1) && rc=0 || rc=$?
level=$(grep -o 'Overall exposure level for todo-fcgi.service: .*' <<<"$out" || true)
((rc == 0)) || die "systemd-analyze security: exposure above $MAX_EXPOSURE: $level"$'\n'"$out"
echo "verify: systemd-analyze security: ${level:-ok}"
