/*
 * commands.c: the one-shot commands (commands.h).
 */
#include "commands.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../common/db_list.h"
#include "../common/json.h"
#include "../common/jwt.h"
#include "../common/pool.h"
#include "../common/query.h"

int command_token(const struct config *cfg, const char *user, const char *role,
                  long ttl)
{
    json_object *claims = json_object_new_object();
    time_t now = time(NULL);
    char *tok;

    json_object_object_add(claims, "sub", json_object_new_string(user));
    if (role != NULL)
        json_object_object_add(claims, cfg->jwt.role_claim,
                               json_object_new_string(role));
    json_object_object_add(claims, "iat", json_object_new_int64(now));
    json_object_object_add(claims, "exp", json_object_new_int64(now + ttl));
    if (cfg->jwt.issuer)
        json_object_object_add(claims, "iss", json_object_new_string(cfg->jwt.issuer));
    if (cfg->jwt.audience)
        json_object_object_add(claims, "aud", json_object_new_string(cfg->jwt.audience));
    tok = jwt_mint(JWT_HS256, cfg->jwt.secret, cfg->jwt.secret_len, claims);
    json_object_put(claims);
    if (tok == NULL) {
        fprintf(stderr, "todo-fcgi: cannot sign the token\n");
        return 1;
    }
    printf("%s\n", tok);
    free(tok);
    return 0;
}

/*
 * --explain USER QUERY: the plan PostgreSQL runs for that listing (QUERY as
 * in GET /api/USER/tasks?QUERY), as JSON on stdout: for an operator asking
 * why a listing is slow, and for the test that no listing scans or sorts
 * all of a user's rows.
 */
int command_explain(const struct config *cfg, const char *user, const char *query)
{
    struct pool *p = pool_new();
    struct db *db = db_open(cfg->database_url, 1, 0);
    json_object *errs = verr_new();
    struct task_query q;
    char *plan = NULL;

    if (task_query_parse(p, query, &q, errs) > 0) {
        fprintf(stderr, "todo-fcgi: %s\n", json_object_to_json_string(errs));
    } else {
        q.user_id = user;
        if ((plan = db_task_list_explain(db, p, &q)) != NULL)
            printf("%s\n", plan);
    }
    json_object_put(errs);
    db_close(db);
    pool_free(p);
    return plan != NULL ? 0 : 1;
}

