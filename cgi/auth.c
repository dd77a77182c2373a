/*
 * auth.c: the account endpoints: the server as its own token issuer.
 *
 * A login opens a session (one refresh-token family).  Each token response
 * carries an HS256 access token (sub, email, role, iat, exp, jti, sid, and
 * iss/aud when configured) and a fresh opaque refresh token, stored only as
 * its SHA-256.  A refresh token is single use: presenting one that was
 * already used revokes its whole session, and with it every access token
 * that names the session in its sid.  Failed logins are counted per e-mail
 * address in PostgreSQL, so every worker and host shares the window.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/account.h"
#include "../common/db_auth.h"
#include "../common/form.h"
#include "../common/password.h"
#include "../common/timestamp.h"
#include "../common/token.h"
#include "app.h"

#define DETAIL_BAD_LOGIN "Invalid email or password"
#define DETAIL_BAD_REFRESH "Invalid refresh token"
#define DETAIL_THROTTLED "Too many failed logins; try again later"
#define DETAIL_EMAIL_TAKEN "Email already registered"

/* Failed logins for one e-mail address within the window before 429. */
#define LOGIN_FAILURES_MAX 5

static json_object *user_json(const struct user *u)
{
    json_object *o = json_object_new_object();
    char created[TS_BUFSZ];

    ts_format(u->created, created);
    json_object_object_add(o, "id", json_object_new_string(u->id));
    json_object_object_add(o, "email", u->email ? json_object_new_string(u->email) : NULL);
    json_object_object_add(o, "name", u->name ? json_object_new_string(u->name) : NULL);
    json_object_object_add(o, "role", json_object_new_string(u->role));
    json_object_object_add(o, "created_at", json_object_new_string(created));
    return o;
}

/* Signs an access token for u in session sid; NULL without a secret. */
static char *access_token(struct req *r, const struct user *u, const char *sid,
                          const char *jti, time_t now)
{
    const struct config *c = r->ctx->cfg;
    json_object *claims = json_object_new_object();
    char *tok;

    json_object_object_add(claims, "sub", json_object_new_string(u->id));
    if (u->email)
        json_object_object_add(claims, "email", json_object_new_string(u->email));
    json_object_object_add(claims, c->jwt.role_claim ? c->jwt.role_claim : "role",
                           json_object_new_string(u->role));
    json_object_object_add(claims, "iat", json_object_new_int64(now));
    json_object_object_add(claims, "exp", json_object_new_int64(now + c->access_ttl));
    json_object_object_add(claims, "jti", json_object_new_string(jti));
    json_object_object_add(claims, "sid", json_object_new_string(sid));
    if (c->jwt.issuer)
        json_object_object_add(claims, "iss", json_object_new_string(c->jwt.issuer));
    if (c->jwt.audience)
        json_object_object_add(claims, "aud", json_object_new_string(c->jwt.audience));
    tok = c->jwt.secret ? jwt_mint(JWT_HS256, c->jwt.secret, c->jwt.secret_len, claims)
                        : NULL;
    json_object_put(claims);
    return pool_defer(r->pool, free, tok);
}

/*
 * Answers status with a token response for u: a new session when sid is
 * NULL, else a new refresh token in session sid.  Runs inside the caller's
 * transaction, which the caller commits when this returns 0; -1 after
 * answering the error.
 */
static int issue(struct req *r, int status, const struct user *u, const char *sid)
{
    char session[TOKEN_B64_LEN(16)], jti[TOKEN_B64_LEN(16)];
    char refresh[TOKEN_B64_LEN(32)], hash[TOKEN_HASH_HEX];
    int64_t expires = ts_now() + (int64_t)r->ctx->cfg->refresh_ttl * 1000000;
    time_t now = time(NULL);
    enum db_status st = DB_OK;
    const char *access;
    json_object *o;

    if (token_random(jti, 16) != 0 || token_random(refresh, 32) != 0 ||
        (sid == NULL && token_random(session, 16) != 0)) {
        http_error(r, 500, DETAIL_INTERNAL);
        return -1;
    }
    if (sid == NULL) {
        sid = session;
        st = db_session_create(r->ctx->db, sid, u->id, expires);
    }
    token_hash(refresh, hash);
    if (st == DB_OK)
        st = db_refresh_insert(r->ctx->db, hash, sid, expires);
    if (st != DB_OK) {
        http_db_error(r, st);
        return -1;
    }
    if ((access = access_token(r, u, sid, jti, now)) == NULL) {
        log_error("auth: cannot sign tokens: JWT_SECRET is not set");
        http_error(r, 500, DETAIL_INTERNAL);
        return -1;
    }
    o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(access));
    json_object_object_add(o, "token_type", json_object_new_string("bearer"));
    json_object_object_add(o, "expires_in", json_object_new_int64(r->ctx->cfg->access_ttl));
    json_object_object_add(o, "refresh_token", json_object_new_string(refresh));
    /* The same again, where front ends written for other backends look. */
    json_object_object_add(o, "token", json_object_new_string(access));
    json_object_object_add(o, "user_id", json_object_new_string(u->id));
    json_object_object_add(o, "user", user_json(u));
    http_json(r, status, o);
    return 0;
}

/* issue() in its own transaction, for a login or a registration. */
static int issue_tx(struct req *r, int status, const struct user *u)
{
    enum db_status st = db_begin(r->ctx->db);

    if (st != DB_OK)
        return http_db_error(r, st);
    if (issue(r, status, u, NULL) != 0) {
        db_rollback(r->ctx->db);
        return r->status;
    }
    if ((st = db_commit(r->ctx->db)) != DB_OK)
        return http_db_error(r, st);
    return status;
}

/* The 401 of a failed login: the same for an unknown e-mail and a bad password. */
static int bad_login(struct req *r)
{
    http_header(r, "WWW-Authenticate", "Bearer");
    return http_error(r, 401, DETAIL_BAD_LOGIN);
}

/*
 * Logs in with checked credentials: 429 while the address is throttled,
 * 401 for a wrong e-mail or password (after the same Argon2id work either
 * way), else 200 and a token response.
 */
static int login(struct req *r, const struct credentials *c)
{
    struct user u;
    enum db_status st;
    char hash[PASSWORD_HASH_MAX];
    const char *attempt = NULL;
    long retry = 0;
    int allowed = 0, ok;

    /* Counted and recorded before the password is checked, in one step:
     * parallel attempts cannot all see the same count. */
    st = db_login_attempt(r->ctx->db, r->pool, c->email, LOGIN_FAILURES_MAX, &allowed,
                          &retry, &attempt);
    if (st != DB_OK)
        return http_db_error(r, st);
    if (!allowed) {
        log_warn("auth: login throttled");
        http_header(r, "Retry-After", "%ld", retry > 0 ? retry : 1);
        return http_error(r, 429, DETAIL_THROTTLED);
    }
    st = db_user_by_email(r->ctx->db, r->pool, c->email, &u);
    if (st != DB_OK && st != DB_NOT_FOUND)
        return http_db_error(r, st);
    if (st == DB_OK && u.password_hash != NULL) {
        ok = password_verify(u.password_hash, c->password, c->password_len);
    } else {
        password_burn(c->password, c->password_len);
        ok = 0;
    }
    if (!ok) {
        log_warn("auth: failed login");
        return bad_login(r);            /* the attempt stays recorded */
    }
    /* A success takes back its own attempt, and forgets no failure: API.md
     * counts every failure of the window. */
    if (attempt != NULL && (st = db_login_succeeded(r->ctx->db, c->email, attempt)) != DB_OK)
        return http_db_error(r, st);
    /* Hashes made with older parameters are replaced while we have the password. */
    if (password_needs_rehash(u.password_hash) &&
        password_hash(c->password, c->password_len, hash) == 0)
        db_user_set_password(r->ctx->db, u.id, hash);
    return issue_tx(r, 200, &u);
}

/* Reads use's credentials from src into c; -1 after answering 422. */
static int read_credentials(struct req *r, enum account_use use,
                            const struct input_src *src, struct credentials *c)
{
    json_object *errs = verr_new();

    if (account_read(r->pool, use, src, c, errs) > 0) {
        http_invalid(r, errs);
        return -1;
    }
    json_object_put(errs);
    return 0;
}

/* The credentials of a JSON body; -1 after answering 400 or 422. */
static int body_credentials(struct req *r, enum account_use use, struct credentials *c)
{
    struct input_src src = { "body", 0, NULL, NULL, 0 };
    int ok;

    if ((src.json = http_req_json(r, 1, &ok)) == NULL)
        return -1;
    return read_credentials(r, use, &src, c);
}

/* ------------------------------------------------------------ handlers */

/*
 * POST /api/auth/register {"email", "password", "name"?}: 201 and a token
 * response; 409 when the e-mail is taken; 422 for bad input.
 */
int auth_register(struct req *r)
{
    struct credentials c;
    struct user u = { 0 };
    char id[TOKEN_B64_LEN(16)], hash[PASSWORD_HASH_MAX];
    enum db_status st;

    if (body_credentials(r, ACCOUNT_REGISTER, &c) != 0)
        return r->status;
    if (token_random(id, 16) != 0 ||
        password_hash(c.password, c.password_len, hash) != 0)
        return http_error(r, 500, DETAIL_INTERNAL);
    u.id = id;
    u.email = c.email;
    u.name = c.name;
    u.password_hash = hash;
    st = db_user_create(r->ctx->db, r->pool, &u);
    if (st == DB_CONFLICT)
        return http_error(r, 409, DETAIL_EMAIL_TAKEN);
    if (st != DB_OK)
        return http_db_error(r, st);
    return issue_tx(r, 201, &u);
}

/* POST /api/auth/login {"email", "password"}: see login(). */
int auth_login(struct req *r)
{
    struct credentials c;

    if (body_credentials(r, ACCOUNT_LOGIN, &c) != 0)
        return r->status;
    return login(r, &c);
}

/*
 * POST /api/auth/token, form username=…&password=… (OAuth2 password grant,
 * as FastAPI's OAuth2PasswordRequestForm; grant_type, when sent, must be
 * "password"): see login().
 */
int auth_token(struct req *r)
{
    struct input_src src = { "body", 1, NULL, NULL, 0 };
    struct credentials c;
    struct qparam *f;
    long n;

    if ((n = form_parse(r->pool, r->content_type, r->body, r->body_len, &f)) < 0)
        return http_error(r, 400, "There was an error parsing the body");
    src.params = f;
    src.nparams = (size_t)n;
    if (read_credentials(r, ACCOUNT_TOKEN, &src, &c) != 0)
        return r->status;
    return login(r, &c);
}

static int bad_refresh(struct req *r)
{
    http_header(r, "WWW-Authenticate", "Bearer");
    return http_error(r, 401, DETAIL_BAD_REFRESH);
}

/*
 * POST /api/auth/refresh {"refresh_token"}: 200 and a new token response;
 * the old refresh token stops working.  401 for an unknown, expired or
 * revoked token, and for a used one, whose whole session is then revoked.
 */
int auth_refresh(struct req *r)
{
    char hash[TOKEN_HASH_HEX];
    struct refresh rt;
    struct user u;
    json_object *body, *v, *errs;
    enum db_status st;
    int ok, status;

    if ((body = http_req_json(r, 1, &ok)) == NULL)
        return r->status;
    if (!json_object_is_type(body, json_type_object) ||
        !json_object_object_get_ex(body, "refresh_token", &v) ||
        !json_object_is_type(v, json_type_string)) {
        errs = verr_new();
        if (!json_object_is_type(body, json_type_object))
            verr_add(errs, "model_attributes_type",
                     "Input should be a valid dictionary or object to extract fields from",
                     body, "body", NULL, -1);
        else if (!json_object_object_get_ex(body, "refresh_token", &v))
            verr_add(errs, "missing", "Field required", NULL, "body", "refresh_token", -1);
        else
            verr_add(errs, "string_type", "Input should be a valid string", v,
                     "body", "refresh_token", -1);
        return http_invalid(r, errs);
    }
    token_hash(json_object_get_string(v), hash);
    if ((st = db_begin(r->ctx->db)) != DB_OK)
        return http_db_error(r, st);
    st = db_refresh_take(r->ctx->db, r->pool, hash, &rt);
    if (st == DB_NOT_FOUND || (st == DB_OK && (rt.expired || rt.revoked))) {
        status = bad_refresh(r);
        goto out;
    }
    if (st == DB_OK && rt.used) {
        /* Reuse: someone holds a copy.  End the whole login. */
        log_warn("auth: refresh token reused; session revoked");
        st = db_session_revoke(r->ctx->db, rt.session_id);
        if (st == DB_OK)
            st = db_commit(r->ctx->db);
        status = st == DB_OK ? bad_refresh(r) : http_db_error(r, st);
        goto out;
    }
    if (st == DB_OK)
        st = db_refresh_use(r->ctx->db, hash);
    if (st == DB_OK)
        st = db_user_get(r->ctx->db, r->pool, rt.user_id, &u);
    if (st != DB_OK) {
        status = http_db_error(r, st);
        goto out;
    }
    if (issue(r, 200, &u, rt.session_id) != 0) {
        status = r->status;
        goto out;
    }
    st = db_commit(r->ctx->db);
    status = st == DB_OK ? 200 : http_db_error(r, st);
out:
    db_rollback(r->ctx->db);
    return status;
}

/*
 * POST /api/auth/logout (Bearer): 204; the access token (its jti) and its
 * session's refresh token stop working.
 */
int auth_logout(struct req *r)
{
    const struct jwt_identity *id = r->ident;
    enum db_status st = DB_OK;

    if (id->sid[0] != '\0')
        st = db_session_revoke(r->ctx->db, id->sid);
    if (st == DB_OK && id->jti[0] != '\0')
        st = db_token_revoke(r->ctx->db, id->jti, id->exp);
    return st == DB_OK ? http_empty(r, 204) : http_db_error(r, st);
}

/*
 * GET /api/auth/me (Bearer): 200 and the user, with the role the token
 * gives: an external issuer's admin is an admin here whatever the row says.
 */
int auth_me(struct req *r)
{
    struct user u;
    enum db_status st = db_user_ensure(r->ctx->db, r->ident->user);

    if (st == DB_OK)
        st = db_user_get(r->ctx->db, r->pool, r->ident->user, &u);
    if (st != DB_OK)
        return http_db_error(r, st);
    if (r->ident->admin)
        u.role = "admin";
    return http_json(r, 200, user_json(&u));
}
