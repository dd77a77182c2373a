/*
 * http: one request and its response, independent of how they travel.
 *
 * The caller (FastCGI loop or plain CGI) fills a struct req with
 * http_req_read(), giving it a parameter lookup and a body reader; the body
 * is read up to HTTP_BODY_MAX + 1 bytes whatever CONTENT_LENGTH claims, and
 * body_too_large says when there was more; http_req_json() reads that body
 * as JSON.  Every response is written by an http_*() function: handlers
 * answer with http_json(), http_error(), http_invalid(), http_db_error() or
 * http_empty(), add headers with http_header(), and return the status.  A
 * handler on the hot path writes its JSON straight into the response buffer
 * that http_body() returns and answers with http_json_buf(); http_json() is
 * for the rare json-c tree (it is written into the same buffer at once).
 * http_render() turns the answer into CGI response bytes (Status line,
 * headers, body) in one buffer.
 *
 * Everything hanging off a struct req (strings, the response body, route
 * parameters) belongs to r->pool and is released by pool_reset().
 */
#ifndef TODO_HTTP_H
#define TODO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "jwt.h"
#include "pool.h"

#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_REQUEST_ID_MAX 128

struct json_object;
struct config;
struct keyring;
struct scoreboard;

/* Reads a FastCGI/CGI parameter; NULL when absent. */
typedef const char *(*http_param_fn)(void *ctx, const char *name);
/* Reads up to n body bytes into buf; returns the count, 0 at the end. */
typedef long (*http_read_fn)(void *ctx, char *buf, size_t n);

/*
 * What every request a worker serves shares: its settings, its database
 * connection, its key ring and the pool's scoreboard (cgi/worker.c).
 */
struct worker_ctx {
    const struct config *cfg;
    struct db *db;
    struct keyring *keys;
    struct scoreboard *sb;
};

struct req {
    struct pool *pool;
    const struct worker_ctx *ctx;

    const char *method;
    const char *path;           /* decoded, trailing slash removed */
    const char *query;          /* raw, "" when none */
    const char *authorization;
    const char *content_type;
    const char *if_match;
    const char *if_none_match;
    const char *idempotency_key;    /* NULL when absent */
    const char *request_id;
    const char *remote_addr;    /* REMOTE_ADDR; NULL when unknown */
    char *body;                 /* NUL-terminated; body_len bytes */
    size_t body_len;
    int body_too_large;

    const char *param[4];       /* route parameters, in pattern order */
    const struct jwt_identity *ident;   /* NULL when not authenticated */

    int status;
    struct buf *headers;        /* "Name: value\r\n" lines; NULL: none */
    struct buf *resp;           /* the body http_body() hands out */
    const char *text;           /* a body from http_text(); NULL: none */
    const char *resp_type;      /* the body's Content-Type; NULL: no body */
};

/* Fills r from the request's parameters and body; 0, or -1 on a read error. */
int http_req_read(struct req *r, struct pool *p, http_param_fn param,
                  http_read_fn readfn, void *ctx);

/*
 * The request's JSON body (json_read_body()): the value (NULL: no body)
 * with *ok set, or NULL with *ok clear once it has answered 400 for text
 * that is not JSON, or 422 when a body is required and there is none (or
 * it is null).  The value belongs to the pool.
 */
struct json_object *http_req_json(struct req *r, int required, int *ok);

void http_header(struct req *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends header lines as r->headers holds them ("Name: value\r\n" each):
 * those of an answer stored earlier. */
void http_header_lines(struct req *r, const char *lines);
/* The response body buffer, made empty on the first call; pool-owned. */
struct buf *http_body(struct req *r);
/* Answers with the JSON written into http_body(r). */
int http_json_buf(struct req *r, int status);
/* Answers with body written as JSON into http_body(r) (what was there goes);
 * takes ownership of body and releases it at once. */
int http_json(struct req *r, int status, struct json_object *body);
int http_error(struct req *r, int status, const char *detail);
/* 401 with its Bearer challenge; token_sent adds error="invalid_token". */
int http_unauthorized(struct req *r, const char *detail, int token_sent);
/* Answers 422 with the validation errors errs (taken). */
int http_invalid(struct req *r, struct json_object *errs);
/* Answers a failed database call: 401 for a revoked token, 504 for a
 * timeout, 503 (with Retry-After) when the database cannot be reached, else
 * 500. */
int http_db_error(struct req *r, enum db_status st);
int http_empty(struct req *r, int status);
/* A body in another format; type and body must outlive the request. */
int http_text(struct req *r, int status, const char *type, const char *body);

/* The CGI response bytes: pool-owned, length in *len. */
char *http_render(struct req *r, size_t *len);

/* Whether content_type is application/json or application/<x>+json. */
int http_is_json(const char *content_type);
/* The media type of a Content-Type value (its first *n bytes), without
 * parameters or spaces. */
const char *http_media_type(const char *content_type, size_t *n);
/* Whether a valid X-Request-ID: 1..128 of A-Z a-z 0-9 . _ : - */
int http_request_id_valid(const char *s);

/* Detail messages shared by every handler. */
#define DETAIL_NOT_FOUND "Not Found"
#define DETAIL_METHOD "Method Not Allowed"
#define DETAIL_NOT_AUTH "Not authenticated"
#define DETAIL_EXPIRED "Token expired"
#define DETAIL_INVALID_TOKEN "Invalid token"
#define DETAIL_FORBIDDEN "Forbidden"
#define DETAIL_TOO_LARGE "Request body too large"
#define DETAIL_MEDIA_TYPE "Unsupported Media Type"
#define DETAIL_PRECONDITION "Precondition Failed"
#define DETAIL_INTERNAL "Internal server error"
#define DETAIL_UNAVAILABLE "Service unavailable"
#define DETAIL_TIMEOUT "Request timed out"
#define DETAIL_TASK_NOT_FOUND "Task not found"

#endif
