/*
 * form: the fields of an HTML form body, as FastAPI's Form() reads them:
 * application/x-www-form-urlencoded (a query string, url_query_split) or
 * multipart/form-data (RFC 7578), which browsers send for a FormData.
 *
 * Fields come out as struct qparam (url.h), in order, owned by the pool,
 * for input_read() (input.h) to read as a declared input.  A multipart
 * part's bytes are its value (a file part's too); a value holding a NUL
 * byte has nul set and is cut there.
 */
#ifndef TODO_FORM_H
#define TODO_FORM_H

#include <stddef.h>

#include "url.h"

enum form_type { FORM_NONE, FORM_URLENCODED, FORM_MULTIPART };

/* Which form type content_type (may be NULL) names; FORM_NONE for others. */
enum form_type form_type(const char *content_type);

/* Parses len bytes of body (NUL-terminated) sent as content_type; returns
 * the number of fields in *out, or -1 when a multipart body does not hold
 * to its boundary (none given, no closing delimiter, a part without
 * headers). */
long form_parse(struct pool *p, const char *content_type, const char *body, size_t len,
                struct qparam **out);

#endif
