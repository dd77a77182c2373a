/*
 * service.c: the endpoints operators and load balancers call.
 */
#include "app.h"

/* GET /api/health: 200 {"status": "ok"}; the worker answers, no database. */
int svc_health(struct req *r)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "status", json_object_new_string("ok"));
    return http_json(r, 200, o);
}

/*
 * GET /api/ready: 200 {"status": "ok", "database": "ok"} when a query goes
 * through, else 503 {"status": "unavailable", "database": "unavailable"} with
 * Retry-After.
 */
int svc_ready(struct req *r)
{
    json_object *o = json_object_new_object();
    int up = db_ping(r->db) == DB_OK;

    json_object_object_add(o, "status", json_object_new_string(up ? "ok" : "unavailable"));
    json_object_object_add(o, "database", json_object_new_string(up ? "ok" : "unavailable"));
    if (!up)
        http_header(r, "Retry-After", "5");
    return http_json(r, up ? 200 : 503, o);
}
