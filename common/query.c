/*
 * query.c: the listing's parameters, declared for the input engine
 * (input.h), and its cursors.
 */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "input.h"
#include "json.h"
#include "jwt.h"
#include "timestamp.h"
#include "utf8.h"

/* active and done: what existing front ends send for pending and completed. */
static const struct input_choice statuses[] = {
    { "all", -1 }, { "pending", 0 }, { "completed", 1 },
    { "active", 0 }, { "done", 1 }, { NULL, 0 },
};
static const struct input_choice sorts[] = {
    { "created", SORT_CREATED }, { "created_at", SORT_CREATED },
    { "updated", SORT_UPDATED }, { "updated_at", SORT_UPDATED },
    { "title", SORT_TITLE }, { "due_date", SORT_DUE_DATE },
    { "priority", SORT_PRIORITY }, { NULL, 0 },
};
static const struct input_choice orders[] = {
    { "asc", 0 }, { "desc", 1 }, { NULL, 0 },
};
static const struct input_choice priorities[] = {
    { "low", PRIORITY_LOW }, { "medium", PRIORITY_MEDIUM },
    { "high", PRIORITY_HIGH }, { NULL, 0 },
};

/* API.md's Listing table.  A tag filter is trimmed, and an empty one is
 * ignored; tags holds several, split at ','. */
enum {
    QP_STATUS, QP_COMPLETED, QP_SORT, QP_ORDER, QP_Q, QP_PRIORITY, QP_TAGS, QP_TAG,
    QP_BEFORE, QP_AFTER, QP_LIMIT, QP_OFFSET, QP_CURSOR, QP_FIELDS
};
static const struct input_field query_fields[QP_FIELDS] = {
    [QP_STATUS] = { .name = "status", .alias = "status_filter", .type = IN_ENUM,
                    .choices = statuses },
    [QP_COMPLETED] = { .name = "completed", .type = IN_BOOL },
    [QP_SORT] = { .name = "sort", .alias = "sort_by", .type = IN_ENUM, .choices = sorts },
    [QP_ORDER] = { .name = "order", .alias = "sort_order", .type = IN_ENUM,
                   .choices = orders },
    [QP_Q] = { .name = "q", .alias = "search", .type = IN_STRING, .max = QUERY_Q_MAX },
    [QP_PRIORITY] = { .name = "priority", .alias = "priority_filter", .type = IN_ENUM,
                      .choices = priorities },
    [QP_TAGS] = { .name = "tags", .alias = "tags_filter", .type = IN_LIST,
                  .flags = IN_TRIM | IN_SPLIT },
    [QP_TAG] = { .name = "tag", .type = IN_LIST, .flags = IN_TRIM },
    [QP_BEFORE] = { .name = "due_before", .alias = "due_date_to", .type = IN_TIME },
    [QP_AFTER] = { .name = "due_after", .alias = "due_date_from", .type = IN_TIME },
    [QP_LIMIT] = { .name = "limit", .type = IN_INT, .min = 1, .max = QUERY_LIMIT_MAX },
    [QP_OFFSET] = { .name = "offset", .type = IN_INT, .min = 0, .max = INT64_MAX },
    [QP_CURSOR] = { .name = "cursor", .type = IN_STRING, .max = INT64_MAX },
};

/*
 * A cursor is base64url of "<sort><order>.<id>.<key>": sort and order as
 * digits, the last task's id, and its sort key (microseconds, the priority's
 * rank, "-" for no due date, or the title's bytes, last so it may hold
 * anything).  Nothing in it is secret: a made-up cursor only starts the
 * caller's own list elsewhere.
 */
char *query_cursor(struct pool *p, const struct task_query *q, const struct task *t)
{
    const char *key;
    char *plain, *out;
    size_t n;

    switch (q->sort) {
    case SORT_CREATED: key = pool_printf(p, "%" PRId64, t->created); break;
    case SORT_UPDATED: key = pool_printf(p, "%" PRId64, t->updated); break;
    case SORT_TITLE: key = t->title; break;
    case SORT_DUE_DATE: key = t->has_due ? pool_printf(p, "%" PRId64, t->due) : "-"; break;
    default: key = pool_printf(p, "%d", (int)t->priority); break;
    }
    plain = pool_printf(p, "%d%d.%" PRId64 ".%s", (int)q->sort, q->desc, t->id, key);
    n = strlen(plain);
    out = pool_alloc(p, 4 * (n / 3 + 1) + 1);
    jwt_b64url_encode((const unsigned char *)plain, n, out);
    return out;
}

/* Reads a cursor of q's sort and order into q; 0, or -1 when it is not one. */
static int parse_cursor(struct pool *p, const char *s, struct task_query *q)
{
    size_t n = strlen(s), len;
    unsigned char *plain = pool_alloc(p, n + 1);
    char *id, *key, *end;

    if (jwt_b64url_decode(s, n, plain, n, &len) != 0 || len < 5 ||
        plain[0] != '0' + (int)q->sort || plain[1] != '0' + q->desc || plain[2] != '.')
        return -1;
    plain[len] = '\0';
    id = (char *)plain + 3;
    if ((key = strchr(id, '.')) == NULL)
        return -1;
    *key++ = '\0';
    errno = 0;
    q->after_id = strtoll(id, &end, 10);
    if (*id < '0' || *id > '9' || *end != '\0' || errno == ERANGE)
        return -1;
    if (q->sort == SORT_TITLE) {
        if (strlen(key) != len - (size_t)(key - (char *)plain) ||
            !utf8_valid(key, strlen(key)))
            return -1;
        q->key_s = key;
    } else if (q->sort == SORT_DUE_DATE && strcmp(key, "-") == 0) {
        q->key_null = 1;
    } else {
        q->key_i = strtoll(key, &end, 10);
        if (*key == '\0' || *end != '\0' || errno == ERANGE ||
            (q->sort == SORT_PRIORITY && (q->key_i < PRIORITY_LOW || q->key_i > PRIORITY_HIGH)))
            return -1;
    }
    q->has_cursor = 1;
    q->offset = 0;
    return 0;
}

/* The filter tags: those of tags= and then of tag=, in the pool. */
static void join_tags(struct pool *p, const struct input_value *v, struct task_query *q)
{
    const struct input_value *a = &v[QP_TAGS], *b = &v[QP_TAG];

    q->ntags = a->n + b->n;
    if (b->n == 0 || a->n == 0) {
        q->tags = a->n ? a->list : b->list;
        return;
    }
    q->tags = pool_alloc(p, q->ntags * sizeof *q->tags);
    memcpy(q->tags, a->list, a->n * sizeof *q->tags);
    memcpy(q->tags + a->n, b->list, b->n * sizeof *q->tags);
}

int task_query_parse(struct pool *p, const char *raw, struct task_query *q,
                     json_object *errs)
{
    struct input_value v[QP_FIELDS];
    struct input_src src;
    int n;

    input_src_query(p, "query", raw, &src);
    n = input_read(p, query_fields, QP_FIELDS, &src, v, errs);
    memset(q, 0, sizeof *q);
    /* status wins over completed; neither: all. */
    q->status = v[QP_STATUS].state == IN_SET ? (int)v[QP_STATUS].i
              : v[QP_COMPLETED].state == IN_SET ? (int)v[QP_COMPLETED].i : -1;
    q->sort = (enum task_sort)v[QP_SORT].i;
    /* By default the newest, the most urgent first; names and dates A to Z. */
    q->desc = v[QP_ORDER].state == IN_SET ? (int)v[QP_ORDER].i
            : q->sort == SORT_CREATED || q->sort == SORT_UPDATED || q->sort == SORT_PRIORITY;
    q->q = v[QP_Q].state == IN_SET && v[QP_Q].len > 0 ? v[QP_Q].s : NULL;
    q->has_priority = v[QP_PRIORITY].state == IN_SET;
    q->priority = (enum priority)v[QP_PRIORITY].i;
    join_tags(p, v, q);
    q->has_before = v[QP_BEFORE].state == IN_SET;
    q->before = v[QP_BEFORE].i;
    q->has_after = v[QP_AFTER].state == IN_SET;
    q->after = v[QP_AFTER].i;
    q->limit = v[QP_LIMIT].state == IN_SET ? v[QP_LIMIT].i : QUERY_LIMIT_DEFAULT;
    q->offset = v[QP_OFFSET].i;
    /* The one check the table cannot make: a cursor is of this sort and order. */
    if (v[QP_CURSOR].state == IN_SET && parse_cursor(p, v[QP_CURSOR].s, q) != 0) {
        verr_add_str(errs, "value_error",
                     "Value error, not a cursor of this listing's sort and order",
                     v[QP_CURSOR].s, "query", "cursor");
        n++;
    }
    return n;
}

/* Whether c may stand for itself in a URI query (RFC 3986 3.4), '%' aside. */
static int query_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~!$&'()*+,;=:@/?", c) != NULL);
}

/* Whether the n bytes at s are the parameter name (with or without a value). */
static int is_param(const char *s, size_t n, const char *name)
{
    size_t k = strlen(name);

    return n >= k && strncmp(s, name, k) == 0 && (n == k || s[k] == '=');
}

char *query_with_cursor(struct pool *p, const char *raw, const char *cursor)
{
    /* At most every byte escaped, an '&' after the one parameter,
     * "cursor=", the cursor and the NUL. */
    char *out = pool_alloc(p, 3 * strlen(raw) + 1 + 7 + strlen(cursor) + 1), *o = out;
    const char *s, *amp;
    size_t len, i;
    unsigned char c;

    for (s = raw; *s != '\0'; s = *amp ? amp + 1 : amp) {
        amp = s + strcspn(s, "&");
        len = (size_t)(amp - s);
        if (len == 0 || is_param(s, len, "offset") || is_param(s, len, "cursor"))
            continue;
        /* As sent, but what a URI may not hold is escaped: the Link
         * header's <...> must stay one URI. */
        for (i = 0; i < len; i++) {
            c = (unsigned char)s[i];
            if (query_char(c) ||
                (c == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
                 isxdigit((unsigned char)s[i + 2])))
                *o++ = (char)c;
            else
                o = url_pct(o, c);
        }
        *o++ = '&';
    }
    strcpy(o, "cursor=");
    strcpy(o + 7, cursor);
    return out;
}
