-- A DELETE sent again after its answer was lost (by the client, or by the
-- worker itself on a new connection) answers 204 as the first one did, not
-- 404: each deleted task leaves its id, owner and last version here for a
-- day (common/db_task.c); workers remove older rows (db_housekeep).
CREATE TABLE deleted_tasks (
    id          bigint PRIMARY KEY,
    user_id     text NOT NULL,
    version     bigint NOT NULL,
    deleted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deleted_tasks_by_time ON deleted_tasks (deleted_at);
