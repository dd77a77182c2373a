-- Idempotency-Key (API.md, "Retrying safely"): the answer to the first
-- POST /api/{user_id}/tasks sent with a key is stored here, in the
-- transaction that creates the task (common/db_task.c, common/db_idem.c), so
-- that a retry of it within a day gets the same answer and creates nothing.
--
-- * user_id: the token's user, not the path's (an admin's keys are the
--   admin's): keys of different users never meet.
-- * fingerprint: hex SHA-256 of the request's method, path and body bytes
--   (common/idem.c); the same key with another request is a 422.
-- * status, headers, body: the answer as it was sent; headers holds its
--   "Name: value" lines (Location, ETag), each ended by CR LF.
--
-- A row exists only for an answer given, and only a success is one (a 5xx
-- rolls back with the task; an answer given before anything ran, such as a
-- 422, is given again by the retry itself).  "Still being answered" is no
-- row: it is the transaction-level advisory lock todo_idempotency_claim()
-- takes, which ends with the transaction however it ends, so a worker that
-- dies leaves no key stuck "in progress".  Workers delete rows older than a
-- day (db_housekeep).
CREATE TABLE idempotency_keys (
    user_id     text NOT NULL CHECK (octet_length(user_id) BETWEEN 1 AND 255),
    key         text NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
    fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    status      smallint NOT NULL CHECK (status BETWEEN 200 AND 299),
    headers     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);

-- Takes the key (p_user, p_key) for the calling transaction, without
-- waiting, and returns one row: busy when another transaction holds it (its
-- request is still being answered); else the answer stored for the key
-- within the last 24 hours, or NULLs when there is none.  The lookup is a
-- statement of its own, after the lock: in READ COMMITTED it takes a new
-- snapshot, so it sees the answer of a request that committed just before
-- the lock was free; the caller's statement may have started earlier.
-- The lock's key: the key has no line break (visible ASCII only), so
-- key, newline, user names one pair.
CREATE FUNCTION todo_idempotency_claim(p_user text, p_key text,
                                       OUT busy boolean, OUT fingerprint text,
                                       OUT status smallint, OUT headers text,
                                       OUT body text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    busy := NOT pg_try_advisory_xact_lock(
        hashtextextended('todo-idem:' || p_key || E'\n' || p_user, 0));
    IF NOT busy THEN
        SELECT k.fingerprint, k.status, k.headers, k.body
          INTO fingerprint, status, headers, body
          FROM idempotency_keys k
         WHERE k.user_id = p_user AND k.key = p_key
           AND k.created_at > now() - interval '24 hours';
    END IF;
END
$$;
