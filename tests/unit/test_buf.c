/*
 * test_buf.c: the response buffer (growth, formatting) and its JSON values,
 * byte for byte what json-c writes for the same values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "buf.h"

#include "unit_pool.h"

#define JSONC_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void grows_and_keeps_its_bytes(void **state)
{
    struct buf *b = buf_new(pool, 1);
    char want[100001];
    size_t i;

    (void)state;
    assert_int_equal(b->len, 0);
    assert_string_equal(b->data, "");
    for (i = 0; i < 100000; i++) {
        want[i] = (char)('a' + i % 26);
        buf_putc(b, want[i]);
    }
    want[i] = '\0';
    assert_int_equal(b->len, 100000);
    assert_true(b->cap > b->len);
    assert_memory_equal(b->data, want, 100001);

    b = buf_new(pool, 8);
    buf_put(b, want, 5000);             /* one put larger than twice the room */
    buf_puts(b, "|");
    buf_printf(b, "%d-%s", 42, "x");
    buf_printf(b, "%3000s", "");        /* a printf that has to grow */
    assert_int_equal(b->len, 5000 + 1 + 4 + 3000);
    assert_memory_equal(b->data + 5000, "|42-x   ", 8);
    assert_int_equal(b->data[b->len], '\0');
}

/* What json-c writes for v. */
static const char *jsonc(json_object *v)
{
    const char *s = pool_strdup(pool, json_object_to_json_string_ext(v, JSONC_FLAGS));

    json_object_put(v);
    return s;
}

static const char *ours_str(const char *s)
{
    struct buf *b = buf_new(pool, 16);

    buf_json_str(b, s);
    assert_int_equal(strlen(b->data), b->len);
    return b->data;
}

static void strings_escape_as_json_c_does(void **state)
{
    static const char *const table[] = {
        "", "plain", "a \"quoted\" word", "back\\slash", "\\\\\\\"", "a/b </script>",
        "line\nbreak", "tab\there", "cr\rlf\n", "\b\f", "\x01\x02\x1e\x1f\x7f",
        "\x0b vertical tab", "\x1b[31mred\x1b[0m", "ends with \\", "\"",
        "caf\xc3\xa9", "U+2028 \xe2\x80\xa8 U+2029 \xe2\x80\xa9", "emoji \xf0\x9f\x98\x80",
        "\xef\xbb\xbf BOM", "\xed\x9f\xbf", "'single' & <html> %s %n",
    };
    char one[2] = { 0, 0 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof table / sizeof *table; i++)
        assert_string_equal(ours_str(table[i]), jsonc(json_object_new_string(table[i])));
    /* Every byte on its own, valid UTF-8 or not: none is changed by either. */
    for (i = 1; i < 256; i++) {
        one[0] = (char)i;
        assert_string_equal(ours_str(one), jsonc(json_object_new_string(one)));
    }
    assert_string_equal(ours_str(NULL), "null");
}

/* The scan skips 8 bytes at a time: every byte at every place in a block,
 * and strings of every length around a block's size. */
static void every_byte_in_every_place(void **state)
{
    char s[20];
    size_t c, at, n;

    (void)state;
    for (c = 1; c < 256; c++) {
        for (at = 0; at < 19; at++) {
            memset(s, 'a', 19);
            s[19] = '\0';
            s[at] = (char)c;
            assert_string_equal(ours_str(s), jsonc(json_object_new_string(s)));
        }
    }
    for (n = 0; n < 19; n++) {
        memset(s, '\n', n);
        s[n] = '\0';
        assert_string_equal(ours_str(s), jsonc(json_object_new_string(s)));
        memset(s, 0xe2, n);
        assert_string_equal(ours_str(s), jsonc(json_object_new_string(s)));
    }
}

static void long_strings(void **state)
{
    char s[2001];
    size_t i;

    (void)state;
    for (i = 0; i < 2000; i++)
        s[i] = "ab\"\\\n\x01/c"[i % 8];
    s[2000] = '\0';
    assert_string_equal(ours_str(s), jsonc(json_object_new_string(s)));
}

static void numbers_and_literals(void **state)
{
    static const int64_t nums[] = { 0, 1, -1, 9, 10, 42, -42, 1234567890123,
                                    INT64_MAX, INT64_MIN, INT64_MIN + 1 };
    struct buf *b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof nums / sizeof *nums; i++) {
        b = buf_new(pool, 1);
        buf_int64(b, nums[i]);
        assert_string_equal(b->data, jsonc(json_object_new_int64(nums[i])));
    }
    b = buf_new(pool, 1);
    buf_json_bool(b, 1);
    buf_putc(b, ',');
    buf_json_bool(b, 0);
    buf_putc(b, ',');
    buf_json_bool(b, 7);
    buf_putc(b, ',');
    buf_json_null(b);
    assert_string_equal(b->data, "true,false,true,null");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_and_keeps_its_bytes),
        cmocka_unit_test(strings_escape_as_json_c_does),
        cmocka_unit_test(every_byte_in_every_place),
        cmocka_unit_test(long_strings),
        cmocka_unit_test(numbers_and_literals),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
