/*
 * account.c: the account endpoints' inputs, declared for the input engine,
 * and the one rule of theirs the engine cannot know: what an e-mail address
 * looks like.
 */
#include "account.h"

#include <string.h>

#include "utf8.h"

int account_email_valid(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    size_t i;

    if (n < 3 || utf8_len(s, n) > ACCOUNT_EMAIL_MAX || at == NULL || at == s ||
        at == s + n - 1 || memchr(at + 1, '@', (size_t)(s + n - at - 1)) != NULL)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == ',' ||
            s[i] == '<' || s[i] == '>' || s[i] == '(' || s[i] == ')')
            return 0;
    return 1;
}

/* OAuth2's grant_type, when sent, is "password" (RFC 6749 4.3.2). */
static int grant_password(const char *s, size_t n)
{
    return n == 8 && memcmp(s, "password", 8) == 0;
}

static const struct input_rule email_rule = {
    account_email_valid, "value_error", "value is not a valid email address",
};
static const struct input_rule grant_rule = {
    grant_password, "string_pattern_mismatch", "String should match pattern '^password$'",
};

/* Every table: the address, then the password, then (register, token) a third. */
enum { ACC_EMAIL, ACC_PASSWORD, ACC_NAME, ACC_FIELDS };

static const struct input_field register_fields[ACC_FIELDS] = {
    { .name = "email", .type = IN_STRING, .flags = IN_REQUIRED | IN_TRIM,
      .max = INT64_MAX, .rule = &email_rule },
    { .name = "password", .type = IN_STRING, .flags = IN_REQUIRED | IN_SECRET,
      .min = ACCOUNT_PASSWORD_MIN, .max = ACCOUNT_PASSWORD_MAX },
    { .name = "name", .type = IN_STRING, .flags = IN_NULLABLE | IN_TRIM | IN_BLANK_NULL,
      .max = ACCOUNT_NAME_MAX },
};
static const struct input_field login_fields[] = {
    { .name = "email", .type = IN_STRING, .flags = IN_REQUIRED | IN_TRIM,
      .max = INT64_MAX, .rule = &email_rule },
    { .name = "password", .type = IN_STRING, .flags = IN_REQUIRED | IN_SECRET,
      .max = ACCOUNT_PASSWORD_MAX },
};
/* FastAPI's OAuth2PasswordRequestForm: a form field sent twice keeps its
 * last value, read after the form as a JSON member would be. */
static const struct input_field token_fields[ACC_FIELDS] = {
    { .name = "username", .type = IN_STRING, .flags = IN_REQUIRED | IN_TRIM | IN_LAST,
      .max = INT64_MAX, .rule = &email_rule },
    { .name = "password", .type = IN_STRING, .flags = IN_REQUIRED | IN_SECRET | IN_LAST,
      .max = ACCOUNT_PASSWORD_MAX },
    { .name = "grant_type", .type = IN_STRING, .max = INT64_MAX, .rule = &grant_rule },
};

int account_read(struct pool *p, enum account_use use, const struct input_src *src,
                 struct credentials *c, json_object *errs)
{
    static const struct { const struct input_field *fields; size_t n; } uses[] = {
        [ACCOUNT_REGISTER] = { register_fields, ACC_FIELDS },
        [ACCOUNT_LOGIN] = { login_fields, 2 },
        [ACCOUNT_TOKEN] = { token_fields, ACC_FIELDS },
    };
    struct input_value v[ACC_FIELDS];
    int n = input_read(p, uses[use].fields, uses[use].n, src, v, errs);

    memset(c, 0, sizeof *c);
    if (n > 0)
        return n;
    c->email = v[ACC_EMAIL].s;
    c->password = v[ACC_PASSWORD].s;
    c->password_len = v[ACC_PASSWORD].len;
    if (use == ACCOUNT_REGISTER && v[ACC_NAME].state == IN_SET)
        c->name = v[ACC_NAME].s;
    return n;
}
