/*
 * router: matches a method and path against a table of routes.
 *
 * A pattern is a path whose segments are literals or "{name}" placeholders;
 * a placeholder matches one non-empty segment, and the matched segments are
 * returned in pattern order.  router_match() returns the route for the
 * method, or NULL with *status 404 (no pattern matches) or 405 (a pattern
 * matches, but not for this method; allow then lists the methods that do, in
 * table order, e.g. "GET, POST").  The table belongs to the caller.
 */
#ifndef TODO_ROUTER_H
#define TODO_ROUTER_H

#include <stddef.h>

struct req;

enum route_auth {
    AUTH_NONE,          /* public */
    AUTH_TOKEN,         /* any valid token */
    AUTH_USER,          /* a token for the path's {user}, or an admin's */
};

enum route_body {
    BODY_NONE,          /* a body is ignored */
    BODY_JSON,          /* a JSON body may come: 413 and 415 apply */
    BODY_FORM,          /* an HTML form (urlencoded): 413 and 415 apply */
};

typedef int (*route_fn)(struct req *r);

struct route {
    const char *method;
    const char *pattern;
    route_fn fn;
    enum route_auth auth;
    enum route_body body;
};

#define ROUTE_PARAMS_MAX 4

const struct route *router_match(const struct route *tab, size_t n,
                                 const char *method, const char *path,
                                 const char *params[ROUTE_PARAMS_MAX],
                                 size_t paramlen[ROUTE_PARAMS_MAX],
                                 char *allow, size_t allowlen, int *status);

#endif
