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
#include "../common/url.h"
#include "app.h"

#define DETAIL_KEY_BUSY "A request with this Idempotency-Key is still being answered"
#define DETAIL_KEY_REUSED \
    "Value error, this Idempotency-Key was used for another request within 24 hours"

/* ------------------------------------------------------------- helpers */

/* Parses r->param[1] as a task id into *id; else adds the error to errs. */
static int read_task_id(struct req *r, int64_t *id, json_object *errs)
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

/* read_task_id(), or answers 422 and returns -1. */
static int task_id_or_422(struct req *r, int64_t *id)
{
    json_object *errs = verr_new();

    if (read_task_id(r, id, errs) != 0) {
        http_invalid(r, errs);
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
 * the failed statement changed nothing), else as http_db_error().
 */
static int reply_write_error(struct req *r, enum db_status st,
                             const struct task *in)
{
    json_object *errs;

    if (st != DB_UNKNOWN_ZONE)
        return http_db_error(r, st);
    errs = verr_new();
    task_zone_unknown(errs, in->timezone);
    return http_invalid(r, errs);
}

/* The path of a task, with the user id escaped. */
static const char *task_path(struct req *r, const char *user, int64_t id)
{
    return pool_printf(r->pool, "/api/%s/tasks/%" PRId64,
                       url_escape(r->pool, user), id);
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
        return http_invalid(r, errs);
    json_object_put(errs);
    q.user_id = r->param[0];
    st = db_task_list(r->ctx->db, r->pool, &q, &tasks, &n, &total, &more);
    if (st != DB_OK)
        return http_db_error(r, st);
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
                    url_escape(r->pool, q.user_id),
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

    if (task_id_or_422(r, &id) != 0)
        return r->status;
    st = db_task_get(r->ctx->db, r->pool, r->param[0], id, 0, &t);
    if (st == DB_NOT_FOUND)
        return http_error(r, 404, DETAIL_TASK_NOT_FOUND);
    if (st != DB_OK)
        return http_db_error(r, st);
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
    st = db_task_insert_keyed(r->ctx->db, r->pool, t, &k, &state, &ans);
    if (st != DB_OK)
        return reply_write_error(r, st, t);
    if (state == IDEM_BUSY)
        return http_error(r, 409, DETAIL_KEY_BUSY);
    if (state == IDEM_OTHER) {
        errs = verr_new();
        verr_add_str(errs, "value_error", DETAIL_KEY_REUSED, k.key, "header",
                     IDEM_HEADER);
        return http_invalid(r, errs);
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
    if ((st = db_idem_store(r->ctx->db, r->pool, &k, &ans)) != DB_OK) {
        r->headers->len = 0;
        return http_db_error(r, st);
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
    struct task_patch pt;
    struct task base, t;
    json_object *body, *errs;
    enum db_status st;
    int ok;

    body = http_req_json(r, 0, &ok);
    if (!ok)
        return r->status;
    errs = verr_new();
    if (r->idempotency_key != NULL)
        idem_key_check(r->idempotency_key, errs);
    /* A new task is its body applied to the defaults. */
    task_defaults(&base);
    if (task_read(r->pool, body, TF_TITLE, &pt, errs) == 0)
        task_apply(&base, &pt, &t, errs);
    if (json_object_array_length(errs) > 0)
        return http_invalid(r, errs);
    json_object_put(errs);

    t.user_id = r->param[0];
    if (r->idempotency_key != NULL)
        return task_create_keyed(r, &t);
    if ((st = db_task_insert(r->ctx->db, r->pool, &t)) != DB_OK)
        return reply_write_error(r, st, &t);
    http_header(r, "Location", "%s", task_path(r, t.user_id, t.id));
    return reply_task(r, 201, &t);
}

/* Answers 200 with t, just written, and the Link of its next occurrence
 * when next_id names one. */
static int reply_changed(struct req *r, const struct task *t, int64_t next_id)
{
    if (next_id != 0)
        http_header(r, "Link", "<%s>; rel=\"next-occurrence\"",
                    task_path(r, t->user_id, next_id));
    return reply_task(r, 200, t);
}

/*
 * The answers a change can get from old, the row as it was: 412 for a
 * stale If-Match, 422 when task_apply() finds the new state breaks a rule,
 * 200 with old when nothing changes.  0 when none of them is the answer:
 * then *t is the new state and *oc says whether a next occurrence is due.
 */
static int decide(struct req *r, const struct task *old, const struct task_patch *pt,
                  struct task *t, enum task_outcome *oc)
{
    json_object *errs;

    if (r->if_match && !etag_match(r->if_match, etag(r, old), 0))
        return http_error(r, 412, DETAIL_PRECONDITION);
    errs = verr_new();
    *oc = task_apply(old, pt, t, errs);
    if (*oc == TASK_INVALID)
        return http_invalid(r, errs);
    json_object_put(errs);
    return *oc == TASK_SAME ? reply_task(r, 200, old) : 0;
}

/*
 * change_task() in a transaction, the row locked from the If-Match check to
 * the commit: for when the row changed between change_task()'s statements.
 */
static int change_task_tx(struct req *r, int64_t id, const struct task_patch *pt)
{
    struct task old, t;
    enum task_outcome oc;
    enum db_status st;
    int64_t next_id = 0;
    int status;

    st = db_begin(r->ctx->db);
    if (st == DB_OK)
        st = db_task_get(r->ctx->db, r->pool, r->param[0], id, 1, &old);
    if (st == DB_NOT_FOUND) {
        status = http_error(r, 404, DETAIL_TASK_NOT_FOUND);
        goto out;
    }
    if (st == DB_OK && (status = decide(r, &old, pt, &t, &oc)) != 0)
        goto out;
    if (st == DB_OK)
        st = oc == TASK_NEXT ? db_task_spawn(r->ctx->db, r->pool, &t, old.version, &next_id)
                             : db_task_update(r->ctx->db, r->pool, &t);
    if (st == DB_OK)
        st = db_commit(r->ctx->db);
    status = st == DB_OK ? reply_changed(r, &t, next_id)
                         : reply_write_error(r, st, &pt->set);
out:
    db_rollback(r->ctx->db);
    return status;
}

/*
 * The shared body of PUT, PATCH and PATCH .../complete: applies pt to task
 * id and answers 200 with the task, 404, 412 or 422.
 *
 * One round trip: db_task_change() writes when every rule of task_apply()
 * holds, and returns the row as it was, from which decide() chooses the
 * answer.  Completing a recurring task is left to C: a second statement
 * writes it with its next occurrence, while the row is as read; if it is
 * not, change_task_tx() decides again under a lock.
 */
static int change_task(struct req *r, int64_t id, const struct task_patch *pt)
{
    struct task_change c = { &pt->set, pt->present, pt->toggle, NULL, 0 };
    struct task old, now, t;
    enum task_outcome oc;
    enum db_status st;
    int64_t *versions, next_id;
    int written, status;

    if_match_versions(r, id, &versions, &c.nversions);
    c.versions = versions;
    st = db_task_change(r->ctx->db, r->pool, r->param[0], id, &c, &old, &now, &written);
    if (st == DB_NOT_FOUND)
        return http_error(r, 404, DETAIL_TASK_NOT_FOUND);
    if (st != DB_OK)
        return reply_write_error(r, st, &pt->set);
    if (written)
        return reply_task(r, 200, &now);
    if ((status = decide(r, &old, pt, &t, &oc)) != 0)
        return status;
    /* The statement wrote nothing and only a next occurrence explains it
     * (none past year 9999: the series ends, and no Link is sent). */
    if (oc != TASK_NEXT)
        return change_task_tx(r, id, pt);
    st = db_task_spawn(r->ctx->db, r->pool, &t, old.version, &next_id);
    if (st == DB_NOT_FOUND)
        return change_task_tx(r, id, pt);
    if (st != DB_OK)
        return reply_write_error(r, st, &pt->set);
    return reply_changed(r, &t, next_id);
}

/*
 * A change of one task by its body: complete says whether that is a
 * /complete body (only "completed") or a task's fields.  Not JSON: 400
 * alone.  Else validated before touching the database, as FastAPI would:
 * the path's errors and the body's together.
 */
static int update_by_body(struct req *r, int complete)
{
    struct task_patch pt;
    json_object *body, *errs;
    int64_t id;
    int ok, bad_id, bad_body;

    body = http_req_json(r, 0, &ok);
    if (!ok)
        return r->status;
    errs = verr_new();
    bad_id = read_task_id(r, &id, errs) != 0;
    bad_body = complete ? task_read_complete(r->pool, body, &pt, errs) > 0
                        : task_read(r->pool, body, 0, &pt, errs) > 0;
    if (bad_body || bad_id)
        return http_invalid(r, errs);
    json_object_put(errs);
    return change_task(r, id, &pt);
}

/*
 * PUT or PATCH /api/{user}/tasks/{id}: a partial update (only the fields
 * present change); 200 with the task, 404, 412 on a stale If-Match, 422.
 */
int task_update(struct req *r)
{
    return update_by_body(r, 0);
}

/*
 * PATCH /api/{user}/tasks/{id}/complete: no body (or one without
 * "completed") toggles completed; {"completed": bool} sets it.
 */
int task_complete(struct req *r)
{
    return update_by_body(r, 1);
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

    if (task_id_or_422(r, &id) != 0)
        return r->status;
    if (r->if_match == NULL) {
        st = db_task_delete(r->ctx->db, r->param[0], id);
        deleted = 1;
    } else {
        if_match_versions(r, id, &versions, &n);
        st = db_task_delete_if(r->ctx->db, r->pool, r->param[0], id, versions, n,
                               &deleted);
    }
    if (st == DB_NOT_FOUND)
        return http_error(r, 404, DETAIL_TASK_NOT_FOUND);
    if (st != DB_OK)
        return http_db_error(r, st);
    if (!deleted)
        return http_error(r, 412, DETAIL_PRECONDITION);
    return http_empty(r, 204);
}
