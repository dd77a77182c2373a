/*
 * db_idem.c: the idempotency_keys table (schema/009): the answers to POSTs
 * sent with an Idempotency-Key.  A key is taken, and its stored answer
 * read, by the statement that creates the task (db_task_insert_keyed); its
 * answer is stored here, in the same transaction.  Workers delete rows a
 * day old (db_housekeep).
 */
#include "db_idem.h"
#include "db_priv.h"

/* A row a day old may still be here (housekeeping runs now and then): it
 * is no answer any more (todo_idempotency_claim), and the new one replaces
 * it.  No fresher row can exist: the key's lock was held since the claim
 * looked. */
static struct db_stmt idem_store = {
    "idem_store",
    "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, headers, body)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, key) DO UPDATE SET"
    " fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,"
    " headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = now()",
    0, 0,
};

enum db_status db_idem_store(struct db *db, struct pool *p, const struct idem_key *k,
                             const struct idem_answer *ans)
{
    const char *vals[] = {
        k->user, k->key, k->fingerprint, pool_printf(p, "%d", ans->status),
        ans->headers, ans->body,
    };

    return db_cmd_commit(db, &idem_store, 6, vals);
}
