/*
 * test_idem.c: which Idempotency-Key values are well formed, the error a
 * malformed one gets, and the fingerprint of a request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../common/idem.h"

/* The error type idem_key_check() reports for key; NULL when it is good. */
static const char *check(const char *key)
{
    static char type[64];
    json_object *errs = json_object_new_array(), *e, *v;
    const char *out = NULL;

    if (idem_key_check(key, errs) == 1) {
        assert_int_equal(json_object_array_length(errs), 1);
        e = json_object_array_get_idx(errs, 0);
        assert_true(json_object_object_get_ex(e, "loc", &v));
        assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                            "[\"header\",\"Idempotency-Key\"]");
        assert_true(json_object_object_get_ex(e, "type", &v));
        strncpy(type, json_object_get_string(v), sizeof type - 1);
        out = type;
    } else {
        assert_int_equal(json_object_array_length(errs), 0);
    }
    json_object_put(errs);
    return out;
}

static void visible_ascii_of_1_to_255(void **state)
{
    char key[300];

    (void)state;
    assert_null(check("a"));
    assert_null(check("3f2c1e9a-7b4d-4c1e-9f0a-2d8e6b5a4c31"));
    assert_null(check("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"));
    memset(key, 'k', 255);
    key[255] = '\0';
    assert_null(check(key));
    key[255] = 'k';
    key[256] = '\0';
    assert_string_equal(check(key), "string_too_long");
    assert_string_equal(check(""), "string_too_short");
}

static void nothing_else(void **state)
{
    char key[600];
    size_t i;

    (void)state;
    assert_string_equal(check("two words"), "string_pattern_mismatch");
    assert_string_equal(check("tab\there"), "string_pattern_mismatch");
    assert_string_equal(check("del\x7f"), "string_pattern_mismatch");
    assert_string_equal(check("nl\n"), "string_pattern_mismatch");
    assert_string_equal(check("\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87"), "string_pattern_mismatch");
    assert_string_equal(check("\xff\xfe"), "string_pattern_mismatch");
    /* Characters are counted as pydantic counts them: 200 two-byte ones
     * are not too long; 256 bytes that are not UTF-8 are. */
    for (i = 0; i < 200; i++)
        memcpy(key + 2 * i, "\xc3\xa9", 2);
    key[400] = '\0';
    assert_string_equal(check(key), "string_pattern_mismatch");
    memset(key, '\xff', 256);
    key[256] = '\0';
    assert_string_equal(check(key), "string_too_long");
}

static void the_input_is_echoed_when_it_is_text(void **state)
{
    json_object *errs = json_object_new_array(), *v;

    (void)state;
    idem_key_check("a b", errs);
    idem_key_check("\xff", errs);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(errs, 0), "input", &v));
    assert_string_equal(json_object_get_string(v), "a b");
    assert_false(json_object_object_get_ex(json_object_array_get_idx(errs, 1), "input", &v));
    json_object_put(errs);
}

static void fingerprints_method_path_and_body(void **state)
{
    const char *body = "{\"title\":\"x\"}";
    char a[IDEM_FINGERPRINT_HEX], b[IDEM_FINGERPRINT_HEX];

    (void)state;
    /* hashlib.sha256(b'POST\0/api/alice/tasks\0{"title":"x"}') */
    idem_fingerprint("POST", "/api/alice/tasks", body, strlen(body), a);
    assert_string_equal(a, "de6f3652f290b2c7a76b5f4198e4d9aceeffd5fea35b59206e6826a5f61c85b9");
    idem_fingerprint("POST", "/api/alice/tasks", "", 0, b);
    assert_string_equal(b, "28191ca0437ca13d639a6a1ba60ffbc689bb8f0eb455f215d46f6d4cb447f9ef");
    /* Where one part ends and the next begins is part of it. */
    idem_fingerprint("POST", "/api/alice/tasks{\"title\":\"x\"}", "", 0, b);
    assert_string_not_equal(a, b);
    idem_fingerprint("POST", "/api/bob/tasks", body, strlen(body), b);
    assert_string_not_equal(a, b);
    /* Only the body's len bytes count. */
    idem_fingerprint("POST", "/api/alice/tasks", "{\"title\":\"x\"}trailing", strlen(body), b);
    assert_string_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(visible_ascii_of_1_to_255),
        cmocka_unit_test(nothing_else),
        cmocka_unit_test(the_input_is_echoed_when_it_is_text),
        cmocka_unit_test(fingerprints_method_path_and_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
