/*
 * test_form.c: form bodies, urlencoded and multipart/form-data as browsers
 * send them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "form.h"

#include "unit_pool.h"

static long parse(const char *ct, const char *body, size_t len, struct qparam **f)
{
    return form_parse(pool, ct, body, len, f);
}

#define MP "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"
#define B "------WebKitFormBoundary7MA4YWxkTrZu0gW"

static void types(void **state)
{
    (void)state;
    assert_int_equal(form_type("application/x-www-form-urlencoded"), FORM_URLENCODED);
    assert_int_equal(form_type("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
                     FORM_URLENCODED);
    assert_int_equal(form_type(MP), FORM_MULTIPART);
    assert_int_equal(form_type("multipart/form-data\t; boundary=b"), FORM_MULTIPART);
    assert_int_equal(form_type("application/json"), FORM_NONE);
    assert_int_equal(form_type(NULL), FORM_NONE);
}

static void urlencoded(void **state)
{
    static const char body[] = "username=a%40b.co&password=p+w%2B";
    struct qparam *f;

    (void)state;
    assert_int_equal(parse("application/x-www-form-urlencoded", body, sizeof body - 1, &f), 2);
    assert_string_equal(f[0].value, "a@b.co");
    assert_string_equal(f[1].value, "p w+");
}

/* What Chrome sends for a FormData with two fields. */
static void multipart_from_a_browser(void **state)
{
    static const char body[] =
        B "\r\n"
        "Content-Disposition: form-data; name=\"username\"\r\n\r\n"
        "a@b.co\r\n"
        B "\r\n"
        "content-disposition: form-data; name=\"password\"\r\n\r\n"
        "line one\r\nline two\r\n"
        B "--\r\n";
    struct qparam *f;

    (void)state;
    assert_int_equal(parse(MP, body, sizeof body - 1, &f), 2);
    assert_string_equal(f[0].name, "username");
    assert_string_equal(f[0].value, "a@b.co");
    assert_string_equal(f[1].name, "password");
    assert_string_equal(f[1].value, "line one\r\nline two");
    assert_int_equal(f[1].nul, 0);
}

static void quoted_boundary_preamble_and_empty_value(void **state)
{
    static const char body[] =
        "a preamble to ignore\r\n"
        "--x y\r\n"
        "Content-Disposition: form-data; name=grant_type\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "\r\n"
        "--x y--";
    struct qparam *f;

    (void)state;
    assert_int_equal(parse("multipart/form-data; boundary=\"x y\"", body, sizeof body - 1, &f),
                     1);
    assert_string_equal(f[0].name, "grant_type");
    assert_string_equal(f[0].value, "");
}

static void urlencoded_raw_nul_is_flagged_not_an_end(void **state)
{
    static const char body[] = "username=a%40b.co&password=secret\0junk&grant_type=x";
    struct qparam *f;

    (void)state;
    assert_int_equal(parse("application/x-www-form-urlencoded", body, sizeof body - 1, &f), 3);
    assert_int_equal(f[1].nul, 1);
    assert_string_equal(f[2].name, "grant_type");
}

static void quoted_parameters_are_skipped_whole(void **state)
{
    static const char body[] =
        "--b\r\nContent-Disposition: form-data; filename=\"x; name=password\"; "
        "name=\"username\"\r\n\r\nalice\r\n--b--";
    struct qparam *f;

    (void)state;
    assert_int_equal(parse("multipart/form-data; x=\"boundary=no\"; boundary=b", body,
                           sizeof body - 1, &f), 1);
    assert_string_equal(f[0].name, "username");
    assert_string_equal(f[0].value, "alice");
}

static void nul_and_nameless_parts(void **state)
{
    static const char body[] =
        "--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nab\0cd\r\n"
        "--b--\r\n";
    struct qparam *f;

    (void)state;
    assert_int_equal(parse("multipart/form-data; boundary=b", body, sizeof body - 1, &f), 1);
    assert_string_equal(f[0].value, "ab");
    assert_int_equal(f[0].nul, 1);
}

static void broken_multipart_is_refused(void **state)
{
    static const char *bodies[] = {
        "--b\r\nContent-Disposition: form-data; name=\"u\"\r\n\r\nx",          /* no end */
        "--b\r\nContent-Disposition: form-data; name=\"u\"\r\n\r\nx\r\n--c--", /* other */
        "--bContent-Disposition: form-data; name=\"u\"\r\n\r\nx\r\n--b--",     /* no CRLF */
        "--b\r\nContent-Disposition: form-data; name=\"u\"\r\nx\r\n--b--",     /* no blank */
        /* headers that run into the next part */
        "--b\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n--b\r\n"
        "Content-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--b--",
        "username=x",
        "",
    };
    struct qparam *f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        assert_int_equal(parse("multipart/form-data; boundary=b", bodies[i],
                               strlen(bodies[i]), &f), -1);
    assert_int_equal(parse("multipart/form-data", "--b--", 5, &f), -1);
    assert_int_equal(parse("multipart/form-data; boundary=", "----", 4, &f), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types),
        cmocka_unit_test(urlencoded),
        cmocka_unit_test(multipart_from_a_browser),
        cmocka_unit_test(quoted_boundary_preamble_and_empty_value),
        cmocka_unit_test(urlencoded_raw_nul_is_flagged_not_an_end),
        cmocka_unit_test(quoted_parameters_are_skipped_whole),
        cmocka_unit_test(nul_and_nameless_parts),
        cmocka_unit_test(broken_multipart_is_refused),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
