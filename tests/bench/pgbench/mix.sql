-- The mix scenario's ceiling: 40% list, 40% get, 10% create, 10% update.
\set u random(1, 100)
\set k random(1, 100)
\set r random(1, 10)
\if :r <= 4
SELECT * FROM tasks WHERE user_id = 'b' || :u ORDER BY created_at DESC, id DESC LIMIT 20;
\elif :r <= 8
SELECT * FROM tasks WHERE user_id = 'b' || :u AND id = (:u - 1) * 100 + :k;
\elif :r = 9
INSERT INTO tasks (user_id, title, tags) VALUES ('b' || :u, 'bench task', '{bench}') RETURNING *;
\else
UPDATE tasks SET title = 'renamed ' || :k, updated_at = now()
 WHERE user_id = 'b' || :u AND id = (:u - 1) * 100 + :k RETURNING *;
\endif
