/*
 * test_http.c: the response bytes a handler's answer turns into: a JSON
 * body written into the response buffer, a json-c tree, an error, a text
 * body and no body all leave through http_render(); so do the answers to a
 * failed database call and to a body that is not JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "http.h"
#include "../../common/json.h"

#include "unit_pool.h"

static struct req *new_req(void)
{
    struct req *r = pool_alloc(pool, sizeof *r);

    r->pool = pool;
    r->request_id = "rid-1";
    return r;
}

static const char *render(struct req *r)
{
    size_t len;
    char *out = http_render(r, &len);

    assert_int_equal(strlen(out), len);
    return out;
}

static void body_written_into_the_buffer(void **state)
{
    struct req *r = new_req();
    struct buf *b;

    (void)state;
    b = http_body(r);
    buf_puts(b, "[{\"a\":\"x/y\"}]");
    http_header(r, "X-Total-Count", "%d", 1);
    http_header(r, "Link", "<%s>; rel=\"next\"", "/a?b\r\nInjected: 1");
    assert_int_equal(http_json_buf(r, 200), 200);
    assert_string_equal(render(r),
                        "Status: 200 OK\r\n"
                        "X-Request-ID: rid-1\r\n"
                        "X-Total-Count: 1\r\n"
                        "Link: </a?b\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: 13\r\n\r\n"
                        "[{\"a\":\"x/y\"}]");
}

static void trees_and_errors_take_the_same_path(void **state)
{
    struct req *r = new_req();
    json_object *o = json_object_new_object();

    (void)state;
    json_object_object_add(o, "status", json_object_new_string("ok/1"));
    http_json(r, 200, o);
    assert_string_equal(render(r),
                        "Status: 200 OK\r\nX-Request-ID: rid-1\r\n"
                        "Content-Type: application/json\r\nContent-Length: 17\r\n\r\n"
                        "{\"status\":\"ok/1\"}");

    /* An error replaces what the handler had begun to write. */
    r = new_req();
    buf_puts(http_body(r), "[{\"id\":1},");
    http_error(r, 404, "Task \"x\" not found");
    assert_string_equal(render(r),
                        "Status: 404 Not Found\r\nX-Request-ID: rid-1\r\n"
                        "Content-Type: application/json\r\nContent-Length: 33\r\n\r\n"
                        "{\"detail\":\"Task \\\"x\\\" not found\"}");
}

static void text_and_empty(void **state)
{
    struct req *r = new_req();

    (void)state;
    http_text(r, 200, "text/plain", "up 1\n");
    assert_string_equal(render(r),
                        "Status: 200 OK\r\nX-Request-ID: rid-1\r\n"
                        "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nup 1\n");
    r = new_req();
    http_header(r, "ETag", "\"%s\"", "v1");
    http_empty(r, 304);
    /* No body, and no Content-Length either (RFC 9110 8.6). */
    assert_string_equal(render(r),
                        "Status: 304 Not Modified\r\nX-Request-ID: rid-1\r\n"
                        "ETag: \"v1\"\r\n\r\n");
    r = new_req();
    http_empty(r, 204);
    assert_string_equal(render(r), "Status: 204 No Content\r\nX-Request-ID: rid-1\r\n\r\n");
}

static void database_failures_and_bad_bodies(void **state)
{
    struct req *r = new_req();
    json_object *errs;
    int ok = 1;

    (void)state;
    http_db_error(r, DB_UNAVAILABLE);
    assert_string_equal(render(r),
                        "Status: 503 Service Unavailable\r\nX-Request-ID: rid-1\r\n"
                        "Retry-After: 5\r\n"
                        "Content-Type: application/json\r\nContent-Length: 32\r\n\r\n"
                        "{\"detail\":\"Service unavailable\"}");
    r = new_req();
    assert_int_equal(http_db_error(r, DB_REVOKED), 401);
    assert_string_equal(r->headers->data,
                        "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
    assert_int_equal(http_db_error(new_req(), DB_TIMEOUT), 504);
    assert_int_equal(http_db_error(new_req(), DB_ERROR), 500);

    r = new_req();
    r->body = "[1,";
    r->body_len = 3;
    assert_null(http_req_json(r, 0, &ok));
    assert_false(ok);
    assert_string_equal(render(r),
                        "Status: 400 Bad Request\r\nX-Request-ID: rid-1\r\n"
                        "Content-Type: application/json\r\nContent-Length: 79\r\n\r\n"
                        "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",3],"
                        "\"msg\":\"JSON decode error\"}]}");
    r = new_req();
    r->body = "";
    assert_null(http_req_json(r, 0, &ok));
    assert_true(ok);
    errs = verr_new();
    verr_add(errs, "missing", "Field required", NULL, "body", NULL, -1);
    assert_int_equal(http_invalid(r, errs), 422);
    assert_string_equal(r->resp->data, "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\"],"
                                       "\"msg\":\"Field required\"}]}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(body_written_into_the_buffer),
        cmocka_unit_test(trees_and_errors_take_the_same_path),
        cmocka_unit_test(text_and_empty),
        cmocka_unit_test(database_failures_and_bad_bodies),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
