/*
 * pool.c: per-request ownership list.  See pool.h.
 */
#include "pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct item {
    void (*fn)(void *);
    void *obj;
    struct item *next;
};

struct pool {
    struct item *head;
};

void die_oom(void)
{
    static const char msg[] = "{\"level\":\"fatal\",\"msg\":\"out of memory\"}\n";

    /* write(2): stdio may itself need memory. */
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(70);
    _exit(70);
}

struct pool *pool_new(void)
{
    struct pool *p = calloc(1, sizeof *p);

    if (p == NULL)
        die_oom();
    return p;
}

void pool_reset(struct pool *p)
{
    struct item *it, *next;

    if (p == NULL)
        return;
    for (it = p->head; it != NULL; it = next) {
        next = it->next;
        it->fn(it->obj);
        free(it);
    }
    p->head = NULL;
}

void pool_free(struct pool *p)
{
    pool_reset(p);
    free(p);
}

void *pool_defer(struct pool *p, void (*fn)(void *), void *obj)
{
    struct item *it;

    if (obj == NULL)
        return NULL;
    it = malloc(sizeof *it);
    if (it == NULL)
        die_oom();
    it->fn = fn;
    it->obj = obj;
    it->next = p->head;
    p->head = it;
    return obj;
}

void *pool_alloc(struct pool *p, size_t n)
{
    void *m = calloc(1, n ? n : 1);

    if (m == NULL)
        die_oom();
    return pool_defer(p, free, m);
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
    char *d = pool_alloc(p, n + 1);

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
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        die_oom();
    return pool_defer(p, free, s);
}
