/*
 * url.c: percent-encoding and query strings, see url.h.
 */
#include "url.h"

#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Percent-decodes n bytes of s.  For a path (query 0): NULL on a bad escape
 * or %00.  For a query string or form (query 1), as Python's unquote_plus
 * reads them: '+' is a space, a bad escape stays as it is, and a %00 sets
 * *nul (the C string cannot hold it; the byte is left out).
 */
static char *unescape(struct pool *p, const char *s, size_t n, int query, int *nul)
{
    char *out = pool_alloc(p, n + 1), *o = out;
    size_t i;
    int hi, lo;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n &&
            (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            if (hi == 0 && lo == 0) {
                if (!query)
                    return NULL;
                *nul = 1;
            } else {
                *o++ = (char)(hi << 4 | lo);
            }
            i += 2;
        } else if (s[i] == '%' && !query) {
            return NULL;
        } else if (s[i] == '+' && query) {
            *o++ = ' ';
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

char *url_unescape(struct pool *p, const char *s, size_t n)
{
    return unescape(p, s, n, 0, NULL);
}

char *url_pct(char *o, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";

    o[0] = '%';
    o[1] = hex[c >> 4];
    o[2] = hex[c & 15];
    return o + 3;
}

char *url_escape(struct pool *p, const char *s)
{
    char *out = pool_alloc(p, strlen(s) * 3 + 1), *o = out;
    unsigned char c;

    for (; *s != '\0'; s++) {
        c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
            *o++ = (char)c;
        else
            o = url_pct(o, c);
    }
    *o = '\0';
    return out;
}

size_t url_query_split(struct pool *p, const char *query, struct qparam **out)
{
    size_t n = 1, k = 0, len;
    const char *s, *amp, *eq;
    struct qparam *v;
    char *name;
    int nul;

    for (s = query; *s != '\0'; s++)
        n += *s == '&';
    v = pool_alloc(p, n * sizeof *v);
    for (s = query; *s != '\0'; s = *amp ? amp + 1 : amp) {
        amp = s + strcspn(s, "&");
        len = (size_t)(amp - s);
        if (len == 0)
            continue;
        eq = memchr(s, '=', len);
        nul = 0;
        name = unescape(p, s, eq ? (size_t)(eq - s) : len, 1, &nul);
        if (nul || name[0] == '\0')
            continue;           /* no parameter has such a name */
        v[k].name = name;
        v[k].nul = 0;
        v[k].value = eq ? unescape(p, eq + 1, (size_t)(amp - eq - 1), 1, &v[k].nul)
                        : pool_strdup(p, "");
        k++;
    }
    *out = v;
    return k;
}
