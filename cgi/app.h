/*
 * app.h: what the files of cgi/ share, and nothing else.
 *
 * dispatch() (routes.c) runs one request through the route table and its
 * shared checks; the handlers (tasks.c, service.c) share the signature
 * int handler(struct req *) and return the HTTP status they answered with.
 */
#ifndef TODO_APP_H
#define TODO_APP_H

#include "../common/config.h"
#include "../common/db.h"
#include "../common/http.h"
#include "../common/json.h"

int dispatch(struct req *r);

/* Answers 503 (with Retry-After) or 500 for a failed database call. */
int reply_db_error(struct req *r, enum db_status st);
/* Answers 422 with the validation errors errs (taken). */
int reply_invalid(struct req *r, json_object *errs);
/*
 * Parses the JSON body.  Answers 400 for text that is not JSON, or 422 when
 * a body is required and there is none (or it is null), and returns NULL
 * with *ok clear; otherwise returns the value (NULL: no body) with *ok set.
 */
json_object *req_json(struct req *r, int required, int *ok);

int svc_health(struct req *r);
int svc_ready(struct req *r);
int svc_status(struct req *r);
int svc_metrics(struct req *r);

int auth_register(struct req *r);
int auth_login(struct req *r);
int auth_token(struct req *r);
int auth_refresh(struct req *r);
int auth_logout(struct req *r);
int auth_me(struct req *r);

int task_list(struct req *r);
int task_create(struct req *r);
int task_get(struct req *r);
int task_update(struct req *r);
int task_delete(struct req *r);
int task_complete(struct req *r);

#endif
