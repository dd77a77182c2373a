/*
 * test_utf8.c: validity, code point counts and trimming.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "utf8.h"

#define S(x) x, sizeof(x) - 1

static void validates(void **state)
{
    (void)state;
    assert_true(utf8_valid(S("plain ascii")));
    assert_true(utf8_valid(S("\xc3\xa4pfel \xf0\x9f\x98\x80")));
    assert_false(utf8_valid(S("\xff")));
    assert_false(utf8_valid(S("\xc0\xaf")));           /* overlong '/' */
    assert_false(utf8_valid(S("\xed\xa0\x80")));       /* surrogate */
    assert_false(utf8_valid(S("\xf4\x90\x80\x80")));   /* past U+10FFFF */
    assert_false(utf8_valid(S("\xe2\x82")));           /* truncated */
    assert_true(utf8_valid(S("")));
}

static void counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(utf8_len(S("abc")), 3);
    assert_int_equal(utf8_len(S("\xc3\xa4pfel")), 5);
    assert_int_equal(utf8_len(S("\xf0\x9f\x98\x80\xf0\x9f\x98\x80")), 2);
}

static void trims_unicode_white_space(void **state)
{
    size_t start, len;

    (void)state;
    utf8_trim(S("  Buy milk \t\n"), &start, &len);
    assert_int_equal(start, 2);
    assert_int_equal(len, 8);
    /* U+3000 ideographic space and U+00A0 no-break space count as space. */
    utf8_trim(S("\xe3\x80\x80x\xc2\xa0"), &start, &len);
    assert_int_equal(start, 3);
    assert_int_equal(len, 1);
    utf8_trim(S(" \t "), &start, &len);
    assert_int_equal(len, 0);
    utf8_trim(S("a b"), &start, &len);
    assert_int_equal(start, 0);
    assert_int_equal(len, 3);
}

/* The length of one well-formed sequence, 0 for anything else. */
static void seq_lengths(void **state)
{
    (void)state;
    assert_int_equal(utf8_seq("a", 1), 1);
    assert_int_equal(utf8_seq("\xc3\xa4x", 3), 2);
    assert_int_equal(utf8_seq("\xe2\x80\xa8", 3), 3);
    assert_int_equal(utf8_seq("\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(utf8_seq("\xf0\x9f\x98", 3), 0);      /* cut short */
    assert_int_equal(utf8_seq("\xc0\xaf", 2), 0);           /* overlong */
    assert_int_equal(utf8_seq("\xed\xa0\x80", 3), 0);       /* surrogate */
    assert_int_equal(utf8_seq("\xff", 1), 0);
    assert_int_equal(utf8_seq("", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seq_lengths),
        cmocka_unit_test(validates),
        cmocka_unit_test(counts_code_points),
        cmocka_unit_test(trims_unicode_white_space),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
