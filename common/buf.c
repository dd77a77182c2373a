/*
 * buf.c: growable pool-owned byte buffers and the JSON values written into
 * them.  See buf.h.
 */
#include "buf.h"

#include <stdio.h>
#include <string.h>

struct buf *buf_new(struct pool *p, size_t cap)
{
    struct buf *b = pool_alloc(p, sizeof *b);

    b->pool = p;
    b->cap = cap < 64 ? 64 : cap;
    b->data = pool_alloc(p, b->cap);
    return b;
}

void buf_reserve(struct buf *b, size_t n)
{
    size_t cap = b->cap;
    char *d;

    if (n < b->cap - b->len)
        return;
    if (n > SIZE_MAX / 4 - b->len)
        die_oom();
    while (cap - b->len <= n)
        cap *= 2;
    /* The old bytes stay in the pool until reset: at most as much again. */
    d = pool_alloc(b->pool, cap);
    memcpy(d, b->data, b->len + 1);
    b->data = d;
    b->cap = cap;
}

void buf_put(struct buf *b, const void *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list aq;
    int n;

    va_copy(aq, ap);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, aq);
    va_end(aq);
    if (n < 0)
        die_oom();
    if ((size_t)n >= b->cap - b->len) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_int64(struct buf *b, int64_t v)
{
    char tmp[24], *e = tmp + sizeof tmp, *s = e;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

    do {
        *--s = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--s = '-';
    buf_put(b, s, (size_t)(e - s));
}

/* ---------------------------------------------------------------- JSON */

/*
 * How json-c (JSON_C_TO_STRING_NOSLASHESCAPE) writes each byte in a string:
 * 0 verbatim, 'u' as \u00XX with lower-case hex, else a backslash and this.
 */
static const char esc[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    ['"'] = '"',
    ['\\'] = '\\',
};

void buf_json_strn(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    unsigned char c;
    char u[6] = { '\\', 'u', '0', '0' };

    /* Room for the common case, no escapes; escapes grow it as they come. */
    buf_reserve(b, n + 2);
    buf_putc(b, '"');
    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        if (esc[c] == 0)
            continue;
        buf_put(b, s + run, i - run);
        if (esc[c] == 'u') {
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            buf_put(b, u, sizeof u);
        } else {
            buf_putc(b, '\\');
            buf_putc(b, esc[c]);
        }
        run = i + 1;
    }
    buf_put(b, s + run, n - run);
    buf_putc(b, '"');
}

void buf_json_str(struct buf *b, const char *s)
{
    if (s == NULL)
        buf_json_null(b);
    else
        buf_json_strn(b, s, strlen(s));
}

void buf_json_bool(struct buf *b, int v)
{
    if (v)
        buf_put(b, "true", 4);
    else
        buf_put(b, "false", 5);
}

void buf_json_null(struct buf *b)
{
    buf_put(b, "null", 4);
}
