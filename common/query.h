/*
 * query: the listing's query string, as API.md's Listing table declares it.
 *
 * task_query_parse() reads a raw query string into a struct task_query
 * through the input engine (input.h), by the table in query.c: every known
 * parameter and alias (sort_by, sort_order, search, status_filter,
 * completed, tags, priority_filter, tags_filter, due_date_from, due_date_to)
 * and the cursor; unknown parameters are ignored, and a known one with a bad
 * value adds a validation error at ["query", name].  A parameter given twice
 * keeps its last good value, except the filter tags, which add up (those of
 * tags, then those of tag).  Strings in q point into the pool.
 */
#ifndef TODO_QUERY_H
#define TODO_QUERY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "task.h"

#define QUERY_LIMIT_DEFAULT 100
#define QUERY_LIMIT_MAX 1000
#define QUERY_Q_MAX 200

enum task_sort { SORT_CREATED, SORT_UPDATED, SORT_TITLE, SORT_DUE_DATE,
                 SORT_PRIORITY };

struct task_query {
    const char *user_id;
    int status;                 /* -1 all, 0 pending, 1 completed */
    enum task_sort sort;
    int desc;
    const char *q;              /* NULL: no search */
    int has_priority;
    enum priority priority;
    const char **tags;
    size_t ntags;
    int has_before, has_after;
    int64_t before, after;
    int64_t limit, offset;
    /* A cursor (Link rel="next"): the page starts after the task whose sort
     * key is key_i / key_s (title) / none (due date null) and id is after_id;
     * its sort and order are the query's.  offset is 0 with it. */
    int has_cursor;
    int64_t after_id;
    int64_t key_i;
    const char *key_s;
    int key_null;
};

/* Returns the number of errors added to errs. */
int task_query_parse(struct pool *p, const char *raw, struct task_query *q,
                     json_object *errs);

/*
 * The cursor that starts the page after t in q's sort and order: opaque,
 * base64url.  task_query_parse() reads it back.
 */
char *query_cursor(struct pool *p, const struct task_query *q, const struct task *t);
/*
 * The raw query with offset and cursor replaced by cursor=cursor, for a
 * next-page link; other parameters keep their original encoding.
 */
char *query_with_cursor(struct pool *p, const char *raw, const char *cursor);

#endif
