/*
 * db_auth: users, login sessions, refresh tokens, revoked access tokens,
 * the failed-login window, and Better Auth's jwks table.  Strings read
 * belong to the given pool.
 */
#ifndef TODO_DB_AUTH_H
#define TODO_DB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "pool.h"

struct user {
    const char *id;
    const char *email;          /* NULL for users of an external issuer */
    const char *name;           /* NULL: none */
    const char *role;           /* "user" or "admin" */
    const char *password_hash;  /* Argon2id encoded; NULL: none */
    int64_t created;
};

/* A refresh token's state, read under a row lock. */
struct refresh {
    const char *session_id;
    const char *user_id;
    int used, expired, revoked;
};

/* Creates the user row if it does not exist (external users' first write). */
enum db_status db_user_ensure(struct db *db, const char *user_id);
enum db_status db_user_get(struct db *db, struct pool *p, const char *id,
                           struct user *out);
/* E-mail compared case-insensitively; DB_NOT_FOUND when none. */
enum db_status db_user_by_email(struct db *db, struct pool *p,
                                const char *email, struct user *out);
/* Inserts u (id, email, name, password_hash); DB_CONFLICT: e-mail taken. */
enum db_status db_user_create(struct db *db, struct pool *p, struct user *u);
enum db_status db_user_set_password(struct db *db, const char *id,
                                    const char *hash);

enum db_status db_session_create(struct db *db, const char *id,
                                 const char *user_id, int64_t expires);
enum db_status db_session_revoke(struct db *db, const char *id);
/* hash: hex SHA-256 of the refresh token. */
enum db_status db_refresh_insert(struct db *db, const char *hash,
                                 const char *session_id, int64_t expires);
enum db_status db_refresh_take(struct db *db, struct pool *p, const char *hash,
                               struct refresh *out);
enum db_status db_refresh_use(struct db *db, const char *hash);

/* Revokes an access token by jti until exp (Unix seconds). */
enum db_status db_token_revoke(struct db *db, const char *jti, long exp);

/*
 * A login attempt for email, counted and recorded in one step (schema/005):
 * *allowed when fewer than max failures are in the window, and then the
 * attempt is recorded as one (*attempt: its time, p-owned) until
 * db_login_succeeded() takes it back; else *retry_after seconds.
 */
enum db_status db_login_attempt(struct db *db, struct pool *p, const char *email,
                                int max, int *allowed, long *retry_after,
                                const char **attempt);
enum db_status db_login_succeeded(struct db *db, const char *email, const char *attempt);

/*
 * Better Auth's jwks table: *exists says whether there is one; ids[i] and
 * keys[i] (a JWK as JSON text) are its rows, owned by p.
 */
enum db_status db_jwks_list(struct db *db, struct pool *p, int *exists,
                            const char ***ids, const char ***keys, size_t *n);

#endif
