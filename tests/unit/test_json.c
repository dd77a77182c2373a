/*
 * test_json.c: what counts as a JSON body, and the validation error shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../common/json.h"

static int ok(const char *s)
{
    size_t off = 0;

    return json_syntax_ok(s, strlen(s), &off);
}

static size_t where(const char *s)
{
    size_t off = 0;

    assert_false(json_syntax_ok(s, strlen(s), &off));
    return off;
}

static void accepts_rfc8259(void **state)
{
    (void)state;
    assert_true(ok("{}"));
    assert_true(ok(" {\"a\": [1, -2.5e+3, 0, true, false, null, \"x\"]}\n"));
    assert_true(ok("1"));
    assert_true(ok("null"));
    assert_true(ok("\"\\u00e4 \\ud83d\\ude00 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\""));
    assert_true(ok("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"));
}

static void refuses_the_rest(void **state)
{
    (void)state;
    assert_false(ok(""));
    assert_false(ok("   "));
    assert_false(ok("{\"a\": NaN}"));
    assert_false(ok("{\"a\": Infinity}"));
    assert_false(ok("{'a': 1}"));
    assert_false(ok("{\"a\": 1,}"));
    assert_false(ok("[1,]"));
    assert_false(ok("{\"a\": 01}"));
    assert_false(ok("{\"a\": 1.}"));
    assert_false(ok("{\"a\": .5}"));
    assert_false(ok("{\"a\": +1}"));
    assert_false(ok("{\"a\": \"\\ud800\"}"));
    assert_false(ok("{\"a\": \"\\udc00\"}"));
    assert_false(ok("{\"a\": \"\\x41\"}"));
    assert_false(ok("{\"a\": \"tab\there\"}"));
    assert_false(ok("{\"a\": 1}{\"b\": 2}"));
    assert_false(ok("{\"a\" 1}"));
    assert_false(ok("{1: 2}"));
    assert_false(ok("tru"));
    assert_false(ok("\"open"));
}

static void reports_the_offset(void **state)
{
    (void)state;
    assert_int_equal(where("{\"title\": \"x\",}"), 14);
    assert_int_equal(where("{\"a\": 1} x"), 9);
}

static void refuses_deep_nesting(void **state)
{
    char deep[401];

    (void)state;
    /* Well-formed, but nested deeper than anything a task needs. */
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    deep[400] = '\0';
    assert_false(ok(deep));
    memset(deep, '[', 30);
    memset(deep + 30, ']', 30);
    deep[60] = '\0';
    assert_true(ok(deep));
}

static void parses_into_the_pool(void **state)
{
    static const char unterminated[2] = { '1', '2' };
    struct pool *p = pool_new();
    json_object *o;
    size_t off;

    (void)state;
    assert_int_equal(json_parse_body(p, "{\"a\": [1]}", 10, &o, &off), 0);
    assert_true(json_object_is_type(o, json_type_object));
    assert_int_equal(json_parse_body(p, "null", 4, &o, &off), 0);
    assert_null(o);
    /* A number that ends the text, with nothing readable after it. */
    assert_int_equal(json_parse_body(p, unterminated, sizeof unterminated, &o, &off), 0);
    assert_int_equal(json_object_get_int(o), 12);
    assert_int_equal(json_parse_body(p, "\"\xff\"", 3, &o, &off), -1);
    /* json-c would cut a key at U+0000: refused, *off at the key. */
    assert_int_equal(json_parse_body(p, "{\"a\": 1, \"t\\u0000x\": 2}", 23, &o, &off), 1);
    assert_int_equal(off, 9);
    assert_int_equal(json_parse_body(p, "{\"a\": \"v\\u0000\"}", 16, &o, &off), 0);
    pool_free(p);
}

static void validation_errors_have_fastapi_shape(void **state)
{
    json_object *errs = verr_new(), *in = json_object_new_int(5), *body;

    (void)state;
    verr_add(errs, "string_type", "Input should be a valid string", in, "body",
             "tags", 3);
    verr_add_str(errs, "enum", "bad", "x", "query", "sort");
    body = verr_body(errs);
    assert_string_equal(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
                        "{\"detail\":[{\"type\":\"string_type\",\"loc\":[\"body\",\"tags\",3],"
                        "\"msg\":\"Input should be a valid string\",\"input\":5},"
                        "{\"type\":\"enum\",\"loc\":[\"query\",\"sort\"],\"msg\":\"bad\","
                        "\"input\":\"x\"}]}");
    json_object_put(body);
    json_object_put(in);
}

static const char *text(json_object *errs)
{
    return json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN);
}

static void bodies_as_handlers_take_them(void **state)
{
    struct pool *p = pool_new();
    json_object *o, *errs;

    (void)state;
    assert_int_equal(json_read_body(p, "{}", 2, 1, &o, &errs), 0);
    assert_true(json_object_is_type(o, json_type_object));
    assert_null(errs);
    /* No body, or null: a value only a required body misses. */
    assert_int_equal(json_read_body(p, "", 0, 0, &o, &errs), 0);
    assert_null(o);
    assert_int_equal(json_read_body(p, "null", 4, 1, &o, &errs), 422);
    assert_string_equal(text(errs), "[{\"type\":\"missing\",\"loc\":[\"body\"],"
                                    "\"msg\":\"Field required\"}]");
    json_object_put(errs);
    assert_int_equal(json_read_body(p, "{\"a\":}", 6, 0, &o, &errs), 400);
    assert_null(o);
    assert_string_equal(text(errs), "[{\"type\":\"json_invalid\",\"loc\":[\"body\",5],"
                                    "\"msg\":\"JSON decode error\"}]");
    json_object_put(errs);
    assert_int_equal(json_read_body(p, "{\"t\\u0000\": 1}", 14, 0, &o, &errs), 422);
    assert_string_equal(text(errs), "[{\"type\":\"string_unicode\",\"loc\":[\"body\"],"
                                    "\"msg\":\"Input should be a valid string: "
                                    "an object key holds U+0000\"}]");
    json_object_put(errs);
    pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_rfc8259),
        cmocka_unit_test(refuses_the_rest),
        cmocka_unit_test(reports_the_offset),
        cmocka_unit_test(refuses_deep_nesting),
        cmocka_unit_test(parses_into_the_pool),
        cmocka_unit_test(validation_errors_have_fastapi_shape),
        cmocka_unit_test(bodies_as_handlers_take_them),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
