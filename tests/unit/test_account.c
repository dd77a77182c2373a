/*
 * test_account.c: e-mail and password rules (JSON bodies, the OAuth2 form),
 * Argon2id hashes, random tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "password.h"
#include "token.h"

#include "unit_pool.h"

static int parse(const char *body, enum account_use use, struct credentials *c)
{
    json_object *o = json_tokener_parse(body), *errs = json_object_new_array();
    struct input_src src = { "body", 0, o, NULL, 0 };
    int n;

    assert_non_null(o);
    n = account_read(pool, use, &src, c, errs);
    if (c->email)
        c->email = pool_strdup(pool, c->email);
    if (c->password)
        c->password = pool_strndup(pool, c->password, c->password_len);
    if (c->name)
        c->name = pool_strdup(pool, c->name);
    json_object_put(o);
    json_object_put(errs);
    return n;
}

static void emails(void **state)
{
    (void)state;
    assert_true(account_email_valid("a@b", 3));
    assert_true(account_email_valid("alice.smith+todo@example.co.uk", 30));
    assert_false(account_email_valid("alice", 5));
    assert_false(account_email_valid("@example.com", 12));
    assert_false(account_email_valid("alice@", 6));
    assert_false(account_email_valid("a@b@c", 5));
    assert_false(account_email_valid("al ice@x.io", 11));
}

static void register_rules(void **state)
{
    struct credentials c;
    char body[400], pw[140];

    (void)state;
    assert_int_equal(parse("{\"email\": \" Alice@X.io \", \"password\": \"12345678\","
                           " \"name\": \" Alice \"}", ACCOUNT_REGISTER, &c), 0);
    assert_string_equal(c.email, "Alice@X.io");
    assert_string_equal(c.name, "Alice");
    assert_int_equal(c.password_len, 8);
    assert_int_equal(parse("{\"email\": \"a@b.c\", \"password\": \"1234567\"}",
                           ACCOUNT_REGISTER, &c), 1);
    memset(pw, 'p', 128);
    pw[128] = '\0';
    snprintf(body, sizeof body, "{\"email\": \"a@b.c\", \"password\": \"%s\"}", pw);
    assert_int_equal(parse(body, ACCOUNT_REGISTER, &c), 0);
    snprintf(body, sizeof body, "{\"email\": \"a@b.c\", \"password\": \"%sp\"}", pw);
    assert_int_equal(parse(body, ACCOUNT_REGISTER, &c), 1);
    /* Logging in takes any length up to the maximum, and refuses more. */
    assert_int_equal(parse(body, ACCOUNT_LOGIN, &c), 1);
    assert_int_equal(parse("{\"email\": \"a@b.c\", \"password\": \"short\"}",
                           ACCOUNT_LOGIN, &c), 0);
    assert_int_equal(parse("{\"email\": 5, \"password\": null}", ACCOUNT_REGISTER, &c), 2);
    assert_int_equal(parse("{}", ACCOUNT_LOGIN, &c), 2);
    assert_int_equal(parse("{\"email\": \"a@b.c\", \"password\": \"12345678\","
                           " \"name\": 7}", ACCOUNT_REGISTER, &c), 1);
}

/* The OAuth2 form's fields, as form_parse() gives them; the errors' JSON. */
static int token_form(const struct qparam *f, size_t n, struct credentials *c,
                      const char **errs_out)
{
    json_object *errs = json_object_new_array();
    struct input_src src = { "body", 1, NULL, f, n };
    int k = account_read(pool, ACCOUNT_TOKEN, &src, c, errs);

    *errs_out = pool_strdup(pool, json_object_to_json_string_ext(errs, JSON_C_TO_STRING_PLAIN));
    json_object_put(errs);
    return k;
}

static void token_form_rules(void **state)
{
    const struct qparam ok[] = {
        { "scope", "tasks", 0 }, { "username", "x", 0 }, { "username", " a@b.co ", 0 },
        { "password", "p", 0 }, { "grant_type", "password", 0 },
    };
    const struct qparam bad[] = {
        { "username", "nope", 0 }, { "grant_type", "client_credentials", 0 },
        { "password", "p", 0 },
    };
    const struct qparam unreadable[] = { { "username", "a@b.co", 1 } };
    struct credentials c;
    const char *e;

    (void)state;
    /* The last username counts, trimmed; unknown fields are ignored. */
    assert_int_equal(token_form(ok, 5, &c, &e), 0);
    assert_string_equal(c.email, "a@b.co");
    assert_int_equal(c.password_len, 1);
    /* grant_type is checked as it comes; the address after the form. */
    assert_int_equal(token_form(bad, 3, &c, &e), 2);
    assert_string_equal(e, "[{\"type\":\"string_pattern_mismatch\",\"loc\":[\"body\",\"grant_type\"],"
                           "\"msg\":\"String should match pattern '^password$'\","
                           "\"input\":\"client_credentials\"},"
                           "{\"type\":\"value_error\",\"loc\":[\"body\",\"username\"],"
                           "\"msg\":\"value is not a valid email address\",\"input\":\"nope\"}]");
    /* A field that is not text is not also missing; nor is the password. */
    assert_int_equal(token_form(unreadable, 1, &c, &e), 1);
    assert_string_equal(e, "[{\"type\":\"string_unicode\",\"loc\":[\"body\",\"username\"],"
                           "\"msg\":\"Input should be a valid string\"}]");
    assert_int_equal(token_form(NULL, 0, &c, &e), 2);
    assert_non_null(strstr(e, "\"type\":\"missing\",\"loc\":[\"body\",\"username\"]"));
}

static void argon2id_hashes(void **state)
{
    char hash[PASSWORD_HASH_MAX];

    (void)state;
    assert_int_equal(password_hash("correct horse", 13, hash), 0);
    assert_memory_equal(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31);
    assert_true(password_verify(hash, "correct horse", 13));
    assert_false(password_verify(hash, "correct horsf", 13));
    assert_false(password_verify("not a hash", "x", 1));
    assert_false(password_needs_rehash(hash));
    assert_true(password_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
    assert_true(password_needs_rehash("$2b$12$bcrypt"));
}

static void random_tokens(void **state)
{
    char a[TOKEN_B64_LEN(32)], b[TOKEN_B64_LEN(32)], h[TOKEN_HASH_HEX];

    (void)state;
    assert_int_equal(token_random(a, 32), 0);
    assert_int_equal(token_random(b, 32), 0);
    assert_int_equal(strlen(a), 43);
    assert_int_not_equal(strcmp(a, b), 0);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    assert_int_equal(token_random(a, 16), 0);
    assert_int_equal(strlen(a), 22);
    token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(emails),
        cmocka_unit_test(register_rules),
        cmocka_unit_test(token_form_rules),
        cmocka_unit_test(argon2id_hashes),
        cmocka_unit_test(random_tokens),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
