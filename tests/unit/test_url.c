/*
 * test_url.c: percent-encoding both ways, and query strings split as
 * Python's parse_qsl splits them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "url.h"

#include "unit_pool.h"

#define S(x) x, sizeof(x) - 1

static void paths_decode_strictly(void **state)
{
    (void)state;
    assert_string_equal(url_unescape(pool, S("/api/al%20ice/tasks")), "/api/al ice/tasks");
    assert_string_equal(url_unescape(pool, S("/%c3%A4+b")), "/\xc3\xa4+b");
    /* Only the n bytes given are read. */
    assert_string_equal(url_unescape(pool, "/a?b=1", 2), "/a");
    assert_null(url_unescape(pool, S("/a%2")));
    assert_null(url_unescape(pool, S("/a%zz")));
    assert_null(url_unescape(pool, S("/a%00b")));
}

static void escapes_all_but_unreserved(void **state)
{
    char out[4];

    (void)state;
    assert_string_equal(url_escape(pool, "aZ09-._~"), "aZ09-._~");
    assert_string_equal(url_escape(pool, "a b/c?\xc3\xa4"), "a%20b%2Fc%3F%C3%A4");
    assert_string_equal(url_escape(pool, ""), "");
    *url_pct(out, 0xfe) = '\0';
    assert_string_equal(out, "%FE");
}

static void query_splits_as_parse_qsl(void **state)
{
    struct qparam *v;
    size_t n;

    (void)state;
    n = url_query_split(pool, "a=1&&b=x+y%21&c&=skip&d=%zz&e=%41", &v);
    assert_int_equal(n, 5);
    assert_string_equal(v[0].name, "a");
    assert_string_equal(v[0].value, "1");
    assert_string_equal(v[1].name, "b");
    assert_string_equal(v[1].value, "x y!");
    assert_string_equal(v[2].name, "c");
    assert_string_equal(v[2].value, "");
    assert_string_equal(v[3].value, "%zz");
    assert_string_equal(v[4].value, "A");
    assert_int_equal(url_query_split(pool, "", &v), 0);
}

static void nul_bytes_are_flagged(void **state)
{
    struct qparam *v;
    size_t n;

    (void)state;
    /* A name holding %00 names no parameter; a value holding it is marked. */
    n = url_query_split(pool, "x%00=1&q=a%00b", &v);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "q");
    assert_string_equal(v[0].value, "ab");
    assert_int_equal(v[0].nul, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_decode_strictly),
        cmocka_unit_test(escapes_all_but_unreserved),
        cmocka_unit_test(query_splits_as_parse_qsl),
        cmocka_unit_test(nul_bytes_are_flagged),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
