/*
 * account: the input contract of the account endpoints (register, login,
 * the OAuth2 password form): e-mail address, password and name.
 *
 * account_read() reads the input of one use, declared as a table of the
 * input engine (input.h): "email", "password" and "name" from a JSON body
 * when registering; "email" and "password" when logging in; "username",
 * "password" and "grant_type" (when sent, "password") from the OAuth2
 * password form, whose fields come from form_parse().  It appends a FastAPI
 * validation error to errs for each bad value.  An e-mail address is trimmed
 * and must look like local@domain (at most 254 characters); a password is 8
 * to 128 characters when registering, at most 128 otherwise (longer ones are
 * refused before any hashing), and its length errors do not echo it; a name
 * is trimmed, and a blank one is none.  Strings point into the source or the
 * pool, both freed at pool_reset().
 */
#ifndef TODO_ACCOUNT_H
#define TODO_ACCOUNT_H

#include <json-c/json.h>
#include <stddef.h>

#include "input.h"
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

/* REGISTER and LOGIN read a JSON body; TOKEN, the OAuth2 form's pairs. */
enum account_use { ACCOUNT_REGISTER, ACCOUNT_LOGIN, ACCOUNT_TOKEN };

/* Fills c from src as use declares it; returns the number of errors added. */
int account_read(struct pool *p, enum account_use use, const struct input_src *src,
                 struct credentials *c, json_object *errs);
/* Whether s looks like an e-mail address (already trimmed). */
int account_email_valid(const char *s, size_t n);

#endif
