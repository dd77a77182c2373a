/*
 * json: the JSON helpers the handlers share, over json-c.
 *
 * json_parse_body() parses a request body strictly (RFC 8259, valid UTF-8)
 * and ties the result to the pool; json_read_body() adds what FastAPI makes
 * of the outcome (the status and its errors), which http_req_json() answers
 * with.  verr_*() build FastAPI's validation error array: each item is
 * {"type", "loc", "msg", "input"}.
 */
#ifndef TODO_JSON_H
#define TODO_JSON_H

#include <json-c/json.h>
#include <stddef.h>

#include "pool.h"

/* Ties o to the pool (json_object_put at reset); returns o. */
json_object *json_own(struct pool *p, json_object *o);

/*
 * Parses a request body: 0 with *out set (NULL for the JSON literal null),
 * or -1 for text that is not RFC 8259 JSON in valid UTF-8 (NaN, Infinity,
 * single quotes and lone surrogates are refused), with *offset at the byte
 * where it went wrong, or 1 for JSON with an object key holding U+0000
 * (json-c would cut it there), *offset at that key.  The value belongs to
 * the pool.
 */
int json_parse_body(struct pool *p, const char *s, size_t n, json_object **out,
                    size_t *offset);
/*
 * Reads a request body as a handler takes it: 0 with *out set (NULL when
 * there is no body, or it is null and not required), or the status FastAPI
 * answers with its error array in *errs (the caller owns it): 400 for text
 * that is not JSON, 422 for a key holding U+0000 or a required body that is
 * missing.  *out belongs to the pool.
 */
int json_read_body(struct pool *p, const char *s, size_t n, int required,
                   json_object **out, json_object **errs);
/* Whether s[0..n) is one JSON value (RFC 8259); else *offset is set. */
int json_syntax_ok(const char *s, size_t n, size_t *offset);

/* New error array (caller owns it). */
json_object *verr_new(void);
/*
 * Appends an error with loc [where, field] or [where, field, index] when
 * index >= 0 (field NULL: just [where]).  input may be NULL (left out); it is
 * referenced, not taken.
 */
void verr_add(json_object *errs, const char *type, const char *msg,
              json_object *input, const char *where, const char *field,
              int index);
/* Same, for an input that is a C string rather than a JSON value. */
void verr_add_str(json_object *errs, const char *type, const char *msg,
                  const char *input, const char *where, const char *field);
/* The {"detail": errs} body; takes ownership of errs. */
json_object *verr_body(json_object *errs);

#endif
