/*
 * buf.c: growable pool-owned byte buffers and the JSON values written into
 * them.  See buf.h.
 */
#include "buf.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

struct buf *buf_new(struct pool *p, size_t cap)
{
    struct buf *b = pool_alloc(p, sizeof *b);

    b->pool = p;
    b->cap = cap < 64 ? 64 : cap;
    b->data = pool_alloc_raw(p, b->cap);
    b->data[0] = '\0';
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
    d = pool_alloc_raw(b->pool, cap);
    memcpy(d, b->data, b->len + 1);
    b->data = d;
    b->cap = cap;
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

/*
 * Whether any of the 8 bytes in v is '"', '\\' or below 0x20 (the classic
 * "has a zero byte" and "has a byte less than n" bit tricks): lets the
 * scan below skip plain text 8 bytes at a time.
 */
static int escape_in8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');

    return ((((q - ones) & ~q) | ((bs - ones) & ~bs) | ((v - ones * 0x20) & ~v)) &
            high) != 0;
}

/* The n bytes at s, escaped for inside a JSON string. */
static void escape(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0;
    unsigned char c;
    uint64_t v;
    char u[6] = { '\\', 'u', '0', '0' };

    for (;;) {
        while (n - i >= 8) {
            memcpy(&v, s + i, 8);
            if (escape_in8(v))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        c = (unsigned char)s[i];
        if (esc[c] == 0) {
            i++;
            continue;
        }
        buf_put(b, s + run, i - run);
        if (esc[c] == 'u') {
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            buf_put(b, u, sizeof u);
        } else {
            buf_putc(b, '\\');
            buf_putc(b, esc[c]);
        }
        run = ++i;
    }
    buf_put(b, s + run, n - run);
}

void buf_json_strn(struct buf *b, const char *s, size_t n)
{
    /* Room for the common case, no escapes; escapes grow it as they come. */
    buf_reserve(b, n + 2);
    buf_putc(b, '"');
    escape(b, s, n);
    buf_putc(b, '"');
}

void buf_json_text(struct buf *b, const char *s)
{
    size_t n = strlen(s), i = 0, run = 0, k;

    buf_putc(b, '"');
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
        } else if ((k = utf8_seq(s + i, n - i)) > 0) {
            i += k;
        } else {
            escape(b, s + run, i - run);
            buf_put(b, "\\ufffd", 6);
            run = ++i;
        }
    }
    escape(b, s + run, n - run);
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
