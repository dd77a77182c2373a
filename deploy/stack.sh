#!/usr/bin/env bash
# deploy/stack.sh: the local todo-fcgi stack: a PostgreSQL cluster of its
# own (Unix socket only), FastCGI workers started by spawn-fcgi, and nginx on
# 127.0.0.1:$HTTP_PORT. Stopped by PID files, so two stacks with different
# STATE_DIR and HTTP_PORT run side by side.
#
# usage: deploy/stack.sh start|stop|status|wipe
#   wipe: stop, then delete the state folder (the database too)
#
# Settings (environment):
#   STATE_DIR        state folder (default <repo>/var; relative to the current folder)
#   HTTP_PORT        nginx port on 127.0.0.1 (default 8080)
#   WORKERS          FastCGI worker processes (default 4)
#   JWT_SECRET       HS256 secret (default: 48 random characters kept in $STATE_DIR/jwt_secret)
#   AUTH_RATE_LIMIT  requests per second per address on /api/auth/ (default 10)
#   TOKEN_RATE_LIMIT requests per second per bearer token on /api/ (default 50)
#   CORS_ORIGINS     allowed origins (default "http://localhost:3000 http://127.0.0.1:3000")
#   TODO_BIN         the program (default <repo>/build/todo-fcgi)
#   WORKER_WRAPPER   command put before each worker, e.g. "valgrind --leak-check=full"
#   START_TIMEOUT    seconds to wait for /api/health (default 30)
#   STOP_TIMEOUT     seconds to wait for a process to stop before SIGKILL (default 20)
#   PG_BIN           PostgreSQL programs (default: pg_config --bindir)
# Workers inherit the rest of the environment (LOG_LEVEL, JWT_*, DB_PREPARE, ...).
#
# Who may reach the database: only the stack's own users. Its socket folder
# admits no one else, and pg_hba.conf authenticates by peer, each operating-
# system user mapped (pg_ident.conf) to the roles it may use: the workers
# connect as todo_app (owns nothing, reads and writes rows: deploy/roles.sql),
# migrations run as todo_owner, postgres is the superuser.
#
# Layout of STATE_DIR (mode 0700): log/ (postgresql.log, workers.log,
# nginx-*.log, ...), run/ (PID files), nginx.conf, stack.env, jwt_secret.
#
# Run by a user: everything runs as that user, and STATE_DIR also holds
# pgdata/, tmp/ and, in run/, both sockets; the map lets that user use the
# three roles.
#
# Run as root: PostgreSQL runs as postgres, the workers as the system user
# todo-stack (made on first start), nginx's worker processes as www-data.
# Those users cannot enter a checkout in /root, so what they need lives in
# /var/lib/todo-stack/ID (ID from STATE_DIR's path; STATE_DIR/srv links to
# it), each part open to exactly its users:
#   pgdata/  postgres 0700
#   pg/      PostgreSQL's socket, postgres:todo-stack 2750 (socket 0770)
#   fcgi/    the FastCGI socket, root:www-data 0750 (socket www-data 0660)
#   bin/     a copy of TODO_BIN, root:todo-stack 0750
#   www/     copies of web/, openapi.json, swagger-ui, root:www-data 0750
#   tmp/     nginx's temporary files, root:www-data 0750
# Root keeps the logs (the services write to descriptors root opened); the
# map lets root use the three roles, postgres too, todo-stack only todo_app.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_PORT=5432            # only names the socket file; no TCP
DB_NAME=todo
OWNER_ROLE=todo_owner   # owns the schema, runs the migrations
APP_ROLE=todo_app       # the workers: rows only
SRV_ROOT=/var/lib/todo-stack
STARTED=()              # components this run started, stopped again on failure

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# fail MESSAGE [LOG...]: print MESSAGE and the tail of each log, stop what this
# run started, exit 1.
fail() {
    local msg=$1 f
    shift
    printf 'stack: error: %s\n' "$msg" >&2
    for f in "$@"; do
        [[ -s $f ]] || continue
        printf -- '--- last lines of %s:\n' "$f" >&2
        tail -n 25 "$f" >&2
    done
    rollback
    exit 1
}

# ---------------------------------------------------------------- settings

# in_range VALUE MIN MAX: VALUE is a decimal integer from MIN to MAX.
in_range() { [[ $1 =~ ^[0-9]{1,9}$ ]] && ((10#$1 >= $2 && 10#$1 <= $3)); }

load_settings() {
    local v
    for v in "${!PG@}"; do      # PGHOST, PGPORT... from the caller must not redirect libpq
        if [[ $v =~ ^PG[A-Z]+$ ]]; then unset "$v"; fi
    done
    STATE_DIR=$(realpath -m -- "${STATE_DIR:-$REPO/var}")
    HTTP_PORT=${HTTP_PORT:-8080}
    WORKERS=${WORKERS:-4}
    AUTH_RATE_LIMIT=${AUTH_RATE_LIMIT:-10}
    TOKEN_RATE_LIMIT=${TOKEN_RATE_LIMIT:-50}
    CORS_ORIGINS=${CORS_ORIGINS-http://localhost:3000 http://127.0.0.1:3000}
    TODO_BIN=$(realpath -m -- "${TODO_BIN:-$REPO/build/todo-fcgi}")
    WORKER_WRAPPER=${WORKER_WRAPPER:-}
    START_TIMEOUT=${START_TIMEOUT:-30}
    STOP_TIMEOUT=${STOP_TIMEOUT:-20}
    in_range "$STOP_TIMEOUT" 1 3600 || die "STOP_TIMEOUT must be 1 to 3600 seconds"
    PG_BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}

    RUN=$STATE_DIR/run
    LOG=$STATE_DIR/log
    if ((EUID == 0)); then
        PG_USER=postgres WORKER_USER=todo-stack WORKER_GROUP=todo-stack
        NGINX_USER=www-data NGINX_GROUP=www-data
        SRV=$SRV_ROOT/$(printf '%s' "$STATE_DIR" | sha256sum | cut -c 1-12)
        PG_SOCK_DIR=$SRV/pg
        SOCK=$SRV/fcgi/todo.sock
        TMP=$SRV/tmp
        APP_BIN=$SRV/bin/todo-fcgi
        WEB_DIR=$SRV/www/web
        OPENAPI_FILE=$SRV/www/openapi.json
        SWAGGER_DIR=$SRV/www/swagger-ui
    else
        WORKER_USER=
        SRV=$STATE_DIR
        PG_SOCK_DIR=$RUN
        SOCK=$RUN/todo.sock
        TMP=$STATE_DIR/tmp
        APP_BIN=$TODO_BIN
        WEB_DIR=$REPO/web
        OPENAPI_FILE=$REPO/openapi/openapi.json
        SWAGGER_DIR=$REPO/node_modules/swagger-ui-dist
    fi
    PGDATA=$SRV/pgdata
    OLD_PGDATA=$STATE_DIR/pgdata    # where stacks before the split kept it
    local db="postgresql:///$DB_NAME?host=$PG_SOCK_DIR"
    DATABASE_URL="$db&user=$APP_ROLE"
    OWNER_DATABASE_URL="$db&user=$OWNER_ROLE"
    ADMIN_DATABASE_URL="$db&user=postgres"
    TODO_URL=http://127.0.0.1:$HTTP_PORT
}

check_settings() {
    [[ $STATE_DIR =~ ^[A-Za-z0-9._/+@=-]+$ ]] ||
        die "STATE_DIR may hold only letters, digits and ._/+@=- (got '$STATE_DIR')"
    (( ${#PG_SOCK_DIR} + 16 <= 107 )) || die "STATE_DIR is too long for a Unix socket path: $STATE_DIR"
    in_range "$HTTP_PORT" 1 65535 || die "HTTP_PORT must be a port number (got '$HTTP_PORT')"
    in_range "$WORKERS" 1 256 || die "WORKERS must be 1 to 256 (got '$WORKERS')"
    in_range "$AUTH_RATE_LIMIT" 1 1000000 ||
        die "AUTH_RATE_LIMIT must be a positive integer (got '$AUTH_RATE_LIMIT')"
    in_range "$TOKEN_RATE_LIMIT" 1 1000000 ||
        die "TOKEN_RATE_LIMIT must be a positive integer (got '$TOKEN_RATE_LIMIT')"
    in_range "$START_TIMEOUT" 1 3600 || die "START_TIMEOUT must be 1 to 3600 seconds"
    local o
    for o in $CORS_ORIGINS; do
        [[ $o =~ ^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$ ]] ||
            die "CORS_ORIGINS: '$o' is not an origin like http://localhost:3000"
    done
    [[ -x $TODO_BIN ]] || die "TODO_BIN is not an executable: $TODO_BIN (build it with make)"
    [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] ||
        die "PostgreSQL programs not found in $PG_BIN (run deploy/install-deps.sh)"
    local p
    for p in spawn-fcgi nginx curl; do
        command -v "$p" >/dev/null || die "$p not found (run deploy/install-deps.sh)"
    done
}

# Serialise start and stop on one state folder. Daemons must not inherit fd 9,
# or they would hold the lock: every command that starts one closes it (9>&-).
lock_state() {
    exec 9>>"$STATE_DIR/.lock"
    flock -w 120 9 || die "another stack.sh holds $STATE_DIR/.lock"
}

# ---------------------------------------------------------------- processes

# pid_is PID: the process exists and is not a zombie.
pid_is() {
    local st
    [[ $1 =~ ^[0-9]+$ ]] && [[ -r /proc/$1/stat ]] || return 1
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ ${st%% *} != Z ]]
}

# cmdline_has PID TEXT: PID is alive and TEXT occurs in its command line.
cmdline_has() {
    pid_is "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# environ_has PID VAR=VALUE: PID is alive and was started with that variable.
environ_has() {
    pid_is "$1" && tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF -- "$2"
}

# wait_gone SECONDS PID...: wait until none of the PIDs runs; 1 on timeout.
wait_gone() {
    local secs=$1 i p alive
    shift
    for ((i = 0; i <= secs * 10; i++)); do
        alive=0
        for p in "$@"; do pid_is "$p" && alive=1; done
        ((alive)) || return 0
        sleep 0.1
    done
    return 1
}

# terminate SIGNAL PID...: send SIGNAL, wait STOP_TIMEOUT, then SIGKILL.
terminate() {
    local sig=$1
    shift
    (($#)) || return 0
    kill "-$sig" "$@" 2>/dev/null || true
    wait_gone "$STOP_TIMEOUT" "$@" && return 0
    printf 'stack: %s did not stop in %ss; killing it\n' "$*" "$STOP_TIMEOUT" >&2
    kill -KILL "$@" 2>/dev/null || true
    wait_gone 5 "$@"
}

# as_pg CMD...: run CMD as the PostgreSQL OS user (PostgreSQL refuses root).
as_pg() {
    if ((EUID == 0)); then
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        "$@"
    fi
}

# Daemons must not keep descriptors the caller passed down (a make jobserver,
# a CI runner's pipe): close all but 0-2 and bash's own 255.
close_inherited_fds() {
    local fd
    for fd in "/proc/$$/fd/"*; do
        fd=${fd##*/}
        if ((fd > 2 && fd < 255)) && [[ -e /proc/$$/fd/$fd ]]; then
            exec {fd}>&-
        fi
    done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- state folder

# mkdir_as MODE OWNER DIR...: make each folder (if missing) with that owner and mode.
mkdir_as() {
    local mode=$1 owner=$2
    shift 2
    mkdir -p "$@"
    chown "$owner" "$@"
    chmod "$mode" "$@"
}

# The workers' system user and group, made on the first start as root.
ensure_worker_user() {
    id -u "$WORKER_USER" >/dev/null 2>&1 && return 0
    say "creating the system user $WORKER_USER for the workers"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "todo-fcgi local stack workers" "$WORKER_USER" ||
        id -u "$WORKER_USER" >/dev/null 2>&1 ||     # made meanwhile by another stack
        die "cannot create the user $WORKER_USER"
}

# install_copy SRC DEST: DEST becomes a copy of SRC (file or folder) that
# everyone with access to its folder may read.
install_copy() {
    rm -rf -- "$2.new"
    cp -R -- "$1" "$2.new"
    chown -R root:root "$2.new"
    chmod -R u=rwX,go=rX "$2.new"
    rm -rf -- "$2"
    mv -- "$2.new" "$2"
}

prepare_dirs() {
    mkdir -p "$STATE_DIR"
    chmod 700 "$STATE_DIR"
    mkdir_as 700 "$(id -u)" "$RUN" "$LOG"
    touch "$STATE_DIR/.todo-stack" "$LOG/postgresql.log" "$LOG/workers.log"
    if ((EUID != 0)); then
        mkdir_as 700 "$(id -u)" "$TMP"
        return 0
    fi
    ensure_worker_user
    mkdir_as 755 root:root "$SRV_ROOT" "$SRV"
    printf '%s\n' "$STATE_DIR" >"$SRV/state-dir"   # whose folder this is, for people
    ln -sfn "$SRV" "$STATE_DIR/srv"
    mkdir_as 2750 "$PG_USER:$WORKER_GROUP" "$PG_SOCK_DIR"
    mkdir_as 750 "root:$NGINX_GROUP" "${SOCK%/*}" "$TMP" "$SRV/www"
    mkdir_as 750 "root:$WORKER_GROUP" "${APP_BIN%/*}"
    # The services run copies: a running worker keeps its binary's old inode.
    install -m 755 "$TODO_BIN" "$APP_BIN.new" && mv -f "$APP_BIN.new" "$APP_BIN"
    install_copy "$REPO/web" "$WEB_DIR"
    if [[ -f $REPO/openapi/openapi.json ]]; then
        install_copy "$REPO/openapi/openapi.json" "$OPENAPI_FILE"
    fi
    if [[ -d $REPO/node_modules/swagger-ui-dist ]]; then
        install_copy "$REPO/node_modules/swagger-ui-dist" "$SWAGGER_DIR"
    fi
}

# JWT_SECRET from the environment (or BETTER_AUTH_SECRET), else the one kept in
# $STATE_DIR/jwt_secret, made once.
ensure_secret() {
    JWT_SECRET=${JWT_SECRET:-${BETTER_AUTH_SECRET:-}}
    if [[ -z $JWT_SECRET ]]; then
        local f=$STATE_DIR/jwt_secret
        if [[ ! -s $f ]]; then
            (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$f")
        fi
        chmod 600 "$f"
        JWT_SECRET=$(<"$f")
    fi
    ((${#JWT_SECRET} >= 32)) || die "JWT_SECRET must be at least 32 bytes long"
}

shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_env() {
    (
        umask 077
        {
            echo "# Written by deploy/stack.sh start; shell-sourceable."
            echo "DATABASE_URL=$(shell_quote "$DATABASE_URL")"
            echo "OWNER_DATABASE_URL=$(shell_quote "$OWNER_DATABASE_URL")"
            echo "ADMIN_DATABASE_URL=$(shell_quote "$ADMIN_DATABASE_URL")"
            echo "PG_DATA_DIR=$PGDATA"
            echo "WORKER_USER=$WORKER_USER"
            echo "JWT_SECRET=$(shell_quote "$JWT_SECRET")"
            echo "HTTP_PORT=$HTTP_PORT"
            echo "TODO_URL=$TODO_URL"
        } >"$STATE_DIR/stack.env.tmp"
    )
    mv -f "$STATE_DIR/stack.env.tmp" "$STATE_DIR/stack.env"
}

# ---------------------------------------------------------------- PostgreSQL

pg_pid_of() { head -n 1 "$1/postmaster.pid" 2>/dev/null || true; }
pg_pid() { pg_pid_of "$PGDATA"; }
pg_running() { cmdline_has "$(pg_pid)" "$PGDATA"; }

# pg_stop_at DIR: stop the cluster in DIR; 1 when it did not run.
pg_stop_at() {
    local pid
    pid=$(pg_pid_of "$1")
    cmdline_has "$pid" "$1" || return 1
    as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w -t "$STOP_TIMEOUT" -s stop >/dev/null 2>&1 ||
        as_pg "$PG_BIN/pg_ctl" -D "$1" -m immediate -w -s stop >/dev/null 2>&1 || true
    wait_gone 5 "$pid" || terminate KILL "$pid"
}

init_pg() {
    local owner
    # As root, the cluster moved out of STATE_DIR, which postgres may not
    # enter: bring along one an earlier stack.sh made there.
    if [[ $OLD_PGDATA != "$PGDATA" && -d $OLD_PGDATA && ! -e $PGDATA ]]; then
        pg_stop_at "$OLD_PGDATA" || true
        say "moving $OLD_PGDATA to $PGDATA"
        mv -- "$OLD_PGDATA" "$PGDATA"
    fi
    if [[ -d $PGDATA ]]; then
        owner=$(stat -c %U "$PGDATA")
        [[ $owner == "${PG_USER:-$(id -un)}" ]] ||
            die "$PGDATA belongs to $owner; start as the same user as before, or use another STATE_DIR"
    fi
    if [[ ! -s $PGDATA/PG_VERSION ]]; then
        mkdir_as 700 "${PG_USER:-$(id -un)}:" "$PGDATA"
        say "initialising PostgreSQL in $PGDATA"
        as_pg "$PG_BIN/initdb" -D "$PGDATA" --auth-local=peer --auth-host=reject -U postgres \
            --encoding=UTF8 --locale=C.UTF-8 >"$LOG/initdb.log" 2>&1 ||
            fail "initdb failed" "$LOG/initdb.log"
    fi
    write_pg_auth
}

# pg_hba.conf and pg_ident.conf, written on every start: no TCP, no trust;
# each operating-system user gets exactly the roles it needs.
write_pg_auth() {
    local u r
    {
        echo "# Generated by deploy/stack.sh on every start. Unix socket only."
        echo "# TYPE  DATABASE  USER                  METHOD"
        echo "local   all       postgres              peer map=stack"
        echo "local   $DB_NAME      $OWNER_ROLE,$APP_ROLE   peer map=stack"
        echo "local   all       all                   reject"
    } >"$PGDATA/pg_hba.conf"
    {
        echo "# Generated by deploy/stack.sh: which system user may connect as which role."
        echo "# MAP  SYSTEM-USER  ROLE"
        for u in "$(id -un)" ${PG_USER:+"$PG_USER"}; do
            for r in postgres "$OWNER_ROLE" "$APP_ROLE"; do echo "stack  $u  $r"; done
        done
        [[ -z $WORKER_USER ]] || echo "stack  $WORKER_USER  $APP_ROLE"
    } >"$PGDATA/pg_ident.conf"
    if ((EUID == 0)); then
        chown "$PG_USER:" "$PGDATA/pg_hba.conf" "$PGDATA/pg_ident.conf"
    fi
    chmod 600 "$PGDATA/pg_hba.conf" "$PGDATA/pg_ident.conf"
}

start_pg() {
    if pg_running; then     # picks up pg_hba.conf and pg_ident.conf
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -s reload >>"$LOG/postgresql.log" 2>&1 || true
        return 0
    fi
    # A lock file left by a crash or a reboot, whose PID now belongs to some
    # other process, would make PostgreSQL refuse to start.
    local f pid perm=0700
    ((EUID != 0)) || perm=0770      # the group of the socket folder: the workers
    for f in "$PGDATA/postmaster.pid" "$PG_SOCK_DIR/.s.PGSQL.$PG_PORT.lock"; do
        pid=$(head -n 1 "$f" 2>/dev/null) || continue
        if pid_is "$pid" && ! cmdline_has "$pid" postgres; then rm -f "$f"; fi
    done
    # Its output goes to a log root opened: postgres may not enter STATE_DIR.
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -w -t 60 -s \
        -o "-c listen_addresses='' -c unix_socket_directories='$PG_SOCK_DIR' -c port=$PG_PORT -c unix_socket_permissions=$perm" \
        start >>"$LOG/postgresql.log" 2>&1 9>&- || fail "PostgreSQL did not start" "$LOG/postgresql.log"
    STARTED+=(pg)
}

stop_pg() {
    ! pg_stop_at "$PGDATA" || say "PostgreSQL stopped"
    [[ $OLD_PGDATA == "$PGDATA" ]] || ! pg_stop_at "$OLD_PGDATA" ||
        say "PostgreSQL (of $OLD_PGDATA) stopped"
}

psql_() {
    "$PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h "$PG_SOCK_DIR" -p "$PG_PORT" -U postgres "$@"
}

# The roles and the database (deploy/roles.sql): before the migrations, and
# after them, to take schema_migrations away from the workers' role.
setup_roles() {
    psql_ -d postgres -v owner="$OWNER_ROLE" -v app="$APP_ROLE" -v db="$DB_NAME" \
        -f "$REPO/deploy/roles.sql" >/dev/null 2>>"$LOG/postgresql.log" ||
        fail "deploy/roles.sql failed" "$LOG/postgresql.log"
}

# A database an earlier stack.sh made belongs to postgres, the superuser, as
# does everything its migrations made: hand it to the owner role.
adopt_old_database() {
    local dba
    dba=$(psql_ -d postgres -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$DB_NAME'")
    [[ $dba == postgres ]] || return 0
    say "handing database $DB_NAME from postgres to $OWNER_ROLE"
    psql_ -d "$DB_NAME" -v owner="$OWNER_ROLE" >/dev/null 2>>"$LOG/postgresql.log" <<'EOF' ||
SET todo.owner = :'owner';
DO $$
DECLARE
    owner text := quote_ident(current_setting('todo.owner'));
    o record;
BEGIN
    EXECUTE format('ALTER DATABASE %I OWNER TO %s', current_database(), owner);
    -- Tables (their indexes, triggers and identity sequences follow), then
    -- types and functions; not what belongs to an extension.
    FOR o IN SELECT c.oid::regclass AS name FROM pg_class c
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
               AND c.relowner = 'postgres'::regrole
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %s', o.name, owner);
    END LOOP;
    FOR o IN SELECT t.oid::regtype AS name FROM pg_type t
             WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
               AND t.typowner = 'postgres'::regrole
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                               AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO %s', o.name, owner);
    END LOOP;
    FOR o IN SELECT p.oid::regprocedure AS name FROM pg_proc p
             WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'postgres'::regrole
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                               AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %s', o.name, owner);
    END LOOP;
END $$;
EOF
        fail "cannot hand database $DB_NAME to $OWNER_ROLE" "$LOG/postgresql.log"
}

# todo_env CMD...: run CMD with the program's configuration.
todo_env() { env DATABASE_URL="$DATABASE_URL" JWT_SECRET="$JWT_SECRET" TODO_STACK_DIR="$STATE_DIR" "$@"; }

# The migrations run as the owner role.
migrate() {
    {
        echo "--- $(date -Is) $TODO_BIN --migrate"
        todo_env DATABASE_URL="$OWNER_DATABASE_URL" "$TODO_BIN" --migrate --schema-dir "$REPO/schema" 2>&1
    } >>"$LOG/migrate.log" || fail "migration failed" "$LOG/migrate.log"
}

# ---------------------------------------------------------------- workers

# The workers run under todo-fcgi's own master (--workers), which spawn-fcgi
# starts with the socket on fd 0 and which restarts any worker that dies;
# workers.pid holds the master's pid.
master_pid() {
    local p
    p=$(head -n 1 "$RUN/workers.pid" 2>/dev/null) || return 0
    [[ -n $p ]] && environ_has "$p" "TODO_STACK_DIR=$STATE_DIR" && echo "$p"
    return 0
}

# worker_pids: the master's children, the workers.
worker_pids() {
    local m
    m=$(master_pid)
    [[ -n $m ]] || return 0
    pgrep -P "$m" || true
}

workers_alive() { worker_pids | wc -l; }
workers_wanted() { cat "$RUN/workers.count" 2>/dev/null || echo "$WORKERS"; }

# workers_complete: the master runs (it keeps its workers at the count).
workers_complete() { [[ -n $(master_pid) ]]; }

start_workers() {
    workers_complete && return 0
    stop_workers quiet
    local wrap=() owner=(-M 0600) as=() n i
    read -r -a wrap <<<"$WORKER_WRAPPER"
    if ((EUID == 0)); then
        owner=(-U "$NGINX_USER" -G "$NGINX_GROUP" -M 0660)
        as=(setpriv --reuid="$WORKER_USER" --regid="$WORKER_GROUP" --clear-groups --)
    fi
    rm -f "$RUN/workers.pid"
    echo "$WORKERS" >"$RUN/workers.count"
    # spawn-fcgi points the child's stdout and stderr at /dev/null, so a
    # shell in front of the master opens workers.log (as root, when root:
    # the workers' user may not enter STATE_DIR), then execs the master,
    # through setpriv when the workers get their own user.
    printf -- '--- %s starting %s workers\n' "$(date -Is)" "$WORKERS" >>"$LOG/workers.log"
    # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
    (cd / && todo_env spawn-fcgi -s "$SOCK" -P "$RUN/workers.pid" "${owner[@]}" -- \
        /bin/sh -c 'exec >>"$0" 2>&1; exec "$@"' "$LOG/workers.log" "${as[@]}" "${wrap[@]}" \
        "$APP_BIN" --workers "$WORKERS" --shutdown-timeout $((STOP_TIMEOUT > 6 ? STOP_TIMEOUT - 5 : 1)) \
        >"$LOG/spawn-fcgi.log" 2>&1 9>&-) ||
        fail "spawn-fcgi failed" "$LOG/spawn-fcgi.log" "$LOG/workers.log"
    STARTED+=(workers)
    # The master forks its workers: give it a moment to have them all.
    for ((i = 0; i < 100; i++)); do
        n=$(workers_alive)
        ((n >= WORKERS)) && return 0
        [[ -n $(master_pid) ]] || break
        sleep 0.1
    done
    fail "only $n of $WORKERS workers are running" "$LOG/spawn-fcgi.log" "$LOG/workers.log"
}

stop_workers() {
    local m
    m=$(master_pid)
    # The master lets requests in hand finish, then stops its workers.
    [[ -z $m ]] || terminate TERM "$m"
    rm -f "$RUN/workers.pid" "$RUN/workers.count" "$SOCK"
    [[ -z $m ]] || [[ ${1:-} == quiet ]] || say "workers stopped (master $m)"
}

# ---------------------------------------------------------------- nginx

nginx_pid() { cat "$RUN/nginx.pid" 2>/dev/null || true; }
nginx_running() { cmdline_has "$(nginx_pid)" "$STATE_DIR/nginx.conf"; }

# nginx opens a FastCGI connection per request (no upstream keepalive): an
# idle kept-alive connection would hold a worker (DESIGN.md, "Each request").
write_nginx_conf() {
    local o user_line=""
    ((EUID != 0)) || user_line="user $NGINX_USER $NGINX_GROUP;"
    {
        cat <<EOF
# Generated by deploy/stack.sh; edit the script or deploy/nginx/*.conf, not this file.
daemon on;
worker_processes auto;
# Two descriptors per client at most (its connection, its request's
# connection to the workers), and some for files: README.md, "Sizing".
worker_rlimit_nofile 8192;
pid $RUN/nginx.pid;
error_log $LOG/nginx-error.log warn;
$user_line

events {
    # Per nginx worker: 2,000 clients with a request each in flight.
    worker_connections 4096;
}

http {
    include /etc/nginx/mime.types;
    types_hash_max_size 2048;
    default_type application/octet-stream;
    server_tokens off;
    keepalive_timeout 30s;
    client_body_temp_path $TMP/client_body;
    fastcgi_temp_path $TMP/fastcgi;
    proxy_temp_path $TMP/proxy;
    uwsgi_temp_path $TMP/uwsgi;
    scgi_temp_path $TMP/scgi;

    include $REPO/deploy/nginx/todo-http.conf;
    access_log $LOG/nginx-access.log todo_json buffer=64k flush=1s;

    map \$http_origin \$todo_cors_origin {
        default "";
EOF
        for o in $CORS_ORIGINS; do
            # shellcheck disable=SC2016 # $http_origin is nginx's
            printf '        "%s" $http_origin;\n' "$o"
        done
        cat <<EOF
    }

    limit_req_zone \$binary_remote_addr zone=todo_auth:1m rate=${AUTH_RATE_LIMIT}r/s;
    limit_req_zone \$http_authorization zone=todo_token:4m rate=${TOKEN_RATE_LIMIT}r/s;

    upstream todo_fcgi {
        server unix:$SOCK;
    }

    server {
        # A burst of a thousand new connections fits the accept queue
        # (Linux's default for nginx is 511; net.core.somaxconn caps it).
        listen 127.0.0.1:$HTTP_PORT backlog=4096;
        server_name localhost;

        # Static files: the OpenAPI document, Swagger UI as npm installed it
        # (npm ci), and the front end (web/); straight from the repository,
        # or (as root) from the copies www-data may read.
        set \$todo_openapi_file $OPENAPI_FILE;
        set \$todo_swagger_ui   $SWAGGER_DIR;
        set \$todo_web_root     $WEB_DIR;

        include $REPO/deploy/nginx/todo-api.conf;

        # The front end, a single-page app: paths that are not files get
        # index.html; a missing asset (a name with an extension) is a 404.
        location / {
            root \$todo_web_root;
            try_files \$uri \$uri/ /index.html;
            expires epoch;
            location ~ \\.[A-Za-z0-9]+\$ {
                try_files \$uri =404;
                expires epoch;
            }
        }
    }
}
EOF
    } >"$STATE_DIR/nginx.conf"
}

start_nginx() {
    nginx_running && return 0
    rm -f "$RUN/nginx.pid"
    [[ -f $SWAGGER_DIR/swagger-ui-bundle.js ]] ||
        say "warning: $REPO/node_modules/swagger-ui-dist is missing, /docs/ will not work (run npm ci)"
    write_nginx_conf
    nginx -p "$STATE_DIR/" -c "$STATE_DIR/nginx.conf" -e "$LOG/nginx-error.log" \
        >"$LOG/nginx-start.log" 2>&1 9>&- ||
        fail "nginx did not start" "$LOG/nginx-start.log" "$LOG/nginx-error.log"
    STARTED+=(nginx)
    local i
    for ((i = 0; i < 50; i++)); do
        nginx_running && return 0
        sleep 0.1
    done
    fail "nginx did not write $RUN/nginx.pid" "$LOG/nginx-start.log" "$LOG/nginx-error.log"
}

stop_nginx() {
    local pid kids
    pid=$(nginx_pid)
    cmdline_has "$pid" "$STATE_DIR/nginx.conf" || return 0
    mapfile -t kids < <(ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ')
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$STOP_TIMEOUT" "$pid" || kill -KILL "$pid" 2>/dev/null || true
    terminate TERM "${kids[@]}"     # already gone unless the master was killed
    rm -f "$RUN/nginx.pid"
    say "nginx stopped"
}

# ---------------------------------------------------------------- commands

rollback() {
    local i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        case ${STARTED[i]} in
        nginx) stop_nginx ;;
        workers) stop_workers ;;
        pg) stop_pg ;;
        esac
    done >&2
    STARTED=()
}

all_running() { pg_running && workers_complete && nginx_running; }

# wait_ready: poll /api/health through nginx, with a progress line.
wait_ready() {
    local url=$TODO_URL/api/health i
    printf 'stack: waiting for %s ' "$url"
    for ((i = 0; i < START_TIMEOUT * 4; i++)); do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
            printf ' ok\n'
            return 0
        fi
        if [[ -z $(master_pid) ]]; then
            printf ' no worker left\n'
            fail "the workers' master exited" "$LOG/workers.log"
        fi
        ((i % 4)) || printf .
        sleep 0.25
    done
    printf ' timed out\n'
    fail "no answer from $url after ${START_TIMEOUT}s" "$LOG/workers.log" "$LOG/nginx-error.log"
}

show_ready() {
    local tok
    say "ready at $TODO_URL (state in $STATE_DIR)"
    if tok=$(todo_env "$TODO_BIN" --token alice 2>>"$LOG/token.log" | tail -n 1) && [[ -n $tok ]]; then
        printf '  curl -H "Authorization: Bearer %s" %s/api/alice/tasks\n' "$tok" "$TODO_URL"
    else
        printf "stack: warning: '%s --token alice' failed (see %s)\n" "$TODO_BIN" "$LOG/token.log" >&2
    fi
}

cmd_start() {
    check_settings
    if ! nginx_running && port_in_use "$HTTP_PORT"; then
        die "127.0.0.1:$HTTP_PORT is already in use; choose another HTTP_PORT"
    fi
    mkdir -p "$STATE_DIR"
    lock_state
    if all_running && [[ -s $STATE_DIR/stack.env ]]; then
        # shellcheck source=/dev/null
        source "$STATE_DIR/stack.env"
        say "already running (stop it first to pick up a new build or settings)"
        show_ready
        return 0
    fi
    if nginx_running; then     # keep the port it listens on
        HTTP_PORT=$(sed -n 's/^HTTP_PORT=//p' "$STATE_DIR/stack.env" 2>/dev/null)
        in_range "$HTTP_PORT" 1 65535 || fail "nginx runs but $STATE_DIR/stack.env has no HTTP_PORT; run stop"
        TODO_URL=http://127.0.0.1:$HTTP_PORT
    fi
    prepare_dirs
    ensure_secret
    write_env
    init_pg
    start_pg
    setup_roles
    adopt_old_database
    migrate
    setup_roles
    start_workers
    start_nginx
    wait_ready
    show_ready
}

cmd_stop() {
    if [[ ! -d $STATE_DIR ]]; then
        say "nothing to stop in $STATE_DIR"
        return 0
    fi
    lock_state
    if ! nginx_running && (($(workers_alive) == 0)) && ! pg_running; then
        rm -f "$SOCK" "$RUN/workers.pid" "$RUN/workers.count"
        stop_pg     # a cluster where an earlier stack.sh kept it, if any
        say "nothing running in $STATE_DIR"
        return 0
    fi
    stop_nginx
    stop_workers
    stop_pg
}

# status: one line per component and a summary; exit 0 when all run, 3 when
# none (as systemctl status and LSB scripts do), else 1.
cmd_status() {
    local up=0 n pids port=
    if pg_running; then
        printf 'postgres  running  pid %s, socket %s\n' "$(pg_pid)" "$PG_SOCK_DIR"
        up=$((up + 1))
    else
        printf 'postgres  stopped\n'
    fi
    mapfile -t pids < <(worker_pids)
    n=${#pids[@]}
    if [[ -n $(master_pid) ]]; then
        local want
        want=$(workers_wanted)
        printf 'workers   running  %d of %d, master %s, pids %s, socket %s\n' "$n" "$want" \
            "$(master_pid)" "${pids[*]}" "$SOCK"
        ((n < want)) || up=$((up + 1))
    else
        printf 'workers   stopped\n'
    fi
    if nginx_running; then
        port=$(sed -n 's/^HTTP_PORT=//p' "$STATE_DIR/stack.env" 2>/dev/null)
        printf 'nginx     running  pid %s, http://127.0.0.1:%s\n' "$(nginx_pid)" "${port:-?}"
        up=$((up + 1))
    else
        printf 'nginx     stopped\n'
    fi
    if ((up == 3)); then
        say "running at http://127.0.0.1:${port:-?} ($STATE_DIR)"
        return 0
    fi
    if ((up == 0)) && [[ $n == 0 ]]; then
        say "stopped ($STATE_DIR)"
        return 3
    fi
    say "partly running ($STATE_DIR): run stop, then start"
    return 1
}

# wipe: stop, then delete the state folder and (as root) its part in
# /var/lib/todo-stack; only a folder stack.sh made.
cmd_wipe() {
    if [[ -e $STATE_DIR && ! -e $STATE_DIR/.todo-stack ]] && [[ -n $(ls -A "$STATE_DIR") ]]; then
        die "$STATE_DIR is not a stack folder (no .todo-stack); not deleting it"
    fi
    cmd_stop >/dev/null
    rm -rf -- "$STATE_DIR"
    if [[ $SRV != "$STATE_DIR" ]]; then rm -rf -- "$SRV"; fi
    say "wiped $STATE_DIR"
}

main() {
    local cmd=${1:-} usage="usage: $0 start|stop|status|wipe"
    (($# == 1)) || { echo "$usage" >&2; exit 2; }
    load_settings
    case $cmd in
    start) close_inherited_fds; cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    wipe) cmd_wipe ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
}

main "$@"
