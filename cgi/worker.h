/*
 * worker.h: one worker process: what it holds for its whole life, and how
 * it serves requests one at a time, from the FastCGI socket it shares with
 * the other workers (worker.c: the accept loop, the bounds on reading a
 * request, and how a worker leaves) or once, as a plain CGI program.
 */
#ifndef TODO_WORKER_H
#define TODO_WORKER_H

#include "../access/keyring.h"
#include "../common/config.h"
#include "../common/db.h"
#include "../common/http.h"
#include "../common/pool.h"
#include "../common/scoreboard.h"

struct app {
    struct config cfg;
    struct worker_ctx ctx;      /* what requests reach: ctx.cfg is &cfg */
    struct pool *pool;
    int sock;                   /* the listening socket */
    long max_requests;          /* 0: no limit */
    const char *env_file;
    const char *web_servers;    /* FCGI_WEB_SERVER_ADDRS: who may connect
                                 * over TCP; NULL: anyone */
};

/* Opens what a worker needs of its own: database, keys, request pool;
 * 0, or -1 with one line in err. */
int worker_init(struct app *a, char *err, size_t errlen);
void worker_free(struct app *a);

/* Serves FastCGI requests on a->sock until told to stop (SIGTERM) or
 * max_requests are served, keeping slot up to date; the exit status. */
int worker_serve_fcgi(struct app *a, struct sb_slot *slot);

/* Serves the one CGI request of the environment and standard input. */
int worker_serve_cgi(struct app *a);

#endif
