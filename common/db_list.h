/*
 * db_list: one user's listing of tasks, one statement per request whose plan
 * fits the query (db_list.c says how).  The tasks point into results that
 * belong to the given pool.
 */
#ifndef TODO_DB_LIST_H
#define TODO_DB_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "pool.h"
#include "query.h"
#include "task.h"

/* One page of q: *n tasks, *total matching in all, *more when a next page
 * has any. */
enum db_status db_task_list(struct db *db, struct pool *p,
                            const struct task_query *q, struct task **out,
                            size_t *n, int64_t *total, int *more);
/* The plan of q's listing statement as PostgreSQL runs it once prepared
 * (generic), from EXPLAIN (ANALYZE, FORMAT JSON); NULL on failure. */
char *db_task_list_explain(struct db *db, struct pool *p, const struct task_query *q);

#endif
