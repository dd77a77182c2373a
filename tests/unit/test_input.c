/*
 * test_input.c: the input engine: one table read from a JSON body and from
 * name/value pairs, with pydantic's errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "input.h"
#include "../../common/json.h"

#include "unit_pool.h"

static int not_x(const char *s, size_t n)
{
    return !(n == 1 && s[0] == 'x');
}

static const struct input_rule no_x = { not_x, "value_error", "Value error, x" };
static const struct input_choice colours[] = {
    { "red", 1 }, { "green", 2 }, { "blue", 3 }, { NULL, 0 },
};

enum { F_NAME, F_COLOUR, F_ON, F_COUNT, F_WHEN, F_TAGS, F_SECRET, F_FIELDS };
static const struct input_field fields[F_FIELDS] = {
    [F_NAME] = { .name = "name", .alias = "title", .type = IN_STRING,
                 .flags = IN_TRIM | IN_NULLABLE | IN_BLANK_NULL, .min = 0, .max = 3,
                 .rule = &no_x },
    [F_COLOUR] = { .name = "colour", .type = IN_ENUM, .flags = IN_NULLABLE,
                   .choices = colours },
    [F_ON] = { .name = "on", .type = IN_BOOL },
    [F_COUNT] = { .name = "count", .type = IN_INT, .min = 1, .max = 10 },
    [F_WHEN] = { .name = "when", .type = IN_TIME },
    [F_TAGS] = { .name = "tags", .type = IN_LIST, .flags = IN_TRIM | IN_UNIQUE | IN_SPLIT,
                 .min = 1, .max = 2, .items = 3 },
    [F_SECRET] = { .name = "secret", .type = IN_STRING, .flags = IN_REQUIRED | IN_SECRET,
                   .min = 2, .max = 4 },
};

/* Reads a JSON body; the error count, the errors' JSON in *e. */
static int from_json(const char *body, struct input_value *v, const char **e)
{
    json_object *o = json_own(pool, json_tokener_parse(body)), *errs = json_object_new_array();
    struct input_src src = { "body", 0, o, NULL, 0 };
    int n = input_read(pool, fields, F_FIELDS, &src, v, errs);

    *e = pool_strdup(pool, json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN));
    json_object_put(errs);
    return n;
}

/* Reads a query string as the listing does. */
static int from_query(const char *raw, struct input_value *v, const char **e)
{
    json_object *errs = json_object_new_array();
    struct input_src src;
    int n;

    input_src_query(pool, "query", raw, &src);
    n = input_read(pool, fields, F_FIELDS, &src, v, errs);
    *e = pool_strdup(pool, json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN));
    json_object_put(errs);
    return n;
}

static void json_values_are_typed(void **state)
{
    struct input_value v[F_FIELDS];
    const char *e;

    (void)state;
    assert_int_equal(from_json("{\"title\": \" ab \", \"colour\": null, \"on\": true,"
                               " \"count\": 10, \"when\": \"2026-01-02T03:04:05+02:00\","
                               " \"tags\": [\" a \", \"a\", \"b\"], \"secret\": \"pw\", \"x\": 1}",
                               v, &e), 0);
    assert_int_equal(v[F_NAME].state, IN_SET);
    assert_string_equal(v[F_NAME].key, "title");        /* the alias it came under */
    assert_string_equal(v[F_NAME].s, "ab");
    assert_int_equal(v[F_NAME].len, 2);
    assert_int_equal(v[F_COLOUR].state, IN_NULL);
    assert_int_equal(v[F_ON].i, 1);
    assert_int_equal(v[F_COUNT].i, 10);
    assert_int_equal(v[F_WHEN].off, 7200);
    assert_int_equal(v[F_TAGS].n, 2);                   /* "a" once, counted twice */
    assert_string_equal(v[F_TAGS].list[1], "b");
    assert_int_equal(v[F_SECRET].len, 2);
    /* The name wins over its alias; blank is null. */
    assert_int_equal(from_json("{\"name\": \"  \", \"title\": 5, \"secret\": \"pw\"}", v, &e), 0);
    assert_int_equal(v[F_NAME].state, IN_NULL);
    assert_int_equal(v[F_ON].state, IN_ABSENT);
}

static void json_errors_are_pydantic_s(void **state)
{
    struct input_value v[F_FIELDS];
    const char *e;

    (void)state;
    assert_int_equal(from_json("{\"title\": \"x\", \"colour\": \"pink\", \"on\": 1, \"count\": \"2\","
                               " \"when\": 5, \"tags\": [\"a\", 1], \"secret\": \"12345\"}",
                               v, &e), 7);
    assert_string_equal(e,
        "[{\"type\":\"value_error\",\"loc\":[\"body\",\"title\"],\"msg\":\"Value error, x\","
        "\"input\":\"x\"},"
        "{\"type\":\"enum\",\"loc\":[\"body\",\"colour\"],"
        "\"msg\":\"Input should be 'red', 'green', 'blue' or null\",\"input\":\"pink\"},"
        "{\"type\":\"bool_type\",\"loc\":[\"body\",\"on\"],"
        "\"msg\":\"Input should be a valid boolean\",\"input\":1},"
        "{\"type\":\"int_type\",\"loc\":[\"body\",\"count\"],"
        "\"msg\":\"Input should be a valid integer\",\"input\":\"2\"},"
        "{\"type\":\"datetime_type\",\"loc\":[\"body\",\"when\"],"
        "\"msg\":\"Input should be a valid datetime\",\"input\":5},"
        "{\"type\":\"string_type\",\"loc\":[\"body\",\"tags\",1],"
        "\"msg\":\"Input should be a valid string\",\"input\":1},"
        "{\"type\":\"string_too_long\",\"loc\":[\"body\",\"secret\"],"
        "\"msg\":\"String should have at most 4 characters\"}]");
    assert_int_equal(from_json("{\"tags\": [\"a\", \"b\", \"c\", \"a\"], \"name\": \"abcd\"}",
                               v, &e), 3);
    assert_non_null(strstr(e, "\"type\":\"string_too_long\",\"loc\":[\"body\",\"name\"]"));
    assert_non_null(strstr(e, "\"msg\":\"List should have at most 3 items after validation\""));
    assert_non_null(strstr(e, "\"type\":\"missing\",\"loc\":[\"body\",\"secret\"]"));
    assert_int_equal(from_json("[]", v, &e), 1);
    assert_non_null(strstr(e, "\"type\":\"model_attributes_type\",\"loc\":[\"body\"]"));
}

static void pairs_are_text(void **state)
{
    struct input_value v[F_FIELDS];
    const char *e;

    (void)state;
    assert_int_equal(from_query("on=YES&count=3&tags=a,+b+,,c&tags=d&secret=pw&other=%FF",
                                v, &e), 0);
    assert_int_equal(v[F_ON].i, 1);
    assert_int_equal(v[F_COUNT].i, 3);
    assert_int_equal(v[F_TAGS].n, 4);                   /* text lists add up */
    assert_string_equal(v[F_TAGS].list[1], "b");
    assert_string_equal(v[F_TAGS].list[3], "d");
    /* A bad value after a good one leaves the good one, and its error. */
    assert_int_equal(from_query("count=3&count=0&count=11&count=x&count=-99999999999999999999"
                                "&secret=pw", v, &e), 4);
    assert_int_equal(v[F_COUNT].state, IN_SET);
    assert_int_equal(v[F_COUNT].i, 3);
    assert_string_equal(e,
        "[{\"type\":\"greater_than_equal\",\"loc\":[\"query\",\"count\"],"
        "\"msg\":\"Input should be greater than or equal to 1\",\"input\":\"0\"},"
        "{\"type\":\"less_than_equal\",\"loc\":[\"query\",\"count\"],"
        "\"msg\":\"Input should be less than or equal to 10\",\"input\":\"11\"},"
        "{\"type\":\"int_parsing\",\"loc\":[\"query\",\"count\"],"
        "\"msg\":\"Input should be a valid integer, unable to parse string as an integer\","
        "\"input\":\"x\"},"
        "{\"type\":\"greater_than_equal\",\"loc\":[\"query\",\"count\"],"
        "\"msg\":\"Input should be greater than or equal to 1\","
        "\"input\":\"-99999999999999999999\"}]");
    /* Not text: string_unicode, no input, and nothing is missing. */
    assert_int_equal(from_query("colour=%FF&on=maybe", v, &e), 2);
    assert_string_equal(e,
        "[{\"type\":\"string_unicode\",\"loc\":[\"query\",\"colour\"],"
        "\"msg\":\"Input should be a valid string\"},"
        "{\"type\":\"bool_parsing\",\"loc\":[\"query\",\"on\"],"
        "\"msg\":\"Input should be a valid boolean, unable to interpret input\","
        "\"input\":\"maybe\"}]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_values_are_typed),
        cmocka_unit_test(json_errors_are_pydantic_s),
        cmocka_unit_test(pairs_are_text),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
