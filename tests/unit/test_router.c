/*
 * test_router.c: route matching, 404 and 405 with Allow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "router.h"

static int h(struct req *r)
{
    (void)r;
    return 200;
}

static const struct route tab[] = {
    { "GET", "/api/health", h, AUTH_NONE, BODY_NONE },
    { "GET", "/api/{user}/tasks", h, AUTH_USER, BODY_NONE },
    { "POST", "/api/{user}/tasks", h, AUTH_USER, BODY_JSON },
    { "GET", "/api/{user}/tasks/{id}", h, AUTH_USER, BODY_NONE },
    { "PUT", "/api/{user}/tasks/{id}", h, AUTH_USER, BODY_JSON },
    { "PATCH", "/api/{user}/tasks/{id}", h, AUTH_USER, BODY_JSON },
    { "DELETE", "/api/{user}/tasks/{id}", h, AUTH_USER, BODY_NONE },
    { "PATCH", "/api/{user}/tasks/{id}/complete", h, AUTH_USER, BODY_JSON },
};

#define N (sizeof tab / sizeof tab[0])

static const struct route *m(const char *method, const char *path,
                             const char **params, size_t *lens, char *allow,
                             int *status)
{
    return router_match(tab, N, method, path, params, lens, allow, 64, status);
}

static void matches_literal_and_placeholders(void **state)
{
    const char *p[ROUTE_PARAMS_MAX];
    size_t l[ROUTE_PARAMS_MAX];
    char allow[64];
    int st;
    const struct route *r;

    (void)state;
    assert_ptr_equal(m("GET", "/api/health", p, l, allow, &st), &tab[0]);
    r = m("PATCH", "/api/k3JX9/tasks/42/complete", p, l, allow, &st);
    assert_ptr_equal(r, &tab[7]);
    assert_int_equal(l[0], 5);
    assert_memory_equal(p[0], "k3JX9", 5);
    assert_int_equal(l[1], 2);
    assert_memory_equal(p[1], "42", 2);
    assert_ptr_equal(m("DELETE", "/api/u/tasks/7", p, l, allow, &st), &tab[6]);
}

static void unknown_path_is_404(void **state)
{
    const char *p[ROUTE_PARAMS_MAX];
    size_t l[ROUTE_PARAMS_MAX];
    char allow[64];
    int st;

    (void)state;
    assert_null(m("GET", "/api/u/taskz", p, l, allow, &st));
    assert_int_equal(st, 404);
    assert_null(m("GET", "/api//tasks", p, l, allow, &st));
    assert_int_equal(st, 404);
    assert_null(m("GET", "/api/u/tasks/1/complete/x", p, l, allow, &st));
    assert_int_equal(st, 404);
    assert_null(m("GET", "/", p, l, allow, &st));
    assert_int_equal(st, 404);
    assert_null(m("GET", "", p, l, allow, &st));
    assert_int_equal(st, 404);
    assert_null(m("GET", "/api/health/", p, l, allow, &st));
    assert_int_equal(st, 404);
}

static void wrong_method_is_405_with_allow(void **state)
{
    const char *p[ROUTE_PARAMS_MAX];
    size_t l[ROUTE_PARAMS_MAX];
    char allow[64];
    int st;

    (void)state;
    assert_null(m("DELETE", "/api/u/tasks", p, l, allow, &st));
    assert_int_equal(st, 405);
    assert_string_equal(allow, "GET, POST");
    assert_null(m("POST", "/api/u/tasks/1", p, l, allow, &st));
    assert_int_equal(st, 405);
    assert_string_equal(allow, "GET, PUT, PATCH, DELETE");
    assert_null(m("GET", "/api/u/tasks/1/complete", p, l, allow, &st));
    assert_string_equal(allow, "PATCH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_literal_and_placeholders),
        cmocka_unit_test(unknown_path_is_404),
        cmocka_unit_test(wrong_method_is_405_with_allow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
