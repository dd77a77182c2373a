/*
 * db.c: the worker's PostgreSQL connection, running statements, transactions
 * and housekeeping.  The SQL of each table lives in db_<table>.c, the
 * migrations in db_migrate.c.
 */
#include "db_priv.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "timestamp.h"

struct db {
    char *conninfo;
    int prepare;
    long timeout_ms;
    PGconn *conn;
    uint64_t *prepared;     /* bit s->id set: s is prepared on conn */
    size_t nwords;          /* of prepared */
    int64_t next_try;       /* monotonic ms before which we do not reconnect */
    int64_t last_used;      /* monotonic ms when a statement last came back */
    int guard_on;           /* db_guard() set a check no statement took yet */
    const char *guard[2];   /* its jti and sid */
};

static struct db_stmt stmt_ping = { "ping", "SELECT 1", 1, 0 };
/* BEGIN only runs outside a transaction, so it may be sent again. */
static struct db_stmt stmt_begin = { "begin", "BEGIN", 1, 0 };
static struct db_stmt stmt_commit = { "commit", "COMMIT", 0, 0 };
/* statement_timeout for one transaction (DB_PREPARE=off). */
static struct db_stmt stmt_local_timeout = {
    "local_timeout", "SELECT set_config('statement_timeout', $1, true)", 1, 0
};

/* Statements are numbered on first use, for the whole process: a number
 * is the statement's bit in each connection's prepared set. */
static unsigned nstmts;

/* ---------------------------------------------------------- connection */

struct db *db_open(const char *conninfo, int prepare, long statement_timeout_ms)
{
    struct db *db = calloc(1, sizeof *db);

    if (db == NULL || (db->conninfo = strdup(conninfo)) == NULL)
        die_oom();
    db->prepare = prepare;
    db->timeout_ms = statement_timeout_ms;
    return db;
}

PGconn *db_conn(struct db *db)
{
    return db->conn;
}

int db_is_up(const struct db *db)
{
    return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
}

/* Sets the per-statement time limit on a new connection; 0 or -1.  With
 * DB_PREPARE=off each transaction sets its own (send_pipeline). */
static int set_timeout(struct db *db)
{
    char ms[24];
    const char *vals[] = { ms };
    PGresult *res;
    int ok;

    if (!db->prepare || db->timeout_ms <= 0)
        return 0;
    snprintf(ms, sizeof ms, "%ld", db->timeout_ms);
    res = PQexecParams(db->conn, "SELECT set_config('statement_timeout', $1, false)",
                       1, NULL, vals, NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    PQfinish(db->conn);
    free(db->prepared);
    free(db->conninfo);
    free(db);
}

/* libpq's message for the log, as one line: when libpq tried several
 * addresses (localhost as ::1, then 127.0.0.1), each has a line, and the
 * last is often the one that says what went wrong. */
const char *db_pq_msg(PGconn *conn)
{
    static char buf[1024];
    const char *m = conn ? PQerrorMessage(conn) : "out of memory";
    size_t n = 0;

    for (; *m != '\0' && n < sizeof buf - 4; m++) {
        if (*m != '\n')
            buf[n++] = *m;
        else if (m[1] != '\0') {
            memcpy(buf + n, " / ", 3);
            n += 3;
        }
    }
    buf[n] = '\0';
    return buf;
}

/*
 * A new connection.  target_session_attrs=read-write unless the URL says
 * otherwise: of several hosts (a primary and its standbys, as
 * pg_auto_failover's URL lists them) libpq picks the one that takes writes,
 * and after a failover finds the new one; a server that only reads is
 * never used.  PostgreSQL 14 and later report what libpq needs with the
 * connection, so this costs no round trip.
 */
PGconn *db_connect_now(const char *conninfo)
{
    const char *const keys[] = { "connect_timeout", "application_name",
                                 "target_session_attrs", "dbname", NULL };
    const char *const vals[] = { "5", "todo-fcgi", "read-write", conninfo, NULL };

    /* The user's conninfo comes last, so its settings win. */
    return PQconnectdbParams(keys, vals, 1);
}

/* Whether a transaction is open (failed or not), as the server last said:
 * libpq keeps that, so it is read there, never copied.  No connection, no
 * transaction. */
static int in_tx(const struct db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(db->conn);

    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* Closes a connection that cannot be trusted any more; the next statement
 * opens another. */
static void drop(struct db *db)
{
    PQfinish(db->conn);
    db->conn = NULL;
}

/*
 * Whether an open connection is still up.  One the server closed while it
 * sat idle (a restart, pg_terminate_backend, a serverless idle timeout) has
 * its FATAL message or EOF waiting: reading that before sending anything
 * lets even a statement that may not be sent twice go out on a new
 * connection.  Outside a transaction only; one poll() with no wait.
 */
static int still_up(struct db *db)
{
    struct pollfd p = { PQsocket(db->conn), POLLIN, 0 };
    int reads;

    if (in_tx(db))
        return PQstatus(db->conn) == CONNECTION_OK;
    /* The message comes first, the EOF on a later read. */
    for (reads = 0; reads < 4 && PQstatus(db->conn) == CONNECTION_OK &&
                    poll(&p, 1, 0) > 0; reads++)
        PQconsumeInput(db->conn);
    if (PQstatus(db->conn) == CONNECTION_OK)
        return 1;
    log_warn("db: connection lost: %s", db_pq_msg(db->conn));
    return 0;
}

/* A server NOTICE or WARNING (a trigger, PgBouncer) goes to the JSON log,
 * not raw to stderr as libpq would print it. */
static void notice(void *arg, const char *msg)
{
    (void)arg;
    log_warn("db: %.*s", (int)strcspn(msg, "\n"), msg);
}

/*
 * Opens the connection unless it is open.  check: look for a FATAL or EOF
 * the server left first (still_up), for a statement that may not be sent
 * twice, when the connection has sat idle for DB_IDLE_CHECK_MS: servers
 * close connections that sat idle (serverless timeouts) or on a restart,
 * which the first request after finds.  A busy worker sends at once; a
 * statement that may be sent twice is simply sent again if the connection
 * turns out lost.  So under load no request pays a poll().
 */
#define DB_IDLE_CHECK_MS 100

static enum db_status ensure_conn(struct db *db, int check)
{
    check = check && ts_mono() / 1000 - db->last_used >= DB_IDLE_CHECK_MS;
    if (db->conn != NULL && (check ? still_up(db) : PQstatus(db->conn) == CONNECTION_OK))
        return DB_OK;
    if ((ts_mono() / 1000) < db->next_try)
        return DB_UNAVAILABLE;
    PQfinish(db->conn);
    db->conn = db_connect_now(db->conninfo);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        log_warn("db: cannot connect: %s", db_pq_msg(db->conn));
        goto fail;
    }
    if (set_timeout(db) != 0) {
        log_warn("db: cannot set statement_timeout: %s", db_pq_msg(db->conn));
        goto fail;
    }
    PQsetNoticeProcessor(db->conn, notice, NULL);
    if (db->prepared != NULL)
        memset(db->prepared, 0, db->nwords * sizeof *db->prepared);
    log_info("db: connected");
    return DB_OK;
fail:
    drop(db);
    db->next_try = (ts_mono() / 1000) + DB_RETRY_MS;
    return DB_UNAVAILABLE;
}

enum db_status db_connect(struct db *db)
{
    return ensure_conn(db, 1);
}

static void clear(void *res)
{
    PQclear(res);
}

/* What a failed statement means, by SQLSTATE: the one place for it. */
static enum db_status classify(PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL, *c;

    if (state == NULL)
        return DB_ERROR;
    if (strcmp(state, "23505") == 0)            /* unique_violation */
        return DB_CONFLICT;
    if (strcmp(state, "23503") == 0 &&          /* foreign_key_violation */
        (c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)) != NULL &&
        strcmp(c, "tasks_timezone_fkey") == 0)  /* schema/008_calendar.sql */
        return DB_UNKNOWN_ZONE;
    if (strcmp(state, "TD401") == 0)            /* todo_not_revoked() */
        return DB_REVOKED;
    if (strcmp(state, "57014") == 0)            /* query_canceled: timeout */
        return DB_TIMEOUT;
    if (strncmp(state, "08", 2) == 0 ||         /* connection exception */
        strncmp(state, "57P", 3) == 0 ||        /* shutdown, cannot connect */
        strcmp(state, "53300") == 0 ||          /* too many connections */
        strcmp(state, "25006") == 0)            /* read_only_sql_transaction */
        return DB_UNAVAILABLE;
    return DB_ERROR;
}

/* A write refused by a server that only reads: a standby. */
static int is_read_only(PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    return state != NULL && strcmp(state, "25006") == 0;
}

/* Records that s is prepared on this connection. */
static void mark_prepared(struct db *db, const struct db_stmt *s)
{
    size_t w = s->id / 64, n = w + 8;

    if (w >= db->nwords) {
        if ((db->prepared = realloc(db->prepared, n * sizeof *db->prepared)) == NULL)
            die_oom();
        memset(db->prepared + db->nwords, 0, (n - db->nwords) * sizeof *db->prepared);
        db->nwords = n;
    }
    db->prepared[w] |= UINT64_C(1) << s->id % 64;
}

/* Prepares s on this connection unless it already is; 0 or -1. */
static int prepare(struct db *db, struct db_stmt *s, int n)
{
    PGresult *res;
    int ok;

    if (s->id == 0)
        s->id = ++nstmts;
    if (s->id / 64 < db->nwords && (db->prepared[s->id / 64] >> s->id % 64 & 1))
        return 0;
    res = PQprepare(db->conn, s->name, s->sql, n, NULL);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        log_error("db: cannot prepare %s: %s", s->name,
                  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: db_pq_msg(db->conn));
    PQclear(res);
    if (ok)
        mark_prepared(db, s);
    return ok ? 0 : -1;
}

/* Sends s, prepared (named) or with its text. */
static int send_one(struct db *db, struct db_stmt *s, int n, const char *const *vals,
                    int named, int binary)
{
    return named ? PQsendQueryPrepared(db->conn, s->name, n, vals, NULL, NULL, binary)
                 : PQsendQueryParams(db->conn, s->sql, n, NULL, vals, NULL, NULL, binary);
}

/* The first result of the pipeline's next statement; the rest of its
 * results are cleared. */
static PGresult *next_result(PGconn *c)
{
    PGresult *res = PQgetResult(c), *r;

    while (res != NULL && (r = PQgetResult(c)) != NULL)
        PQclear(r);
    return res;
}

/* What a pipeline sends around its statement (run()). */
#define PIPE_BEGIN 1        /* BEGIN first: the transaction outlives the sync */
#define PIPE_COMMIT 2       /* COMMIT after it */

/*
 * s in one pipeline after what must go first in its transaction: BEGIN when
 * ends has PIPE_BEGIN; the time limit, when it is not a session setting
 * (DB_PREPARE=off: behind PgBouncer in transaction mode the next statement
 * may get another server connection), lasting until the transaction ends;
 * then the revocation check, when db_guard() set one; and after s, COMMIT
 * when ends has PIPE_COMMIT.  One round trip, one transaction (a single
 * sync), so s is skipped when the check raises, and COMMIT when s fails.
 * Returns s's result, or COMMIT's when only that failed (NULL when none
 * came); *guard: 1 the token is not revoked, -1 it is, 0 no answer (a lost
 * connection) or no check.
 */
static PGresult *send_pipeline(struct db *db, struct db_stmt *s, int n,
                               const char *const *vals, int named, int binary,
                               int timed, int ends, int *guard)
{
    PGconn *c = db->conn;
    PGresult *res = NULL, *r;
    char ms[24];
    const char *limit[] = { ms };

    *guard = 0;
    snprintf(ms, sizeof ms, "%ld", db->timeout_ms);
    if (!PQenterPipelineMode(c))
        return NULL;
    if ((!(ends & PIPE_BEGIN) || send_one(db, &stmt_begin, 0, NULL, 0, 0)) &&
        (!timed || send_one(db, &stmt_local_timeout, 1, limit, 0, 0)) &&
        (!db->guard_on || send_one(db, &db_guard_stmt, 2, db->guard, db->prepare, 0)) &&
        send_one(db, s, n, vals, named, binary) &&
        (!(ends & PIPE_COMMIT) || send_one(db, &stmt_commit, 0, NULL, 0, 0)) &&
        PQpipelineSync(c)) {
        if (ends & PIPE_BEGIN)
            PQclear(next_result(c));
        if (timed)
            PQclear(next_result(c));
        if (db->guard_on && (r = next_result(c)) != NULL) {
            *guard = PQresultStatus(r) == PGRES_TUPLES_OK ? 1
                     : classify(r) == DB_REVOKED ? -1 : 0;
            PQclear(r);
        }
        res = next_result(c);
        if ((ends & PIPE_COMMIT) && (r = next_result(c)) != NULL) {
            if (res != NULL && PQresultStatus(res) != PGRES_FATAL_ERROR &&
                PQresultStatus(r) != PGRES_COMMAND_OK) {
                PQclear(res);
                res = r;
            } else {
                PQclear(r);
            }
        }
        /* The sync's own result. */
        while ((r = PQgetResult(c)) != NULL &&
               PQresultStatus(r) != PGRES_PIPELINE_SYNC)
            PQclear(r);
        PQclear(r);
    }
    if (!PQexitPipelineMode(c) && PQstatus(c) == CONNECTION_OK) {
        /* Results left unread: the connection cannot be trusted. */
        log_error("db: a pipeline did not end: %s", db_pq_msg(c));
        drop(db);
        *guard = 0;
        PQclear(res);
        return NULL;
    }
    return res;
}

/* What one send-and-wait of a statement came to (send_once()). */
enum send_result {
    SEND_OK,            /* the result wanted came back */
    SEND_FAILED,        /* another answer, or no connection to send on */
    SEND_LOST_BEFORE,   /* the connection was lost before the statement went */
    SEND_LOST_AFTER,    /* ... or after: it may have run */
};

/*
 * What a statement that failed means (classify()), logged; res is cleared.
 * A write refused by a server that only reads drops the connection: a
 * primary that became a standby (a failover) kept it open, and the next
 * connection finds the new primary.
 */
static enum db_status failed(struct db *db, const struct db_stmt *s, PGresult *res)
{
    enum db_status st = classify(res);

    if (is_read_only(res)) {
        log_warn("db: %s refused: the server takes no writes (a standby?); reconnecting",
                 s->name);
        drop(db);
    } else if (st != DB_CONFLICT && st != DB_REVOKED && st != DB_UNKNOWN_ZONE) {
        log_error("db: %s failed: %s %s", s->name,
                  res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) ?: "" : "",
                  res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: ""
                      : db_pq_msg(db->conn));
    }
    PQclear(res);
    return st;
}

/*
 * One send-and-wait of s: opens the connection when needed, prepares s (and
 * the revocation check) on it, sends s with what goes in its round trip
 * (send_pipeline: ends, the time limit, the check) and waits for the
 * answer.  SEND_OK puts the result in *res; SEND_FAILED sets *st.  A
 * connection found lost is dropped.
 */
static enum send_result send_once(struct db *db, struct db_stmt *s, int n,
                                  const char *const *vals, ExecStatusType want,
                                  int ends, PGresult **res, enum db_status *st)
{
    int named = db->prepare && !(s->flags & DB_REPLAN);
    int binary = (s->flags & DB_BINARY) != 0;
    int guarded = db->guard_on, timed, guard = 0;
    PGresult *r;

    if (ensure_conn(db, !(s->flags & DB_IDEMPOTENT)) != DB_OK) {
        *st = DB_UNAVAILABLE;
        return SEND_FAILED;
    }
    timed = !db->prepare && db->timeout_ms > 0 && !in_tx(db);
    if ((named && prepare(db, s, n) != 0) ||
        (guarded && db->prepare && prepare(db, &db_guard_stmt, 2) != 0)) {
        if (db_is_up(db)) {
            *st = failed(db, s, NULL);
            return SEND_FAILED;
        }
        log_warn("db: connection lost: %s", db_pq_msg(db->conn));
        drop(db);
        return SEND_LOST_BEFORE;
    }
    if (guarded || timed || ends)
        r = send_pipeline(db, s, n, vals, named, binary, timed, ends, &guard);
    else if (named)
        r = PQexecPrepared(db->conn, s->name, n, vals, NULL, NULL, binary);
    else
        r = PQexecParams(db->conn, s->sql, n, NULL, vals, NULL, NULL, binary);
    db->last_used = ts_mono() / 1000;
    if (guard != 0)
        db->guard_on = 0;
    if (guard < 0) {
        log_warn("auth: revoked token");
        PQclear(r);
        *st = DB_REVOKED;
        return SEND_FAILED;
    }
    if (r != NULL && PQresultStatus(r) == want) {
        *res = r;
        return SEND_OK;
    }
    if (db_is_up(db)) {
        *st = failed(db, s, r);
        return SEND_FAILED;
    }
    if (db->conn != NULL)       /* else send_pipeline() said why */
        log_warn("db: connection lost: %s", db_pq_msg(db->conn));
    PQclear(r);
    drop(db);
    return SEND_LOST_AFTER;
}

/*
 * Whether s, its connection lost, may go again on a new one: never when a
 * transaction was open (it went with the connection) or BEGIN or COMMIT
 * rides with s; and once s went out, only when running it twice does no
 * harm (DB_IDEMPOTENT): a write that may have committed is never re-sent.
 */
static int may_resend(const struct db_stmt *s, int ends, int was_in_tx,
                      enum send_result o)
{
    return !was_in_tx && !ends && (o == SEND_LOST_BEFORE || (s->flags & DB_IDEMPOTENT));
}

/* db_run(), with ends (PIPE_*) sent in the same round trip; sent again at
 * most once, when may_resend() allows. */
static PGresult *run(struct db *db, struct pool *p, struct db_stmt *s, int n,
                     const char *const *vals, ExecStatusType want, int ends,
                     enum db_status *st)
{
    int was_in_tx = in_tx(db), tries = 0;
    PGresult *res = NULL;
    enum send_result o;

    /* Inside a transaction, or to open one, the check goes alone first. */
    if (db->guard_on && (was_in_tx || s == &stmt_begin) &&
        (*st = db_guard_check(db)) != DB_OK)
        return NULL;
    do
        o = send_once(db, s, n, vals, want, ends, &res, st);
    while ((o == SEND_LOST_BEFORE || o == SEND_LOST_AFTER) && tries++ == 0 &&
           may_resend(s, ends, was_in_tx, o));
    if (o == SEND_OK) {
        *st = DB_OK;
        return p ? pool_defer(p, clear, res) : res;
    }
    if (o != SEND_FAILED)
        *st = DB_UNAVAILABLE;
    return NULL;
}

PGresult *db_run(struct db *db, struct pool *p, struct db_stmt *s, int n,
                 const char *const *vals, ExecStatusType want,
                 enum db_status *st)
{
    return run(db, p, s, n, vals, want, 0, st);
}

PGresult *db_run_begin(struct db *db, struct pool *p, struct db_stmt *s, int n,
                       const char *const *vals, ExecStatusType want,
                       enum db_status *st)
{
    PGresult *res = run(db, p, s, n, vals, want, PIPE_BEGIN, st);

    if (res == NULL)
        db_rollback(db);
    return res;
}

enum db_status db_cmd_commit(struct db *db, struct db_stmt *s, int n,
                             const char *const *vals)
{
    enum db_status st;

    PQclear(run(db, NULL, s, n, vals, PGRES_COMMAND_OK, PIPE_COMMIT, &st));
    db_rollback(db);            /* a no-op once COMMIT ran */
    return st;
}

void db_guard(struct db *db, const char *jti, const char *sid)
{
    db->guard[0] = jti;
    db->guard[1] = sid;
    db->guard_on = jti != NULL || sid != NULL;
}

enum db_status db_guard_check(struct db *db)
{
    enum db_status st;

    if (!db->guard_on)
        return DB_OK;
    db->guard_on = 0;
    PQclear(db_run(db, NULL, &db_guard_stmt, 2, db->guard, PGRES_TUPLES_OK, &st));
    if (st == DB_REVOKED)
        log_warn("auth: revoked token");
    return st;
}

enum db_status db_cmd(struct db *db, struct db_stmt *s, int n,
                      const char *const *vals)
{
    enum db_status st;

    PQclear(db_run(db, NULL, s, n, vals, PGRES_COMMAND_OK, &st));
    return st;
}

int64_t db_i64(const char *s)
{
    return strtoll(s, NULL, 10);
}

uint32_t db_be32(const char *s)
{
    const unsigned char *b = (const unsigned char *)s;

    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int64_t db_be64(const char *s)
{
    return (int64_t)((uint64_t)db_be32(s) << 32 | db_be32(s + 4));
}

/* PostgreSQL's timestamps count from 2000-01-01, ours from 1970. */
int64_t db_time(const char *s)
{
    return db_be64(s) + INT64_C(946684800000000);
}

const char *db_array_param(struct pool *p, const char *const *v, size_t n)
{
    size_t i, len = 3;
    const char *c;
    char *out, *o;

    for (i = 0; i < n; i++)
        len += 2 * strlen(v[i]) + 3;
    o = out = pool_alloc_raw(p, len);
    *o++ = '{';
    for (i = 0; i < n; i++) {
        if (i > 0)
            *o++ = ',';
        *o++ = '"';
        for (c = v[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

const char *db_time_param(struct pool *p, int has, int64_t us)
{
    char buf[TS_BUFSZ];

    if (!has)
        return NULL;
    ts_format(us, buf);
    return pool_strdup(p, buf);
}

enum db_status db_ping(struct db *db)
{
    enum db_status st;

    PQclear(db_run(db, NULL, &stmt_ping, 0, NULL, PGRES_TUPLES_OK, &st));
    return st;
}

enum db_status db_begin(struct db *db)
{
    return db_cmd(db, &stmt_begin, 0, NULL);
}

enum db_status db_commit(struct db *db)
{
    return db_cmd(db, &stmt_commit, 0, NULL);
}

void db_rollback(struct db *db)
{
    if (in_tx(db))
        PQclear(PQexec(db->conn, "ROLLBACK"));
}

/* --------------------------------------------------------- housekeeping */

/*
 * Up to 500 rows of each kind that can no longer matter: revoked access
 * tokens an hour past their expiry (the leeway is far shorter), sessions and
 * refresh tokens a day past theirs (an access token outlives its session by
 * at most its own lifetime), login failures out of the window, deleted
 * tasks' traces a day old (db_task.c), answers stored for idempotency keys
 * 24 hours old (db_idem.c).  Rows another worker is deleting are skipped.
 */
#define EXPIRED(table, key, cond)                                          \
    "DELETE FROM " table " WHERE " key " IN (SELECT " key " FROM " table   \
    " WHERE " cond " LIMIT 500 FOR UPDATE SKIP LOCKED) RETURNING 1"
static struct db_stmt housekeep = {
    "housekeep",
    "WITH r AS (" EXPIRED("revoked_tokens", "jti", "expires_at < now() - interval '1 hour'") "),"
    " f AS (" EXPIRED("refresh_tokens", "token_hash", "expires_at < now() - interval '1 day'") "),"
    " s AS (" EXPIRED("sessions", "id", "expires_at < now() - interval '1 day'") "),"
    " l AS (" EXPIRED("login_failures", "ctid", "failed_at < now() - interval '15 minutes'") "),"
    " d AS (" EXPIRED("deleted_tasks", "id", "deleted_at < now() - interval '1 day'") "),"
    " i AS (" EXPIRED("idempotency_keys", "ctid", "created_at < now() - interval '24 hours'") ")"
    " SELECT (SELECT count(*) FROM r) + (SELECT count(*) FROM f)"
    " + (SELECT count(*) FROM s) + (SELECT count(*) FROM l) + (SELECT count(*) FROM d)"
    " + (SELECT count(*) FROM i)", 1, 0,
};

enum db_status db_housekeep(struct db *db, long *removed)
{
    enum db_status st;
    PGresult *res = db_run(db, NULL, &housekeep, 0, NULL, PGRES_TUPLES_OK, &st);

    if (res == NULL)
        return st;
    *removed = (long)db_i64(PQgetvalue(res, 0, 0));
    PQclear(res);
    return DB_OK;
}
