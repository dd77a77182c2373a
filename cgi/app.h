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
