/*
 * db_auth.c: users, login sessions, refresh tokens, revoked tokens, the
 * failed-login window and Better Auth's jwks table (db_auth.h).  Every value
 * arrives as a bound parameter.
 */
#include <stdio.h>
#include <string.h>

#include "db_auth.h"
#include "db_priv.h"
#include "timestamp.h"

#define USER_COLS                                                           \
    "id, email, name, role, password_hash,"                                 \
    " (extract(epoch FROM created_at) * 1000000)::int8"

/* How long failed logins count against an e-mail address. */

static struct db_stmt user_ensure = {
    "user_ensure",
    "INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", 1, 0,
};
static struct db_stmt user_get = {
    "user_get", "SELECT " USER_COLS " FROM users WHERE id = $1", 1, 0,
};
static struct db_stmt user_by_email = {
    "user_by_email",
    "SELECT " USER_COLS " FROM users WHERE lower(email) = lower($1)", 1, 0,
};
static struct db_stmt user_create = {
    "user_create",
    "INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)"
    " RETURNING " USER_COLS, 0, 0,
};
static struct db_stmt user_set_password = {
    "user_set_password", "UPDATE users SET password_hash = $2 WHERE id = $1", 1, 0,
};
static struct db_stmt session_create = {
    "session_create",
    "INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, $3)", 0, 0,
};
static struct db_stmt session_revoke = {
    "session_revoke",
    "UPDATE sessions SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1",
    1, 0,
};
static struct db_stmt refresh_insert = {
    "refresh_insert",
    "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
    " VALUES ($1, $2, $3)", 0, 0,
};
static struct db_stmt refresh_take = {
    "refresh_take",
    "SELECT r.session_id, s.user_id, r.used_at IS NOT NULL,"
    " r.expires_at <= now(), s.revoked_at IS NOT NULL"
    " FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id"
    " WHERE r.token_hash = $1 FOR UPDATE OF r", 0, 0,
};
static struct db_stmt refresh_use = {
    "refresh_use",
    "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", 0, 0,
};
static struct db_stmt token_revoke = {
    "token_revoke",
    "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, to_timestamp($2))"
    " ON CONFLICT (jti) DO NOTHING", 1, 0,
};
/* Two primary-key probes, in the round trip of a request's first statement
 * (db_run); raises TD401 for a revoked token (schema/004). */
struct db_stmt db_guard_stmt = {
    "guard", "SELECT todo_not_revoked($1, $2)", 1, 0,
};
/* Counts and records an attempt in one step, under a lock (schema/005). */
static struct db_stmt login_attempt = {
    "login_attempt",
    "SELECT allowed, coalesce(retry_after, 0), attempt::text"
    " FROM todo_login_attempt($1, $2::int)", 0, 0,
};
/* A successful attempt is no failure: its record goes. */
static struct db_stmt login_succeeded = {
    "login_succeeded",
    "DELETE FROM login_failures WHERE ctid = (SELECT ctid FROM login_failures"
    " WHERE email = lower($1) AND failed_at = $2::timestamptz LIMIT 1)", 1, 0,
};

static struct db_stmt jwks_exists = {
    "jwks_exists", "SELECT to_regclass('jwks') IS NOT NULL", 1, 0,
};
/* Prepared only once the table is known to exist. */
static struct db_stmt jwks_list = {
    "jwks_list",
    "SELECT id, \"publicKey\" FROM jwks WHERE \"publicKey\" IS NOT NULL"
    " ORDER BY \"createdAt\" DESC LIMIT 100", 1, 0,
};

/* ---------------------------------------------------------------- users */

static void user_from_row(PGresult *res, struct user *u)
{
    u->id = PQgetvalue(res, 0, 0);
    u->email = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
    u->name = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
    u->role = PQgetvalue(res, 0, 3);
    u->password_hash = PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4);
    u->created = db_i64(PQgetvalue(res, 0, 5));
}

/* Runs a statement that returns at most one user. */
static enum db_status one_user(struct db *db, struct pool *p, struct db_stmt *s,
                               int n, const char *const *vals, struct user *u)
{
    enum db_status st;
    PGresult *res = db_run(db, p, s, n, vals, PGRES_TUPLES_OK, &st);

    if (res == NULL)
        return st;
    if (PQntuples(res) != 1)
        return DB_NOT_FOUND;
    user_from_row(res, u);
    return DB_OK;
}

enum db_status db_user_ensure(struct db *db, const char *user_id)
{
    const char *vals[] = { user_id };

    return db_cmd(db, &user_ensure, 1, vals);
}

enum db_status db_user_get(struct db *db, struct pool *p, const char *id,
                           struct user *out)
{
    const char *vals[] = { id };

    return one_user(db, p, &user_get, 1, vals, out);
}

enum db_status db_user_by_email(struct db *db, struct pool *p,
                                const char *email, struct user *out)
{
    const char *vals[] = { email };

    return one_user(db, p, &user_by_email, 1, vals, out);
}

enum db_status db_user_create(struct db *db, struct pool *p, struct user *u)
{
    const char *vals[] = { u->id, u->email, u->name, u->password_hash };

    return one_user(db, p, &user_create, 4, vals, u);
}

enum db_status db_user_set_password(struct db *db, const char *id,
                                    const char *hash)
{
    const char *vals[] = { id, hash };

    return db_cmd(db, &user_set_password, 2, vals);
}

/* ------------------------------------------------ sessions and refresh */

enum db_status db_session_create(struct db *db, const char *id,
                                 const char *user_id, int64_t expires)
{
    char buf[TS_BUFSZ];
    const char *vals[] = { id, user_id, buf };

    ts_format(expires, buf);
    return db_cmd(db, &session_create, 3, vals);
}

enum db_status db_session_revoke(struct db *db, const char *id)
{
    const char *vals[] = { id };

    return db_cmd(db, &session_revoke, 1, vals);
}

enum db_status db_refresh_insert(struct db *db, const char *hash,
                                 const char *session_id, int64_t expires)
{
    char buf[TS_BUFSZ];
    const char *vals[] = { hash, session_id, buf };

    ts_format(expires, buf);
    return db_cmd(db, &refresh_insert, 3, vals);
}

enum db_status db_refresh_take(struct db *db, struct pool *p, const char *hash,
                               struct refresh *out)
{
    const char *vals[] = { hash };
    enum db_status st;
    PGresult *res = db_run(db, p, &refresh_take, 1, vals, PGRES_TUPLES_OK, &st);

    if (res == NULL)
        return st;
    if (PQntuples(res) != 1)
        return DB_NOT_FOUND;
    out->session_id = PQgetvalue(res, 0, 0);
    out->user_id = PQgetvalue(res, 0, 1);
    out->used = PQgetvalue(res, 0, 2)[0] == 't';
    out->expired = PQgetvalue(res, 0, 3)[0] == 't';
    out->revoked = PQgetvalue(res, 0, 4)[0] == 't';
    return DB_OK;
}

enum db_status db_refresh_use(struct db *db, const char *hash)
{
    const char *vals[] = { hash };

    return db_cmd(db, &refresh_use, 1, vals);
}

/* ------------------------------------------------------------ revocation */

enum db_status db_token_revoke(struct db *db, const char *jti, long exp)
{
    char buf[24];
    const char *vals[] = { jti, buf };

    snprintf(buf, sizeof buf, "%ld", exp);
    return db_cmd(db, &token_revoke, 2, vals);
}

/* -------------------------------------------------------- failed logins */

enum db_status db_login_attempt(struct db *db, struct pool *p, const char *email,
                                int max, int *allowed, long *retry_after,
                                const char **attempt)
{
    const char *vals[] = { email, pool_printf(p, "%d", max) };
    enum db_status st;
    PGresult *res = db_run(db, p, &login_attempt, 2, vals, PGRES_TUPLES_OK, &st);

    if (res == NULL)
        return st;
    *allowed = PQgetvalue(res, 0, 0)[0] == 't';
    *retry_after = (long)db_i64(PQgetvalue(res, 0, 1));
    *attempt = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
    return DB_OK;
}

enum db_status db_login_succeeded(struct db *db, const char *email, const char *attempt)
{
    const char *vals[] = { email, attempt };

    return db_cmd(db, &login_succeeded, 2, vals);
}

/* ------------------------------------------------------ Better Auth keys */

enum db_status db_jwks_list(struct db *db, struct pool *p, int *exists,
                            const char ***ids, const char ***keys, size_t *n)
{
    enum db_status st;
    PGresult *res = db_run(db, p, &jwks_exists, 0, NULL, PGRES_TUPLES_OK, &st);
    int i, rows;

    *n = 0;
    if (res == NULL)
        return st;
    *exists = PQgetvalue(res, 0, 0)[0] == 't';
    if (!*exists)
        return DB_OK;
    res = db_run(db, p, &jwks_list, 0, NULL, PGRES_TUPLES_OK, &st);
    if (res == NULL)
        return st;
    rows = PQntuples(res);
    *ids = pool_alloc(p, (size_t)(rows + 1) * sizeof **ids);
    *keys = pool_alloc(p, (size_t)(rows + 1) * sizeof **keys);
    for (i = 0; i < rows; i++) {
        (*ids)[i] = PQgetvalue(res, i, 0);
        (*keys)[i] = PQgetvalue(res, i, 1);
    }
    *n = (size_t)rows;
    return DB_OK;
}
