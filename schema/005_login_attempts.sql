-- The login throttle (API.md: after 5 failed logins for one e-mail within 15
-- minutes, 429) as one atomic step: an attempt is counted and recorded while
-- an advisory lock on the e-mail is held, before the password is checked
-- (cgi/auth.c); a success takes its own record back.  Counting, checking and
-- recording as separate steps let 6 of 20 parallel wrong logins through.
CREATE FUNCTION todo_login_attempt(p_email text, p_max int,
                                   OUT allowed boolean, OUT retry_after bigint,
                                   OUT attempt timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('todo-login:' || lower(p_email)));
    DELETE FROM login_failures
     WHERE email = lower(p_email) AND failed_at <= now() - interval '15 minutes';
    SELECT count(*), coalesce(ceil(extract(epoch FROM min(failed_at)
                                   + interval '15 minutes' - now())), 0)::bigint
      INTO n, retry_after
      FROM login_failures WHERE email = lower(p_email);
    allowed := n < p_max;
    IF allowed THEN
        INSERT INTO login_failures (email) VALUES (lower(p_email))
        RETURNING failed_at INTO attempt;
    END IF;
END
$$;
