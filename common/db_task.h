/*
 * db_task: reading and writing one user's tasks, a row at a time (the
 * listing is db_list.h; a create under an Idempotency-Key, db_idem.h).
 * Tasks read point into results that belong to the given pool; a task
 * written gets the row as the database holds it.
 */
#ifndef TODO_DB_TASK_H
#define TODO_DB_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "pool.h"
#include "task.h"

/* lock: SELECT ... FOR UPDATE, inside a transaction. */
enum db_status db_task_get(struct db *db, struct pool *p, const char *user_id,
                           int64_t id, int lock, struct task *out);
/* Inserts t (user, fields), and the user's row if it has none; fills id,
 * timestamps and version. */
enum db_status db_task_insert(struct db *db, struct pool *p, struct task *t);

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

#endif
