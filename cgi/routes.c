/*
 * routes.c: the route table, and the checks every route shares.
 *
 * dispatch() answers, in this order: 404 for an unknown path, 405 with Allow
 * for a known path and another method, 401/403 for the token (bearer.h),
 * 413/415 for the body; only then does a handler run, so handlers never
 * re-check their method, path, token or content type.  Last, a revoked
 * token's 401 replaces whatever was answered.
 */
#include <string.h>

#include "../access/bearer.h"
#include "../common/form.h"
#include "../common/router.h"
#include "../common/utf8.h"
#include "app.h"

static const struct route routes[] = {
    { "GET",    "/api/health",                        svc_health,    AUTH_NONE, BODY_NONE },
    { "GET",    "/api/ready",                         svc_ready,     AUTH_NONE, BODY_NONE },
    { "GET",    "/api/status",                        svc_status,    AUTH_NONE, BODY_NONE },
    { "GET",    "/api/metrics",                       svc_metrics,   AUTH_NONE, BODY_NONE },
    { "POST",   "/api/auth/register",                 auth_register, AUTH_NONE, BODY_JSON },
    { "POST",   "/api/auth/login",                    auth_login,    AUTH_NONE, BODY_JSON },
    /* The names front ends written for other backends call them by. */
    { "POST",   "/api/auth/signup",                   auth_register, AUTH_NONE, BODY_JSON },
    { "POST",   "/api/auth/signin",                   auth_login,    AUTH_NONE, BODY_JSON },
    { "POST",   "/auth/signup",                       auth_register, AUTH_NONE, BODY_JSON },
    { "POST",   "/auth/signin",                       auth_login,    AUTH_NONE, BODY_JSON },
    { "POST",   "/api/auth/token",                    auth_token,    AUTH_NONE, BODY_FORM },
    { "POST",   "/api/auth/refresh",                  auth_refresh,  AUTH_NONE, BODY_JSON },
    { "POST",   "/api/auth/logout",                   auth_logout,   AUTH_TOKEN, BODY_NONE },
    { "GET",    "/api/auth/me",                       auth_me,       AUTH_TOKEN, BODY_NONE },
    { "GET",    "/api/{user}/tasks",                  task_list,     AUTH_USER, BODY_NONE },
    { "POST",   "/api/{user}/tasks",                  task_create,   AUTH_USER, BODY_JSON },
    { "GET",    "/api/{user}/tasks/{id}",             task_get,      AUTH_USER, BODY_NONE },
    { "PUT",    "/api/{user}/tasks/{id}",             task_update,   AUTH_USER, BODY_JSON },
    { "PATCH",  "/api/{user}/tasks/{id}",             task_update,   AUTH_USER, BODY_JSON },
    { "DELETE", "/api/{user}/tasks/{id}",             task_delete,   AUTH_USER, BODY_NONE },
    { "PATCH",  "/api/{user}/tasks/{id}/complete",    task_complete, AUTH_USER, BODY_JSON },
};

static int route(struct req *r)
{
    const char *params[ROUTE_PARAMS_MAX];
    size_t lens[ROUTE_PARAMS_MAX], i, n;
    char allow[64];
    const struct route *rt;
    int status;

    n = sizeof routes / sizeof routes[0];
    rt = router_match(routes, n, r->method, r->path, params, lens, allow,
                      sizeof allow, &status);
    if (rt == NULL && status == 405) {
        http_header(r, "Allow", "%s", allow);
        return http_error(r, 405, DETAIL_METHOD);
    }
    if (rt == NULL)
        return http_error(r, 404, DETAIL_NOT_FOUND);
    for (i = 0, n = 0; rt->pattern[i] != '\0'; i++)
        n += rt->pattern[i] == '{';
    for (i = 0; i < n; i++)
        r->param[i] = pool_strndup(r->pool, params[i], lens[i]);
    if (rt->auth != AUTH_NONE && (status = bearer_check(r, rt->auth)) != 0)
        return status;
    /* A user id the database could not hold names no user (an admin's
     * request: anyone else's is 403 by now). */
    if (rt->auth == AUTH_USER &&
        (lens[0] > JWT_USER_MAX || !utf8_valid(params[0], lens[0])))
        return http_error(r, 404, DETAIL_NOT_FOUND);
    if (rt->body != BODY_NONE && r->body_too_large)
        return http_error(r, 413, DETAIL_TOO_LARGE);
    /* Like FastAPI, a body without a Content-Type is read as JSON. */
    if (rt->body == BODY_JSON && r->body_len > 0 && r->content_type != NULL &&
        r->content_type[0] != '\0' && !http_is_json(r->content_type))
        return http_error(r, 415, DETAIL_MEDIA_TYPE);
    /* An empty body without a type is an empty form, as FastAPI reads it. */
    if (rt->body == BODY_FORM && form_type(r->content_type) == FORM_NONE &&
        (r->body_len > 0 || (r->content_type != NULL && r->content_type[0] != '\0')))
        return http_error(r, 415, DETAIL_MEDIA_TYPE);
    return rt->fn(r);
}

int dispatch(struct req *r)
{
    int status = route(r);
    enum db_status st = db_guard_check(r->ctx->db);

    if (st == DB_OK)
        return status;
    /* The token was revoked (or could not be checked): that answer alone. */
    if (r->headers != NULL)
        r->headers->len = 0;
    return http_db_error(r, st);
}
