-- A request with a token this server issued (it has a jti or sid) must see
-- that the token is not revoked.  That check now travels in the same round
-- trip as the request's first statement: both go in one pipeline, in one
-- transaction, the check first (common/db.c, db_guard).  So it raises an
-- error, SQLSTATE TD401, when the token is revoked: the pipeline's other
-- statement is then skipped, and a write never happens.
CREATE FUNCTION todo_not_revoked(p_jti text, p_sid text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = p_jti)
       OR EXISTS (SELECT 1 FROM sessions WHERE id = p_sid AND revoked_at IS NOT NULL) THEN
        RAISE EXCEPTION 'token revoked' USING ERRCODE = 'TD401';
    END IF;
    RETURN true;
END
$$;
