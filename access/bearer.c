/*
 * bearer.c: the bearer-token check of a request (bearer.h).
 */
#include "bearer.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/config.h"
#include "../common/db.h"
#include "../common/log.h"
#include "keyring.h"

int bearer_check(struct req *r, enum route_auth auth)
{
    struct jwt_identity *id;
    const char *h = r->authorization, *token;
    enum jwt_status st;

    if (h == NULL || strncasecmp(h, "bearer ", 7) != 0)
        return http_unauthorized(r, DETAIL_NOT_AUTH, 0);
    for (token = h + 7; *token == ' '; token++)
        ;
    if (*token == '\0')
        return http_unauthorized(r, DETAIL_NOT_AUTH, 0);
    id = pool_alloc(r->pool, sizeof *id);
    /* Better Auth's keys: read on first use, again for a kid we lack. */
    keyring_refresh(r->ctx->keys, r->ctx->db, 0);
    st = jwt_verify(&r->ctx->cfg->jwt, token, time(NULL), id);
    if (st == JWT_UNKNOWN_KID && keyring_refresh(r->ctx->keys, r->ctx->db, 1))
        st = jwt_verify(&r->ctx->cfg->jwt, token, time(NULL), id);
    if (st != JWT_OK) {
        log_warn("auth: %s token", st == JWT_EXPIRED ? "expired" : "invalid");
        return http_unauthorized(r, st == JWT_EXPIRED ? DETAIL_EXPIRED
                                                   : DETAIL_INVALID_TOKEN, 1);
    }
    /* Tokens this server issued can be revoked: the check goes with the
     * request's first statement (or alone, when the dispatcher finds no
     * statement took it). */
    db_guard(r->ctx->db, id->jti[0] ? id->jti : NULL, id->sid[0] ? id->sid : NULL);
    r->ident = id;
    if (auth == AUTH_USER && strcmp(id->user, r->param[0]) != 0 && !id->admin) {
        log_warn("auth: user may not act on another user's path");
        return http_error(r, 403, DETAIL_FORBIDDEN);
    }
    return 0;
}
