/*
 * query.c: listing parameters, validated once.
 */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "jwt.h"
#include "timestamp.h"
#include "url.h"
#include "utf8.h"

/* One choice of an enumerated parameter. */
struct choice {
    const char *name;
    int value;
};

/* active and done: what existing front ends send for pending and completed. */
static const struct choice statuses[] = {
    { "all", -1 }, { "pending", 0 }, { "completed", 1 },
    { "active", 0 }, { "done", 1 }, { NULL, 0 },
};
static const struct choice sorts[] = {
    { "created", SORT_CREATED }, { "created_at", SORT_CREATED },
    { "updated", SORT_UPDATED }, { "updated_at", SORT_UPDATED },
    { "title", SORT_TITLE }, { "due_date", SORT_DUE_DATE },
    { "priority", SORT_PRIORITY }, { NULL, 0 },
};
static const struct choice orders[] = {
    { "asc", 0 }, { "desc", 1 }, { NULL, 0 },
};
static const struct choice priorities[] = {
    { "low", PRIORITY_LOW }, { "medium", PRIORITY_MEDIUM },
    { "high", PRIORITY_HIGH }, { NULL, 0 },
};
/* As pydantic reads a boolean from a query string. */
static const struct choice booleans[] = {
    { "true", 1 }, { "false", 0 }, { "1", 1 }, { "0", 0 }, { "yes", 1 },
    { "no", 0 }, { "on", 1 }, { "off", 0 }, { "t", 1 }, { "f", 0 },
    { "y", 1 }, { "n", 0 }, { NULL, 0 },
};

/* Exact match, or any case when icase (booleans, as pydantic reads them). */
static int choose(const struct choice *c, const char *s, int icase, int *out)
{
    for (; c->name != NULL; c++) {
        if ((icase ? strcasecmp(c->name, s) : strcmp(c->name, s)) == 0) {
            *out = c->value;
            return 0;
        }
    }
    return -1;
}

static int bad(json_object *errs, const char *type, const char *msg,
               const char *name, const char *value)
{
    verr_add_str(errs, type, msg, value, "query", name);
    return -1;
}

static int parse_choice(const struct choice *c, const char *name,
                        const char *value, int *out, json_object *errs)
{
    char msg[160] = "Input should be ";
    size_t used;

    if (choose(c, value, 0, out) == 0)
        return 0;
    for (; c->name != NULL; c++) {
        used = strlen(msg);
        snprintf(msg + used, sizeof msg - used, "%s'%s'",
                 used > 16 ? (c[1].name ? ", " : " or ") : "", c->name);
    }
    return bad(errs, "enum", msg, name, value);
}

/* A whole decimal number from min to max. */
static int parse_int(const char *name, const char *value, int64_t min,
                     int64_t max, int64_t *out, json_object *errs)
{
    char msg[80], *end;
    long long v;

    errno = 0;
    v = strtoll(value, &end, 10);
    if (value[0] == '\0' || *end != '\0' || value[0] == ' ')
        return bad(errs, "int_parsing",
                   "Input should be a valid integer, unable to parse string as an integer",
                   name, value);
    if (v < min && errno == 0) {
        snprintf(msg, sizeof msg, "Input should be greater than or equal to %" PRId64, min);
        return bad(errs, "greater_than_equal", msg, name, value);
    }
    if (v > max || errno == ERANGE) {
        if (value[0] == '-') {
            snprintf(msg, sizeof msg, "Input should be greater than or equal to %" PRId64, min);
            return bad(errs, "greater_than_equal", msg, name, value);
        }
        snprintf(msg, sizeof msg, "Input should be less than or equal to %" PRId64, max);
        return bad(errs, "less_than_equal", msg, name, value);
    }
    *out = v;
    return 0;
}

static int parse_time(const char *name, const char *value, int64_t *out,
                      int *has, json_object *errs)
{
    if (ts_parse(value, out) != 0)
        return bad(errs, "datetime_parsing",
                   "Input should be a valid datetime in RFC 3339 format", name,
                   value);
    *has = 1;
    return 0;
}

/* Adds a tag filter (trimmed; an empty one is ignored). */
static void add_tag(struct pool *p, struct task_query *q, const char *s,
                    size_t n, size_t cap)
{
    size_t start, len;

    utf8_trim(s, n, &start, &len);
    if (len == 0 || q->ntags == cap)
        return;
    q->tags[q->ntags++] = pool_strndup(p, s + start, len);
}

/* Whether name is one of the listing's parameters (an alias included). */
static int known(const char *name)
{
    static const char *const names[] = {
        "status", "status_filter", "completed", "sort", "sort_by", "order",
        "sort_order", "q", "search", "priority", "tag", "tags", "due_before",
        "due_after", "limit", "offset", "cursor", "priority_filter",
        "tags_filter", "due_date_from", "due_date_to",
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

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

int task_query_parse(struct pool *p, const char *raw, struct task_query *q,
                     json_object *errs)
{
    size_t before = json_object_array_length(errs), n, i, cap;
    struct qparam *v;
    const char *name, *val, *s;
    int status = -1, has_status = 0, completed = -1, has_order = 0, x;
    const char *cursor = NULL;

    memset(q, 0, sizeof *q);
    q->limit = QUERY_LIMIT_DEFAULT;
    n = url_query_split(p, raw, &v);
    cap = strlen(raw) + 1;
    q->tags = pool_alloc(p, cap * sizeof *q->tags);

    for (i = 0; i < n; i++) {
        name = v[i].name;
        val = v[i].value;
        if (!known(name))
            continue;           /* unknown parameters are ignored */
        if (v[i].nul || !utf8_valid(val, strlen(val))) {
            bad(errs, "string_unicode", "Input should be a valid string",
                name, NULL);
            continue;
        }
        if (strcmp(name, "status") == 0 || strcmp(name, "status_filter") == 0) {
            if (parse_choice(statuses, name, val, &status, errs) == 0)
                has_status = 1;
        } else if (strcmp(name, "completed") == 0) {
            if (choose(booleans, val, 1, &completed) != 0)
                bad(errs, "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                    name, val);
        } else if (strcmp(name, "sort") == 0 || strcmp(name, "sort_by") == 0) {
            if (parse_choice(sorts, name, val, &x, errs) == 0)
                q->sort = (enum task_sort)x;
        } else if (strcmp(name, "order") == 0 || strcmp(name, "sort_order") == 0) {
            if (parse_choice(orders, name, val, &x, errs) == 0) {
                q->desc = x;
                has_order = 1;
            }
        } else if (strcmp(name, "q") == 0 || strcmp(name, "search") == 0) {
            if (utf8_len(val, strlen(val)) > QUERY_Q_MAX)
                bad(errs, "string_too_long",
                    "String should have at most 200 characters", name, val);
            else
                q->q = val[0] != '\0' ? val : NULL;
        } else if (strcmp(name, "priority") == 0 || strcmp(name, "priority_filter") == 0) {
            if (parse_choice(priorities, name, val, &x, errs) == 0) {
                q->priority = (enum priority)x;
                q->has_priority = 1;
            }
        } else if (strcmp(name, "tag") == 0) {
            add_tag(p, q, val, strlen(val), cap);
        } else if (strcmp(name, "tags") == 0 || strcmp(name, "tags_filter") == 0) {
            for (s = val; *s != '\0'; s += *s == ',') {
                add_tag(p, q, s, strcspn(s, ","), cap);
                s += strcspn(s, ",");
            }
        } else if (strcmp(name, "due_before") == 0 || strcmp(name, "due_date_to") == 0) {
            parse_time(name, val, &q->before, &q->has_before, errs);
        } else if (strcmp(name, "due_after") == 0 || strcmp(name, "due_date_from") == 0) {
            parse_time(name, val, &q->after, &q->has_after, errs);
        } else if (strcmp(name, "limit") == 0) {
            parse_int(name, val, 1, QUERY_LIMIT_MAX, &q->limit, errs);
        } else if (strcmp(name, "offset") == 0) {
            parse_int(name, val, 0, INT64_MAX, &q->offset, errs);
        } else if (strcmp(name, "cursor") == 0) {
            cursor = val;
        }
    }
    q->status = has_status ? status : completed;
    if (!has_order)
        q->desc = q->sort == SORT_CREATED || q->sort == SORT_UPDATED ||
                  q->sort == SORT_PRIORITY;
    if (cursor != NULL && parse_cursor(p, cursor, q) != 0)
        bad(errs, "value_error",
            "Value error, not a cursor of this listing's sort and order", "cursor", cursor);
    return (int)(json_object_array_length(errs) - before);
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
