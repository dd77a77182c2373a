/*
 * db: the worker's one PostgreSQL connection and every statement it runs.
 *
 * struct db is opaque: handlers never see libpq.  db_open() only records the
 * settings; the connection is opened on first use and re-opened (at most
 * every DB_RETRY_MS) after it is lost, so a worker outlives a database
 * restart.  Statements are prepared once per connection unless DB_PREPARE is
 * off (PgBouncer in transaction mode), and all take bound parameters.  A
 * statement that fails because the connection dropped is sent again once on
 * a new connection when no transaction is open and it cannot have run twice
 * (a read, or a write the server never got).  Each request costs one round
 * trip: its token's revocation check (db_guard) rides with its first
 * statement.  A create with an Idempotency-Key costs two: its transaction
 * opens with the first and commits with the second (db_task_insert_keyed,
 * db_idem_store).
 *
 * Every function returns an enum db_status.  Tasks read from the database
 * point into results that belong to the given pool.
 */
#ifndef TODO_DB_H
#define TODO_DB_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "query.h"
#include "task.h"

#define DB_RETRY_MS 500

enum db_status {
    DB_OK = 0,
    DB_NOT_FOUND,       /* no such row for this user */
    DB_UNAVAILABLE,     /* the database cannot be reached: 503 */
    DB_CONFLICT,        /* a unique value is taken */
    DB_TIMEOUT,         /* statement_timeout cancelled it: 504 */
    DB_REVOKED,         /* the request's token is revoked (db_guard): 401 */
    DB_UNKNOWN_ZONE,    /* a task's time zone is not one the database knows: 422 */
    DB_ERROR,           /* anything else: 500, cause logged */
};

struct db;

/*
 * statement_timeout_ms > 0 is set on each new connection (unless prepare is
 * off: behind PgBouncer in transaction mode a SET would leak to other
 * clients; set it on the role there).
 */
struct db *db_open(const char *conninfo, int prepare, long statement_timeout_ms);
void db_close(struct db *db);                       /* accepts NULL */

/* Opens the connection now if it is not open; for start-up. */
enum db_status db_connect(struct db *db);
enum db_status db_ping(struct db *db);
/* Whether the connection is open now (no round trip). */
int db_is_up(const struct db *db);

enum db_status db_begin(struct db *db);
enum db_status db_commit(struct db *db);
void db_rollback(struct db *db);                    /* no-op outside one */


/* One page of q: *n tasks, *total matching in all, *more when a next page
 * has any (db_list.c). */
enum db_status db_task_list(struct db *db, struct pool *p,
                            const struct task_query *q, struct task **out,
                            size_t *n, int64_t *total, int *more);
/* The plan of q's listing statement as PostgreSQL runs it once prepared
 * (generic), from EXPLAIN (ANALYZE, FORMAT JSON); NULL on failure. */
char *db_task_list_explain(struct db *db, struct pool *p, const struct task_query *q);
/* lock: SELECT ... FOR UPDATE, inside a transaction. */
enum db_status db_task_get(struct db *db, struct pool *p, const char *user_id,
                           int64_t id, int lock, struct task *out);
/* Inserts t (user, fields), and the user's row if it has none; fills id,
 * timestamps and version. */
enum db_status db_task_insert(struct db *db, struct pool *p, struct task *t);

/*
 * A POST's Idempotency-Key (schema/009_idempotency.sql): whose it is (the
 * token's user), the key, and the fingerprint of the request (idem.h).
 */
struct idem_key {
    const char *user;
    const char *key;
    const char *fingerprint;
};

/* What a request found when it took its key. */
enum idem_state {
    IDEM_NEW,           /* no answer stored: the request runs */
    IDEM_BUSY,          /* another request holds the key: 409 */
    IDEM_DONE,          /* this request's answer is stored: send it again */
    IDEM_OTHER,         /* another request's answer is stored: 422 */
};

/* An answer as stored; the strings belong to the pool. */
struct idem_answer {
    int status;
    const char *headers;        /* "Name: value\r\n" lines */
    const char *body;
    size_t body_len;
};

/*
 * db_task_insert() under an Idempotency-Key, in one round trip that opens a
 * transaction: takes k without waiting and, when no answer is stored for it
 * within 24 hours, inserts t.  *state says which it found; IDEM_DONE fills
 * *ans.  On IDEM_NEW the transaction stays open, for db_idem_store() to
 * store the answer with the task and commit (db_rollback() drops both);
 * otherwise it has ended, having written nothing.
 */
enum db_status db_task_insert_keyed(struct db *db, struct pool *p, struct task *t,
                                    const struct idem_key *k,
                                    enum idem_state *state, struct idem_answer *ans);
/* Stores ans as the answer to the request that took k (IDEM_NEW), then
 * commits, in one round trip (db_idem.c). */
enum db_status db_idem_store(struct db *db, struct pool *p, const struct idem_key *k,
                             const struct idem_answer *ans);
/* Writes every field of t and bumps its version; t gets the new row.  A
 * new due date or recurrence starts its series again. */
enum db_status db_task_update(struct db *db, struct pool *p, struct task *t);

/*
 * A partial update of one task, as one statement.  versions (n of them) are
 * those an If-Match accepts; NULL: any.
 */
struct task_change {
    const struct task *in;      /* the new values of the fields present names */
    unsigned present;           /* TF_* bits */
    int toggle;                 /* flip completed (TF_COMPLETED not present) */
    const int64_t *versions;
    size_t nversions;
};

/*
 * Locks the task, and updates it (bumping its version) only when its version
 * is accepted, the change keeps a recurrence's due date, the new row differs
 * from the old, and it does not complete a recurring task not yet spawned
 * (that needs a new task: the caller's transaction).  *old gets the row as it
 * was; *written says whether it was updated, and then *now gets the new row.
 * DB_NOT_FOUND: no such task for this user.
 */
enum db_status db_task_change(struct db *db, struct pool *p, const char *user_id,
                              int64_t id, const struct task_change *c,
                              struct task *old, struct task *now, int *written);
/*
 * Writes every field of t, a recurring task becoming completed, marks it
 * spawned and inserts its next occurrence (t's fields, pending, due one
 * period later in the task's calendar: schema/008_calendar.sql), in one
 * statement; only while the row is still at version seen and not spawned.
 * t gets the new row, *next_id the new task's id, or 0 when the next due
 * date would pass year 9999 (the series ends).  DB_NOT_FOUND: the task is
 * gone or was changed since it was read.
 */
enum db_status db_task_spawn(struct db *db, struct pool *p, struct task *t,
                             int64_t seen, int64_t *next_id);
enum db_status db_task_delete(struct db *db, const char *user_id, int64_t id);
/* Deletes the task when its version is one of versions (NULL: any); *deleted
 * says whether it did.  DB_NOT_FOUND: no such task for this user. */
enum db_status db_task_delete_if(struct db *db, struct pool *p,
                                 const char *user_id, int64_t id,
                                 const int64_t *versions, size_t nversions,
                                 int *deleted);

/* ---------------------------------------------------- users (db_auth.c) */

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
 * The request's token (jti and sid, either may be NULL) must not be
 * revoked: the check goes with the next statement, in the same round trip
 * and transaction, before it (a statement of a revoked token's request
 * never runs and returns DB_REVOKED).  db_guard_check() runs a check that
 * no statement took, alone; DB_OK when there is none.  The strings must
 * live until then.
 */
void db_guard(struct db *db, const char *jti, const char *sid);
enum db_status db_guard_check(struct db *db);

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

/* Deletes a bounded batch of expired sessions, refresh and revoked tokens,
 * old login failures, deleted tasks' traces and idempotency keys' answers;
 * *removed: how many rows went. */
enum db_status db_housekeep(struct db *db, long *removed);

/*
 * Better Auth's jwks table: *exists says whether there is one; ids[i] and
 * keys[i] (a JWK as JSON text) are its rows, owned by p.
 */
enum db_status db_jwks_list(struct db *db, struct pool *p, int *exists,
                            const char ***ids, const char ***keys, size_t *n);

/* Applies dir's NNN_*.sql files not yet applied; progress on stdout. */
int db_migrate(const char *conninfo, const char *dir);

#endif
