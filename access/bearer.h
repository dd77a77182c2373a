/*
 * bearer: who a request is, from its Authorization: Bearer token.
 *
 * bearer_check() is the token check the route table asks for (router.h's
 * enum route_auth): it verifies the token against the policy and the
 * worker's key ring (keyring.h), reading Better Auth's keys when a token
 * names one the ring lacks, and sets r->ident.  A token this server issued
 * may have been revoked since (logout, refresh reuse): that check is left
 * with the connection (db_guard), to go with the request's first statement
 * in the same round trip; the dispatcher runs it alone when no statement
 * took it, and its 401 replaces any other answer.
 */
#ifndef TODO_BEARER_H
#define TODO_BEARER_H

#include "../common/http.h"
#include "../common/router.h"

/*
 * For a route whose auth is not AUTH_NONE: 0 when the token is good for it
 * (r->ident set), else the status answered: 401 without a good token, 403
 * for AUTH_USER when the token is another user's and not an admin's.
 */
int bearer_check(struct req *r, enum route_auth auth);

#endif
