/*
 * task.c: the task record's input table, the rule of a change, and its JSON
 * form.
 */
#include "task.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "input.h"
#include "json.h"
#include "timestamp.h"

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

/* ------------------------------------------------------------- input */

static const struct input_choice priority_choices[] = {
    { "low", PRIORITY_LOW }, { "medium", PRIORITY_MEDIUM }, { "high", PRIORITY_HIGH },
    { NULL, 0 },
};
static const struct input_choice recurrence_choices[] = {
    { "daily", RECUR_DAILY }, { "weekly", RECUR_WEEKLY }, { "monthly", RECUR_MONTHLY },
    { "yearly", RECUR_YEARLY }, { NULL, 0 },
};

/* API.md's task table, a row per TF_* bit (TF_x is 1 << TK_x).  Which
 * fields are required depends on the request (task_read's required). */
enum {
    TK_TITLE, TK_DESCRIPTION, TK_COMPLETED, TK_PRIORITY, TK_TAGS, TK_DUE_DATE,
    TK_RECURRENCE, TK_TIMEZONE, TK_FIELDS
};
static const struct input_field task_fields[TK_FIELDS] = {
    [TK_TITLE] = { .name = "title", .type = IN_STRING, .flags = IN_TRIM, .min = 1,
                   .max = TASK_TITLE_MAX },
    [TK_DESCRIPTION] = { .name = "description", .type = IN_STRING, .flags = IN_NULLABLE,
                         .max = TASK_DESCRIPTION_MAX },
    [TK_COMPLETED] = { .name = "completed", .type = IN_BOOL },
    [TK_PRIORITY] = { .name = "priority", .type = IN_ENUM, .choices = priority_choices },
    /* Repeated tags count once. */
    [TK_TAGS] = { .name = "tags", .type = IN_LIST, .flags = IN_TRIM | IN_UNIQUE, .min = 1,
                  .max = TASK_TAG_MAX, .items = TASK_TAGS_MAX },
    [TK_DUE_DATE] = { .name = "due_date", .type = IN_TIME, .flags = IN_NULLABLE },
    /* pydantic's AliasChoices("recurrence", "recurring_interval"). */
    [TK_RECURRENCE] = { .name = "recurrence", .alias = "recurring_interval", .type = IN_ENUM,
                        .flags = IN_NULLABLE, .choices = recurrence_choices },
    [TK_TIMEZONE] = { .name = "timezone", .type = IN_STRING, .flags = IN_NULLABLE,
                      .max = INT64_MAX },
};
_Static_assert(TF_TITLE == 1 << TK_TITLE && TF_DESCRIPTION == 1 << TK_DESCRIPTION &&
               TF_COMPLETED == 1 << TK_COMPLETED && TF_PRIORITY == 1 << TK_PRIORITY &&
               TF_TAGS == 1 << TK_TAGS && TF_DUE_DATE == 1 << TK_DUE_DATE &&
               TF_RECURRENCE == 1 << TK_RECURRENCE && TF_TIMEZONE == 1 << TK_TIMEZONE,
               "a TF_* bit for each row of task_fields");

/* A string value, or NULL for null. */
static const char *str_or_null(const struct input_value *v)
{
    return v->state == IN_SET ? v->s : NULL;
}

int task_read(struct pool *p, json_object *body, unsigned required,
              struct task_patch *pt, json_object *errs)
{
    const struct input_src src = { "body", 0, body, NULL, 0 };
    struct input_value v[TK_FIELDS];
    struct task *t = &pt->set;
    int n, k;

    memset(pt, 0, sizeof *pt);
    task_defaults(t);
    if (body == NULL) {
        verr_add(errs, "missing", "Field required", NULL, "body", NULL, -1);
        return 1;
    }
    n = input_read(p, task_fields, TK_FIELDS, &src, v, errs);
    if (!json_object_is_type(body, json_type_object))
        return n;
    for (k = 0; k < TK_FIELDS; k++) {
        if (v[k].state != IN_ABSENT) {
            pt->present |= 1u << k;
        } else if (required & (1u << k)) {
            verr_add(errs, "missing", "Field required", NULL, "body", task_fields[k].name,
                     -1);
            n++;
        }
    }
    if (n > 0)
        return n;
    t->title = v[TK_TITLE].s;
    t->description = str_or_null(&v[TK_DESCRIPTION]);
    t->completed = (int)v[TK_COMPLETED].i;
    t->priority = v[TK_PRIORITY].state == IN_SET ? (enum priority)v[TK_PRIORITY].i
                                                 : PRIORITY_MEDIUM;
    t->tags = v[TK_TAGS].list;
    t->ntags = v[TK_TAGS].n;
    t->has_due = v[TK_DUE_DATE].state == IN_SET;
    t->due = v[TK_DUE_DATE].i;
    t->due_offset = v[TK_DUE_DATE].off;
    t->recurrence = (enum recurrence)v[TK_RECURRENCE].i;
    t->timezone = str_or_null(&v[TK_TIMEZONE]);
    return 0;
}

int task_read_complete(struct pool *p, json_object *body, struct task_patch *pt,
                       json_object *errs)
{
    const struct input_src src = { "body", 0, body, NULL, 0 };
    struct input_value v;
    int n = 0;

    memset(pt, 0, sizeof *pt);
    task_defaults(&pt->set);
    if (body != NULL)
        n = input_read(p, &task_fields[TK_COMPLETED], 1, &src, &v, errs);
    if (body == NULL || v.state == IN_ABSENT) {
        pt->toggle = 1;
    } else {
        pt->present = TF_COMPLETED;
        pt->set.completed = (int)v.i;
    }
    return n;
}

/* ------------------------------------------------------------- change */

/* Copies the fields of src that present names into t. */
static void merge(struct task *t, const struct task *src, unsigned present)
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

/* A recurrence needs a due date; the error names the field the patch set
 * that broke it (the due date, unless the recurrence came with it). */
static int breaks_rule(const struct task *t, unsigned present, json_object *errs)
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
    return same_str(a->title, b->title) && same_str(a->description, b->description) &&
           a->completed == b->completed && a->priority == b->priority &&
           same_tags(a, b) && a->has_due == b->has_due &&
           (!a->has_due || a->due == b->due) && a->recurrence == b->recurrence &&
           same_str(a->timezone, b->timezone);
}

enum task_outcome task_apply(const struct task *old, const struct task_patch *pt,
                             struct task *out, json_object *errs)
{
    *out = *old;
    merge(out, &pt->set, pt->present);
    if (pt->toggle)
        out->completed = !out->completed;
    if (breaks_rule(out, pt->present, errs))
        return TASK_INVALID;
    if (same_task(old, out))
        return TASK_SAME;
    if (out->completed && !old->completed && out->recurrence != RECUR_NONE && !out->spawned)
        return TASK_NEXT;
    return TASK_CHANGED;
}

/* ------------------------------------------------------------ JSON form */

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
