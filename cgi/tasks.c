/*
 * tasks.c: the task endpoints of API.md.
 *
 * Every handler runs after dispatch() has matched the route and checked the
 * token for the path's user (r->param[0]); r->param[1] is the raw task id.
 * Single-task responses carry ETag "<id>.<version>".  Each endpoint costs
 * one statement, so one round trip (a create with an Idempotency-Key, two:
 * task_create_keyed()): the database checks If-Match (against
 * the versions the list names) where it writes, and returns the row as it
 * was for the handler to choose the answer.  Completing a recurring task
 * takes a second statement, which writes the task and its next occurrence
 * together, only if the row is still as the first one read it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../common/db_idem.h"
#include "../common/db_list.h"
#include "../common/db_task.h"
#include "../common/idem.h"
#include "../common/query.h"
#include "app.h"

#define DETAIL_KEY_BUSY "A request with this Idempotency-Key is still being answered"
#define DETAIL_KEY_REUSED \
    "Value error, this Idempotency-Key was used for another request within 24 hours"

/* ------------------------------------------------------------- helpers */

/* Parses r->param[1] as a task id into *id; else adds the error to errs. */
static int parse_task_id(struct req *r, int64_t *id, json_object *errs)
{
    const char *s = r->param[1], *digits = s[0] == '-' ? s + 1 : s;
    const char *type, *msg;
    size_t n = strlen(digits);
    long long v;

    errno = 0;
    v = strtoll(s, NULL, 10);
    if (n == 0 || strspn(digits, "0123456789") != n) {
        type = "int_parsing";
        msg = "Input should be a valid integer, unable to parse string as an integer";
    } else if (s[0] == '-' || strspn(digits, "0") == n) {
        type = "greater_than";
        msg = "Input should be greater than 0";
    } else if (errno == ERANGE) {
        type = "less_than_equal";
        msg = "Input should be less than or equal to 9223372036854775807";
    } else {
        *id = v;
        return 0;
    }
    verr_add_str(errs, type, msg, s, "path", "task_id");
    return -1;
}

/* Parses r->param[1] as a task id, or answers 422 and returns -1. */
static int task_id(struct req *r, int64_t *id)
{
    json_object *errs = verr_new();

    if (parse_task_id(r, id, errs) != 0) {
        reply_invalid(r, errs);
        return -1;
    }
    json_object_put(errs);
    return 0;
}

static const char *etag_of(struct req *r, int64_t id, int64_t version)
{
    return pool_printf(r->pool, "\"%" PRId64 ".%" PRId64 "\"", id, version);
}

static const char *etag(struct req *r, const struct task *t)
{
    return etag_of(r, t->id, t->version);
}

/*
 * The next entry of an ETag list from *list on, without the blanks around
 * it: its start, and its length in *n; NULL when none is left.
 */
static const char *etag_next(const char **list, size_t *n)
{
    const char *s = *list + strspn(*list, " \t,"), *e = s + strcspn(s, ",");

    *list = e;
    if (*s == '\0')
        return NULL;
    *n = (size_t)(e - s);
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/*
 * Whether an If-Match / If-None-Match list matches tag: "*" matches any, a
 * weak comparison ignores "W/"; a strong one never matches a weak entry.
 */
static int etag_match(const char *list, const char *tag, int weak)
{
    const char *s;
    size_t n, tn = strlen(tag);

    while ((s = etag_next(&list, &n)) != NULL) {
        if (n == 1 && s[0] == '*')
            return 1;
        if (weak && n > 2 && strncmp(s, "W/", 2) == 0) {
            s += 2;
            n -= 2;
        }
        if (n == tn && memcmp(s, tag, n) == 0)
            return 1;
    }
    return 0;
}

/*
 * The versions of task id that r's If-Match accepts, for the database to
 * check in the statement that writes: *out is NULL when any is (no If-Match,
 * or "*"), else an array (pool-owned) of *n versions, possibly none.  An
 * entry counts only when it is exactly etag_of() a version, so this agrees
 * with etag_match(if_match, etag, 0) for every version of the task.
 */
static void if_match_versions(struct req *r, int64_t id, int64_t **out, size_t *n)
{
    const char *list = r->if_match, *prefix, *s, *tag;
    size_t len, pn, max;
    int64_t v;

    *out = NULL;
    *n = 0;
    if (list == NULL)
        return;
    prefix = pool_printf(r->pool, "\"%" PRId64 ".", id);
    pn = strlen(prefix);
    max = strlen(list) / (pn + 2) + 1;
    *out = pool_alloc(r->pool, max * sizeof **out);
    while ((s = etag_next(&list, &len)) != NULL) {
        if (len == 1 && s[0] == '*') {
            *out = NULL;
            *n = 0;
            return;
        }
        if (len <= pn + 1 || memcmp(s, prefix, pn) != 0)
            continue;
        v = strtoll(s + pn, NULL, 10);
        tag = etag_of(r, id, v);
        if (strlen(tag) == len && memcmp(tag, s, len) == 0)
            (*out)[(*n)++] = v;
    }
}

/* Answers a single task: status, ETag and the JSON body. */
static int reply_task(struct req *r, int status, const struct task *t)
{
    http_header(r, "ETag", "%s", etag(r, t));
    task_write(http_body(r), t);
    return http_json_buf(r, status);
}

/*
 * Answers a write that failed: 422 at ["body", "timezone"] when the
 * database does not know in's time zone (the one field only it can check;
 * the failed statement changed nothing), else as reply_db_error().
 */
static int reply_write_error(struct req *r, enum db_status st,
                             const struct task *in)
{
    json_object *errs;

    if (st != DB_UNKNOWN_ZONE)
        return reply_db_error(r, st);
    errs = verr_new();
    task_zone_unknown(errs, in->timezone);
    return reply_invalid(r, errs);
}

/* The path of a task, with the user id escaped. */
static const char *task_path(struct req *r, const char *user, int64_t id)
{
    return pool_printf(r->pool, "/api/%s/tasks/%" PRId64,
                       http_escape(r->pool, user), id);
}

/* ------------------------------------------------------------- listing */

/*
 * GET /api/{user}/tasks: 200 and the page of tasks, X-Total-Count, and a
 * Link rel="next" with a cursor after the last task while more remain; 422
 * for a bad parameter.
 */
int task_list(struct req *r)
{
    struct task_query q;
    struct task *tasks;
    json_object *errs = verr_new();
    struct buf *b;
    enum db_status st;
    int64_t total = 0;
    size_t n = 0, i;
    int more = 0;

    if (task_query_parse(r->pool, r->query, &q, errs) > 0)
        return reply_invalid(r, errs);
    json_object_put(errs);
    q.user_id = r->param[0];
    st = db_task_list(r->db, r->pool, &q, &tasks, &n, &total, &more);
    if (st != DB_OK)
        return reply_db_error(r, st);
    b = http_body(r);
    buf_putc(b, '[');
    for (i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(b, ',');
        task_write(b, &tasks[i]);
    }
    buf_putc(b, ']');
    http_header(r, "X-Total-Count", "%" PRId64, total);
    if (more)
        http_header(r, "Link", "</api/%s/tasks?%s>; rel=\"next\"",
                    http_escape(r->pool, q.user_id),
                    query_with_cursor(r->pool, r->query,
                                      query_cursor(r->pool, &q, &tasks[n - 1])));
    return http_json_buf(r, 200);
}

/* ------------------------------------------------------ single tasks */

/* GET /api/{user}/tasks/{id}: 200 with ETag, 304 when If-None-Match matches. */
int task_get(struct req *r)
{
    struct task t;
    enum db_status st;
    int64_t id;

    if (task_id(r, &id) != 0)
        return r->status;
    st = db_task_get(r->db, r->pool, r->param[0], id, 0, &t);
    if (st == DB_NOT_FOUND)
        return http_error(r, 404, DETAIL_TASK_NOT_FOUND);
    if (st != DB_OK)
        return reply_db_error(r, st);
    if (r->if_none_match && etag_match(r->if_none_match, etag(r, &t), 1)) {
        http_header(r, "ETag", "%s", etag(r, &t));
        return http_empty(r, 304);
    }
    return reply_task(r, 200, &t);
}

/*
 * A create sent with an Idempotency-Key (API.md, "Retrying safely"): the
 * key is taken and the task inserted in one round trip, and the answer is
 * stored with the task and committed in a second.  A key another request
 * still holds is 409; a key whose stored answer was to another request
 * (method, path and body bytes) is 422; else the stored answer goes again,
 * with Idempotent-Replayed, and nothing is created.  Only a 201 is stored:
 * a failure rolls back with the task, so the retry runs anew.
 */
static int task_create_keyed(struct req *r, struct task *t)
{
    char fp[IDEM_FINGERPRINT_HEX];
    struct idem_key k = { r->ident->user, r->idempotency_key, fp };
    struct idem_answer ans;
    enum idem_state state;
    enum db_status st;
    json_object *errs;

    idem_fingerprint(r->method, r->path, r->body, r->body_len, fp);
    st = db_task_insert_keyed(r->db, r->pool, t, &k, &state, &ans);
    if (st != DB_OK)
        return reply_write_error(r, st, t);
    if (state == IDEM_BUSY)
        return http_error(r, 409, DETAIL_KEY_BUSY);
    if (state == IDEM_OTHER) {
        errs = verr_new();
        verr_add_str(errs, "value_error", DETAIL_KEY_REUSED, k.key, "header",
                     IDEM_HEADER);
        return reply_invalid(r, errs);
    }
    if (state == IDEM_DONE) {
        http_header_lines(r, ans.headers);
        http_header(r, "Idempotent-Replayed", "true");
        buf_put(http_body(r), ans.body, ans.body_len);
        return http_json_buf(r, ans.status);
    }
    http_header(r, "Location", "%s", task_path(r, t->user_id, t->id));
    reply_task(r, 201, t);
    ans.status = r->status;
    ans.headers = r->headers->data;
    ans.body = r->resp->data;
    ans.body_len = r->resp->len;
    if ((st = db_idem_store(r->db, r->pool, &k, &ans)) != DB_OK) {
        r->headers->len = 0;
        return reply_db_error(r, st);
    }
    return r->status;
}

/*
 * POST /api/{user}/tasks: 201 with Location and ETag; 422 for a bad body or
 * Idempotency-Key (the header's error first, as FastAPI lists them).  The
 * path's user gets a users row on its first task.  Without a key, one
 * statement; with one, see task_create_keyed().
 */
int task_create(struct req *r)
{
    struct task t;
    json_object *body, *errs;
    enum db_status st;
    unsigned present = 0;
    size_t before;
    int ok;

    body = req_json(r, 0, &ok);
    if (!ok)
        return r->status;
    task_defaults(&t);
    errs = verr_new();
    if (r->idempotency_key != NULL)
        idem_key_check(r->idempotency_key, errs);
    before = json_object_array_length(errs);
    if (body == NULL)
        verr_add(errs, "missing", "Field required", NULL, "body", NULL, -1);
    else
        task_parse(r->pool, body, &t, &present, errs);
    if (json_object_is_type(body, json_type_object) && !(present & TF_TITLE))
        verr_add(errs, "missing", "Field required", NULL, "body", "title", -1);
    if (json_object_array_length(errs) == before)
        task_check(&t, present, errs);
    if (json_object_array_length(errs) > 0)
        return reply_invalid(r, errs);
    json_object_put(errs);

    t.user_id = r->param[0];
    if (r->idempotency_key != NULL)
        return task_create_keyed(r, &t);
    if ((st = db_task_insert(r->db, r->pool, &t)) != DB_OK)
        return reply_write_error(r, st, &t);
    http_header(r, "Location", "%s", task_path(r, t.user_id, t.id));
    return reply_task(r, 201, &t);
}

static int same_tags(const struct task *a, const struct task *b)
{
    size_t i;

    if (a->ntags != b->ntags)
        return 0;
    for (i = 0; i < a->ntags; i++)
        if (strcmp(a->tags[i], b->tags[i]) != 0)
            return 0;
    return 1;
}

/* Whether two strings that may be NULL are equal. */
static int same_str(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* Whether a and b have the same client fields; the offset a due date was
 * written with is not one (the same instant is the same due date). */
static int same_task(const struct task *a, const struct task *b)
{
    return strcmp(a->title, b->title) == 0 && same_str(a->description, b->description) &&
           a->completed == b->completed && a->priority == b->priority &&
           same_tags(a, b) && a->has_due == b->has_due &&
           (!a->has_due || a->due == b->due) && a->recurrence == b->recurrence &&
           same_str(a->timezone, b->timezone);
}

/* Whether t, which has just become completed, needs its next occurrence. */
static int needs_next(const struct task *old, const struct task *t)
{
    return t->completed && !old->completed && t->recurrence != RECUR_NONE &&
           !t->spawned;
}

/*
 * change_task() in a transaction, the row locked from the If-Match check to
 * the commit: for when the row changed between change_task()'s statements.
 */
static int change_task_tx(struct req *r, int64_t id, const struct task *in,
                          unsigned present, int toggle)
{
    struct task old, t;
    json_object *errs = verr_new();
    enum db_status st;
    int64_t next_id = 0;
    int status;

    st = db_begin(r->db);
    if (st == DB_OK)
        st = db_task_get(r->db, r->pool, r->param[0], id, 1, &old);
    if (st == DB_NOT_FOUND) {
        status = http_error(r, 404, DETAIL_TASK_NOT_FOUND);
        goto out;
    }
    if (st != DB_OK)
        goto fail;
    if (r->if_match && !etag_match(r->if_match, etag(r, &old), 0)) {
        status = http_error(r, 412, DETAIL_PRECONDITION);
        goto out;
    }
    t = old;
    task_merge(&t, in, present);
    if (toggle)
        t.completed = !t.completed;
    if (task_check(&t, present, errs) > 0) {
        status = reply_invalid(r, errs);
        errs = NULL;
        goto out;
    }
    if (same_task(&old, &t)) {
        db_rollback(r->db);
        status = reply_task(r, 200, &old);
        goto out;
    }
    if (needs_next(&old, &t))
        st = db_task_spawn(r->db, r->pool, &t, old.version, &next_id);
    else
        st = db_task_update(r->db, r->pool, &t);
    if (st == DB_OK)
        st = db_commit(r->db);
    if (st != DB_OK)
        goto fail;
    if (next_id != 0)
        http_header(r, "Link", "<%s>; rel=\"next-occurrence\"",
                    task_path(r, t.user_id, next_id));
    status = reply_task(r, 200, &t);
    goto out;
fail:
    status = reply_write_error(r, st, in);
out:
    db_rollback(r->db);
    json_object_put(errs);
    return status;
}

/*
 * The shared body of PUT, PATCH and PATCH .../complete: sets the fields of
 * in that present names (TF_* bits, from a validated body) and, when toggle
 * is set, flips completed; then answers 200 with the task, 404, 412 or 422.
 *
 * One round trip: db_task_change() writes when every rule below holds, and
 * returns the row as it was, from which the answer is decided as
 * change_task_tx() decides it.  Completing a recurring task is left to C: a
 * second statement writes it with its next occurrence, while the row is as
 * read; if it is not, change_task_tx() decides again under a lock.
 */
static int change_task(struct req *r, int64_t id, const struct task *in,
                       unsigned present, int toggle)
{
    struct task_change c = { in, present, toggle, NULL, 0 };
    struct task old, now, t;
    json_object *errs;
    enum db_status st;
    int64_t *versions, next_id;
    int written;

    if_match_versions(r, id, &versions, &c.nversions);
    c.versions = versions;
    st = db_task_change(r->db, r->pool, r->param[0], id, &c, &old, &now, &written);
    if (st == DB_NOT_FOUND)
        return http_error(r, 404, DETAIL_TASK_NOT_FOUND);
    if (st != DB_OK)
        return reply_write_error(r, st, in);
    if (written)
        return reply_task(r, 200, &now);
    if (r->if_match && !etag_match(r->if_match, etag(r, &old), 0))
        return http_error(r, 412, DETAIL_PRECONDITION);
    t = old;
    task_merge(&t, in, present);
    if (toggle)
        t.completed = !t.completed;
    errs = verr_new();
    if (task_check(&t, present, errs) > 0)
        return reply_invalid(r, errs);
    json_object_put(errs);
    if (same_task(&old, &t))
        return reply_task(r, 200, &old);
    /* The statement wrote nothing and only a next occurrence explains it
     * (none past year 9999: the series ends, and no Link is sent). */
    if (!needs_next(&old, &t))
        return change_task_tx(r, id, in, present, toggle);
    st = db_task_spawn(r->db, r->pool, &t, old.version, &next_id);
    if (st == DB_NOT_FOUND)
        return change_task_tx(r, id, in, present, toggle);
    if (st != DB_OK)
        return reply_write_error(r, st, in);
    if (next_id != 0)
        http_header(r, "Link", "<%s>; rel=\"next-occurrence\"",
                    task_path(r, t.user_id, next_id));
    return reply_task(r, 200, &t);
}

/*
 * PUT or PATCH /api/{user}/tasks/{id}: a partial update (only the fields
 * present change); 200 with the task, 404, 412 on a stale If-Match, 422.
 */
int task_update(struct req *r)
{
    struct task in;
    json_object *body, *errs;
    unsigned present;
    int64_t id;
    int ok, bad_id;

    /* Not JSON: 400 alone.  Else validate before touching the database, as
     * FastAPI would: the path's errors and the body's together. */
    body = req_json(r, 0, &ok);
    if (!ok)
        return r->status;
    errs = verr_new();
    bad_id = parse_task_id(r, &id, errs) != 0;
    task_defaults(&in);
    if (body == NULL)
        verr_add(errs, "missing", "Field required", NULL, "body", NULL, -1);
    if (body == NULL || task_parse(r->pool, body, &in, &present, errs) > 0 || bad_id)
        return reply_invalid(r, errs);
    json_object_put(errs);
    return change_task(r, id, &in, present, 0);
}

/*
 * PATCH /api/{user}/tasks/{id}/complete: no body (or one without
 * "completed") toggles completed; {"completed": bool} sets it.
 */
int task_complete(struct req *r)
{
    struct task in;
    json_object *body, *errs, *v;
    unsigned present;
    int64_t id;
    int ok;

    body = req_json(r, 0, &ok);
    if (!ok)
        return r->status;
    /* The path's errors and the body's together, as FastAPI reports them. */
    errs = verr_new();
    parse_task_id(r, &id, errs);
    if (body != NULL && !json_object_is_type(body, json_type_object))
        task_parse(r->pool, body, &in, &present, errs);
    else if (body != NULL && json_object_object_get_ex(body, "completed", &v) &&
             !json_object_is_type(v, json_type_boolean))
        verr_add(errs, "bool_type", "Input should be a valid boolean", v,
                 "body", "completed", -1);
    if (json_object_array_length(errs) > 0)
        return reply_invalid(r, errs);
    json_object_put(errs);
    task_defaults(&in);
    if (body == NULL || !json_object_object_get_ex(body, "completed", &v))
        return change_task(r, id, &in, 0, 1);
    in.completed = json_object_get_boolean(v);
    return change_task(r, id, &in, TF_COMPLETED, 0);
}

/*
 * DELETE /api/{user}/tasks/{id}: 204; 404; 412 on a stale If-Match.  One
 * statement either way: with If-Match, the database checks the versions it
 * accepts.
 */
int task_delete(struct req *r)
{
    enum db_status st;
    int64_t id, *versions;
    size_t n;
    int deleted;

    if (task_id(r, &id) != 0)
        return r->status;
    if (r->if_match == NULL) {
        st = db_task_delete(r->db, r->param[0], id);
        deleted = 1;
    } else {
        if_match_versions(r, id, &versions, &n);
        st = db_task_delete_if(r->db, r->pool, r->param[0], id, versions, n,
                               &deleted);
    }
    if (st == DB_NOT_FOUND)
        return http_error(r, 404, DETAIL_TASK_NOT_FOUND);
    if (st != DB_OK)
        return reply_db_error(r, st);
    if (!deleted)
        return http_error(r, 412, DETAIL_PRECONDITION);
    return http_empty(r, 204);
}
