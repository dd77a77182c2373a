-- The list scenario's ceiling: one user's newest page, by the index.
\set u random(1, 100)
SELECT * FROM tasks WHERE user_id = 'b' || :u ORDER BY created_at DESC, id DESC LIMIT 20;
