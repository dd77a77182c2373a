-- What makes a listing cost the same for a user with 100 tasks and one with
-- 100,000 (issue 9; DESIGN.md, "Each request"):
--
-- * task_counts: each user's number of tasks and of completed ones, kept by
--   triggers in the statement that inserts, deletes or (un)completes a task,
--   so X-Total-Count for status=all|pending|completed reads one row.  A table
--   of its own, keyed by user_id like tasks, not columns of users (a Citus
--   reference table, written on every node).
-- * Keyset pages: every sort key, due dates included, is one ordered value,
--   so "after the last row" is a row comparison an index serves.  Tasks
--   without a due date sort last in both directions: the key is the due date
--   or +/- infinity.
-- * Search and tags by index, within the user: GIN indexes led by user_id
--   (btree_gin), trigrams (pg_trgm) of the ICU-lowered title and description.
--   Both extensions ship with PostgreSQL and are trusted (PostgreSQL 13+):
--   the database's owner may create them.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE task_counts (
    user_id     text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    total       bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
    completed   bigint NOT NULL DEFAULT 0 CHECK (completed BETWEEN 0 AND total)
);

INSERT INTO task_counts (user_id, total, completed)
SELECT user_id, count(*), count(*) FILTER (WHERE completed)
FROM tasks GROUP BY user_id;

CREATE FUNCTION task_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_counts AS c (user_id, total, completed)
        VALUES (NEW.user_id, 1, NEW.completed::int)
        ON CONFLICT (user_id) DO UPDATE
            SET total = c.total + 1, completed = c.completed + EXCLUDED.completed;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE task_counts SET total = total - 1, completed = completed - OLD.completed::int
        WHERE user_id = OLD.user_id;
    ELSE
        UPDATE task_counts SET completed = completed + NEW.completed::int - OLD.completed::int
        WHERE user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counts_keep();
CREATE TRIGGER tasks_count_completed AFTER UPDATE OF completed ON tasks
    FOR EACH ROW WHEN (OLD.completed IS DISTINCT FROM NEW.completed)
    EXECUTE FUNCTION task_counts_keep();

DROP INDEX tasks_by_due_asc;
DROP INDEX tasks_by_due_desc;
CREATE INDEX tasks_by_due_asc ON tasks (user_id, coalesce(due_date, 'infinity'), id);
CREATE INDEX tasks_by_due_desc ON tasks (user_id, coalesce(due_date, '-infinity'), id);

DROP INDEX tasks_by_tags;
CREATE INDEX tasks_by_tags ON tasks USING gin (user_id, tags);
CREATE INDEX tasks_search_title ON tasks
    USING gin (user_id, lower(title COLLATE "und-x-icu") gin_trgm_ops);
CREATE INDEX tasks_search_description ON tasks
    USING gin (user_id, lower(description COLLATE "und-x-icu") gin_trgm_ops);
