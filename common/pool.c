/*
 * pool.c: per-request arena and ownership list.  See pool.h.
 *
 * Memory is bumped out of chunks.  The first chunk lives as long as the pool,
 * so a typical request makes no malloc at all; when it fills, a new chunk
 * twice the size of the last (up to CHUNK_MAX) is malloc'd, and a request
 * bigger than OWN_BLOCK gets a block of its own so it does not waste the rest
 * of a chunk.  Chunks after the first and own blocks are freed at reset.
 */
#include "pool.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Under AddressSanitizer the arena poisons what it has not handed out and
 * leaves REDZONE poisoned bytes after each allocation, so an overrun, a read
 * past the end or a use after pool_reset() is reported as for malloc.  We
 * poison rather than fall back to one malloc per allocation so that the
 * sanitizer builds (make test, make fuzz) run the same allocator as
 * production, bump pointer, chunk chaining and rewinding included.
 */
#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif

#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define REDZONE 16
#define POISON(a, n) ASAN_POISON_MEMORY_REGION((a), (n))
#define UNPOISON(a, n) ASAN_UNPOISON_MEMORY_REGION((a), (n))
#else
#define REDZONE 0
#define POISON(a, n) ((void)(a), (void)(n))
#define UNPOISON(a, n) ((void)(a), (void)(n))
#endif

#define ALIGN alignof(max_align_t)
/* 32 KiB holds a page of 20 tasks, its 8 KiB response buffer and the
 * rendered response, so listing one page takes nothing from malloc. */
#define FIRST_CHUNK (32 * 1024)         /* kept across requests */
#define CHUNK_MAX (1024 * 1024)         /* chunks double up to this size */
#define OWN_BLOCK (8 * 1024)            /* larger requests get their own block */

/* A chunk, or an own block: a header and the memory handed out. */
struct chunk {
    struct chunk *next;
    size_t size;                        /* bytes in data */
    alignas(max_align_t) unsigned char data[];
};

struct defer {
    void (*fn)(void *);
    void *obj;
    struct defer *next;
};

struct pool {
    struct chunk *first;                /* kept across resets */
    struct chunk *more;                 /* later chunks and own blocks */
    unsigned char *next, *end;          /* the free part of the current chunk */
    size_t grow;                        /* size of the next chunk */
    struct defer *defers;               /* newest first */
};

void die_oom(void)
{
    static const char msg[] = "{\"level\":\"fatal\",\"msg\":\"out of memory\"}\n";

    /* write(2): stdio may itself need memory. */
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(70);
    _exit(70);
}

/* A new chunk of size bytes, linked into p->more unless it is the first. */
static struct chunk *chunk_new(struct pool *p, size_t size)
{
    struct chunk *c;

    if (size > SIZE_MAX - sizeof *c)
        die_oom();
    if ((c = malloc(sizeof *c + size)) == NULL)
        die_oom();
    c->size = size;
    c->next = NULL;
    if (p->first != NULL) {
        c->next = p->more;
        p->more = c;
    }
    return c;
}

/* Makes c the chunk allocations come from. */
static void chunk_use(struct pool *p, struct chunk *c)
{
    p->next = c->data;
    p->end = c->data + c->size;
    POISON(c->data, c->size);
}

struct pool *pool_new(void)
{
    struct pool *p = calloc(1, sizeof *p);

    if (p == NULL)
        die_oom();
    p->first = chunk_new(p, FIRST_CHUNK);
    p->grow = 2 * FIRST_CHUNK;
    chunk_use(p, p->first);
    return p;
}

void pool_reset(struct pool *p)
{
    struct chunk *c, *next;
    struct defer *d;

    if (p == NULL)
        return;
    /* A deferred function may itself defer: take nodes off one at a time. */
    while ((d = p->defers) != NULL) {
        p->defers = d->next;
        d->fn(d->obj);
    }
    for (c = p->more; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    p->more = NULL;
    p->grow = 2 * FIRST_CHUNK;
    chunk_use(p, p->first);
}

void pool_free(struct pool *p)
{
    if (p == NULL)
        return;
    pool_reset(p);
    free(p->first);
    free(p);
}

/* n bytes, aligned for any type, not zeroed. */
void *pool_alloc_raw(struct pool *p, size_t n)
{
    size_t need;
    unsigned char *m;

    if (n == 0)
        n = 1;
    if (n > OWN_BLOCK)
        return chunk_new(p, n)->data;
    need = (n + REDZONE + ALIGN - 1) & ~(ALIGN - 1);
    if ((size_t)(p->end - p->next) < need) {
        chunk_use(p, chunk_new(p, p->grow));
        if (p->grow < CHUNK_MAX)
            p->grow *= 2;
    }
    m = p->next;
    p->next += need;
    UNPOISON(m, n);
    return m;
}

void *pool_alloc(struct pool *p, size_t n)
{
    void *m = pool_alloc_raw(p, n);

    memset(m, 0, n);
    return m;
}

void *pool_defer(struct pool *p, void (*fn)(void *), void *obj)
{
    struct defer *d;

    if (obj == NULL)
        return NULL;
    d = pool_alloc_raw(p, sizeof *d);
    d->fn = fn;
    d->obj = obj;
    d->next = p->defers;
    p->defers = d;
    return obj;
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
    char *d;

    if (n == SIZE_MAX)
        die_oom();
    d = pool_alloc_raw(p, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pool_strdup(struct pool *p, const char *s)
{
    return pool_strndup(p, s, strlen(s));
}

char *pool_printf(struct pool *p, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die_oom();
    s = pool_alloc_raw(p, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
