/*
 * db_priv.h: what the db*.c files share, and nothing else includes.
 *
 * Each db_<table>.c keeps its statements as struct db_stmt and runs them
 * with db_run(), which connects when needed, prepares a statement on first
 * use on each connection (unless DB_PREPARE is off), sends an idempotent
 * statement again once on a new connection when the old one was lost, and
 * maps the SQLSTATE of a failure to an enum db_status.
 */
#ifndef TODO_DB_PRIV_H
#define TODO_DB_PRIV_H

#include <libpq-fe.h>
#include <stdint.h>

#include "db.h"
#include "pool.h"
#include "task.h"

struct db_stmt {
    const char *name;       /* prepared statement name, unique */
    const char *sql;
    int flags;              /* DB_IDEMPOTENT, DB_REPLAN, DB_BINARY */
    unsigned id;            /* its bit in each connection's set of prepared
                             * statements, given on first use; 0: none yet */
};

/* Safe to send again on a new connection (1, as the tables write it). */
#define DB_IDEMPOTENT 1
/* Never prepared: planned for each run's values (a filter whose selectivity
 * depends on the value, such as a rare or a common word). */
#define DB_REPLAN 2
/* Results in binary form (libpq's resultFormat 1): for TASK_COLS. */
#define DB_BINARY 4

/*
 * Runs s with n text parameters (NULL is SQL NULL).  Returns the result,
 * owned by p (or by the caller when p is NULL), or NULL with *st set; want
 * is the PGRES_* status that means success.
 */
PGresult *db_run(struct db *db, struct pool *p, struct db_stmt *s, int n,
                 const char *const *vals, ExecStatusType want,
                 enum db_status *st);
/* db_run() for a statement that returns no rows. */
enum db_status db_cmd(struct db *db, struct db_stmt *s, int n,
                      const char *const *vals);
/*
 * db_run() for the first statement of a transaction, with BEGIN in the same
 * round trip (and the revocation check after it): when s succeeds the
 * transaction stays open for the caller to end (db_cmd_commit(),
 * db_commit(), db_rollback()); when it fails it is rolled back.
 */
PGresult *db_run_begin(struct db *db, struct pool *p, struct db_stmt *s, int n,
                       const char *const *vals, ExecStatusType want,
                       enum db_status *st);
/* db_cmd() for the last statement of a transaction, with COMMIT in the same
 * round trip; the transaction is rolled back when either fails. */
enum db_status db_cmd_commit(struct db *db, struct db_stmt *s, int n,
                             const char *const *vals);

/* The columns every task statement returns, in db_task_row()'s order, as
 * they are stored: the statement is DB_BINARY, so PostgreSQL formats
 * nothing (timestamps come as integers, tags as an array of strings). */
#define TASK_COLS                                                          \
    "id, user_id, title, description, completed, priority, tags, "        \
    "due_date, recurrence, created_at, updated_at, version, spawned, "    \
    "timezone"
#define TASK_NCOLS 14

/* Reads row i of a DB_BINARY TASK_COLS result into t; strings point into
 * res, tags into p. */
void db_task_row(struct pool *p, PGresult *res, int i, struct task *t);

/* The revocation check db_guard() sets up (db_auth.c). */
extern struct db_stmt db_guard_stmt;

/* The open connection, for what db_run() does not do (EXPLAIN). */
PGconn *db_conn(struct db *db);
/* A new connection to conninfo (read-write: see db.c), NULL only when out
 * of memory; and libpq's message about c as one line (a static buffer). */
PGconn *db_connect_now(const char *conninfo);
const char *db_pq_msg(PGconn *c);

int64_t db_i64(const char *s);
/* Binary results: a big-endian integer; a timestamp as Unix microseconds. */
uint32_t db_be32(const char *s);
int64_t db_be64(const char *s);
int64_t db_time(const char *s);
/* A text[] parameter: a PostgreSQL array literal of the strings. */
const char *db_array_param(struct pool *p, const char *const *v, size_t n);
/* A timestamp parameter, or NULL when !has. */
const char *db_time_param(struct pool *p, int has, int64_t us);

#endif
