/*
 * db_idem: the answers to POSTs sent with an Idempotency-Key
 * (schema/009_idempotency.sql), kept a day.  A create under a key is two
 * round trips in one transaction: db_task_insert_keyed() takes the key and
 * inserts the task, db_idem_store() stores the answer and commits.  Strings
 * read belong to the given pool.
 */
#ifndef TODO_DB_IDEM_H
#define TODO_DB_IDEM_H

#include <stddef.h>

#include "db.h"
#include "pool.h"
#include "task.h"

/* A POST's Idempotency-Key: whose it is (the token's user), the key, and
 * the fingerprint of the request (idem.h). */
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
 * otherwise it has ended, having written nothing.  (db_task.c: it is the
 * tasks table's insert.)
 */
enum db_status db_task_insert_keyed(struct db *db, struct pool *p, struct task *t,
                                    const struct idem_key *k,
                                    enum idem_state *state, struct idem_answer *ans);
/* Stores ans as the answer to the request that took k (IDEM_NEW), then
 * commits, in one round trip. */
enum db_status db_idem_store(struct db *db, struct pool *p, const struct idem_key *k,
                             const struct idem_answer *ans);

#endif
