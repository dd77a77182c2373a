/*
 * pool: everything a request allocates, released in one place.
 *
 * A pool is an arena plus a list of (free function, pointer) pairs.
 * pool_alloc() and the string helpers carve zeroed memory, aligned for any
 * type, out of chunks: the first chunk (32 KiB) is kept from one request to
 * the next, further chunks and blocks too big for a chunk are malloc'd when
 * needed.  pool_defer() ties any other object (a json_object, a PGresult)
 * to the pool.  pool_reset() runs the deferred functions, newest first,
 * frees every chunk but the first and rewinds the arena for the next
 * request: memory from the pool must not be used after it.  There is no
 * per-allocation free.  Out of memory is fatal (the master replaces the
 * worker).
 */
#ifndef TODO_POOL_H
#define TODO_POOL_H

#include <stddef.h>

struct pool;

struct pool *pool_new(void);
void pool_free(struct pool *p);             /* accepts NULL */
void pool_reset(struct pool *p);

void *pool_alloc(struct pool *p, size_t n); /* zeroed */
/* Not zeroed: for a buffer that is written before it is read. */
void *pool_alloc_raw(struct pool *p, size_t n);
char *pool_strdup(struct pool *p, const char *s);
char *pool_strndup(struct pool *p, const char *s, size_t n);
char *pool_printf(struct pool *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ties obj to the pool: fn(obj) runs at pool_reset().  Returns obj; does
 * nothing for a NULL obj. */
void *pool_defer(struct pool *p, void (*fn)(void *), void *obj);

/* Ends the process after logging; for allocation failures only. */
void die_oom(void) __attribute__((noreturn));

#endif
