/*
 * account: the input contract of the account endpoints (register, login,
 * the OAuth2 password form): e-mail address, password and name.
 *
 * account_parse() reads "email", "password" and (when want_name) "name"
 * from a JSON object, or from form fields turned into one, appending a
 * FastAPI validation error to errs for each bad one.  An e-mail address is
 * trimmed and must look like local@domain (at most 254 characters); a
 * password is 8 to 128 characters when registering, at most 128 when
 * logging in (longer ones are refused before any hashing).  Strings point
 * into the pool or into the JSON, which the pool owns.
 */
#ifndef TODO_ACCOUNT_H
#define TODO_ACCOUNT_H

#include <json-c/json.h>
#include <stddef.h>

#include "pool.h"

#define ACCOUNT_EMAIL_MAX 254
#define ACCOUNT_PASSWORD_MIN 8
#define ACCOUNT_PASSWORD_MAX 128
#define ACCOUNT_NAME_MAX 100

struct credentials {
    const char *email;
    const char *password;
    size_t password_len;        /* bytes */
    const char *name;           /* NULL: none */
};

enum account_use { ACCOUNT_REGISTER, ACCOUNT_LOGIN };

/* Returns the number of errors added; field names as the body has them. */
int account_parse(struct pool *p, json_object *body, enum account_use use,
                  const char *email_field, struct credentials *c,
                  json_object *errs);
/* Whether s looks like an e-mail address (already trimmed). */
int account_email_valid(const char *s, size_t n);

#endif
