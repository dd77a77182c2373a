/*
 * main.c: start-up, the process modes, and the accept -> dispatch -> free
 * loop.
 *
 *   todo-fcgi                      fd 0 is a listening socket (spawn-fcgi,
 *                                  systemd's StandardInput=socket), or fd 3
 *                                  with LISTEN_FDS=1 (systemd): serve FastCGI
 *                                  on it; otherwise one plain CGI request
 *   todo-fcgi --listen PATH|HOST:PORT   open that socket and serve FastCGI
 *   todo-fcgi --workers N [--listen ...]  a master supervising N workers on
 *                                  that socket (or on fd 0), see master.h
 *   todo-fcgi --migrate [--schema-dir DIR]   apply the schema and exit
 *   todo-fcgi --token USER [--role ROLE] [--ttl SECONDS]   print a token
 *   todo-fcgi --explain USER [QUERY]   print the plan of a listing
 *
 * --env-file FILE loads settings before the environment is read.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../common/keyring.h"
#include "../common/log.h"
#include "../common/query.h"
#include "../common/scoreboard.h"
#include "../common/timestamp.h"
#include "app.h"
#include "master.h"

#ifndef SCHEMA_DIR
#define SCHEMA_DIR "schema"
#endif

struct app {
    struct config cfg;
    struct db *db;
    struct keyring *keys;
    struct scoreboard *sb;
    struct pool *pool;
    int sock;                   /* the listening socket */
    long max_requests;          /* 0: no limit */
    const char *env_file;
};

/* The environment we started with, which a reload restores (kept for life). */
static char **environ0;

/*
 * How a worker leaves (told to stop with SIGTERM, or --max-requests served):
 * the request in hand is always finished, then it accepts nothing new and
 * closes its connection.  SIGTERM and SIGINT stay blocked except while the
 * worker waits (epoll_pwait, ppoll), so the handler only raises a flag and
 * never interrupts a library call (libfcgi drops a new connection when a
 * signal cuts short its wait for the first bytes).
 *
 * Web servers are not asked to keep connections (nginx.conf.example has no
 * upstream keepalive): a worker waiting on an idle kept-alive connection
 * would sit idle while requests queue in the listening socket's backlog
 * (DESIGN.md, "Each request").  A web server that keeps one anyway
 * (FCGI_KEEP_CONN) is served on it until the worker leaves; a request it
 * writes on that connection as the worker closes it fails.
 */
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

/*
 * Whether EPOLLEXCLUSIVE hands each new connection to a worker that is
 * still waiting: only since Linux 6.0 ("epoll: autoremove wakers even more
 * aggressively"; stable kernels got it later in 2022).  Before, a second
 * connection could be credited to a worker already woken, which then serves
 * one kept-alive connection for seconds while the other waits.  Older
 * kernels wake every idle worker instead.
 */
static int exclusive_wakeups(void)
{
    struct utsname u;
    int major = 0;

    return uname(&u) == 0 && sscanf(u.release, "%d", &major) == 1 && major >= 6;
}

/*
 * Reading a request is bounded: no read or write of a FastCGI connection
 * waits more than REQUEST_TIMEOUT, at most IO_TIMEOUT_S, for the web
 * server, and the worker counts as busy from the moment it takes the
 * connection, so the master's watchdog ends one fed a byte at a time.
 * Before, a client of the socket that sent part of a record held a worker
 * for ever (four of them took the API down).  nginx sends a whole request
 * at once (it buffers the body first).
 */
#define IO_TIMEOUT_S 10

static long io_timeout(const struct app *a)
{
    return a->cfg.request_timeout < IO_TIMEOUT_S ? a->cfg.request_timeout : IO_TIMEOUT_S;
}

/*
 * Takes a new connection off the shared listening socket, with the time
 * limits set, and hands it to libfcgi as an open connection, which
 * FCGX_Accept_r() then reads (it accepts nothing itself: see serve_fcgi).
 * 1 taken, 0 none (another worker was quicker), -1 the socket failed.
 */
static int take_connection(const struct app *a, FCGX_Request *fr)
{
    struct timeval limit = { io_timeout(a), 0 };
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    int fd = accept4(a->sock, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC), one = 1;

    if (fd < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
               errno == ECONNABORTED || errno == EPROTO ? 0 : -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0) {
        log_warn("cannot set a time limit on a FastCGI connection: %s", strerror(errno));
        close(fd);
        return 0;
    }
    if (addr.ss_family == AF_INET || addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fr->ipcFd = fd;
    /* So that FCGX_Accept_r(), finishing the request before, keeps it open;
     * the BEGIN_REQUEST record then says whether it stays open after. */
    fr->keepConnection = 1;
    return 1;
}

/*
 * Waits for a request to read: takes a new connection, or sees the next
 * request arrive on a connection the web server keeps.  When it closes that
 * one, the worker closes its end and goes back to the listening socket.
 * 1 a request is there, 0 the worker is done, -1 the socket failed.
 *
 * The listening socket is shared and non-blocking, and watched through
 * accept_ep, an epoll set holding it with EPOLLEXCLUSIVE: a new connection
 * wakes one idle worker, not all of them (with 32 workers, waking all
 * halved the connections served per second).
 */
static int next_request(const struct app *a, FCGX_Request *fr, int accept_ep,
                        const sigset_t *waitmask)
{
    struct epoll_event ev;
    struct pollfd p;
    char c;
    int n;

    for (;;) {
        if (stopping)
            return 0;
        if (fr->ipcFd < 0) {
            n = epoll_pwait(accept_ep, &ev, 1, -1, waitmask);
        } else {
            p.fd = fr->ipcFd;
            p.events = POLLIN;
            n = ppoll(&p, 1, NULL, waitmask);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (fr->ipcFd < 0) {
            if ((n = take_connection(a, fr)) != 0)
                return n;
            continue;
        }
        n = (int)recv(fr->ipcFd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0)
            return 1;
        if (n < 0 && errno == EAGAIN)
            continue;
        close(fr->ipcFd);       /* the web server closed it (or reset it) */
        fr->ipcFd = -1;
    }
}

/* ------------------------------------------------------ one request */

typedef void (*write_fn)(void *ctx, const char *buf, size_t n);

static void serve(struct app *a, http_param_fn param, http_read_fn readfn,
                  write_fn writefn, void *ctx)
{
    int64_t t0 = ts_mono();
    struct req r;
    const char *out;
    size_t len;

    if (http_req_read(&r, a->pool, param, readfn, ctx) != 0) {
        log_warn("cannot read the request");
        pool_reset(a->pool);
        return;
    }
    r.cfg = &a->cfg;
    r.db = a->db;
    r.keys = a->keys;
    r.sb = a->sb;
    log_request_id(r.request_id);
    dispatch(&r);
    out = http_render(&r, &len);
    writefn(ctx, out, len);
    log_access(r.method, r.path, r.status, (double)(ts_mono() - t0) / 1e3,
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

/*
 * libfcgi closes a connection gracefully: shutdown(), then up to 2 s of
 * poll() and read() until the web server closes its end, so that nothing it
 * sent is left unread (which would reset the connection before it read the
 * answer).  Once the request's input is read to its end (it usually sits
 * in libfcgi's buffer already; at most 64 KiB more is read), nothing is
 * left: the worker closes at once and takes the next request, three system
 * calls and a wait for nginx sooner.
 */
static void close_at_once(FCGX_Request *fr)
{
    char buf[4096];
    int n, left = 16;

    while (left-- > 0 && (n = FCGX_GetStr(buf, sizeof buf, fr->in)) > 0)
        ;
    if (FCGX_HasSeenEOF(fr->in))
        FCGX_Detach(fr);
}

/* Every worker clears out expired rows when it starts and every
 * HOUSEKEEP_EVERY requests (db_housekeep), so they never pile up. */
#define HOUSEKEEP_EVERY 1000

static void housekeep(struct app *a)
{
    long removed = 0;

    if (db_housekeep(a->db, &removed) == DB_OK && removed > 0)
        log_info("housekeeping: %ld expired rows removed", removed);
}

/*
 * The worker: serves FastCGI requests on a->sock until told to stop or
 * max_requests are served, keeping its scoreboard slot up to date.
 */
static int serve_fcgi(struct app *a, struct sb_slot *slot)
{
    struct sigaction sa;
    sigset_t term, waitmask;
    struct epoll_event ev;
    FCGX_Request fr;
    long served = 0;
    int rc, failed = 0, accept_ep;

    /* libfcgi gets no listening socket: it reads the connections
     * take_connection() hands it and, when one fails, cannot go on to
     * accept another without a time limit. */
    if (FCGX_InitRequest(&fr, -1, 0) != 0) {
        log_error("cannot set up the FastCGI request");
        return 1;
    }
    /* Shared with the other workers: see next_request(). */
    ev.events = EPOLLIN | (exclusive_wakeups() ? EPOLLEXCLUSIVE : 0);
    ev.data.fd = a->sock;
    if (fcntl(a->sock, F_SETFL, fcntl(a->sock, F_GETFL) | O_NONBLOCK) != 0 ||
        (accept_ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        epoll_ctl(accept_ep, EPOLL_CTL_ADD, a->sock, &ev) != 0) {
        log_error("cannot watch the listening socket: %s", strerror(errno));
        return 1;
    }
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);

    /* Early, so the first request is fast. */
    if (db_connect(a->db) == DB_OK) {
        keyring_refresh(a->keys, a->db, 0);
        housekeep(a);
    }
    slot->db_up = db_is_up(a->db);
    slot_ready(slot);
    log_info("worker %d ready", (int)getpid());
    while ((rc = next_request(a, &fr, accept_ep, &waitmask)) > 0) {
        slot_busy(slot);
        /* A connection that fails before its request is whole is closed
         * at once, not with libfcgi's wait for the other end. */
        fr.detached = 1;
        if (FCGX_Accept_r(&fr) < 0) {
            log_info("FastCGI connection closed without a whole request (cut off,"
                     " or nothing for %ld s)", io_timeout(a));
            slot_done(slot);
            continue;
        }
        fr.detached = 0;
        serve(a, fcgi_param, fcgi_read, fcgi_write, &fr);
        close_at_once(&fr);
        FCGX_Finish_r(&fr);
        slot->db_up = db_is_up(a->db);
        slot_done(slot);
        if ((served + 1) % HOUSEKEEP_EVERY == 0)
            housekeep(a);
        if (++served == a->max_requests) {
            /* The master starts a replacement as soon as it sees this. */
            log_info("worker %d recycled after %ld requests", (int)getpid(), served);
            __atomic_add_fetch(&a->sb->recycled, 1, __ATOMIC_RELAXED);
            slot_set(slot, SLOT_STOPPING);
            stopping = 1;
        }
    }
    if (rc < 0) {
        log_error("cannot accept a FastCGI connection: %s", strerror(errno));
        failed = 1;
    }
    if (!failed)
        slot_set(slot, SLOT_STOPPING);     /* leaving on purpose: not a crash */
    if (fr.ipcFd >= 0) {
        /* Not libfcgi's close, which waits up to 2 s for nginx's. */
        close(fr.ipcFd);
        fr.ipcFd = -1;
    }
    FCGX_Free(&fr, 1);
    close(accept_ep);
    log_info("worker %d stopping after %ld requests", (int)getpid(), served);
    return failed;
}

/* Opens what a worker needs of its own: database, keys, request pool. */
static int worker_init(struct app *a, char *err, size_t errlen)
{
    a->keys = keyring_new(&a->cfg.jwt, a->cfg.explicit_algs, a->cfg.public_key_file,
                          a->cfg.jwks_file, a->cfg.jwks_table, a->cfg.jwks_reload,
                          err, errlen);
    if (a->keys == NULL)
        return -1;
    a->pool = pool_new();
    a->db = db_open(a->cfg.database_url, a->cfg.db_prepare,
                    a->cfg.request_timeout * 1000);
    return 0;
}

static void worker_free(struct app *a)
{
    db_close(a->db);
    keyring_free(a->keys);
    pool_free(a->pool);
}

/* Whether the configured key files read well, before any worker starts. */
static int check_keys(struct config *c, char *err, size_t errlen)
{
    struct keyring *k = keyring_new(&c->jwt, c->explicit_algs, c->public_key_file,
                                    c->jwks_file, TABLE_OFF, 60, err, errlen);

    keyring_free(k);
    return k != NULL ? 0 : -1;
}

/* A scoreboard of one slot, for a process that serves without a master. */
static struct sb_slot *alone(struct app *a)
{
    if ((a->sb = scoreboard_new(1, 0)) == NULL)
        die_oom();
    a->sb->slot[0].pid = getpid();
    a->sb->slot[0].started = a->sb->started;
    return &a->sb->slot[0];
}

/* A child of the master (master.h's worker_fn). */
static int pool_worker(void *arg, struct sb_slot *slot)
{
    struct app *a = arg;
    char err[256];
    int rc;

    if (worker_init(a, err, sizeof err) != 0) {
        log_error("%s", err);
        return 2;
    }
    rc = serve_fcgi(a, slot);
    worker_free(a);
    return rc;
}

/*
 * SIGHUP in the master (master.h's reload_fn): the environment is put back
 * as it was at start, the env file read again, and the configuration
 * checked; on any error the running one stays.
 */
static int pool_reload(void *arg, long *request_timeout)
{
    struct app *a = arg;
    struct config c;
    char err[256];
    char **e;

    clearenv();
    for (e = environ0; *e != NULL; e++)
        putenv(*e);
    if ((a->env_file && config_env_file(a->env_file, err, sizeof err) != 0) ||
        config_load(&c, 1, 1, err, sizeof err) != 0 ||
        check_keys(&c, err, sizeof err) != 0) {
        log_error("reload: %s", err);
        return -1;
    }
    a->cfg = c;
    *request_timeout = c.request_timeout;
    log_set_level(c.log_level);
    return 0;
}

/*
 * The listening socket of plain systemd socket activation: LISTEN_FDS=1
 * for this process (LISTEN_PID) and the socket on fd 3, see sd_listen_fds(3).
 * Returns 3, -1 when systemd passed nothing, -2 when it passed more than one
 * socket.  The variables are removed, as the next program started must not
 * take them for its own.  (StandardInput=socket and spawn-fcgi hand the
 * socket over as fd 0 instead.)
 */
static int systemd_socket(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    int ours = pid != NULL && fds != NULL && strtol(pid, NULL, 10) == (long)getpid();
    int one = ours && strcmp(fds, "1") == 0;

    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return !ours ? -1 : one ? 3 : -2;
}

/* A copy of the environment's entries, for pool_reload(). */
static char **environ_copy(void)
{
    size_t n = 0, i;
    char **copy;

    while (environ[n] != NULL)
        n++;
    if ((copy = calloc(n + 1, sizeof *copy)) == NULL)
        die_oom();
    for (i = 0; i < n; i++)
        if ((copy[i] = strdup(environ[i])) == NULL)
            die_oom();
    return copy;
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

/*
 * --explain USER QUERY: the plan PostgreSQL runs for that listing (QUERY as
 * in GET /api/USER/tasks?QUERY), as JSON on stdout: for an operator asking
 * why a listing is slow, and for the test that no listing scans or sorts
 * all of a user's rows.
 */
static int explain(const struct config *cfg, const char *user, const char *query)
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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: todo-fcgi [--env-file FILE] [--listen PATH|HOST:PORT [--backlog N]]\n"
            "                 [--workers N [--max-requests N] [--shutdown-timeout S]]\n"
            "       todo-fcgi --migrate [--schema-dir DIR]\n"
            "       todo-fcgi --token USER [--role ROLE] [--ttl SECONDS]\n"
            "       todo-fcgi --explain USER [QUERY]\n"
            "Without --listen, serves FastCGI on fd 0 when it is a socket,\n"
            "else one CGI request.  Settings: see README.md.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "backlog", required_argument, NULL, 'b' },
        { "migrate", no_argument, NULL, 'm' },
        { "schema-dir", required_argument, NULL, 's' },
        { "token", required_argument, NULL, 't' },
        { "explain", required_argument, NULL, 'x' },
        { "role", required_argument, NULL, 'r' },
        { "ttl", required_argument, NULL, 'T' },
        { "env-file", required_argument, NULL, 'e' },
        { "workers", required_argument, NULL, 'w' },
        { "max-requests", required_argument, NULL, 'M' },
        { "shutdown-timeout", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *listen_on = NULL, *schema = SCHEMA_DIR, *token_user = NULL;
    const char *role = NULL, *explain_user = NULL;
    struct master_opts mo = { 0, 30, 30 };
    struct app a = { 0 };
    char err[256];
    /* Connections waiting for a worker when every one is busy.  When the
     * queue is full, nginx's connect fails at once and the client gets 503
     * with Retry-After instead of a wait: 1,024 is a few hundred
     * milliseconds of work for four workers (README.md, "Sizing"). */
    long ttl = 3600, workers = 0, backlog = 1024;
    int c, migrate = 0, rc, sd;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_on = optarg; break;
        case 'b': backlog = strtol(optarg, NULL, 10); break;
        case 'm': migrate = 1; break;
        case 's': schema = optarg; break;
        case 't': token_user = optarg; break;
        case 'x': explain_user = optarg; break;
        case 'r': role = optarg; break;
        case 'T': ttl = strtol(optarg, NULL, 10); break;
        case 'e': a.env_file = optarg; break;
        case 'w': workers = strtol(optarg, NULL, 10); break;
        case 'M': a.max_requests = strtol(optarg, NULL, 10); break;
        case 'S': mo.shutdown_timeout = strtol(optarg, NULL, 10); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - (explain_user != NULL && optind == argc - 1) || ttl <= 0 || workers < 0 || workers > SCOREBOARD_MAX / 2 ||
        a.max_requests < 0 || mo.shutdown_timeout < 1 || backlog < 1 || backlog > 65535) {
        usage(stderr);
        return 2;
    }
    if ((sd = systemd_socket()) == -2) {
        fprintf(stderr, "todo-fcgi: systemd passed more than one socket (LISTEN_FDS); "
                "give the socket unit one ListenStream=\n");
        return 2;
    }
    environ0 = environ_copy();
    if (a.env_file && config_env_file(a.env_file, err, sizeof err) != 0) {
        fprintf(stderr, "todo-fcgi: %s\n", err);
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
    if (explain_user != NULL)
        return explain(&a.cfg, explain_user, optind < argc ? argv[optind] : "");
    if (check_keys(&a.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "todo-fcgi: %s\n", err);
        return 2;
    }

    a.sock = sd >= 0 ? sd : 0;
    if (listen_on != NULL) {
        if (FCGX_Init() != 0 || (a.sock = FCGX_OpenSocket(listen_on, (int)backlog)) < 0) {
            fprintf(stderr, "todo-fcgi: cannot listen on %s: %s\n", listen_on,
                    strerror(errno));
            return 1;
        }
    } else if (FCGX_Init() != 0) {
        fprintf(stderr, "todo-fcgi: cannot initialise FastCGI\n");
        return 1;
    }
    /* FCGX_Init() takes SIGPIPE, and SIGUSR1 for a shutdown flag of its own
     * that makes its accept fail; log rotation sends SIGUSR1 freely. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    /* Argon2id takes PASSWORD_M_KIB (19 MiB) per hash.  glibc serves the first
     * such block by mmap, then raises its mmap threshold past it, so later
     * ones come from the heap and stay resident (a worker that hashed stayed
     * at 25 MiB).  A fixed threshold keeps large blocks mmapped: their memory
     * goes back to the system when freed. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);

    if (listen_on == NULL && sd < 0 && workers == 0 && FCGX_IsCGI()) {
        alone(&a);
        if (worker_init(&a, err, sizeof err) != 0) {
            fprintf(stderr, "todo-fcgi: %s\n", err);
            return 2;
        }
        rc = serve_cgi(&a);
        worker_free(&a);
    } else if (workers > 0) {
        mo.workers = (unsigned)workers;
        mo.request_timeout = a.cfg.request_timeout;
        if ((a.sb = scoreboard_new(2 * mo.workers, 1)) == NULL) {
            fprintf(stderr, "todo-fcgi: cannot map the scoreboard\n");
            return 1;
        }
        rc = master_run(&mo, a.sb, pool_worker, pool_reload, &a);
    } else {
        rc = pool_worker(&a, alone(&a));
    }
    scoreboard_free(a.sb);
    return rc;
}
