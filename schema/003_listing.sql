-- What makes a listing cost the same for a user with 100 tasks and one with
-- 100,000 (issue 9; DESIGN.md, "Each request"):
--
-- * task_counts and tag_counts: each user's number of tasks by priority and
--   state, and by tag and state, kept by triggers in the statement that
--   inserts, deletes or changes a task, so X-Total-Count for status, priority
--   or one tag reads a few rows, not the tasks.  Tables of their own, keyed
--   by user_id like tasks, not columns of users (a Citus reference table,
--   written on every node).
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

-- Counts by what a listing may filter on without reading rows: priority and
-- state, and each tag with state.  A total is the sum of a few rows.
CREATE TABLE task_counts (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    priority    task_priority NOT NULL,
    completed   boolean NOT NULL,
    n           bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (user_id, priority, completed)
);
CREATE TABLE tag_counts (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tag         text NOT NULL,
    completed   boolean NOT NULL,
    n           bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (user_id, tag, completed)
);

INSERT INTO task_counts (user_id, priority, completed, n)
SELECT user_id, priority, completed, count(*) FROM tasks GROUP BY 1, 2, 3;
INSERT INTO tag_counts (user_id, tag, completed, n)
SELECT user_id, tag, completed, count(*)
FROM (SELECT DISTINCT user_id, id, completed, unnest(tags) AS tag FROM tasks) t
GROUP BY 1, 2, 3;

-- A task leaves the counts of its old values and joins those of its new
-- ones.  A tag given twice counts once, as tags @> counts it.  Leaving only
-- updates: when a user is deleted, the cascade may have taken the rows.
CREATE FUNCTION task_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE task_counts SET n = n - 1
        WHERE user_id = OLD.user_id AND priority = OLD.priority AND completed = OLD.completed;
        UPDATE tag_counts SET n = n - 1
        WHERE user_id = OLD.user_id AND completed = OLD.completed AND tag = ANY (OLD.tags);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO task_counts AS c (user_id, priority, completed, n)
        VALUES (NEW.user_id, NEW.priority, NEW.completed, 1)
        ON CONFLICT (user_id, priority, completed) DO UPDATE SET n = c.n + 1;
        INSERT INTO tag_counts AS c (user_id, tag, completed, n)
        SELECT DISTINCT NEW.user_id, tag, NEW.completed, 1 FROM unnest(NEW.tags) tag
        ON CONFLICT (user_id, tag, completed) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counts_keep();
CREATE TRIGGER tasks_count_change AFTER UPDATE OF priority, completed, tags ON tasks
    FOR EACH ROW WHEN ((OLD.priority, OLD.completed, OLD.tags)
                       IS DISTINCT FROM (NEW.priority, NEW.completed, NEW.tags))
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
