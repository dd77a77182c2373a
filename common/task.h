/*
 * task: the task record, its JSON form, and the validation of client input.
 *
 * task_parse() is the declared input contract of API.md's task table: it
 * reads the members of a JSON object that are present into a struct task,
 * records which in *present (TF_* bits), and appends a FastAPI validation
 * error to errs for each bad one.  Nothing is coerced.  Strings are trimmed
 * where API.md says so and counted in code points.  recurring_interval,
 * which some front ends send, is read as recurrence when that is absent.  A
 * timezone is checked for its type only: which names exist only the
 * database knows, and a write of one it does not fails (DB_UNKNOWN_ZONE;
 * task_zone_unknown() words the error).  task_check() applies the rules
 * that span fields (a recurrence needs a due date).  Strings a parsed task
 * points to belong to the pool or to the parsed JSON (itself pool-owned).
 *
 * task_write() appends the task's JSON form to a buffer, the same bytes
 * json-c wrote for it (keys in API.md's order, no spaces, '/' unescaped).
 */
#ifndef TODO_TASK_H
#define TODO_TASK_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pool.h"

#define TASK_TITLE_MAX 200
#define TASK_DESCRIPTION_MAX 1000
#define TASK_TAGS_MAX 20
#define TASK_TAG_MAX 50

enum priority { PRIORITY_LOW, PRIORITY_MEDIUM, PRIORITY_HIGH };
enum recurrence { RECUR_NONE, RECUR_DAILY, RECUR_WEEKLY, RECUR_MONTHLY, RECUR_YEARLY };

enum task_field {
    TF_TITLE = 1 << 0,
    TF_DESCRIPTION = 1 << 1,
    TF_COMPLETED = 1 << 2,
    TF_PRIORITY = 1 << 3,
    TF_TAGS = 1 << 4,
    TF_DUE_DATE = 1 << 5,
    TF_RECURRENCE = 1 << 6,
    TF_TIMEZONE = 1 << 7,
};

struct task {
    int64_t id;
    const char *user_id;
    const char *title;
    const char *description;    /* NULL: null */
    int completed;
    enum priority priority;
    const char **tags;
    size_t ntags;
    int has_due;
    int64_t due;                /* microseconds, UTC */
    /* The offset, in seconds east of UTC, a client wrote due with: input
     * only (the stored one stays in the database, which steps a series on
     * it; a task read back has 0). */
    int due_offset;
    enum recurrence recurrence;
    /* NULL: null.  An IANA name; which names exist only the database
     * knows (schema/008_calendar.sql), so task_parse() checks the type. */
    const char *timezone;
    int64_t created;
    int64_t updated;
    int64_t version;
    int spawned;                /* a next occurrence was already created */
};

extern const char *const priority_names[];     /* "low", "medium", "high" */
extern const char *const recurrence_names[];   /* NULL, "daily", ... */

int priority_parse(const char *s, enum priority *out);     /* 0 / -1 */
int recurrence_parse(const char *s, enum recurrence *out); /* 0 / -1 */

/* A task with API.md's defaults. */
void task_defaults(struct task *t);
/* Returns the number of errors added. */
int task_parse(struct pool *p, json_object *body, struct task *t,
               unsigned *present, json_object *errs);
/* Copies the fields of src that present names (TF_* bits) into t: a
 * partial update applied to a stored task.  Strings are shared, not copied. */
void task_merge(struct task *t, const struct task *src, unsigned present);
/* Cross-field rules on the final state; present says what the body set. */
int task_check(const struct task *t, unsigned present, json_object *errs);
void task_write(struct buf *b, const struct task *t);
/* Adds the validation error of a time zone name the database refused. */
void task_zone_unknown(json_object *errs, const char *zone);

#endif
