/*
 * db_task.c: the tasks table: reading and writing one user's tasks
 * (db_task.h, and the keyed insert of db_idem.h; the listing is db_list.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db_idem.h"
#include "db_priv.h"
#include "db_task.h"
#include "timestamp.h"


static struct db_stmt task_get = {
    "task_get",
    "SELECT " TASK_COLS " FROM tasks WHERE user_id = $1 AND id = $2",
    DB_IDEMPOTENT | DB_BINARY, 0,
};
static struct db_stmt task_get_lock = {
    "task_get_lock",
    "SELECT " TASK_COLS " FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE",
    DB_BINARY, 0,
};
/*
 * The columns that follow a task's due date, recurrence and time zone when
 * a statement sets them to due, rec and zone (old names the row as it was,
 * "" or "o."): due_offset takes off, the offset the client wrote due with,
 * when the instant changes, and a new due date, recurrence or time zone
 * starts the series again (schema/008_calendar.sql).
 */
#define SERIES(old, due, rec, zone, off)                                    \
    "due_offset = CASE WHEN " old "due_date IS DISTINCT FROM " due          \
    " THEN " off " ELSE " old "due_offset END,"                             \
    " series_start = CASE WHEN (" old "due_date, " old "recurrence, "       \
    old "timezone) IS NOT DISTINCT FROM (" due ", " rec ", " zone ")"       \
    " THEN " old "series_start END"

/* The user's row comes with the first task, in the same round trip: the
 * foreign key is checked at the end of the statement, after the CTE. */
#define TASK_INSERT                                                        \
    "INSERT INTO tasks (user_id, title, description, completed, priority,"  \
    " tags, due_date, recurrence, timezone, due_offset)"
static struct db_stmt task_insert = {
    "task_insert",
    "WITH u AS (INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING) "
    TASK_INSERT " VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10)"
    " RETURNING " TASK_COLS, DB_BINARY, 0,
};
/*
 * task_insert under an Idempotency-Key (schema/009): k takes the key, without
 * waiting, and reads the answer stored for it; the user and the task are
 * inserted only when the key was free and had none.  One row: the task
 * (NULLs when none was inserted), whether the key was busy, whether the
 * stored answer's fingerprint is $13, and the stored status, headers and
 * body.  $1..$10 as task_insert's; $11 the key's user, $12 the key.
 */
#define KEY_FREE " FROM k WHERE NOT k.busy AND k.status IS NULL"
static struct db_stmt task_insert_keyed = {
    "task_insert_keyed",
    "WITH k AS (SELECT * FROM todo_idempotency_claim($11::text, $12::text)),"
    " u AS (INSERT INTO users (id) SELECT $1::text" KEY_FREE
    " ON CONFLICT (id) DO NOTHING),"
    " t AS (" TASK_INSERT " SELECT $1, $2::text, $3::text, $4::boolean,"
    " $5::task_priority, $6::text[], $7::timestamptz, $8::task_recurrence,"
    " $9::text, $10::int" KEY_FREE " RETURNING " TASK_COLS ")"
    " SELECT t.*, k.busy, k.fingerprint = $13::text, k.status, k.headers, k.body"
    " FROM k LEFT JOIN t ON true",
    DB_BINARY, 0,
};
/* Every field of a task from $3..$11 (field_params), for task_update and
 * task_spawn. */
#define SET_FIELDS \
    " title = $3, description = $4, completed = $5," \
    " priority = $6, tags = $7::text[], due_date = $8, recurrence = $9," \
    " timezone = $10, " \
    SERIES("", "$8::timestamptz", "$9::task_recurrence", "$10::text", "$11::int") ","

/* $1 user, $2 id, $3..$11 the fields (field_params). */
static struct db_stmt task_update = {
    "task_update",
    "UPDATE tasks SET" SET_FIELDS
    " version = version + 1, updated_at = now()"
    " WHERE user_id = $1 AND id = $2 RETURNING " TASK_COLS, DB_BINARY, 0,
};
/*
 * A partial update in one round trip.  old locks the row and computes the new
 * value of each field: the parameter when $3 has its TF_* bit, else the
 * stored one ($13 toggles completed).  upd writes only when the If-Match
 * versions ($14, NULL: any) accept the row, a recurrence keeps its due date,
 * something changes, and no next occurrence is due (completing a recurring
 * task not yet spawned: the caller does that with task_spawn).  The answer
 * is the old row, then the new one when it was written.  The decisions made
 * from the old row (404, 412, 422, no change, spawn) stay with the caller.
 * $1 user, $2 id, $3 TF_* bits, $4..$12 fields as task_update's $3..$11.
 */
#define TF_BIT(bit) "$3::int & " #bit " <> 0"
#define NEW(bit, param, col) \
    "CASE WHEN " TF_BIT(bit) " THEN " param " ELSE " col " END AS n_" col
static struct db_stmt task_change = {
    "task_change",
    "WITH old AS (SELECT *, "
    NEW(1, "$4::text", "title") ", "
    NEW(2, "$5::text", "description") ", "
    "CASE WHEN " TF_BIT(4) " THEN $6::boolean"
    " WHEN $13::boolean THEN NOT completed ELSE completed END AS n_completed, "
    NEW(8, "$7::task_priority", "priority") ", "
    NEW(16, "$8::text[]", "tags") ", "
    NEW(32, "$9::timestamptz", "due_date") ", "
    NEW(64, "$10::task_recurrence", "recurrence") ", "
    NEW(128, "$11::text", "timezone")
    " FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE),"
    " upd AS (UPDATE tasks t SET title = o.n_title,"
    " description = o.n_description, completed = o.n_completed,"
    " priority = o.n_priority, tags = o.n_tags, due_date = o.n_due_date,"
    " recurrence = o.n_recurrence, timezone = o.n_timezone, "
    SERIES("o.", "o.n_due_date", "o.n_recurrence", "o.n_timezone", "$12::int") ","
    " version = t.version + 1, updated_at = now()"
    " FROM old o WHERE t.user_id = $1 AND t.id = $2"
    " AND ($14::int8[] IS NULL OR o.version = ANY ($14::int8[]))"
    " AND (o.n_recurrence IS NULL OR o.n_due_date IS NOT NULL)"
    " AND (o.n_title, o.n_description, o.n_completed, o.n_priority, o.n_tags,"
    "  o.n_due_date, o.n_recurrence, o.n_timezone) IS DISTINCT FROM (o.title,"
    "  o.description, o.completed, o.priority, o.tags, o.due_date, o.recurrence,"
    "  o.timezone)"
    " AND NOT (o.n_completed AND NOT o.completed"
    "  AND o.n_recurrence IS NOT NULL AND NOT o.spawned)"
    " RETURNING t.*)"
    " SELECT " TASK_COLS ", false AS written FROM old"
    " UNION ALL SELECT " TASK_COLS ", true FROM upd ORDER BY written",
    DB_BINARY, 0,
};
_Static_assert(TF_TITLE == 1 && TF_DESCRIPTION == 2 && TF_COMPLETED == 4 &&
               TF_PRIORITY == 8 && TF_TAGS == 16 && TF_DUE_DATE == 32 &&
               TF_RECURRENCE == 64 && TF_TIMEZONE == 128,
               "task_change's SQL numbers the TF_* bits");
/*
 * Completing a recurring task: the update and the next occurrence in one
 * statement, so in one transaction.  The caller read the row at version $12
 * and decided from it; any change since makes this write nothing.  The next
 * occurrence is due a period later on the task's wall clock, on the day of
 * its series (todo_next_due), and continues the series; past year 9999 there
 * is none, and the last column is NULL.  The zone reaches the calendar
 * through time_zones: a name the client sent that is not there fails the
 * statement on the foreign key, at its end (DB_UNKNOWN_ZONE, a 422), and
 * must not fail it first in AT TIME ZONE (a 500).
 * $1 user, $2 id, $3..$11 fields as task_update.
 */
static struct db_stmt task_spawn = {
    "task_spawn",
    "WITH upd AS (UPDATE tasks SET" SET_FIELDS
    " spawned = true, version = version + 1, updated_at = now()"
    " WHERE user_id = $1 AND id = $2 AND version = $12::int8 AND NOT spawned"
    " RETURNING *),"
    " ins AS (INSERT INTO tasks (user_id, title, description, priority, tags,"
    " due_date, recurrence, timezone, due_offset, series_start)"
    " SELECT u.user_id, u.title, u.description, u.priority, u.tags, n.due,"
    " u.recurrence, u.timezone, u.due_offset,"
    " coalesce(u.series_start, todo_wall(u.due_date, z.name, u.due_offset))"
    " FROM upd u LEFT JOIN time_zones z ON z.name = u.timezone,"
    " todo_next_due(u.due_date, u.recurrence, z.name, u.due_offset,"
    " u.series_start) AS n (due) WHERE n.due IS NOT NULL RETURNING id)"
    " SELECT " TASK_COLS ", (SELECT id FROM ins) FROM upd",
    DB_BINARY, 0,
};
/* What a DELETE leaves behind: deleted_tasks (schema/007), so that the
 * same DELETE sent again finds it. */
#define DELETED_KEPT "interval '1 day'"
#define TOMBSTONE(del) \
    " gone AS (INSERT INTO deleted_tasks (id, user_id, version)" \
    " SELECT id, user_id, version FROM " del ")"
/* A DELETE under If-Match in one round trip: no row is 404, a row with
 * false is 412.  $3: the versions If-Match accepts, NULL: any (but not a
 * task already deleted: only its own tag finds that). */
static struct db_stmt task_delete_if = {
    "task_delete_if",
    "WITH old AS (SELECT version FROM tasks"
    " WHERE user_id = $1 AND id = $2 FOR UPDATE),"
    " del AS (DELETE FROM tasks t USING old"
    " WHERE t.user_id = $1 AND t.id = $2"
    " AND ($3::int8[] IS NULL OR old.version = ANY ($3::int8[]))"
    " RETURNING t.id, t.user_id, t.version)," TOMBSTONE("del")
    " SELECT EXISTS (SELECT 1 FROM del) FROM old"
    " UNION ALL SELECT true FROM deleted_tasks WHERE id = $2 AND user_id = $1"
    " AND version = ANY ($3::int8[]) AND deleted_at > now() - " DELETED_KEPT,
    0, 0,
};
/* Deleting twice answers as deleting once: safe to send again.  One row:
 * whether the task is gone by this or an earlier DELETE. */
static struct db_stmt task_delete = {
    "task_delete",
    "WITH del AS (DELETE FROM tasks WHERE user_id = $1 AND id = $2"
    " RETURNING id, user_id, version)," TOMBSTONE("del")
    " SELECT EXISTS (SELECT 1 FROM del) OR EXISTS (SELECT 1 FROM deleted_tasks"
    " WHERE id = $2 AND user_id = $1 AND deleted_at > now() - " DELETED_KEPT ")",
    1, 0,
};
/*
 * A text[] in binary form: ndim, has-null flag, element type, then per
 * dimension its size and lower bound, then each element as length and
 * bytes.  The tags go into p, NUL-terminated, in one block.
 */
static void tags_from_binary(struct pool *p, const char *v, int len, struct task *t)
{
    const char *end = v + len, *e = v + 20;
    size_t n = 0, k, bytes;
    char *out;

    if (len >= 20 && db_be32(v) == 1)
        n = db_be32(v + 12);
    if (n > (size_t)len / 4)
        n = 0;                  /* not a text[] of ours */
    t->tags = pool_alloc_raw(p, (n ? n : 1) * sizeof *t->tags);
    out = pool_alloc_raw(p, (size_t)len + 1);
    for (k = 0; k < n && end - e >= 4; k++) {
        bytes = db_be32(e);
        if (bytes > (size_t)(end - e - 4))
            break;              /* a NULL (-1) or a short value: not ours */
        memcpy(out, e + 4, bytes);
        out[bytes] = '\0';
        t->tags[k] = out;
        out += bytes + 1;
        e += 4 + bytes;
    }
    t->ntags = k;
}

void db_task_row(struct pool *p, PGresult *res, int i, struct task *t)
{
    task_defaults(t);
    t->id = db_be64(PQgetvalue(res, i, 0));
    t->user_id = PQgetvalue(res, i, 1);
    t->title = PQgetvalue(res, i, 2);
    t->description = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
    t->completed = PQgetvalue(res, i, 4)[0] != 0;
    priority_parse(PQgetvalue(res, i, 5), &t->priority);
    tags_from_binary(p, PQgetvalue(res, i, 6), PQgetlength(res, i, 6), t);
    t->has_due = !PQgetisnull(res, i, 7);
    t->due = t->has_due ? db_time(PQgetvalue(res, i, 7)) : 0;
    if (!PQgetisnull(res, i, 8))
        recurrence_parse(PQgetvalue(res, i, 8), &t->recurrence);
    t->created = db_time(PQgetvalue(res, i, 9));
    t->updated = db_time(PQgetvalue(res, i, 10));
    t->version = db_be64(PQgetvalue(res, i, 11));
    t->spawned = PQgetvalue(res, i, 12)[0] != 0;
    t->timezone = PQgetisnull(res, i, 13) ? NULL : PQgetvalue(res, i, 13);
}


/* Runs s and reads the one task it returns into t (the result in *res when
 * res is not NULL); DB_NOT_FOUND when it returned none. */
static enum db_status one_task(struct db *db, struct pool *p, struct db_stmt *s, int n,
                               const char *const *vals, struct task *t, PGresult **res)
{
    enum db_status st;
    PGresult *r = db_run(db, p, s, n, vals, PGRES_TUPLES_OK, &st);

    if (r == NULL)
        return st;
    if (PQntuples(r) != 1)
        return DB_NOT_FOUND;
    db_task_row(p, r, 0, t);
    if (res != NULL)
        *res = r;
    return DB_OK;
}

enum db_status db_task_get(struct db *db, struct pool *p, const char *user_id,
                           int64_t id, int lock, struct task *out)
{
    const char *vals[] = { user_id, pool_printf(p, "%" PRId64, id) };

    return one_task(db, p, lock ? &task_get_lock : &task_get, 2, vals, out, NULL);
}

/* The parameters $3.. of an insert or update: a task's client fields, and
 * the offset its due date was written with. */
#define NFIELDS 9
static void field_params(struct pool *p, const struct task *t, const char **v)
{
    v[0] = t->title;
    v[1] = t->description;
    v[2] = t->completed ? "true" : "false";
    v[3] = priority_names[t->priority];
    v[4] = db_array_param(p, t->tags, t->ntags);
    v[5] = db_time_param(p, t->has_due, t->due);
    v[6] = recurrence_names[t->recurrence];
    v[7] = t->timezone;
    v[8] = pool_printf(p, "%d", t->has_due ? t->due_offset : 0);
}

enum db_status db_task_insert(struct db *db, struct pool *p, struct task *t)
{
    const char *vals[1 + NFIELDS];

    vals[0] = t->user_id;
    field_params(p, t, vals + 1);
    return one_task(db, p, &task_insert, 1 + NFIELDS, vals, t, NULL);
}

enum db_status db_task_insert_keyed(struct db *db, struct pool *p, struct task *t,
                                    const struct idem_key *k,
                                    enum idem_state *state, struct idem_answer *ans)
{
    const char *vals[4 + NFIELDS];
    const unsigned char *v;
    enum db_status st;
    PGresult *res;

    vals[0] = t->user_id;
    field_params(p, t, vals + 1);
    vals[1 + NFIELDS] = k->user;
    vals[2 + NFIELDS] = k->key;
    vals[3 + NFIELDS] = k->fingerprint;
    res = db_run_begin(db, p, &task_insert_keyed, 4 + NFIELDS, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    if (PQntuples(res) != 1) {
        db_rollback(db);
        return DB_ERROR;
    }
    if (!PQgetisnull(res, 0, 0)) {
        db_task_row(p, res, 0, t);
        *state = IDEM_NEW;
        return DB_OK;
    }
    /* Nothing was written: the transaction has nothing to keep. */
    db_rollback(db);
    if (PQgetvalue(res, 0, TASK_NCOLS)[0] != 0) {
        *state = IDEM_BUSY;
        return DB_OK;
    }
    if (PQgetisnull(res, 0, TASK_NCOLS + 2))
        return DB_ERROR;            /* a free key, and no task: cannot be */
    *state = PQgetvalue(res, 0, TASK_NCOLS + 1)[0] != 0 ? IDEM_DONE : IDEM_OTHER;
    v = (const unsigned char *)PQgetvalue(res, 0, TASK_NCOLS + 2);
    ans->status = v[0] << 8 | v[1];
    ans->headers = PQgetvalue(res, 0, TASK_NCOLS + 3);
    ans->body = PQgetvalue(res, 0, TASK_NCOLS + 4);
    ans->body_len = (size_t)PQgetlength(res, 0, TASK_NCOLS + 4);
    return DB_OK;
}

enum db_status db_task_update(struct db *db, struct pool *p, struct task *t)
{
    const char *vals[2 + NFIELDS];

    vals[0] = t->user_id;
    vals[1] = pool_printf(p, "%" PRId64, t->id);
    field_params(p, t, vals + 2);
    return one_task(db, p, &task_update, 2 + NFIELDS, vals, t, NULL);
}

/* An int8[] parameter: versions as an array literal, or NULL for any. */
static const char *versions_param(struct pool *p, const int64_t *v, size_t n)
{
    struct buf *b;
    size_t i;

    if (v == NULL)
        return NULL;
    b = buf_new(p, 24 * n + 3);
    buf_putc(b, '{');
    for (i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(b, ',');
        buf_int64(b, v[i]);
    }
    buf_putc(b, '}');
    return b->data;
}

enum db_status db_task_change(struct db *db, struct pool *p, const char *user_id,
                              int64_t id, const struct task_change *c,
                              struct task *old, struct task *now, int *written)
{
    const char *vals[5 + NFIELDS];
    enum db_status st;
    PGresult *res;

    vals[0] = user_id;
    vals[1] = pool_printf(p, "%" PRId64, id);
    vals[2] = pool_printf(p, "%u", c->present);
    field_params(p, c->in, vals + 3);
    vals[3 + NFIELDS] = c->toggle ? "true" : "false";
    vals[4 + NFIELDS] = versions_param(p, c->versions, c->nversions);
    *written = 0;
    res = db_run(db, p, &task_change, 5 + NFIELDS, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    if (PQntuples(res) == 0)
        return DB_NOT_FOUND;
    db_task_row(p, res, 0, old);
    if (PQntuples(res) == 2) {
        db_task_row(p, res, 1, now);
        *written = 1;
    }
    return DB_OK;
}

enum db_status db_task_spawn(struct db *db, struct pool *p, struct task *t,
                             int64_t seen, int64_t *next_id)
{
    const char *vals[3 + NFIELDS];
    enum db_status st;
    PGresult *res = NULL;

    vals[0] = t->user_id;
    vals[1] = pool_printf(p, "%" PRId64, t->id);
    field_params(p, t, vals + 2);
    vals[2 + NFIELDS] = pool_printf(p, "%" PRId64, seen);
    *next_id = 0;
    st = one_task(db, p, &task_spawn, 3 + NFIELDS, vals, t, &res);
    if (st == DB_OK && !PQgetisnull(res, 0, TASK_NCOLS))
        *next_id = db_be64(PQgetvalue(res, 0, TASK_NCOLS));
    return st;
}

enum db_status db_task_delete_if(struct db *db, struct pool *p,
                                 const char *user_id, int64_t id,
                                 const int64_t *versions, size_t nversions,
                                 int *deleted)
{
    const char *vals[3];
    enum db_status st;
    PGresult *res;

    vals[0] = user_id;
    vals[1] = pool_printf(p, "%" PRId64, id);
    vals[2] = versions_param(p, versions, nversions);
    *deleted = 0;
    res = db_run(db, p, &task_delete_if, 3, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    if (PQntuples(res) == 0)
        return DB_NOT_FOUND;
    *deleted = PQgetvalue(res, 0, 0)[0] == 't';
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
    res = db_run(db, NULL, &task_delete, 2, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    gone = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return gone ? DB_OK : DB_NOT_FOUND;
}

