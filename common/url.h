/*
 * url: the parts of a URL a request brings and a response points to.
 *
 * This module owns percent-encoding (RFC 3986) in both directions and the
 * splitting of a query string (or a urlencoded form body) into decoded
 * name/value pairs; what the parameters mean is the reader's business
 * (query.c for a listing, form.c for a form).  Paths are decoded strictly,
 * query strings leniently, as Python's parse_qsl reads them.  Every string
 * returned belongs to the pool and goes at pool_reset().
 */
#ifndef TODO_URL_H
#define TODO_URL_H

#include <stddef.h>

#include "pool.h"

/* One parameter of a query string or form; strings owned by the pool. */
struct qparam {
    const char *name;
    const char *value;
    int nul;                    /* the value had a %00, left out of value */
};

/* Splits a query string (or a form body) into decoded name/value pairs, as
 * Python's parse_qsl does: '+' is a space, a bad %-escape stays as it is.
 * A value with a %00 has nul set; a name with one is left out.  Returns the
 * number of pairs in *out. */
size_t url_query_split(struct pool *p, const char *query, struct qparam **out);
/* Percent-decodes n bytes of a path; NULL on a bad escape or a NUL byte. */
char *url_unescape(struct pool *p, const char *s, size_t n);
/* Percent-encodes every byte but RFC 3986's unreserved ones. */
char *url_escape(struct pool *p, const char *s);
/* Writes c as "%XX" at o; returns the position after it. */
char *url_pct(char *o, unsigned char c);

#endif
