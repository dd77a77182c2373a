/*
 * db_task.c: the tasks table: reading and writing one user's tasks (the
 * listing is db_list.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_priv.h"
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
/* The user's row comes with the first task, in the same round trip: the
 * foreign key is checked at the end of the statement, after the CTE. */
static struct db_stmt task_insert = {
    "task_insert",
    "WITH u AS (INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING)"
    " INSERT INTO tasks (user_id, title, description, completed, priority,"
    " tags, due_date, recurrence)"
    " VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8)"
    " RETURNING " TASK_COLS, DB_BINARY, 0,
};
static struct db_stmt task_update = {
    "task_update",
    "UPDATE tasks SET title = $3, description = $4, completed = $5,"
    " priority = $6, tags = $7::text[], due_date = $8,"
    " recurrence = $9, spawned = $10, version = version + 1,"
    " updated_at = now()"
    " WHERE user_id = $1 AND id = $2 RETURNING " TASK_COLS, DB_BINARY, 0,
};
/* Deleting twice deletes once: safe to send again. */
static struct db_stmt task_delete = {
    "task_delete", "DELETE FROM tasks WHERE user_id = $1 AND id = $2", 1, 0,
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
}


enum db_status db_task_get(struct db *db, struct pool *p, const char *user_id,
                           int64_t id, int lock, struct task *out)
{
    const char *vals[] = { user_id, pool_printf(p, "%" PRId64, id) };
    enum db_status st;
    PGresult *res = db_run(db, p, lock ? &task_get_lock : &task_get, 2, vals,
                           PGRES_TUPLES_OK, &st);

    if (res == NULL)
        return st;
    if (PQntuples(res) != 1)
        return DB_NOT_FOUND;
    db_task_row(p, res, 0, out);
    return DB_OK;
}

/* The parameters $3.. of an insert or update: a task's client fields. */
static void field_params(struct pool *p, const struct task *t, const char **v)
{
    v[0] = t->title;
    v[1] = t->description;
    v[2] = t->completed ? "true" : "false";
    v[3] = priority_names[t->priority];
    v[4] = db_array_param(p, t->tags, t->ntags);
    v[5] = db_time_param(p, t->has_due, t->due);
    v[6] = recurrence_names[t->recurrence];
}

enum db_status db_task_insert(struct db *db, struct pool *p, struct task *t)
{
    const char *vals[8];
    enum db_status st;
    PGresult *res;

    vals[0] = t->user_id;
    field_params(p, t, vals + 1);
    res = db_run(db, p, &task_insert, 8, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    db_task_row(p, res, 0, t);
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
    res = db_run(db, p, &task_update, 10, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    if (PQntuples(res) != 1)
        return DB_NOT_FOUND;
    db_task_row(p, res, 0, t);
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
    res = db_run(db, NULL, &task_delete, 2, vals, PGRES_COMMAND_OK, &st);
    if (res == NULL)
        return st;
    gone = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return gone ? DB_OK : DB_NOT_FOUND;
}

