-- The update scenario's ceiling: one row's title, the row returned.
\set u random(1, 100)
\set k random(1, 100)
UPDATE tasks SET title = 'renamed ' || :k, updated_at = now()
 WHERE user_id = 'b' || :u AND id = (:u - 1) * 100 + :k RETURNING *;
