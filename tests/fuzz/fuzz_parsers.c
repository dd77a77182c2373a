/*
 * fuzz_parsers.c: libFuzzer harness for every parser that sees client bytes.
 *
 * The first input byte picks the parser; the rest is what a client would
 * send: a request body (JSON syntax, json-c, the task contract), a query
 * string, a bearer token, a timestamp, a path for the router, a multipart
 * form body, or a key set (JWKS text, PEM text) as an operator or Better
 * Auth's table provides.  Built and
 * run by `make fuzz` (clang, -fsanitize=fuzzer,address,undefined).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../common/form.h"
#include "../../common/jwk.h"
#include "../../common/json.h"
#include "../../common/jwt.h"
#include "../../common/query.h"
#include "../../common/router.h"
#include "../../common/task.h"
#include "../../common/timestamp.h"

static int nop(struct req *r)
{
    (void)r;
    return 0;
}

static const struct route routes[] = {
    { "GET", "/api/{user}/tasks/{id}/complete", nop, AUTH_USER, BODY_NONE },
    { "PUT", "/api/{user}/tasks/{id}", nop, AUTH_USER, BODY_JSON },
    { "GET", "/api/health", nop, AUTH_NONE, BODY_NONE },
};

static void body(struct pool *p, const char *s, size_t n)
{
    json_object *o, *errs;
    struct task t;
    unsigned present;
    size_t off;

    if (json_parse_body(p, s, n, &o, &off) != 0 || o == NULL)
        return;
    errs = verr_new();
    task_defaults(&t);
    if (task_parse(p, o, &t, &present, errs) == 0)
        task_check(&t, present, errs);
    json_object_put(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct jwt_policy policy = {
        .algs = JWT_HS256 | JWT_HS512,
        .secret = (const unsigned char *)"0123456789abcdef0123456789abcdef",
        .secret_len = 32, .leeway = 30, .audience = "todo", .issuer = "me",
    };
    struct pool *p;
    struct task_query q;
    struct jwt_identity id;
    struct qparam *fields;
    json_object *errs;
    const char *params[ROUTE_PARAMS_MAX];
    size_t lens[ROUTE_PARAMS_MAX];
    char *s, allow[64];
    int64_t us;
    int status, off;

    if (size < 1)
        return 0;
    p = pool_new();
    s = pool_strndup(p, (const char *)data + 1, size - 1);
    struct jwt_keyset *set;

    switch (data[0] % 8) {
    case 0:
        body(p, (const char *)data + 1, size - 1);
        break;
    case 1:
        errs = verr_new();
        task_query_parse(p, s, &q, errs);
        query_with_cursor(p, s, "Yz");
        json_object_put(errs);
        break;
    case 2:
        jwt_verify(&policy, s, 1800000000, &id);
        break;
    case 3:
        if (ts_parse_offset(s, &us, &off) == 0 && (off <= -86400 || off >= 86400))
            abort();            /* the column holds less than a day */
        break;
    case 4:
        set = jwt_keyset_new();
        jwt_keyset_add_jwks(set, s, size - 1, NULL, 0);
        jwt_keyset_free(set);
        break;
    case 5:
        set = jwt_keyset_new();
        jwt_keyset_add_pem(set, s, size - 1, NULL, NULL, 0);
        jwt_keyset_free(set);
        break;
    case 6:
        form_parse(p, "multipart/form-data; boundary=b", (const char *)data + 1, size - 1,
                   &fields);
        break;
    default:
        router_match(routes, 3, "GET", s, params, lens, allow, sizeof allow, &status);
        break;
    }
    pool_free(p);
    return 0;
}
