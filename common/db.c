/*
 * db.c: libpq connection handling and all of the program's SQL.
 */
#include "db.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "timestamp.h"

struct db {
    char *conninfo;
    int prepare;
    PGconn *conn;
    int in_tx;
    int64_t next_try;       /* monotonic ms before which we do not reconnect */
};

/* ---------------------------------------------------------------- SQL */

#define TASK_COLS                                                          \
    "id, user_id, title, description, completed, priority::text, "        \
    "array_to_json(tags)::text, "                                          \
    "(extract(epoch FROM due_date) * 1000000)::int8, recurrence::text, "   \
    "(extract(epoch FROM created_at) * 1000000)::int8, "                   \
    "(extract(epoch FROM updated_at) * 1000000)::int8, version, spawned"

/* $1 user, $2 completed, $3 q, $4 priority, $5 tags (JSON), $6 before, $7 after */
#define LIST_WHERE                                                          \
    " FROM tasks WHERE user_id = $1"                                        \
    " AND ($2::boolean IS NULL OR completed = $2)"                          \
    " AND ($3::text IS NULL"                                                \
    "  OR strpos(lower(title COLLATE \"und-x-icu\"),"                       \
    "            lower($3::text COLLATE \"und-x-icu\")) > 0"                \
    "  OR strpos(lower(description COLLATE \"und-x-icu\"),"                 \
    "            lower($3::text COLLATE \"und-x-icu\")) > 0)"               \
    " AND ($4::task_priority IS NULL OR priority = $4)"                     \
    " AND ($5::json IS NULL"                                                \
    "  OR tags @> ARRAY(SELECT json_array_elements_text($5::json)))"        \
    " AND ($6::timestamptz IS NULL OR due_date <= $6)"                      \
    " AND ($7::timestamptz IS NULL OR due_date >= $7)"

#define LIST(order) "SELECT " TASK_COLS LIST_WHERE " ORDER BY " order \
                    " LIMIT $8 OFFSET $9"

#define TAGS_IN(n) "ARRAY(SELECT json_array_elements_text($" #n "::json))"

enum stmt {
    S_PING, S_BEGIN, S_COMMIT, S_ROLLBACK, S_USER_ENSURE,
    S_TASK_GET, S_TASK_GET_LOCK, S_TASK_INSERT, S_TASK_UPDATE, S_TASK_DELETE,
    S_TASK_COUNT,
    /* One listing statement per sort key and direction, asc first. */
    S_LIST_FIRST,
    S_LIST_LAST = S_LIST_FIRST + 9,
    S_COUNT_
};

static const char *const sql[S_COUNT_] = {
    [S_PING] = "SELECT 1",
    [S_BEGIN] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_USER_ENSURE] =
        "INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING",
    [S_TASK_GET] =
        "SELECT " TASK_COLS " FROM tasks WHERE user_id = $1 AND id = $2",
    [S_TASK_GET_LOCK] =
        "SELECT " TASK_COLS " FROM tasks WHERE user_id = $1 AND id = $2"
        " FOR UPDATE",
    [S_TASK_INSERT] =
        "INSERT INTO tasks (user_id, title, description, completed, priority,"
        " tags, due_date, recurrence)"
        " VALUES ($1, $2, $3, $4, $5, " TAGS_IN(6) ", $7, $8)"
        " RETURNING " TASK_COLS,
    [S_TASK_UPDATE] =
        "UPDATE tasks SET title = $3, description = $4, completed = $5,"
        " priority = $6, tags = " TAGS_IN(7) ", due_date = $8,"
        " recurrence = $9, spawned = $10, version = version + 1,"
        " updated_at = now()"
        " WHERE user_id = $1 AND id = $2 RETURNING " TASK_COLS,
    [S_TASK_DELETE] = "DELETE FROM tasks WHERE user_id = $1 AND id = $2",
    [S_TASK_COUNT] = "SELECT count(*)" LIST_WHERE,
    [S_LIST_FIRST + 0] = LIST("created_at ASC, id ASC"),
    [S_LIST_FIRST + 1] = LIST("created_at DESC, id DESC"),
    [S_LIST_FIRST + 2] = LIST("updated_at ASC, id ASC"),
    [S_LIST_FIRST + 3] = LIST("updated_at DESC, id DESC"),
    [S_LIST_FIRST + 4] = LIST("title COLLATE \"C\" ASC, id ASC"),
    [S_LIST_FIRST + 5] = LIST("title COLLATE \"C\" DESC, id DESC"),
    [S_LIST_FIRST + 6] = LIST("due_date ASC NULLS LAST, id ASC"),
    [S_LIST_FIRST + 7] = LIST("due_date DESC NULLS LAST, id DESC"),
    [S_LIST_FIRST + 8] = LIST("tasks.priority ASC, id ASC"),
    [S_LIST_FIRST + 9] = LIST("tasks.priority DESC, id DESC"),
};

/*
 * Statements that may be sent again on a new connection after the old one
 * failed (a serverless database closes idle connections: the normal case).
 * BEGIN is among them: it only runs outside a transaction.
 */
static int idempotent(enum stmt s)
{
    return s == S_PING || s == S_BEGIN || s == S_TASK_GET ||
           s == S_TASK_COUNT || s == S_USER_ENSURE || s == S_TASK_DELETE ||
           s >= S_LIST_FIRST;
}

/* ---------------------------------------------------------- connection */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct db *db_open(const char *conninfo, int prepare)
{
    struct db *db = calloc(1, sizeof *db);

    if (db == NULL || (db->conninfo = strdup(conninfo)) == NULL)
        die_oom();
    db->prepare = prepare;
    return db;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    PQfinish(db->conn);
    free(db->conninfo);
    free(db);
}

/* The first line of libpq's message, for the log. */
static const char *pq_msg(PGconn *conn)
{
    static char buf[256];
    const char *m = conn ? PQerrorMessage(conn) : "out of memory";

    snprintf(buf, sizeof buf, "%.*s", (int)strcspn(m, "\n"), m);
    return buf;
}

static PGconn *connect_now(const char *conninfo)
{
    const char *const keys[] = { "connect_timeout", "application_name",
                                 "dbname", NULL };
    const char *const vals[] = { "5", "todo-fcgi", conninfo, NULL };

    /* The user's conninfo comes last, so its settings win. */
    return PQconnectdbParams(keys, vals, 1);
}

static int prepare_all(struct db *db)
{
    PGresult *res;
    char name[16];
    int i, ok;

    for (i = S_USER_ENSURE; i < S_COUNT_; i++) {
        snprintf(name, sizeof name, "s%d", i);
        res = PQprepare(db->conn, name, sql[i], 0, NULL);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            log_error("db: cannot prepare statement %d: %s", i,
                      PQresultErrorMessage(res));
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

enum db_status db_connect(struct db *db)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return DB_OK;
    if (mono_ms() < db->next_try)
        return DB_UNAVAILABLE;
    PQfinish(db->conn);
    db->in_tx = 0;
    db->conn = connect_now(db->conninfo);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        log_warn("db: cannot connect: %s", pq_msg(db->conn));
        goto fail;
    }
    if (db->prepare && prepare_all(db) != 0)
        goto fail;
    log_info("db: connected");
    return DB_OK;
fail:
    PQfinish(db->conn);
    db->conn = NULL;
    db->next_try = mono_ms() + DB_RETRY_MS;
    return DB_UNAVAILABLE;
}

static void clear(void *res)
{
    PQclear(res);
}

/*
 * Runs statement s with n text parameters (NULL = SQL NULL) and returns its
 * result, owned by p (NULL p: the caller PQclears it), or NULL with *st set.
 * want is the PGRES_* status that means success.
 */
static PGresult *run(struct db *db, struct pool *p, enum stmt s, int n,
                     const char *const *vals, ExecStatusType want,
                     enum db_status *st)
{
    PGresult *res = NULL;
    char name[16];
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        if (db_connect(db) != DB_OK) {
            *st = DB_UNAVAILABLE;
            return NULL;
        }
        snprintf(name, sizeof name, "s%d", (int)s);
        if (db->prepare && s >= S_USER_ENSURE)
            res = PQexecPrepared(db->conn, name, n, vals, NULL, NULL, 0);
        else
            res = PQexecParams(db->conn, sql[s], n, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) == want) {
            *st = DB_OK;
            return p ? pool_defer(p, clear, res) : res;
        }
        if (PQstatus(db->conn) != CONNECTION_OK) {
            log_warn("db: connection lost: %s", pq_msg(db->conn));
            PQclear(res);
            res = NULL;
            PQfinish(db->conn);
            db->conn = NULL;
            if (db->in_tx || !idempotent(s)) {
                db->in_tx = 0;
                *st = DB_UNAVAILABLE;
                return NULL;
            }
            continue;
        }
        break;
    }
    log_error("db: statement %d failed: %s %s", (int)s,
              res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) ?: "" : "",
              res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: "" : "");
    PQclear(res);
    *st = DB_ERROR;
    return NULL;
}

static enum db_status command(struct db *db, enum stmt s, int n,
                              const char *const *vals)
{
    enum db_status st;
    PGresult *res = run(db, NULL, s, n, vals, PGRES_COMMAND_OK, &st);

    PQclear(res);
    return st;
}

enum db_status db_ping(struct db *db)
{
    enum db_status st;

    PQclear(run(db, NULL, S_PING, 0, NULL, PGRES_TUPLES_OK, &st));
    return st;
}

enum db_status db_begin(struct db *db)
{
    enum db_status st = command(db, S_BEGIN, 0, NULL);

    db->in_tx = st == DB_OK;
    return st;
}

enum db_status db_commit(struct db *db)
{
    enum db_status st = command(db, S_COMMIT, 0, NULL);

    db->in_tx = 0;
    return st;
}

void db_rollback(struct db *db)
{
    if (db->in_tx && db->conn != NULL)
        PQclear(PQexec(db->conn, "ROLLBACK"));
    db->in_tx = 0;
}

enum db_status db_user_ensure(struct db *db, const char *user_id)
{
    const char *vals[] = { user_id };

    return command(db, S_USER_ENSURE, 1, vals);
}

/* ---------------------------------------------------------------- tasks */

static int64_t to_i64(const char *s)
{
    return strtoll(s, NULL, 10);
}

/* Reads row i of a TASK_COLS result into t; strings point into res. */
static void task_from_row(struct pool *p, PGresult *res, int i, struct task *t)
{
    json_object *tags;
    size_t k, n;

    task_defaults(t);
    t->id = to_i64(PQgetvalue(res, i, 0));
    t->user_id = PQgetvalue(res, i, 1);
    t->title = PQgetvalue(res, i, 2);
    t->description = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
    t->completed = PQgetvalue(res, i, 4)[0] == 't';
    priority_parse(PQgetvalue(res, i, 5), &t->priority);
    tags = json_own(p, json_tokener_parse(PQgetvalue(res, i, 6)));
    n = json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
    t->tags = pool_alloc(p, (n ? n : 1) * sizeof *t->tags);
    for (k = 0; k < n; k++)
        t->tags[k] = json_object_get_string(json_object_array_get_idx(tags, k));
    t->ntags = n;
    t->has_due = !PQgetisnull(res, i, 7);
    t->due = t->has_due ? to_i64(PQgetvalue(res, i, 7)) : 0;
    if (!PQgetisnull(res, i, 8))
        recurrence_parse(PQgetvalue(res, i, 8), &t->recurrence);
    t->created = to_i64(PQgetvalue(res, i, 9));
    t->updated = to_i64(PQgetvalue(res, i, 10));
    t->version = to_i64(PQgetvalue(res, i, 11));
    t->spawned = PQgetvalue(res, i, 12)[0] == 't';
}

static const char *tags_param(struct pool *p, const char *const *tags, size_t n)
{
    json_object *a = json_object_new_array();
    const char *s;
    size_t i;

    for (i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(tags[i]));
    s = pool_strdup(p, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    json_object_put(a);
    return s;
}

static const char *time_param(struct pool *p, int has, int64_t us)
{
    char buf[TS_BUFSZ];

    if (!has)
        return NULL;
    ts_format(us, buf);
    return pool_strdup(p, buf);
}

enum db_status db_task_list(struct db *db, struct pool *p,
                            const struct task_query *q, struct task **out,
                            size_t *n, int64_t *total)
{
    const char *vals[9];
    enum db_status st;
    PGresult *res;
    int i, rows;

    vals[0] = q->user_id;
    vals[1] = q->status < 0 ? NULL : q->status ? "true" : "false";
    vals[2] = q->q;
    vals[3] = q->has_priority ? priority_names[q->priority] : NULL;
    vals[4] = q->ntags ? tags_param(p, q->tags, q->ntags) : NULL;
    vals[5] = time_param(p, q->has_before, q->before);
    vals[6] = time_param(p, q->has_after, q->after);
    vals[7] = pool_printf(p, "%ld", q->limit);
    vals[8] = pool_printf(p, "%ld", q->offset);

    res = run(db, p, S_TASK_COUNT, 7, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    *total = to_i64(PQgetvalue(res, 0, 0));
    res = run(db, p, (enum stmt)(S_LIST_FIRST + (int)q->sort * 2 + q->desc), 9,
              vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    rows = PQntuples(res);
    *out = pool_alloc(p, (size_t)(rows ? rows : 1) * sizeof **out);
    for (i = 0; i < rows; i++)
        task_from_row(p, res, i, &(*out)[i]);
    *n = (size_t)rows;
    return DB_OK;
}

enum db_status db_task_get(struct db *db, struct pool *p, const char *user_id,
                           int64_t id, int lock, struct task *out)
{
    const char *vals[] = { user_id, pool_printf(p, "%" PRId64, id) };
    enum db_status st;
    PGresult *res = run(db, p, lock ? S_TASK_GET_LOCK : S_TASK_GET, 2, vals,
                        PGRES_TUPLES_OK, &st);

    if (res == NULL)
        return st;
    if (PQntuples(res) != 1)
        return DB_NOT_FOUND;
    task_from_row(p, res, 0, out);
    return DB_OK;
}

/* The parameters $3.. of an insert or update: a task's client fields. */
static void field_params(struct pool *p, const struct task *t, const char **v)
{
    v[0] = t->title;
    v[1] = t->description;
    v[2] = t->completed ? "true" : "false";
    v[3] = priority_names[t->priority];
    v[4] = tags_param(p, t->tags, t->ntags);
    v[5] = time_param(p, t->has_due, t->due);
    v[6] = recurrence_names[t->recurrence];
}

enum db_status db_task_insert(struct db *db, struct pool *p, struct task *t)
{
    const char *vals[8];
    enum db_status st;
    PGresult *res;

    vals[0] = t->user_id;
    field_params(p, t, vals + 1);
    res = run(db, p, S_TASK_INSERT, 8, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    task_from_row(p, res, 0, t);
    return DB_OK;
}

enum db_status db_task_update(struct db *db, struct pool *p, struct task *t)
{
    const char *vals[10];
    enum db_status st;
    PGresult *res;

    vals[0] = t->user_id;
    vals[1] = pool_printf(p, "%" PRId64, t->id);
    field_params(p, t, vals + 2);
    vals[9] = t->spawned ? "true" : "false";
    res = run(db, p, S_TASK_UPDATE, 10, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    if (PQntuples(res) != 1)
        return DB_NOT_FOUND;
    task_from_row(p, res, 0, t);
    return DB_OK;
}

enum db_status db_task_delete(struct db *db, const char *user_id, int64_t id)
{
    char idbuf[24];
    const char *vals[] = { user_id, idbuf };
    enum db_status st;
    PGresult *res;
    int gone;

    snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
    res = run(db, NULL, S_TASK_DELETE, 2, vals, PGRES_COMMAND_OK, &st);
    if (res == NULL)
        return st;
    gone = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return gone ? DB_OK : DB_NOT_FOUND;
}

/* ----------------------------------------------------------- migrations */

static int is_migration(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n > 8 && d->d_name[0] >= '0' && d->d_name[0] <= '9' &&
           d->d_name[1] >= '0' && d->d_name[1] <= '9' &&
           d->d_name[2] >= '0' && d->d_name[2] <= '9' && d->d_name[3] == '_' &&
           strcmp(d->d_name + n - 4, ".sql") == 0;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* Runs a command with parameters; 0 when it returned want. */
static int exec_ok(PGconn *c, const char *q, int n, const char *const *v,
                   ExecStatusType want)
{
    PGresult *res = PQexecParams(c, q, n, NULL, v, NULL, NULL, 0);
    int ok = PQresultStatus(res) == want;

    if (!ok)
        fprintf(stderr, "migrate: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

/* Applies one file in its own transaction; 1 applied, 0 already, -1 error. */
static int apply_one(PGconn *c, const char *dir, const char *name)
{
    const char *v[] = { name };
    char path[4096], *text;
    PGresult *res;
    int done, rc = -1;

    res = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
                       1, NULL, v, NULL, NULL, 0);
    done = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    PQclear(res);
    if (done)
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((text = read_file(path)) == NULL) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("migrate: applying %s\n", name);
    fflush(stdout);
    if (exec_ok(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK) != 0)
        goto out;
    res = PQexec(c, text);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "migrate: %s: %s", name, PQresultErrorMessage(res));
        PQclear(res);
        PQclear(PQexec(c, "ROLLBACK"));
        goto out;
    }
    PQclear(res);
    if (exec_ok(c, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, v,
                PGRES_COMMAND_OK) != 0 ||
        exec_ok(c, "COMMIT", 0, NULL, PGRES_COMMAND_OK) != 0) {
        PQclear(PQexec(c, "ROLLBACK"));
        goto out;
    }
    rc = 1;
out:
    free(text);
    return rc;
}

/* "relation already exists, skipping" is not news to the operator. */
static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int db_migrate(const char *conninfo, const char *dir)
{
    struct dirent **names = NULL;
    PGconn *c = connect_now(conninfo);
    int n = -1, i, applied = 0, r, rc = -1;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "migrate: cannot connect: %s\n", pq_msg(c));
        goto out;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    /* One migrator at a time, however many start together. */
    if (exec_ok(c, "SELECT pg_advisory_lock(7415)", 0, NULL, PGRES_TUPLES_OK) ||
        exec_ok(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version text PRIMARY KEY,"
                   " applied_at timestamptz NOT NULL DEFAULT now())",
                0, NULL, PGRES_COMMAND_OK))
        goto out;
    n = scandir(dir, &names, is_migration, alphasort);
    if (n < 0) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", dir, strerror(errno));
        goto out;
    }
    for (i = 0; i < n; i++) {
        r = apply_one(c, dir, names[i]->d_name);
        if (r < 0)
            goto out;
        applied += r;
    }
    printf("migrate: %d applied, %d up to date\n", applied, n - applied);
    rc = 0;
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    PQfinish(c);
    return rc;
}
