/*
 * buf: a growable byte buffer in a pool, and a JSON writer over it.
 *
 * A response is written once, straight into its buffer: buf_put() and
 * friends append bytes, buf_json_*() append JSON values (a string escaped as
 * json-c's JSON_C_TO_STRING_NOSLASHESCAPE writes it).  The buffer and its
 * bytes belong to the pool and go at pool_reset(); growing moves the bytes,
 * so data is read only after the last write.  data is always NUL-terminated
 * (not counted in len) for callers that want a C string.
 */
#ifndef TODO_BUF_H
#define TODO_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pool.h"

struct buf {
    struct pool *pool;
    char *data;                 /* len bytes, then a NUL */
    size_t len;
    size_t cap;                 /* bytes data can hold, the NUL included */
};

/* A new empty buffer with room for cap bytes; pool-owned. */
struct buf *buf_new(struct pool *p, size_t cap);
/* Makes room for n more bytes (and the NUL). */
void buf_reserve(struct buf *b, size_t n);

void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Inline, so that appending a literal compiles to a few moves. */
static inline void buf_put(struct buf *b, const void *s, size_t n)
{
    if (n >= b->cap - b->len)
        buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static inline void buf_putc(struct buf *b, char c)
{
    if (b->cap - b->len < 2)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* The decimal form of v (also its JSON form). */
void buf_int64(struct buf *b, int64_t v);

/* JSON values.  buf_json_str() quotes a UTF-8 string and escapes '"', '\\'
 * and the control characters below 0x20; every other byte goes verbatim
 * ('/' is not escaped).  NULL writes null. */
void buf_json_str(struct buf *b, const char *s);
void buf_json_strn(struct buf *b, const char *s, size_t n);
/* A string from anywhere (a client's path, for the log): as
 * buf_json_str(), but a byte that is not part of well-formed UTF-8 is
 * written as \ufffd, so the JSON is valid UTF-8 whatever s holds. */
void buf_json_text(struct buf *b, const char *s);
void buf_json_bool(struct buf *b, int v);
void buf_json_null(struct buf *b);

#endif
