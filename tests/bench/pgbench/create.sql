-- The create scenario's ceiling: one insert, the row returned.
\set u random(1, 100)
INSERT INTO tasks (user_id, title, tags) VALUES ('b' || :u, 'bench task', '{bench}') RETURNING *;
