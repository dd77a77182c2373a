-- Rows that outlived their use go: each worker deletes a bounded batch of
-- them when it starts and every 1,000 requests (common/db_auth.c,
-- db_housekeep), so no cron job is needed.  These indexes find them.
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);
CREATE INDEX login_failures_by_time ON login_failures (failed_at);
