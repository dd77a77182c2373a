/*
 * http.c: request parsing and response rendering for CGI and FastCGI.
 */
#include "http.h"

#include "json.h"
#include "url.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status >= 500 ? "Internal Server Error" : "Unknown";
    }
}

const char *http_media_type(const char *ct, size_t *n)
{
    const char *semi;

    while (*ct == ' ' || *ct == '\t')
        ct++;
    semi = ct + strcspn(ct, ";");
    while (semi > ct && (semi[-1] == ' ' || semi[-1] == '\t'))
        semi--;
    *n = (size_t)(semi - ct);
    return ct;
}

int http_is_json(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return 0;
    ct = http_media_type(ct, &n);
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int http_request_id_valid(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return 0;
    for (; s[n] != '\0'; n++)
        if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
              (s[n] >= '0' && s[n] <= '9') || strchr("._:-", s[n]) != NULL))
            return 0;
    return n >= 1 && n <= HTTP_REQUEST_ID_MAX;
}

/* A fresh id for a request that arrived without a usable one. */
static char *new_request_id(struct pool *p)
{
    unsigned char raw[16];
    char *id = pool_alloc(p, 33);
    size_t i;

    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        memset(raw, 0, sizeof raw);
    for (i = 0; i < sizeof raw; i++)
        snprintf(id + 2 * i, 3, "%02x", raw[i]);
    return id;
}

/* The path to route on: PATH_INFO, else REQUEST_URI's decoded path. */
static const char *request_path(struct req *r, http_param_fn param, void *ctx)
{
    const char *pi = param(ctx, "PATH_INFO"), *uri;
    char *path;
    size_t n;

    if (pi != NULL && pi[0] != '\0') {
        path = pool_strdup(r->pool, pi);
    } else {
        uri = param(ctx, "REQUEST_URI");
        if (uri == NULL)
            uri = "/";
        path = url_unescape(r->pool, uri, strcspn(uri, "?"));
        if (path == NULL)
            path = pool_strdup(r->pool, "/\x01invalid");
    }
    n = strlen(path);
    if (n > 1 && path[n - 1] == '/')
        path[n - 1] = '\0';
    return path;
}

int http_req_read(struct req *r, struct pool *p, http_param_fn param,
                  http_read_fn readfn, void *ctx)
{
    const char *v;
    long got;

    memset(r, 0, sizeof *r);
    r->pool = p;
    v = param(ctx, "REQUEST_METHOD");
    r->method = pool_strdup(p, v ? v : "GET");
    r->path = request_path(r, param, ctx);
    v = param(ctx, "QUERY_STRING");
    r->query = pool_strdup(p, v ? v : "");
    r->authorization = param(ctx, "HTTP_AUTHORIZATION");
    r->content_type = param(ctx, "CONTENT_TYPE");
    r->if_match = param(ctx, "HTTP_IF_MATCH");
    r->if_none_match = param(ctx, "HTTP_IF_NONE_MATCH");
    r->idempotency_key = param(ctx, "HTTP_IDEMPOTENCY_KEY");
    r->remote_addr = param(ctx, "REMOTE_ADDR");
    v = param(ctx, "REQUEST_ID");
    if (!http_request_id_valid(v))
        v = param(ctx, "HTTP_X_REQUEST_ID");
    r->request_id = http_request_id_valid(v) ? pool_strdup(p, v)
                                             : new_request_id(p);

    /* Read one byte past the limit so an oversized body is noticed.  Not
     * zeroed: only the body_len bytes read and the NUL after them are used,
     * and zeroing 64 KiB was a sixth of a listing's instructions. */
    r->body = pool_alloc_raw(p, HTTP_BODY_MAX + 2);
    while (r->body_len <= HTTP_BODY_MAX) {
        got = readfn(ctx, r->body + r->body_len,
                     HTTP_BODY_MAX + 1 - r->body_len);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        r->body_len += (size_t)got;
    }
    if (r->body_len > HTTP_BODY_MAX) {
        r->body_too_large = 1;
        r->body_len = 0;
    }
    r->body[r->body_len] = '\0';
    return 0;
}

json_object *http_req_json(struct req *r, int required, int *ok)
{
    json_object *o, *errs;
    int status = json_read_body(r->pool, r->body, r->body_len, required, &o, &errs);

    *ok = status == 0;
    if (status != 0)
        http_json(r, status, verr_body(errs));
    return o;
}

void http_header(struct req *r, const char *name, const char *fmt, ...)
{
    struct buf *h;
    va_list ap;
    size_t start;

    if (r->headers == NULL)
        r->headers = buf_new(r->pool, 256);
    h = r->headers;
    buf_puts(h, name);
    buf_put(h, ": ", 2);
    start = h->len;
    va_start(ap, fmt);
    buf_vprintf(h, fmt, ap);
    va_end(ap);
    /* Header values never carry line breaks, whatever went into them. */
    h->len = start + strcspn(h->data + start, "\r\n");
    buf_put(h, "\r\n", 2);
}

void http_header_lines(struct req *r, const char *lines)
{
    if (r->headers == NULL)
        r->headers = buf_new(r->pool, 256);
    buf_puts(r->headers, lines);
}

/*
 * 8 KiB holds a page of 20 tasks; it comes from the pool's first chunk, so
 * a usual response costs no malloc.
 */
struct buf *http_body(struct req *r)
{
    if (r->resp == NULL)
        r->resp = buf_new(r->pool, 8 * 1024);
    return r->resp;
}

int http_json_buf(struct req *r, int status)
{
    r->status = status;
    r->text = NULL;
    r->resp_type = "application/json";
    http_body(r);
    return status;
}

int http_json(struct req *r, int status, struct json_object *body)
{
    struct buf *b = http_body(r);

    b->len = 0;
    buf_puts(b, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(body);
    return http_json_buf(r, status);
}

/* {"detail": detail}, as json-c would write it. */
int http_error(struct req *r, int status, const char *detail)
{
    struct buf *b = http_body(r);

    b->len = 0;
    buf_puts(b, "{\"detail\":");
    buf_json_str(b, detail);
    buf_putc(b, '}');
    return http_json_buf(r, status);
}

int http_unauthorized(struct req *r, const char *detail, int token_sent)
{
    http_header(r, "WWW-Authenticate", "%s",
                token_sent ? "Bearer error=\"invalid_token\"" : "Bearer");
    return http_error(r, 401, detail);
}

int http_invalid(struct req *r, json_object *errs)
{
    return http_json(r, 422, verr_body(errs));
}

int http_db_error(struct req *r, enum db_status st)
{
    if (st == DB_REVOKED)
        return http_unauthorized(r, DETAIL_INVALID_TOKEN, 1);
    if (st == DB_TIMEOUT)
        return http_error(r, 504, DETAIL_TIMEOUT);
    if (st == DB_UNAVAILABLE) {
        http_header(r, "Retry-After", "5");
        return http_error(r, 503, DETAIL_UNAVAILABLE);
    }
    return http_error(r, 500, DETAIL_INTERNAL);
}

int http_empty(struct req *r, int status)
{
    r->status = status;
    r->text = NULL;
    r->resp_type = NULL;
    return status;
}

int http_text(struct req *r, int status, const char *type, const char *body)
{
    r->status = status;
    r->text = body;
    r->resp_type = type;
    return status;
}

char *http_render(struct req *r, size_t *len)
{
    const char *type = r->resp_type, *body = "", *why = reason(r->status);
    size_t n = 0, hlen = r->headers ? r->headers->len : 0;
    struct buf *out;

    if (type != NULL && r->text != NULL) {
        body = r->text;
        n = strlen(body);
    } else if (type != NULL && r->resp != NULL) {
        body = r->resp->data;
        n = r->resp->len;
    }
    /* Sized once: the fixed text, the request id, the headers, the body. */
    out = buf_new(r->pool, 128 + strlen(why) + strlen(r->request_id) + hlen +
                               (type ? strlen(type) : 0) + n);
    buf_puts(out, "Status: ");
    buf_int64(out, r->status);
    buf_putc(out, ' ');
    buf_puts(out, why);
    buf_puts(out, "\r\nX-Request-ID: ");
    buf_puts(out, r->request_id);
    buf_puts(out, "\r\n");
    if (hlen > 0)
        buf_put(out, r->headers->data, hlen);
    if (type != NULL) {
        buf_puts(out, "Content-Type: ");
        buf_puts(out, type);
        buf_puts(out, "\r\n");
    }
    /* 204 and 304 have no body, and no Content-Length (RFC 9110 8.6). */
    if (r->status != 204 && r->status != 304) {
        buf_puts(out, "Content-Length: ");
        buf_int64(out, (int64_t)n);
        buf_puts(out, "\r\n");
    }
    buf_puts(out, "\r\n");
    buf_put(out, body, n);
    *len = out->len;
    return out->data;
}
