/*
 * task.c: the task record's input contract and JSON form.
 */
#include "task.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "timestamp.h"
#include "utf8.h"

const char *const priority_names[] = { "low", "medium", "high" };
const char *const recurrence_names[] = { NULL, "daily", "weekly", "monthly", "yearly" };

int priority_parse(const char *s, enum priority *out)
{
    int i;

    for (i = 0; i < 3; i++) {
        if (strcmp(s, priority_names[i]) == 0) {
            *out = (enum priority)i;
            return 0;
        }
    }
    return -1;
}

int recurrence_parse(const char *s, enum recurrence *out)
{
    int i;

    for (i = RECUR_DAILY; i <= RECUR_YEARLY; i++) {
        if (strcmp(s, recurrence_names[i]) == 0) {
            *out = (enum recurrence)i;
            return 0;
        }
    }
    return -1;
}

void task_defaults(struct task *t)
{
    memset(t, 0, sizeof *t);
    t->priority = PRIORITY_MEDIUM;
    t->recurrence = RECUR_NONE;
}

/*
 * Checks a JSON string value: no U+0000, optionally trimmed, min..max code
 * points.  Returns a pool copy of the (trimmed) string, or NULL after adding
 * an error at loc [body, field(, index)].
 */
static const char *check_string(struct pool *p, json_object *v, int trim,
                                size_t min, size_t max, json_object *errs,
                                const char *field, int index)
{
    const char *s;
    size_t n, start = 0, len, cps;

    if (!json_object_is_type(v, json_type_string)) {
        verr_add(errs, "string_type", "Input should be a valid string", v,
                 "body", field, index);
        return NULL;
    }
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', n) != NULL) {
        verr_add(errs, "string_pattern_mismatch",
                 "String should not contain U+0000", v, "body", field, index);
        return NULL;
    }
    len = n;
    if (trim)
        utf8_trim(s, n, &start, &len);
    cps = utf8_len(s + start, len);
    if (cps < min) {
        verr_add(errs, "string_too_short",
                 "String should have at least 1 character", v, "body", field,
                 index);
        return NULL;
    }
    if (cps > max) {
        char msg[64];

        snprintf(msg, sizeof msg, "String should have at most %zu characters", max);
        verr_add(errs, "string_too_long", msg, v, "body", field, index);
        return NULL;
    }
    return pool_strndup(p, s + start, len);
}

static void bad_null(json_object *errs, const char *field, const char *type,
                     const char *msg)
{
    verr_add(errs, type, msg, NULL, "body", field, -1);
}

static void parse_tags(struct pool *p, json_object *v, struct task *t,
                       json_object *errs)
{
    size_t n, i, j, k = 0;
    const char *tag, **tags;
    int bad = 0;

    if (!json_object_is_type(v, json_type_array)) {
        verr_add(errs, "list_type", "Input should be a valid list", v, "body",
                 "tags", -1);
        return;
    }
    n = json_object_array_length(v);
    if (n > TASK_TAGS_MAX) {
        verr_add(errs, "too_long",
                 "List should have at most 20 items after validation", v,
                 "body", "tags", -1);
        return;
    }
    tags = pool_alloc(p, (n ? n : 1) * sizeof *tags);
    for (i = 0; i < n; i++) {
        tag = check_string(p, json_object_array_get_idx(v, i), 1, 1,
                           TASK_TAG_MAX, errs, "tags", (int)i);
        if (tag == NULL) {
            bad = 1;
            continue;
        }
        for (j = 0; j < k && strcmp(tags[j], tag) != 0; j++)
            ;
        if (j == k)
            tags[k++] = tag;
    }
    if (!bad) {
        t->tags = tags;
        t->ntags = k;
    }
}

static void parse_due(json_object *v, struct task *t, json_object *errs)
{
    int64_t us;
    int off;

    if (json_object_is_type(v, json_type_null)) {
        t->has_due = 0;
        t->due_offset = 0;
        return;
    }
    if (!json_object_is_type(v, json_type_string)) {
        verr_add(errs, "datetime_type", "Input should be a valid datetime", v,
                 "body", "due_date", -1);
        return;
    }
    if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v) ||
        ts_parse_offset(json_object_get_string(v), &us, &off) != 0) {
        verr_add(errs, "datetime_parsing",
                 "Input should be a valid datetime in RFC 3339 format", v,
                 "body", "due_date", -1);
        return;
    }
    t->has_due = 1;
    t->due = us;
    t->due_offset = off;
}

int task_parse(struct pool *p, json_object *body, struct task *t,
               unsigned *present, json_object *errs)
{
    size_t before = json_object_array_length(errs);
    json_object *v;
    const char *s, *key;

    *present = 0;
    if (!json_object_is_type(body, json_type_object)) {
        verr_add(errs, "model_attributes_type",
                 "Input should be a valid dictionary or object to extract fields from",
                 body, "body", NULL, -1);
        return 1;
    }
    if (json_object_object_get_ex(body, "title", &v)) {
        *present |= TF_TITLE;
        if (json_object_is_type(v, json_type_null))
            bad_null(errs, "title", "string_type", "Input should be a valid string");
        else if ((s = check_string(p, v, 1, 1, TASK_TITLE_MAX, errs, "title", -1)))
            t->title = s;
    }
    if (json_object_object_get_ex(body, "description", &v)) {
        *present |= TF_DESCRIPTION;
        if (json_object_is_type(v, json_type_null))
            t->description = NULL;
        else if ((s = check_string(p, v, 0, 0, TASK_DESCRIPTION_MAX, errs,
                                   "description", -1)))
            t->description = s;
    }
    if (json_object_object_get_ex(body, "completed", &v)) {
        *present |= TF_COMPLETED;
        if (json_object_is_type(v, json_type_boolean))
            t->completed = json_object_get_boolean(v);
        else
            verr_add(errs, "bool_type", "Input should be a valid boolean", v,
                     "body", "completed", -1);
    }
    if (json_object_object_get_ex(body, "priority", &v)) {
        *present |= TF_PRIORITY;
        if (!json_object_is_type(v, json_type_string) ||
            priority_parse(json_object_get_string(v), &t->priority) != 0)
            verr_add(errs, "enum", "Input should be 'low', 'medium' or 'high'",
                     v, "body", "priority", -1);
    }
    if (json_object_object_get_ex(body, "tags", &v)) {
        *present |= TF_TAGS;
        parse_tags(p, v, t, errs);
    }
    if (json_object_object_get_ex(body, "due_date", &v)) {
        *present |= TF_DUE_DATE;
        parse_due(v, t, errs);
    }
    /* recurring_interval, its alias, counts only when recurrence is absent,
     * as pydantic's AliasChoices("recurrence", "recurring_interval") reads
     * them; an error names the key the client sent. */
    key = json_object_object_get_ex(body, "recurrence", &v) ? "recurrence"
        : json_object_object_get_ex(body, "recurring_interval", &v) ? "recurring_interval"
        : NULL;
    if (key != NULL) {
        *present |= TF_RECURRENCE;
        if (json_object_is_type(v, json_type_null))
            t->recurrence = RECUR_NONE;
        else if (!json_object_is_type(v, json_type_string) ||
                 recurrence_parse(json_object_get_string(v), &t->recurrence) != 0)
            verr_add(errs, "enum",
                     "Input should be 'daily', 'weekly', 'monthly', 'yearly' or null",
                     v, "body", key, -1);
    }
    if (json_object_object_get_ex(body, "timezone", &v)) {
        *present |= TF_TIMEZONE;
        if (json_object_is_type(v, json_type_null))
            t->timezone = NULL;
        else if ((s = check_string(p, v, 0, 0, SIZE_MAX, errs, "timezone", -1)))
            t->timezone = s;
    }
    return (int)(json_object_array_length(errs) - before);
}

void task_merge(struct task *t, const struct task *src, unsigned present)
{
    if (present & TF_TITLE)
        t->title = src->title;
    if (present & TF_DESCRIPTION)
        t->description = src->description;
    if (present & TF_COMPLETED)
        t->completed = src->completed;
    if (present & TF_PRIORITY)
        t->priority = src->priority;
    if (present & TF_TAGS) {
        t->tags = src->tags;
        t->ntags = src->ntags;
    }
    if (present & TF_DUE_DATE) {
        t->has_due = src->has_due;
        t->due = src->due;
        t->due_offset = src->due_offset;
    }
    if (present & TF_RECURRENCE)
        t->recurrence = src->recurrence;
    if (present & TF_TIMEZONE)
        t->timezone = src->timezone;
}

int task_check(const struct task *t, unsigned present, json_object *errs)
{
    if (t->recurrence == RECUR_NONE || t->has_due)
        return 0;
    if ((present & TF_DUE_DATE) && !(present & TF_RECURRENCE))
        verr_add(errs, "value_error",
                 "Value error, a recurring task needs a due_date", NULL, "body",
                 "due_date", -1);
    else
        verr_add(errs, "value_error",
                 "Value error, a recurrence needs a due_date", NULL, "body",
                 "recurrence", -1);
    return 1;
}

/* A timestamp as a JSON string; ts_format() writes nothing to escape. */
static void put_time(struct buf *b, int64_t us)
{
    char ts[TS_BUFSZ];

    ts_format(us, ts);
    buf_putc(b, '"');
    buf_puts(b, ts);
    buf_putc(b, '"');
}

void task_write(struct buf *b, const struct task *t)
{
    size_t i;

    buf_puts(b, "{\"id\":");
    buf_int64(b, t->id);
    buf_puts(b, ",\"user_id\":");
    buf_json_str(b, t->user_id);
    buf_puts(b, ",\"title\":");
    buf_json_str(b, t->title);
    buf_puts(b, ",\"description\":");
    buf_json_str(b, t->description);
    buf_puts(b, ",\"completed\":");
    buf_json_bool(b, t->completed);
    buf_puts(b, ",\"priority\":\"");
    buf_puts(b, priority_names[t->priority]);
    buf_puts(b, "\",\"tags\":[");
    for (i = 0; i < t->ntags; i++) {
        if (i > 0)
            buf_putc(b, ',');
        buf_json_str(b, t->tags[i]);
    }
    buf_puts(b, "],\"due_date\":");
    if (t->has_due)
        put_time(b, t->due);
    else
        buf_json_null(b);
    buf_puts(b, ",\"recurrence\":");
    if (t->recurrence != RECUR_NONE) {
        buf_putc(b, '"');
        buf_puts(b, recurrence_names[t->recurrence]);
        buf_putc(b, '"');
    } else {
        buf_json_null(b);
    }
    buf_puts(b, ",\"timezone\":");
    buf_json_str(b, t->timezone);
    buf_puts(b, ",\"created_at\":");
    put_time(b, t->created);
    buf_puts(b, ",\"updated_at\":");
    put_time(b, t->updated);
    buf_putc(b, '}');
}

void task_zone_unknown(json_object *errs, const char *zone)
{
    verr_add_str(errs, "zoneinfo_str", "Input should be a valid IANA time zone name",
                 zone, "body", "timezone");
}
