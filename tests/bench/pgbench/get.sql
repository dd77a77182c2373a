-- The get scenario's ceiling: one task by its key.
\set u random(1, 100)
\set k random(1, 100)
SELECT * FROM tasks WHERE user_id = 'b' || :u AND id = (:u - 1) * 100 + :k;
