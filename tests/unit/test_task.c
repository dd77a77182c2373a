/*
 * test_task.c: the task input contract (types, limits, trimming, nulls),
 * task_apply()'s decisions, and the task's JSON form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../common/json.h"
#include "task.h"
#include "timestamp.h"

#include "unit_pool.h"

/* Reads body into *pt; returns the error count and the errors' JSON. */
static int read_patch(const char *body, unsigned required, struct task_patch *pt,
                      const char **errs_out)
{
    json_object *o = json_tokener_parse(body), *errs = json_object_new_array();
    int n;

    assert_non_null(o);
    /* Parsed strings may point into the JSON, which the pool owns. */
    json_own(pool, o);
    n = task_read(pool, o, required, pt, errs);
    *errs_out = pool_strdup(pool, json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN));
    json_object_put(errs);
    return n;
}

/* task_apply() with its errors' JSON in *errs_out (NULL: not wanted). */
static enum task_outcome apply(const struct task *old, const struct task_patch *pt,
                               struct task *t, const char **errs_out)
{
    json_object *errs = json_object_new_array();
    enum task_outcome oc = task_apply(old, pt, t, errs);

    if (errs_out != NULL)
        *errs_out = pool_strdup(pool, json_object_to_json_string_ext(errs,
                                                                     JSON_C_TO_STRING_PLAIN));
    json_object_put(errs);
    return oc;
}

/* Parses body as a create does (over the defaults); returns the error
 * count and the errors' JSON. */
static int parse(const char *body, struct task *t, unsigned *present,
                 const char **errs_out)
{
    struct task_patch pt;
    struct task base;
    int n = read_patch(body, 0, &pt, errs_out);

    *present = pt.present;
    *t = pt.set;
    task_defaults(&base);
    if (n == 0 && apply(&base, &pt, t, errs_out) == TASK_INVALID)
        n = 1;
    return n;
}

static void valid_body_fills_every_field(void **state)
{
    struct task t;
    unsigned present;
    const char *e;

    (void)state;
    assert_int_equal(parse("{\"title\": \"  Buy milk \", \"description\": \"2 l\","
                           " \"completed\": true, \"priority\": \"high\","
                           " \"tags\": [\" home \", \"x\", \"home\"],"
                           " \"due_date\": \"2026-11-30T18:00:00+01:00\","
                           " \"recurrence\": \"weekly\", \"id\": 5, \"extra\": 1}",
                           &t, &present, &e), 0);
    assert_string_equal(t.title, "Buy milk");
    assert_string_equal(t.description, "2 l");
    assert_true(t.completed);
    assert_int_equal(t.priority, PRIORITY_HIGH);
    assert_int_equal(t.ntags, 2);
    assert_string_equal(t.tags[0], "home");
    assert_string_equal(t.tags[1], "x");
    assert_true(t.has_due);
    assert_int_equal(t.due, INT64_C(1796058000000000));
    assert_int_equal(t.due_offset, 3600);       /* what recurrence steps on */
    assert_int_equal(t.recurrence, RECUR_WEEKLY);
    assert_int_equal(present, TF_TITLE | TF_DESCRIPTION | TF_COMPLETED |
                                  TF_PRIORITY | TF_TAGS | TF_DUE_DATE | TF_RECURRENCE);
}

static void nothing_is_coerced(void **state)
{
    struct task t;
    unsigned present;
    const char *e;

    (void)state;
    assert_int_equal(parse("{\"title\": 123}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "\"type\":\"string_type\",\"loc\":[\"body\",\"title\"]"));
    assert_int_equal(parse("{\"completed\": \"true\"}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "bool_type"));
    assert_int_equal(parse("{\"due_date\": 1700000000}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "datetime_type"));
    assert_int_equal(parse("{\"tags\": \"a\"}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"tags\": [1]}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "\"loc\":[\"body\",\"tags\",0]"));
    assert_int_equal(parse("{\"priority\": 1}", &t, &present, &e), 1);
    assert_int_equal(parse("[]", &t, &present, &e), 1);
    assert_non_null(strstr(e, "model_attributes_type"));
}

static void nulls_only_where_allowed(void **state)
{
    struct task t;
    unsigned present;
    const char *e;

    (void)state;
    assert_int_equal(parse("{\"description\": null, \"due_date\": null,"
                           " \"recurrence\": null}", &t, &present, &e), 0);
    assert_int_equal(parse("{\"title\": null}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"completed\": null}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"priority\": null}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"tags\": null}", &t, &present, &e), 1);
}

static void limits_count_code_points(void **state)
{
    char body[2048], *o;
    struct task t;
    unsigned present;
    const char *e;
    int i;

    (void)state;
    /* 200 two-byte characters are a valid title; 201 are not. */
    o = body + sprintf(body, "{\"title\": \"");
    for (i = 0; i < 200; i++)
        o += sprintf(o, "\xc3\xa4");
    strcpy(o, "\"}");
    assert_int_equal(parse(body, &t, &present, &e), 0);
    strcpy(o, "a\"}");
    assert_int_equal(parse(body, &t, &present, &e), 1);
    assert_non_null(strstr(e, "string_too_long"));
    assert_int_equal(parse("{\"title\": \"   \"}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "string_too_short"));
    assert_int_equal(parse("{\"tags\": [\"  \"]}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"title\": \"a\\u0000b\"}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"tags\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\","
                           "\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\","
                           "\"16\",\"17\",\"18\",\"19\",\"20\",\"21\"]}",
                           &t, &present, &e), 1);
    assert_non_null(strstr(e, "too_long"));
}

static void recurrence_needs_a_due_date(void **state)
{
    struct task t;
    unsigned present;
    const char *e;

    (void)state;
    assert_int_equal(parse("{\"recurrence\": \"daily\"}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "\"loc\":[\"body\",\"recurrence\"]"));
    assert_int_equal(parse("{\"recurrence\": \"yearly\"}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"recurrence\": \"daily\","
                           " \"due_date\": \"2026-01-31\"}", &t, &present, &e), 0);
}

static void recurrence_values_and_alias(void **state)
{
    struct task t;
    unsigned present;
    const char *e;

    (void)state;
    assert_int_equal(parse("{\"recurrence\": \"yearly\", \"due_date\": \"2028-02-29\"}",
                           &t, &present, &e), 0);
    assert_int_equal(t.recurrence, RECUR_YEARLY);
    assert_int_equal(parse("{\"recurrence\": \"hourly\"}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "\"type\":\"enum\",\"loc\":[\"body\",\"recurrence\"]"));
    /* recurring_interval stands in for recurrence, and errs under its own name. */
    assert_int_equal(parse("{\"recurring_interval\": \"monthly\","
                           " \"due_date\": \"2027-01-31\"}", &t, &present, &e), 0);
    assert_int_equal(t.recurrence, RECUR_MONTHLY);
    assert_int_equal(present, TF_RECURRENCE | TF_DUE_DATE);
    assert_int_equal(parse("{\"recurring_interval\": null}", &t, &present, &e), 0);
    assert_int_equal(t.recurrence, RECUR_NONE);
    assert_int_equal(present, TF_RECURRENCE);
    assert_int_equal(parse("{\"recurring_interval\": 7}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "\"loc\":[\"body\",\"recurring_interval\"]"));
    /* Both: recurrence wins and the alias is not read at all. */
    assert_int_equal(parse("{\"recurrence\": \"weekly\", \"recurring_interval\": 7,"
                           " \"due_date\": \"2027-01-31\"}", &t, &present, &e), 0);
    assert_int_equal(t.recurrence, RECUR_WEEKLY);
}

/* The task's JSON as the json-c tree wrote it before task_write(): the
 * reference task_write() must match byte for byte. */
static json_object *time_json(int64_t us)
{
    char buf[TS_BUFSZ];

    ts_format(us, buf);
    return json_object_new_string(buf);
}

static const char *jsonc_form(const struct task *t)
{
    json_object *o = json_object_new_object(), *tags = json_object_new_array();
    const char *s;
    size_t i;

    for (i = 0; i < t->ntags; i++)
        json_object_array_add(tags, json_object_new_string(t->tags[i]));
    json_object_object_add(o, "id", json_object_new_int64(t->id));
    json_object_object_add(o, "user_id", json_object_new_string(t->user_id));
    json_object_object_add(o, "title", json_object_new_string(t->title));
    json_object_object_add(o, "description",
                           t->description ? json_object_new_string(t->description)
                                          : NULL);
    json_object_object_add(o, "completed", json_object_new_boolean(t->completed));
    json_object_object_add(o, "priority",
                           json_object_new_string(priority_names[t->priority]));
    json_object_object_add(o, "tags", tags);
    json_object_object_add(o, "due_date", t->has_due ? time_json(t->due) : NULL);
    json_object_object_add(o, "recurrence",
                           t->recurrence ? json_object_new_string(
                                               recurrence_names[t->recurrence])
                                         : NULL);
    json_object_object_add(o, "timezone",
                           t->timezone ? json_object_new_string(t->timezone) : NULL);
    json_object_object_add(o, "created_at", time_json(t->created));
    json_object_object_add(o, "updated_at", time_json(t->updated));
    s = pool_strdup(pool, json_object_to_json_string_ext(
                              o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

static const char *written(const struct task *t)
{
    struct buf *b = buf_new(pool, 16);

    task_write(b, t);
    return b->data;
}

/* A partial update: the fields the body names change, even to null; the
 * rest, and what the server owns, stay as stored. */
static void apply_changes_only_present_fields(void **state)
{
    const char *tags[] = { "home", "x" };
    struct task stored, t;
    struct task_patch pt;
    const char *e;

    (void)state;
    task_defaults(&stored);
    stored.id = 7;
    stored.user_id = "u";
    stored.title = "Old";
    stored.description = "keep";
    stored.priority = PRIORITY_HIGH;
    stored.tags = tags;
    stored.ntags = 2;
    stored.has_due = 1;
    stored.due = INT64_C(1796058000000000);
    stored.recurrence = RECUR_DAILY;
    stored.timezone = "Europe/Berlin";
    stored.version = 3;
    stored.spawned = 1;

    assert_int_equal(read_patch("{\"title\": \" New \", \"due_date\": null,"
                                " \"recurrence\": null, \"completed\": true}",
                                0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
    assert_string_equal(t.title, "New");
    assert_false(t.has_due);
    assert_int_equal(t.recurrence, RECUR_NONE);
    assert_true(t.completed);
    assert_string_equal(t.description, "keep");
    assert_int_equal(t.priority, PRIORITY_HIGH);
    assert_int_equal(t.ntags, 2);
    assert_int_equal(t.id, 7);
    assert_int_equal(t.version, 3);
    assert_true(t.spawned);

    assert_int_equal(read_patch("{\"description\": null, \"tags\": []}", 0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
    assert_null(t.description);
    assert_int_equal(t.ntags, 0);
    assert_string_equal(t.title, "Old");
    assert_true(t.has_due);
    assert_int_equal(t.recurrence, RECUR_DAILY);
    assert_string_equal(t.timezone, "Europe/Berlin");

    assert_int_equal(read_patch("{\"timezone\": null}", 0, &pt, &e), 0);
    assert_int_equal(pt.present, TF_TIMEZONE);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
    assert_null(t.timezone);
    assert_int_equal(read_patch("{\"timezone\": \"Asia/Tokyo\"}", 0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
    assert_string_equal(t.timezone, "Asia/Tokyo");
    assert_string_equal(t.title, "Old");

    assert_int_equal(read_patch("{}", 0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_SAME);
    assert_ptr_equal(t.title, stored.title);
    assert_ptr_equal(t.description, stored.description);
    assert_false(t.completed);
    assert_int_equal(t.priority, PRIORITY_HIGH);
    assert_ptr_equal(t.tags, stored.tags);
    assert_int_equal(t.due, stored.due);
    assert_int_equal(t.recurrence, RECUR_DAILY);
    assert_ptr_equal(t.timezone, stored.timezone);
}

/* The values a client sees decide whether anything changes: the same
 * instant written with another offset is the same due date. */
static void apply_finds_no_change(void **state)
{
    const char *tags[] = { "home" };
    struct task stored, t;
    struct task_patch pt;
    const char *e;

    (void)state;
    task_defaults(&stored);
    stored.title = "Same";
    stored.tags = tags;
    stored.ntags = 1;
    stored.has_due = 1;
    stored.due = INT64_C(1796058000000000);
    assert_int_equal(read_patch("{\"title\": \" Same \", \"tags\": [\"home\", \"home\"],"
                                " \"due_date\": \"2026-11-30T18:00:00+01:00\","
                                " \"priority\": \"medium\", \"description\": null}",
                                0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_SAME);
    assert_int_equal(read_patch("{\"tags\": [\"home\", \"x\"]}", 0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
}

/* A stored task that recurs, with its due date. */
static void recurring(struct task *t, enum recurrence rec)
{
    task_defaults(t);
    t->title = "Water plants";
    t->has_due = 1;
    t->due = INT64_C(1796058000000000);
    t->recurrence = rec;
}

/* Completing a recurring task that has not spawned makes its next
 * occurrence due; nothing else does. */
static void apply_knows_when_the_next_occurrence_is_due(void **state)
{
    struct task stored, t;
    struct task_patch pt;
    const char *e;

    (void)state;
    recurring(&stored, RECUR_WEEKLY);
    assert_int_equal(task_read_complete(pool, NULL, &pt, NULL), 0);
    assert_true(pt.toggle);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_NEXT);
    assert_true(t.completed);
    assert_int_equal(read_patch("{\"completed\": true, \"title\": \"Water\"}", 0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_NEXT);
    assert_string_equal(t.title, "Water");
    /* Spawned already, done already, or not recurring: only a change. */
    stored.spawned = 1;
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
    stored.spawned = 0;
    stored.completed = 1;
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
    pt.toggle = 0;
    pt.present = TF_COMPLETED;
    pt.set.completed = 1;
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_SAME);
    stored.completed = 0;
    stored.recurrence = RECUR_NONE;
    assert_int_equal(apply(&stored, &pt, &t, NULL), TASK_CHANGED);
}

/* The rule names the field the client got wrong, and the state is refused. */
static void apply_keeps_a_recurrence_with_its_due_date(void **state)
{
    struct task stored, t;
    struct task_patch pt;
    const char *e;

    (void)state;
    recurring(&stored, RECUR_DAILY);
    assert_int_equal(read_patch("{\"due_date\": null}", 0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, &e), TASK_INVALID);
    assert_string_equal(e, "[{\"type\":\"value_error\",\"loc\":[\"body\",\"due_date\"],"
                           "\"msg\":\"Value error, a recurring task needs a due_date\"}]");
    assert_int_equal(read_patch("{\"due_date\": null, \"recurrence\": \"weekly\"}", 0, &pt,
                                &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, &e), TASK_INVALID);
    assert_non_null(strstr(e, "\"loc\":[\"body\",\"recurrence\"]"));
    stored.has_due = 0;
    stored.recurrence = RECUR_NONE;
    assert_int_equal(read_patch("{\"recurrence\": \"monthly\"}", 0, &pt, &e), 0);
    assert_int_equal(apply(&stored, &pt, &t, &e), TASK_INVALID);
    assert_non_null(strstr(e, "a recurrence needs a due_date"));
}

/* A create requires its title; its "missing" comes after the errors of the
 * fields sent, and a body that is not an object is only that. */
static void required_fields_are_missing_last(void **state)
{
    struct task_patch pt;
    const char *e;

    (void)state;
    assert_int_equal(read_patch("{\"description\": 5}", TF_TITLE, &pt, &e), 2);
    assert_string_equal(e, "[{\"type\":\"string_type\",\"loc\":[\"body\",\"description\"],"
                           "\"msg\":\"Input should be a valid string\",\"input\":5},"
                           "{\"type\":\"missing\",\"loc\":[\"body\",\"title\"],"
                           "\"msg\":\"Field required\"}]");
    assert_int_equal(read_patch("[1]", TF_TITLE, &pt, &e), 1);
    assert_non_null(strstr(e, "model_attributes_type"));
    assert_int_equal(read_patch("{\"title\": null}", TF_TITLE, &pt, &e), 1);
    assert_non_null(strstr(e, "string_type"));
}

/* PATCH .../complete: no body or no "completed" toggles; a boolean sets. */
static void complete_body(void **state)
{
    json_object *errs = json_object_new_array();
    json_object *empty = json_own(pool, json_tokener_parse("{\"title\": 5}"));
    json_object *set = json_own(pool, json_tokener_parse("{\"completed\": false}"));
    json_object *bad = json_own(pool, json_tokener_parse("{\"completed\": null}"));
    json_object *list = json_own(pool, json_tokener_parse("[]"));
    struct task_patch pt;

    (void)state;
    assert_int_equal(task_read_complete(pool, empty, &pt, errs), 0);
    assert_true(pt.toggle);
    assert_int_equal(pt.present, 0);
    assert_int_equal(task_read_complete(pool, set, &pt, errs), 0);
    assert_false(pt.toggle);
    assert_int_equal(pt.present, TF_COMPLETED);
    assert_false(pt.set.completed);
    assert_int_equal(task_read_complete(pool, bad, &pt, errs), 1);
    assert_int_equal(task_read_complete(pool, list, &pt, errs), 1);
    assert_string_equal(json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN),
                        "[{\"type\":\"bool_type\",\"loc\":[\"body\",\"completed\"],"
                        "\"msg\":\"Input should be a valid boolean\"},"
                        "{\"type\":\"model_attributes_type\",\"loc\":[\"body\"],"
                        "\"msg\":\"Input should be a valid dictionary or object to extract "
                        "fields from\",\"input\":[]}]");
    json_object_put(errs);
}

/* The type is checked here; whether the name exists, by the database. */
static void timezone_is_a_string_or_null(void **state)
{
    struct task t;
    unsigned present;
    const char *e;

    (void)state;
    assert_int_equal(parse("{\"timezone\": \"Europe/Berlin\"}", &t, &present, &e), 0);
    assert_string_equal(t.timezone, "Europe/Berlin");
    assert_int_equal(parse("{\"timezone\": \" Not/Trimmed \"}", &t, &present, &e), 0);
    assert_string_equal(t.timezone, " Not/Trimmed ");
    assert_int_equal(parse("{\"timezone\": null}", &t, &present, &e), 0);
    assert_null(t.timezone);
    assert_int_equal(parse("{\"timezone\": 1}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "\"type\":\"string_type\",\"loc\":[\"body\",\"timezone\"]"));
    assert_int_equal(parse("{\"timezone\": [\"UTC\"]}", &t, &present, &e), 1);
    assert_int_equal(parse("{\"timezone\": \"UTC\\u0000\"}", &t, &present, &e), 1);
    assert_non_null(strstr(e, "\"loc\":[\"body\",\"timezone\"]"));
}

static void json_form(void **state)
{
    const char *tags[] = { "home" };
    struct task t;

    (void)state;
    task_defaults(&t);
    t.id = 42;
    t.user_id = "k3JX9fQ2Lw8a";
    t.title = "Buy milk";
    t.tags = tags;
    t.ntags = 1;
    t.has_due = 1;
    t.due = INT64_C(1796058000000000);
    t.created = t.updated = INT64_C(1795417200123456);
    assert_string_equal(written(&t),
                        "{\"id\":42,\"user_id\":\"k3JX9fQ2Lw8a\",\"title\":\"Buy milk\","
                        "\"description\":null,\"completed\":false,\"priority\":\"medium\","
                        "\"tags\":[\"home\"],\"due_date\":\"2026-11-30T17:00:00Z\","
                        "\"recurrence\":null,\"timezone\":null,"
                        "\"created_at\":\"2026-11-23T07:00:00.123456Z\","
                        "\"updated_at\":\"2026-11-23T07:00:00.123456Z\"}");
    assert_string_equal(written(&t), jsonc_form(&t));
}

/* Every field in every form, with strings json-c has to escape. */
static void json_form_matches_json_c(void **state)
{
    static const char *const strs[] = {
        "", "say \"hi\"", "C:\\temp\\", "a/b</script>", "l1\nl2\r\n\tend",
        "\x01\x08\x0b\x0c\x1f\x7f", "U+2028 \xe2\x80\xa8 U+2029 \xe2\x80\xa9",
        "\xf0\x9f\x8e\x89 party \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9",
        "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "%s %n {} [] ,:",
    };
    const char *tags[4];
    char title[TASK_TITLE_MAX * 4 + 1];
    struct task t;
    size_t i, k;

    (void)state;
    /* 200 code points of four bytes each, and 200 of one with quotes. */
    for (i = 0; i < TASK_TITLE_MAX; i++)
        memcpy(title + 4 * i, "\xf0\x9f\x98\x80", 4);
    title[4 * TASK_TITLE_MAX] = '\0';
    for (k = 0; k < sizeof strs / sizeof *strs + 2; k++) {
        task_defaults(&t);
        t.id = k % 2 ? INT64_MAX : (int64_t)k;
        t.user_id = k % 3 ? "u-\"1\"" : "k3JX9fQ2Lw8a";
        t.title = k < sizeof strs / sizeof *strs ? strs[k] : title;
        if (k == sizeof strs / sizeof *strs + 1) {
            memset(title, '"', TASK_TITLE_MAX);
            title[TASK_TITLE_MAX] = '\0';
        }
        t.description = k % 2 ? NULL : strs[(k + 3) % (sizeof strs / sizeof *strs)];
        t.completed = (int)(k % 2);
        t.priority = (enum priority)(k % 3);
        for (i = 0; i < k % 5 && i < 4; i++)
            tags[i] = strs[(k + i) % (sizeof strs / sizeof *strs)];
        t.tags = tags;
        t.ntags = i;
        t.has_due = k % 2 == 0;
        t.due = INT64_C(1796058000000000) + (int64_t)k * 1000001;
        t.recurrence = (enum recurrence)(k % 5);
        t.timezone = k % 3 == 1 ? NULL : k % 3 ? "America/Argentina/Buenos_Aires" : "UTC";
        t.created = INT64_C(1795417200123456) - (int64_t)k;
        t.updated = t.created + (int64_t)k * 3600000000;
        assert_string_equal(written(&t), jsonc_form(&t));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_body_fills_every_field),
        cmocka_unit_test(nothing_is_coerced),
        cmocka_unit_test(nulls_only_where_allowed),
        cmocka_unit_test(limits_count_code_points),
        cmocka_unit_test(recurrence_needs_a_due_date),
        cmocka_unit_test(recurrence_values_and_alias),
        cmocka_unit_test(timezone_is_a_string_or_null),
        cmocka_unit_test(apply_changes_only_present_fields),
        cmocka_unit_test(apply_finds_no_change),
        cmocka_unit_test(apply_knows_when_the_next_occurrence_is_due),
        cmocka_unit_test(apply_keeps_a_recurrence_with_its_due_date),
        cmocka_unit_test(required_fields_are_missing_last),
        cmocka_unit_test(complete_body),
        cmocka_unit_test(json_form),
        cmocka_unit_test(json_form_matches_json_c),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
