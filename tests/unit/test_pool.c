/*
 * test_pool.c: the request arena: alignment, zeroing, chunks and own
 * blocks, deferred functions newest first, and a pool that serves request
 * after request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdalign.h>
#include <string.h>

#include "pool.h"

static void memory_is_aligned_and_zeroed(void **state)
{
    struct pool *p = pool_new();
    size_t sizes[] = { 0, 1, 3, 7, 8, 15, 16, 17, 100, 4095, 4096, 4097, 20000 };
    unsigned char *m;
    size_t i, j, k;

    (void)state;
    for (k = 0; k < 3; k++) {           /* the same, request after request */
        for (i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            m = pool_alloc(p, sizes[i]);
            assert_non_null(m);
            assert_int_equal((uintptr_t)m % alignof(max_align_t), 0);
            for (j = 0; j < sizes[i]; j++)
                assert_int_equal(m[j], 0);
            memset(m, 0xa5, sizes[i]);  /* dirty it for the next round */
        }
        pool_reset(p);
    }
    pool_free(p);
}

static void allocations_do_not_overlap(void **state)
{
    struct pool *p = pool_new();
    unsigned char *m[2000];
    size_t i, j, n;

    (void)state;
    /* Enough small blocks to fill several chunks. */
    for (i = 0; i < 2000; i++) {
        n = 1 + i % 97;
        m[i] = pool_alloc(p, n);
        memset(m[i], (int)(i & 0xff), n);
    }
    for (i = 0; i < 2000; i++)
        for (j = 0; j < 1 + i % 97; j++)
            assert_int_equal(m[i][j], i & 0xff);
    pool_reset(p);
    pool_free(p);
}

static void large_blocks_are_their_own(void **state)
{
    struct pool *p = pool_new();
    unsigned char *small, *big, *after;

    (void)state;
    small = pool_alloc(p, 16);
    big = pool_alloc(p, 1 << 20);
    big[0] = 1;
    big[(1 << 20) - 1] = 2;
    after = pool_alloc(p, 16);
    /* The big block did not use up the chunk the small ones come from. */
    assert_true(after > small && after - small < 1024);
    pool_reset(p);
    pool_free(p);
}

static void strings(void **state)
{
    struct pool *p = pool_new();

    (void)state;
    assert_string_equal(pool_strdup(p, "abc"), "abc");
    assert_string_equal(pool_strndup(p, "abcdef", 2), "ab");
    assert_string_equal(pool_strdup(p, ""), "");
    assert_string_equal(pool_printf(p, "%s-%d", "x", 42), "x-42");
    assert_int_equal(strlen(pool_printf(p, "%5000s", "y")), 5000);
    pool_free(p);
}

static char order[16];
static size_t norder;

static void note(void *obj)
{
    order[norder++] = *(char *)obj;
}

struct again {
    char c;                     /* first, so note() reads it */
    struct pool *p;
};

static void defer_again(void *obj)
{
    static char late = 'z';

    note(obj);
    pool_defer(((struct again *)obj)->p, note, &late);
}

static void deferred_run_newest_first(void **state)
{
    struct pool *p = pool_new();
    static char a = 'a', b = 'b', c = 'c';
    static struct again again = { 'd', NULL };

    (void)state;
    norder = 0;
    assert_ptr_equal(pool_defer(p, note, &a), &a);
    assert_null(pool_defer(p, note, NULL));
    pool_alloc(p, 10000);
    pool_defer(p, note, &b);
    pool_defer(p, note, &c);
    pool_reset(p);
    order[norder] = '\0';
    assert_string_equal(order, "cba");

    /* A deferred function that defers: that one runs in the same reset. */
    norder = 0;
    again.p = p;
    pool_defer(p, defer_again, &again);
    pool_reset(p);
    order[norder] = '\0';
    assert_string_equal(order, "dz");

    /* Nothing is left over for the next request. */
    norder = 0;
    pool_reset(p);
    assert_int_equal(norder, 0);
    pool_free(p);
}

static void free_accepts_null(void **state)
{
    (void)state;
    pool_free(NULL);
    pool_reset(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_is_aligned_and_zeroed),
        cmocka_unit_test(allocations_do_not_overlap),
        cmocka_unit_test(large_blocks_are_their_own),
        cmocka_unit_test(strings),
        cmocka_unit_test(deferred_run_newest_first),
        cmocka_unit_test(free_accepts_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
