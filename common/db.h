/*
 * db: the worker's one PostgreSQL connection and every statement it runs.
 *
 * struct db is opaque: handlers never see libpq.  db_open() only records the
 * settings; the connection is opened on first use and re-opened (at most
 * every DB_RETRY_MS) after it is lost, so a worker outlives a database
 * restart.  Statements are prepared once per connection unless DB_PREPARE is
 * off (PgBouncer in transaction mode), and all take bound parameters.  A
 * statement that fails because the connection dropped is retried once on a
 * new connection when no transaction is open.
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
    DB_ERROR,           /* anything else: 500, cause logged */
};

struct db;

struct db *db_open(const char *conninfo, int prepare);
void db_close(struct db *db);                       /* accepts NULL */

/* Opens the connection now if it is not open; for start-up. */
enum db_status db_connect(struct db *db);
enum db_status db_ping(struct db *db);

enum db_status db_begin(struct db *db);
enum db_status db_commit(struct db *db);
void db_rollback(struct db *db);                    /* no-op outside one */

/* Creates the user row if it does not exist (external users' first write). */
enum db_status db_user_ensure(struct db *db, const char *user_id);

enum db_status db_task_list(struct db *db, struct pool *p,
                            const struct task_query *q, struct task **out,
                            size_t *n, int64_t *total);
/* lock: SELECT ... FOR UPDATE, inside a transaction. */
enum db_status db_task_get(struct db *db, struct pool *p, const char *user_id,
                           int64_t id, int lock, struct task *out);
/* Inserts t (user, fields); fills id, timestamps and version. */
enum db_status db_task_insert(struct db *db, struct pool *p, struct task *t);
/* Writes every field of t and bumps its version; t gets the new row. */
enum db_status db_task_update(struct db *db, struct pool *p, struct task *t);
enum db_status db_task_delete(struct db *db, const char *user_id, int64_t id);

/* Applies dir's NNN_*.sql files not yet applied; progress on stdout. */
int db_migrate(const char *conninfo, const char *dir);

#endif
