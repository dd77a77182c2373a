/*
 * router.c: segment-by-segment pattern matching.
 */
#include "router.h"

#include <string.h>

/*
 * Whether path matches pattern; the placeholders' spans go to params and
 * paramlen (pointers into path, not NUL-terminated).
 */
static int match(const char *pattern, const char *path,
                 const char *params[ROUTE_PARAMS_MAX],
                 size_t paramlen[ROUTE_PARAMS_MAX])
{
    const char *pe, *se;
    size_t k = 0, plen, slen;

    for (;;) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        pe = pattern + strcspn(pattern, "/");
        se = path + strcspn(path, "/");
        plen = (size_t)(pe - pattern);
        slen = (size_t)(se - path);
        if (plen > 2 && pattern[0] == '{' && pe[-1] == '}') {
            if (slen == 0 || k == ROUTE_PARAMS_MAX)
                return 0;
            params[k] = path;
            paramlen[k] = slen;
            k++;
        } else if (plen != slen || memcmp(pattern, path, slen) != 0) {
            return 0;
        }
        pattern = pe;
        path = se;
        if (*pattern == '\0' || *path == '\0')
            return *pattern == '\0' && *path == '\0';
    }
}

const struct route *router_match(const struct route *tab, size_t n,
                                 const char *method, const char *path,
                                 const char *params[ROUTE_PARAMS_MAX],
                                 size_t paramlen[ROUTE_PARAMS_MAX],
                                 char *allow, size_t allowlen, int *status)
{
    const char *p[ROUTE_PARAMS_MAX] = { 0 };
    size_t pl[ROUTE_PARAMS_MAX] = { 0 }, i, used = 0, m;
    int found = 0;

    if (allowlen > 0)
        allow[0] = '\0';
    for (i = 0; i < n; i++) {
        if (!match(tab[i].pattern, path, p, pl))
            continue;
        if (strcmp(tab[i].method, method) == 0) {
            memcpy(params, p, sizeof p);
            memcpy(paramlen, pl, sizeof pl);
            *status = 200;
            return &tab[i];
        }
        found = 1;
        m = strlen(tab[i].method);
        if (strstr(allow, tab[i].method) == NULL && used + m + 3 < allowlen) {
            if (used > 0) {
                memcpy(allow + used, ", ", 2);
                used += 2;
            }
            memcpy(allow + used, tab[i].method, m + 1);
            used += m;
        }
    }
    *status = found ? 405 : 404;
    return NULL;
}
