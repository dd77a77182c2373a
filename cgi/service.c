/*
 * service.c: the endpoints operators and load balancers call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cidr.h"
#include "../common/scoreboard.h"
#include "../common/timestamp.h"
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
    int up = db_ping(r->ctx->db) == DB_OK;

    json_object_object_add(o, "status", json_object_new_string(up ? "ok" : "unavailable"));
    json_object_object_add(o, "database", json_object_new_string(up ? "ok" : "unavailable"));
    if (!up)
        http_header(r, "Retry-After", "5");
    return http_json(r, up ? 200 : 503, o);
}

/* ------------------------------------------------------ operator status */

/* Only operators' networks (STATUS_ALLOW) see the pool's state. */
static int operator_only(struct req *r)
{
    if (cidr_allows(r->ctx->cfg->status_allow, r->remote_addr))
        return 0;
    log_warn("status: refused for %s", r->remote_addr ? r->remote_addr : "unknown");
    return http_error(r, 403, DETAIL_FORBIDDEN);
}

/* The pool's totals: requests (live and retired) and live workers by state. */
static uint64_t total_requests(const struct scoreboard *sb, unsigned by_state[5])
{
    uint64_t n = sb->retired;
    unsigned i;

    memset(by_state, 0, 5 * sizeof *by_state);
    for (i = 0; i < sb->nslots; i++) {
        if (sb->slot[i].pid == 0)
            continue;
        n += sb->slot[i].requests;
        by_state[sb->slot[i].state]++;
    }
    return n;
}

/*
 * GET /api/status (operators only): 200 with the pool's state: uptime,
 * requests, restarts, the database as this worker sees it, and each worker.
 */
int svc_status(struct req *r)
{
    const struct scoreboard *sb = r->ctx->sb;
    json_object *o, *workers, *w;
    unsigned by_state[5], i;
    int64_t now = ts_now();
    int up;

    if (operator_only(r) != 0)
        return r->status;
    up = db_ping(r->ctx->db) == DB_OK;
    o = json_object_new_object();
    workers = json_object_new_array();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    json_object_object_add(o, "database", json_object_new_string(up ? "ok" : "unavailable"));
    json_object_object_add(o, "supervised", json_object_new_boolean(sb->shared));
    json_object_object_add(o, "uptime_seconds", json_object_new_int64((now - sb->started) / 1000000));
    json_object_object_add(o, "requests", json_object_new_int64((int64_t)total_requests(sb, by_state)));
    json_object_object_add(o, "restarts", json_object_new_int64((int64_t)sb->restarts));
    json_object_object_add(o, "recycled", json_object_new_int64((int64_t)sb->recycled));
    for (i = 0; i < sb->nslots; i++) {
        const struct sb_slot *s = &sb->slot[i];

        if (s->pid == 0)
            continue;
        w = json_object_new_object();
        json_object_object_add(w, "pid", json_object_new_int(s->pid));
        json_object_object_add(w, "state", json_object_new_string(slot_state_names[s->state]));
        json_object_object_add(w, "requests", json_object_new_int64((int64_t)s->requests));
        json_object_object_add(w, "uptime_seconds", json_object_new_int64((now - s->started) / 1000000));
        json_object_object_add(w, "generation", json_object_new_int((int)s->generation));
        json_object_object_add(w, "database", json_object_new_string(s->db_up ? "ok" : "unavailable"));
        json_object_array_add(workers, w);
    }
    json_object_object_add(o, "workers", workers);
    return http_json(r, 200, o);
}

/* GET /api/metrics (operators only): the same in Prometheus text format. */
int svc_metrics(struct req *r)
{
    const struct scoreboard *sb = r->ctx->sb;
    unsigned by_state[5], i;
    uint64_t total;
    size_t len;
    char *text;
    FILE *f;

    if (operator_only(r) != 0)
        return r->status;
    total = total_requests(sb, by_state);
    if ((f = open_memstream(&text, &len)) == NULL)
        die_oom();
    fprintf(f, "# HELP todo_requests_total Requests served by the pool.\n"
               "# TYPE todo_requests_total counter\ntodo_requests_total %llu\n",
            (unsigned long long)total);
    fprintf(f, "# HELP todo_worker_restarts_total Workers replaced after dying.\n"
               "# TYPE todo_worker_restarts_total counter\ntodo_worker_restarts_total %llu\n",
            (unsigned long long)sb->restarts);
    fprintf(f, "# HELP todo_worker_recycled_total Workers replaced after --max-requests.\n"
               "# TYPE todo_worker_recycled_total counter\ntodo_worker_recycled_total %llu\n",
            (unsigned long long)sb->recycled);
    fprintf(f, "# HELP todo_workers Workers by state.\n# TYPE todo_workers gauge\n");
    for (i = SLOT_STARTING; i <= SLOT_STOPPING; i++)
        fprintf(f, "todo_workers{state=\"%s\"} %u\n", slot_state_names[i], by_state[i]);
    fprintf(f, "# HELP todo_worker_requests_total Requests served by each live worker.\n"
               "# TYPE todo_worker_requests_total counter\n");
    for (i = 0; i < sb->nslots; i++)
        if (sb->slot[i].pid != 0)
            fprintf(f, "todo_worker_requests_total{pid=\"%d\"} %llu\n", (int)sb->slot[i].pid,
                    (unsigned long long)sb->slot[i].requests);
    fprintf(f, "# HELP todo_database_up Whether this worker reaches PostgreSQL.\n"
               "# TYPE todo_database_up gauge\ntodo_database_up %d\n",
            db_ping(r->ctx->db) == DB_OK);
    fprintf(f, "# HELP todo_uptime_seconds Seconds since the pool started.\n"
               "# TYPE todo_uptime_seconds gauge\ntodo_uptime_seconds %lld\n",
            (long long)((ts_now() - sb->started) / 1000000));
    fclose(f);
    pool_defer(r->pool, free, text);
    return http_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}
