/*
 * task: the task record, its input, the rule of a change, and its JSON form.
 *
 * task_read() reads a body as API.md's task table declares it (the table
 * is in task.c, read by the input engine, input.h) into a struct
 * task_patch: the fields present (TF_* bits) and their values, typed.
 * Nothing is coerced.  Strings are trimmed where API.md says so and counted
 * in code points.  recurring_interval, which some front ends send, is read
 * as recurrence when that is absent.  A timezone is checked for its type
 * only: which names exist only the database knows, and a write of one it
 * does not fails (DB_UNKNOWN_ZONE; task_zone_unknown() words the error).
 * task_read_complete() reads the body of PATCH .../complete the same way.
 * Strings a patch points to belong to the pool or to the parsed JSON (itself
 * pool-owned).
 *
 * task_apply() is the whole decision of a change, and pure: the new state of
 * a task, whether it breaks the rule that spans fields (a recurrence needs a
 * due date), whether anything changes, and whether completing it makes its
 * next occurrence due.  A create applies its body to task_defaults().
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
     * knows (schema/008_calendar.sql), so task_read() checks the type. */
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

/*
 * A change a request asks for: the fields present names (TF_* bits) take
 * their values from set; toggle flips completed (then TF_COMPLETED is not
 * present).  Fields present names may still be invalid: task_read() adds
 * their errors.
 */
struct task_patch {
    unsigned present;
    int toggle;
    struct task set;
};

/* What applying a patch to a task comes to. */
enum task_outcome {
    TASK_INVALID,       /* the new state breaks a rule: errors added */
    TASK_SAME,          /* nothing a client sees changes */
    TASK_CHANGED,       /* the new state is to be written */
    TASK_NEXT,          /* and it completes a recurring task: the next
                         * occurrence is due (not for a create) */
};

/* A task with API.md's defaults. */
void task_defaults(struct task *t);
/*
 * Reads a task body (a JSON value; NULL: none was sent, "missing") into *pt;
 * returns the number of errors added (a body that is not an object is one).
 * A field of required (TF_* bits) that is absent is "missing", after the
 * errors of the fields sent.
 */
int task_read(struct pool *p, json_object *body, unsigned required,
              struct task_patch *pt, json_object *errs);
/* The body of PATCH .../complete: none, or an object without "completed",
 * toggles; {"completed": bool} sets it.  Returns the errors added. */
int task_read_complete(struct pool *p, json_object *body, struct task_patch *pt,
                       json_object *errs);
/* old with pt applied, into *out (strings shared, not copied); errors at
 * ["body", field] for TASK_INVALID, named by what pt set. */
enum task_outcome task_apply(const struct task *old, const struct task_patch *pt,
                             struct task *out, json_object *errs);
void task_write(struct buf *b, const struct task *t);
/* Adds the validation error of a time zone name the database refused. */
void task_zone_unknown(json_object *errs, const char *zone);

#endif
