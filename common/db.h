/*
 * db: the worker's one PostgreSQL connection, its transactions, and what
 * concerns the whole database (migrations, housekeeping).  The statements of
 * each table are declared in its own header: db_task.h, db_list.h (the
 * listing), db_idem.h (Idempotency-Key answers), db_auth.h (users, sessions,
 * tokens, logins, Better Auth's keys).
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
 * opens with the first and commits with the second (db_idem.h).
 *
 * Every function returns an enum db_status.  Rows read from the database
 * point into results that belong to the given pool.
 */
#ifndef TODO_DB_H
#define TODO_DB_H

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
 * clients; each transaction sets its own there).
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

/* Deletes a bounded batch of expired sessions, refresh and revoked tokens,
 * old login failures, deleted tasks' traces and idempotency keys' answers;
 * *removed: how many rows went. */
enum db_status db_housekeep(struct db *db, long *removed);

/* Applies dir's NNN_*.sql files not yet applied, on a connection of its own;
 * progress on stdout (db_migrate.c). */
int db_migrate(const char *conninfo, const char *dir);

#endif
