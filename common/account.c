/*
 * account.c: e-mail, password and name checks for the account endpoints.
 */
#include "account.h"

#include <string.h>

#include "json.h"
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

/* A JSON string without U+0000, or NULL after an error at [body, field]. */
static const char *string_field(json_object *body, const char *field,
                                int required, json_object *errs, size_t *len)
{
    json_object *v;

    if (!json_object_object_get_ex(body, field, &v)) {
        if (required)
            verr_add(errs, "missing", "Field required", NULL, "body", field, -1);
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        verr_add(errs, "string_type", "Input should be a valid string", v,
                 "body", field, -1);
        return NULL;
    }
    *len = (size_t)json_object_get_string_len(v);
    if (memchr(json_object_get_string(v), '\0', *len) != NULL) {
        verr_add(errs, "string_pattern_mismatch",
                 "String should not contain U+0000", v, "body", field, -1);
        return NULL;
    }
    return json_object_get_string(v);
}

int account_parse(struct pool *p, json_object *body, enum account_use use,
                  const char *email_field, struct credentials *c,
                  json_object *errs)
{
    size_t before = json_object_array_length(errs), n = 0, start, len, cps;
    const char *s;
    json_object *v;

    memset(c, 0, sizeof *c);
    if (!json_object_is_type(body, json_type_object)) {
        verr_add(errs, "model_attributes_type",
                 "Input should be a valid dictionary or object to extract fields from",
                 body, "body", NULL, -1);
        return 1;
    }
    if ((s = string_field(body, email_field, 1, errs, &n)) != NULL) {
        utf8_trim(s, n, &start, &len);
        if (account_email_valid(s + start, len))
            c->email = pool_strndup(p, s + start, len);
        else
            verr_add_str(errs, "value_error",
                         "value is not a valid email address", s, "body",
                         email_field);
    }
    if ((s = string_field(body, "password", 1, errs, &n)) != NULL) {
        cps = utf8_len(s, n);
        if (cps > ACCOUNT_PASSWORD_MAX)
            verr_add(errs, "string_too_long",
                     "String should have at most 128 characters", NULL, "body",
                     "password", -1);
        else if (use == ACCOUNT_REGISTER && cps < ACCOUNT_PASSWORD_MIN)
            verr_add(errs, "string_too_short",
                     "String should have at least 8 characters", NULL, "body",
                     "password", -1);
        else {
            c->password = s;
            c->password_len = n;
        }
    }
    if (use == ACCOUNT_REGISTER && json_object_object_get_ex(body, "name", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if ((s = string_field(body, "name", 0, errs, &n)) != NULL) {
            utf8_trim(s, n, &start, &len);
            if (utf8_len(s + start, len) > ACCOUNT_NAME_MAX)
                verr_add(errs, "string_too_long",
                         "String should have at most 100 characters", v, "body",
                         "name", -1);
            else if (len > 0)
                c->name = pool_strndup(p, s + start, len);
        }
    }
    return (int)(json_object_array_length(errs) - before);
}
