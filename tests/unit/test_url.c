/*
 * test_url.c: percent-encoding both ways, and query strings split as
 * Python's parse_qsl splits them (%00 aside, which C strings cannot hold).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
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

/* The pairs query splits into, as "name=value" with '|' between them and a
 * '!' after a value that held %00. */
static const char *split(const char *query)
{
    struct buf *b = buf_new(pool, 64);
    struct qparam *v;
    size_t n = url_query_split(pool, query, &v), i;

    for (i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(b, '|');
        buf_puts(b, v[i].name);
        buf_putc(b, '=');
        buf_puts(b, v[i].value);
        if (v[i].nul)
            buf_putc(b, '!');
    }
    return b->data;
}

static void query_splits_as_parse_qsl(void **state)
{
    (void)state;
    assert_string_equal(split("a=1&&b=x+y%21&c&=skip&d=%zz&e=%41"),
                        "a=1|b=x y!|c=|d=%zz|e=A");
    assert_string_equal(split(""), "");
    /* A name holding %00 names no parameter; a value holding it is marked. */
    assert_string_equal(split("x%00=1&q=a%00b"), "q=ab!");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_decode_strictly),
        cmocka_unit_test(escapes_all_but_unreserved),
        cmocka_unit_test(query_splits_as_parse_qsl),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
