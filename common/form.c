/*
 * form.c: form bodies, see form.h.  The multipart reader is strict where a
 * guess could misplace a byte (the boundary must be found as sent) and
 * lenient where browsers differ (a preamble, header case, spaces).
 */
#include "form.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "pool.h"

#define BOUNDARY_MAX 70         /* RFC 2046 5.1.1 */

enum form_type form_type(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return FORM_NONE;
    ct = http_media_type(ct, &n);
    if (n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
        return FORM_URLENCODED;
    if (n == 19 && strncasecmp(ct, "multipart/form-data", 19) == 0)
        return FORM_MULTIPART;
    return FORM_NONE;
}

/*
 * The value of parameter name (without '=') in a header value's
 * "; a=b; c=\"d\"" list, unquoted, into buf of cap bytes; NULL when absent,
 * empty or too long.  Quoted strings are skipped whole, so a file name
 * holding "; name=" cannot pose as a parameter.
 */
static const char *header_param(const char *v, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name), n;
    const char *key, *val, *end;
    int match;

    while ((v = strchr(v, ';')) != NULL) {
        for (v++; *v == ' ' || *v == '\t'; v++)
            ;
        key = v;
        v += strcspn(v, "=;");
        match = (size_t)(v - key) == nlen && strncasecmp(key, name, nlen) == 0;
        if (*v != '=')
            continue;
        val = ++v;
        if (*val == '"') {
            for (end = ++val; *end != '\0' && *end != '"'; end++)
                if (*end == '\\' && end[1] != '\0')
                    end++;
            if (*end != '"')
                return NULL;
            v = end + 1;
        } else {
            end = val + strcspn(val, "; \t\r\n");
            v = end;
        }
        if (!match)
            continue;
        if ((n = (size_t)(end - val)) == 0 || n >= cap)
            return NULL;
        memcpy(buf, val, n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

/* The part's name from its headers (hlen bytes), into buf; NULL if none. */
static const char *part_name(const char *h, size_t hlen, char *buf, size_t cap)
{
    const char *end = h + hlen, *eol;
    char line[1024];
    size_t n;

    for (; h < end; h = eol + 2) {
        eol = memmem(h, (size_t)(end - h), "\r\n", 2);
        if (eol == NULL)
            eol = end;
        n = (size_t)(eol - h);
        if (n >= sizeof line)
            continue;
        memcpy(line, h, n);
        line[n] = '\0';
        if (strncasecmp(line, "Content-Disposition:", 20) == 0)
            return header_param(line + 20, "name", buf, cap);
        if (eol == end)
            break;
    }
    return NULL;
}

static long multipart(struct pool *p, const char *ct, const char *body, size_t len,
                      struct qparam **out)
{
    char boundary[BOUNDARY_MAX + 1], delim[BOUNDARY_MAX + 5], name[256];
    const char *s = body, *end = body + len, *h, *v, *next;
    struct qparam *f;
    size_t dlen, nmax;
    long k = 0;

    if (header_param(ct, "boundary", boundary, sizeof boundary) == NULL)
        return -1;
    /* Every part begins at CRLF--boundary; the first may start the body. */
    dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    nmax = len / dlen + 1;
    f = pool_alloc(p, nmax * sizeof *f);
    if (len >= dlen - 2 && memcmp(s, delim + 2, dlen - 2) == 0)
        s += dlen - 2;
    else if ((s = memmem(s, len, delim, dlen)) != NULL)
        s += dlen;
    else
        return -1;
    for (;;) {
        if (end - s >= 2 && memcmp(s, "--", 2) == 0)
            break;              /* the closing delimiter */
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        if (end - s < 2 || memcmp(s, "\r\n", 2) != 0)
            return -1;
        /* The part runs to the next delimiter; its headers end before it. */
        h = s + 2;
        if ((next = memmem(h, (size_t)(end - h), delim, dlen)) == NULL)
            return -1;
        if (next - h >= 2 && memcmp(h, "\r\n", 2) == 0) {
            s = next + dlen;    /* no headers: no name, no field */
            continue;
        }
        if ((v = memmem(h, (size_t)(next - h), "\r\n\r\n", 4)) == NULL)
            return -1;
        if (part_name(h, (size_t)(v - h), name, sizeof name) != NULL) {
            f[k].name = pool_strdup(p, name);
            f[k].value = pool_strndup(p, v + 4, (size_t)(next - v - 4));
            f[k].nul = memchr(v + 4, '\0', (size_t)(next - v - 4)) != NULL;
            k++;
        }
        s = next + dlen;
    }
    *out = f;
    return k;
}

/* A copy of len bytes of body with each raw NUL written as %00, which
 * url_query_split flags, rather than ending the text there. */
static const char *nul_escaped(struct pool *p, const char *body, size_t len)
{
    char *out = pool_alloc(p, 3 * len + 1), *o = out;
    size_t i;

    for (i = 0; i < len; i++) {
        if (body[i] == '\0') {
            memcpy(o, "%00", 3);
            o += 3;
        } else {
            *o++ = body[i];
        }
    }
    *o = '\0';
    return out;
}

long form_parse(struct pool *p, const char *ct, const char *body, size_t len,
                struct qparam **out)
{
    if (form_type(ct) == FORM_MULTIPART)
        return multipart(p, ct, body, len, out);
    if (memchr(body, '\0', len) != NULL)
        body = nul_escaped(p, body, len);
    return (long)url_query_split(p, body, out);
}
