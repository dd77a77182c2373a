/*
 * main.c: start-up, the process modes, and the accept -> dispatch -> free
 * loop.
 *
 *   todo-fcgi                      fd 0 is a listening socket (spawn-fcgi,
 *                                  systemd): serve FastCGI on it; otherwise
 *                                  serve one plain CGI request and exit
 *   todo-fcgi --listen PATH|HOST:PORT   open that socket and serve FastCGI
 *   todo-fcgi --migrate [--schema-dir DIR]   apply the schema and exit
 *   todo-fcgi --token USER [--role ROLE] [--ttl SECONDS]   print a token
 *
 * --env-file FILE loads settings before the environment is read.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/keyring.h"
#include "../common/log.h"
#include "../common/timestamp.h"
#include "app.h"

#ifndef SCHEMA_DIR
#define SCHEMA_DIR "schema"
#endif

struct app {
    struct config cfg;
    struct db *db;
    struct keyring *keys;
    struct pool *pool;
};

/*
 * SIGTERM ends the worker after the request in hand, if any: the handler is
 * installed without SA_RESTART, so a worker waiting in accept() wakes up and
 * leaves the loop, and exits through main() (so LeakSanitizer can report).
 */
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
    FCGX_ShutdownPending();
}

/* ------------------------------------------------------ one request */

typedef void (*write_fn)(void *ctx, const char *buf, size_t n);

static void serve(struct app *a, http_param_fn param, http_read_fn readfn,
                  write_fn writefn, void *ctx)
{
    struct timespec t0, t1;
    struct req r;
    const char *out;
    size_t len;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (http_req_read(&r, a->pool, param, readfn, ctx) != 0) {
        log_warn("cannot read the request");
        pool_reset(a->pool);
        return;
    }
    r.cfg = &a->cfg;
    r.db = a->db;
    r.keys = a->keys;
    log_request_id(r.request_id);
    dispatch(&r);
    out = http_render(&r, &len);
    writefn(ctx, out, len);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_access(r.method, r.path, r.status,
               (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
               r.ident ? r.ident->user : NULL);
    log_request_id(NULL);
    pool_reset(a->pool);
}

/* ------------------------------------------------------------ FastCGI */

static const char *fcgi_param(void *ctx, const char *name)
{
    return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static long fcgi_read(void *ctx, char *buf, size_t n)
{
    return FCGX_GetStr(buf, n > 65536 ? 65536 : (int)n, ((FCGX_Request *)ctx)->in);
}

static void fcgi_write(void *ctx, const char *buf, size_t n)
{
    FCGX_PutStr(buf, (int)n, ((FCGX_Request *)ctx)->out);
}

static int serve_fcgi(struct app *a, int sock)
{
    FCGX_Request fr;

    if (FCGX_InitRequest(&fr, sock, 0) != 0) {
        log_error("cannot set up the FastCGI request");
        return 1;
    }
    log_info("worker %d ready", (int)getpid());
    while (!stopping && FCGX_Accept_r(&fr) >= 0) {
        serve(a, fcgi_param, fcgi_read, fcgi_write, &fr);
        FCGX_Finish_r(&fr);
    }
    FCGX_Free(&fr, 1);
    log_info("worker %d stopping", (int)getpid());
    return 0;
}

/* ---------------------------------------------------------------- CGI */

struct cgi {
    size_t left;        /* CONTENT_LENGTH bytes still to read */
};

static const char *cgi_param(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

static long cgi_read(void *ctx, char *buf, size_t n)
{
    struct cgi *c = ctx;
    size_t got;

    if (n > c->left)
        n = c->left;
    got = n ? fread(buf, 1, n, stdin) : 0;
    c->left -= got;
    return (long)got;
}

static void cgi_write(void *ctx, const char *buf, size_t n)
{
    (void)ctx;
    fwrite(buf, 1, n, stdout);
    fflush(stdout);
}

static int serve_cgi(struct app *a)
{
    const char *cl = getenv("CONTENT_LENGTH");
    struct cgi c = { 0 };

    /* Never wait for more than one byte past the limit. */
    c.left = cl ? strtoul(cl, NULL, 10) : 0;
    if (c.left > HTTP_BODY_MAX + 1)
        c.left = HTTP_BODY_MAX + 1;
    serve(a, cgi_param, cgi_read, cgi_write, &c);
    return 0;
}

/* ----------------------------------------------------------- commands */

static int mint_token(const struct config *cfg, const char *user,
                      const char *role, long ttl)
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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: todo-fcgi [--env-file FILE] [--listen PATH|HOST:PORT]\n"
            "       todo-fcgi --migrate [--schema-dir DIR]\n"
            "       todo-fcgi --token USER [--role ROLE] [--ttl SECONDS]\n"
            "Without --listen, serves FastCGI on fd 0 when it is a socket,\n"
            "else one CGI request.  Settings: see README.md.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "migrate", no_argument, NULL, 'm' },
        { "schema-dir", required_argument, NULL, 's' },
        { "token", required_argument, NULL, 't' },
        { "role", required_argument, NULL, 'r' },
        { "ttl", required_argument, NULL, 'T' },
        { "env-file", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *listen_on = NULL, *schema = SCHEMA_DIR, *token_user = NULL;
    const char *role = NULL;
    struct app a = { 0 };
    struct sigaction sa;
    char err[256];
    long ttl = 3600;
    int c, migrate = 0, sock = 0, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_on = optarg; break;
        case 'm': migrate = 1; break;
        case 's': schema = optarg; break;
        case 't': token_user = optarg; break;
        case 'r': role = optarg; break;
        case 'T': ttl = strtol(optarg, NULL, 10); break;
        case 'e':
            if (config_env_file(optarg, err, sizeof err) != 0) {
                fprintf(stderr, "todo-fcgi: %s\n", err);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || ttl <= 0) {
        usage(stderr);
        return 2;
    }
    if (config_load(&a.cfg, token_user == NULL, !migrate, err, sizeof err) != 0) {
        fprintf(stderr, "todo-fcgi: %s\n", err);
        return 2;
    }
    log_set_level(a.cfg.log_level);
    if (token_user != NULL)
        return mint_token(&a.cfg, token_user, role, ttl);
    if (migrate)
        return db_migrate(a.cfg.database_url, schema) == 0 ? 0 : 1;

    if (listen_on != NULL) {
        if (FCGX_Init() != 0 || (sock = FCGX_OpenSocket(listen_on, 128)) < 0) {
            fprintf(stderr, "todo-fcgi: cannot listen on %s: %s\n", listen_on,
                    strerror(errno));
            return 1;
        }
    } else if (FCGX_Init() != 0) {
        fprintf(stderr, "todo-fcgi: cannot initialise FastCGI\n");
        return 1;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    a.keys = keyring_new(&a.cfg.jwt, a.cfg.explicit_algs, a.cfg.public_key_file,
                         a.cfg.jwks_file, a.cfg.jwks_table, a.cfg.jwks_reload,
                         err, sizeof err);
    if (a.keys == NULL) {
        fprintf(stderr, "todo-fcgi: %s\n", err);
        return 2;
    }
    a.pool = pool_new();
    a.db = db_open(a.cfg.database_url, a.cfg.db_prepare);
    if (listen_on == NULL && FCGX_IsCGI()) {
        rc = serve_cgi(&a);
    } else {
        /* Early, so the first request is fast. */
        if (db_connect(a.db) == DB_OK)
            keyring_refresh(a.keys, a.db, 0);
        rc = serve_fcgi(&a, sock);
    }
    db_close(a.db);
    keyring_free(a.keys);
    pool_free(a.pool);
    return rc;
}
