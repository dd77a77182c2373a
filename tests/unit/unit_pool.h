/*
 * unit_pool.h: the request pool a unit test program's cases allocate from,
 * made before the group and freed after it:
 * cmocka_run_group_tests(tests, setup, teardown).  Include it once, after
 * pool.h (or a header that includes it).
 */
static struct pool *pool;

static int setup(void **state)
{
    (void)state;
    pool = pool_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pool_free(pool);
    return 0;
}
