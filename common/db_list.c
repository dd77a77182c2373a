/*
 * db_list.c: one user's listing, in one statement whose plan fits the query.
 *
 * Each combination of filters, sort, order and paging (offset or cursor) is
 * a shape with SQL of its own, built on first use and prepared once per
 * connection: a filter that is absent is not in the SQL at all (no
 * "$n IS NULL OR ..." that keeps an index out), and every order walks an
 * index led by user_id.  The statement returns the page (one row more than
 * the limit, to tell whether more remain) and, in each row, the total from
 * the same snapshot: from the counts schema/003's triggers keep when the
 * filters are status, priority or one tag, else a count of the matching
 * rows.  A cursor page starts with a row comparison on (sort key, id), so it
 * costs what the first page costs.  The SQL of a shape is built once and
 * kept for the life of the process.  Only this file's own fragments and
 * parameter numbers ($n) go into it; every value a client sends is a bound
 * parameter (list_params), never text of the statement.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db_list.h"
#include "db_priv.h"

enum {
    SH_PENDING = 1 << 0,
    SH_COMPLETED = 1 << 1,
    SH_Q = 1 << 2,
    SH_PRIORITY = 1 << 3,
    SH_TAGS = 1 << 4,
    SH_BEFORE = 1 << 5,
    SH_AFTER = 1 << 6,
    SH_CURSOR = 1 << 7,
    SH_DESC = 1 << 8,
    SH_SORT = 9,                /* the sort's shift: 3 bits */
    SH_ONE_TAG = 1 << 12,       /* with SH_TAGS: exactly one */
    SH_COUNT = 1 << 13,
    /* Filters whose selectivity depends on the value (a rare word, a common
     * tag): planned for each request's values, not once. */
    SH_REPLAN = SH_Q | SH_TAGS | SH_BEFORE | SH_AFTER,
};

/* Each sort's key as the indexes of schema/001 and 003 hold it; the
 * cursor's value is cast to the key's type. */
static const struct {
    const char *key, *cast;
} sort_keys[] = {
    [SORT_CREATED] = { "created_at", "timestamptz" },
    [SORT_UPDATED] = { "updated_at", "timestamptz" },
    [SORT_TITLE] = { "title COLLATE \"C\"", "text COLLATE \"C\"" },
    [SORT_DUE_DATE] = { NULL, "timestamptz" },
    [SORT_PRIORITY] = { "tasks.priority", "task_priority" },
};

static struct db_stmt shapes[SH_COUNT];

static unsigned shape_of(const struct task_query *q)
{
    return (q->status == 0 ? SH_PENDING : q->status == 1 ? SH_COMPLETED : 0) |
           (q->q ? SH_Q : 0) | (q->has_priority ? SH_PRIORITY : 0) |
           (q->ntags ? SH_TAGS : 0) | (q->has_before ? SH_BEFORE : 0) |
           (q->has_after ? SH_AFTER : 0) | (q->has_cursor ? SH_CURSOR : 0) |
           (q->desc ? SH_DESC : 0) | (unsigned)q->sort << SH_SORT |
           (q->ntags == 1 ? SH_ONE_TAG : 0);
}

/* The shapes' names and SQL, built on first use, kept for the process. */
static struct pool *sql_pool;

/* The filters of shape sh, as parameters $2, $3, ... in shape order. */
static int add_filters(struct buf *s, unsigned sh)
{
    int k = 2;

    buf_puts(s, " FROM tasks WHERE user_id = $1");
    if (sh & SH_PENDING)
        buf_puts(s, " AND NOT completed");
    if (sh & SH_COMPLETED)
        buf_puts(s, " AND completed");
    if (sh & SH_Q) {
        /* $k is a LIKE pattern (like_param), lowered as the indexes are. */
        buf_printf(s, " AND (lower(title COLLATE \"und-x-icu\") LIKE"
                    " lower($%d::text COLLATE \"und-x-icu\")"
                    " OR lower(description COLLATE \"und-x-icu\") LIKE"
                    " lower($%d::text COLLATE \"und-x-icu\"))", k, k);
        k++;
    }
    if (sh & SH_PRIORITY)
        buf_printf(s, " AND tasks.priority = $%d::task_priority", k++);
    if (sh & SH_TAGS)
        buf_printf(s, " AND tags @> $%d::text[]", k++);
    /* On the due-date indexes' keys (no due date: +/-infinity, outside any
     * range given), so a range is an index range. */
    if (sh & SH_BEFORE)
        buf_printf(s, " AND coalesce(due_date, 'infinity') <= $%d", k++);
    if (sh & SH_AFTER)
        buf_printf(s, " AND coalesce(due_date, %s) >= $%d",
            sh & SH_BEFORE ? "'infinity'" : "'-infinity'", k++);
    return k;
}

static const char *build_sql(unsigned sh)
{
    enum task_sort sort = (enum task_sort)(sh >> SH_SORT & 7);
    const char *dir = sh & SH_DESC ? "DESC" : "ASC", *key = sort_keys[sort].key;
    unsigned filters = sh & (SH_Q | SH_PRIORITY | SH_TAGS | SH_BEFORE | SH_AFTER);
    struct buf *s = buf_new(sql_pool, 1024);
    int k;

    if (sort == SORT_DUE_DATE)
        key = sh & SH_DESC ? "coalesce(due_date, '-infinity')"
                           : "coalesce(due_date, 'infinity')";
    buf_puts(s, "SELECT " TASK_COLS ", coalesce((");
    if ((filters & ~SH_PRIORITY) == 0 || (filters == SH_TAGS && (sh & SH_ONE_TAG))) {
        /* Kept by schema/003's triggers: no task is read. */
        if (filters == SH_TAGS)
            buf_puts(s, "SELECT sum(n) FROM tag_counts WHERE user_id = $1"
                        " AND tag = ($2::text[])[1]");
        else
            buf_puts(s, filters ? "SELECT sum(n) FROM task_counts WHERE user_id = $1"
                                  " AND priority = $2::task_priority"
                                : "SELECT sum(n) FROM task_counts WHERE user_id = $1");
        buf_puts(s, sh & SH_PENDING ? " AND NOT completed"
                    : sh & SH_COMPLETED ? " AND completed" : "");
    } else {
        buf_puts(s, "SELECT count(*)");
        add_filters(s, sh);
    }
    buf_puts(s, "), 0)::int8");
    k = add_filters(s, sh);
    if (sh & SH_CURSOR) {
        buf_printf(s, " AND (%s, id) %s ($%d::%s, $%d::int8)", key,
            sh & SH_DESC ? "<" : ">", k, sort_keys[sort].cast, k + 1);
        k += 2;
    }
    buf_printf(s, " ORDER BY %s %s, id %s LIMIT $%d OFFSET $%d", key, dir, dir, k, k + 1);
    return s->data;
}


/* q's text as a LIKE pattern: "%" q "%" with %, _ and \ taken literally. */
static const char *like_param(struct pool *p, const char *q)
{
    char *out = pool_alloc(p, 2 * strlen(q) + 3), *o = out;

    *o++ = '%';
    for (; *q != '\0'; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            *o++ = '\\';
        *o++ = *q;
    }
    *o = '%';
    return out;
}

/* The parameters of q's shape into vals (room for 12); returns their count. */
static int list_params(struct pool *p, const struct task_query *q, const char **vals)
{
    int k = 1;

    vals[0] = q->user_id;
    if (q->q)
        vals[k++] = like_param(p, q->q);
    if (q->has_priority)
        vals[k++] = priority_names[q->priority];
    if (q->ntags)
        vals[k++] = db_array_param(p, q->tags, q->ntags);
    if (q->has_before)
        vals[k++] = db_time_param(p, 1, q->before);
    if (q->has_after)
        vals[k++] = db_time_param(p, 1, q->after);
    if (q->has_cursor) {
        if (q->sort == SORT_TITLE)
            vals[k++] = q->key_s;
        else if (q->sort == SORT_PRIORITY)
            vals[k++] = priority_names[q->key_i];
        else if (q->key_null)
            vals[k++] = q->desc ? "-infinity" : "infinity";
        else
            vals[k++] = db_time_param(p, 1, q->key_i);
        vals[k++] = pool_printf(p, "%" PRId64, q->after_id);
    }
    vals[k++] = pool_printf(p, "%" PRId64, q->limit + 1);
    vals[k++] = pool_printf(p, "%" PRId64, q->offset);
    return k;
}

/* q's statement, built on first use. */
static struct db_stmt *shape_stmt(const struct task_query *q)
{
    unsigned sh = shape_of(q);
    struct db_stmt *s = &shapes[sh];

    if (s->sql == NULL) {
        if (sql_pool == NULL)
            sql_pool = pool_new();
        s->name = pool_printf(sql_pool, "list_%x", sh);
        s->sql = build_sql(sh);
        s->flags = DB_IDEMPOTENT | DB_BINARY | (sh & SH_REPLAN ? DB_REPLAN : 0);
    }
    return s;
}

enum db_status db_task_list(struct db *db, struct pool *p,
                            const struct task_query *q, struct task **out,
                            size_t *n, int64_t *total, int *more)
{
    struct db_stmt *s = shape_stmt(q);
    const char *vals[12];
    enum db_status st;
    PGresult *res;
    struct task_query first;
    struct task *none;
    size_t k0;
    int i, rows, k, later;

    k = list_params(p, q, vals);
    res = db_run(db, p, s, k, vals, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    rows = PQntuples(res);
    *more = rows > q->limit;
    if (*more)
        rows = (int)q->limit;
    *out = pool_alloc(p, (size_t)(rows ? rows : 1) * sizeof **out);
    for (i = 0; i < rows; i++)
        db_task_row(p, res, i, &(*out)[i]);
    *n = (size_t)rows;
    if (rows > 0) {
        *total = db_be64(PQgetvalue(res, 0, TASK_NCOLS));
        return DB_OK;
    }
    *total = 0;
    if (q->offset == 0 && !q->has_cursor)
        return DB_OK;           /* nothing matches at all */
    /* Past the end: the total comes with the first page (rare). */
    first = *q;
    first.has_cursor = 0;
    first.offset = 0;
    first.limit = 1;
    return db_task_list(db, p, &first, &none, &k0, total, &later);
}

char *db_task_list_explain(struct db *db, struct pool *p, const struct task_query *q)
{
    struct db_stmt *s = shape_stmt(q);
    const char *vals[12];
    char *sql, *lit, *plan = NULL;
    PGresult *res = NULL;
    PGconn *c;
    int i, k = list_params(p, q, vals);

    if (db_connect(db) != DB_OK)
        return NULL;
    c = db_conn(db);
    /* As the worker runs it: a generic plan once prepared, or planned for
     * these values (DB_REPLAN). */
    PQclear(PQexec(c, s->flags & DB_REPLAN ? "SET plan_cache_mode = force_custom_plan"
                                          : "SET plan_cache_mode = force_generic_plan"));
    res = PQprepare(c, s->name, s->sql, k, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "explain: %s\n%s\n", PQerrorMessage(c), s->sql);
        PQclear(res);
        return NULL;
    }
    PQclear(res);
    sql = pool_printf(p, "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE %s(", s->name);
    for (i = 0; i < k; i++) {
        lit = PQescapeLiteral(c, vals[i], strlen(vals[i]));
        if (lit == NULL)
            return NULL;
        sql = pool_printf(p, "%s%s%s", sql, i ? ", " : "", lit);
        PQfreemem(lit);
    }
    res = PQexec(c, pool_printf(p, "%s)", sql));
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        plan = pool_strdup(p, PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "explain: %s", PQerrorMessage(c));
    PQclear(res);
    return plan;
}
