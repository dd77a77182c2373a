/*
 * worker.c: a worker's requests.  The accept loop takes FastCGI
 * connections off the shared listening socket itself, with time limits,
 * and hands them to libfcgi; each request is read, dispatched (routes.c)
 * and answered through one of two adapters, FastCGI or CGI, then the
 * request pool is rewound.
 */
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/cidr.h"
#include "../common/log.h"
#include "../common/timestamp.h"
#include "app.h"

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
 * Whether a TCP peer may talk FastCGI to us: FCGI_WEB_SERVER_ADDRS, as
 * libfcgi reads it (addresses, comma separated; networks too, here), names
 * the web servers; unset, any may.  libfcgi would check it in its accept,
 * which take_connection() does instead.
 */
static int web_server(const struct app *a, const struct sockaddr_storage *addr)
{
    char text[INET6_ADDRSTRLEN] = "?";
    const void *ip = addr->ss_family == AF_INET
                         ? (const void *)&((const struct sockaddr_in *)addr)->sin_addr
                         : (const void *)&((const struct sockaddr_in6 *)addr)->sin6_addr;

    if (a->web_servers == NULL)
        return 1;
    if (inet_ntop(addr->ss_family, ip, text, sizeof text) != NULL &&
        cidr_allows(a->web_servers, text))
        return 1;
    log_warn("FastCGI connection from %s refused: not in FCGI_WEB_SERVER_ADDRS", text);
    return 0;
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
    if (addr.ss_family == AF_INET || addr.ss_family == AF_INET6) {
        if (!web_server(a, &addr)) {
            close(fd);
            return 0;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
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
    r.ctx = &a->ctx;
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

    if (db_housekeep(a->ctx.db, &removed) == DB_OK && removed > 0)
        log_info("housekeeping: %ld expired rows removed", removed);
}

int worker_serve_fcgi(struct app *a, struct sb_slot *slot)
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
    if (db_connect(a->ctx.db) == DB_OK) {
        keyring_refresh(a->ctx.keys, a->ctx.db, 0);
        housekeep(a);
    }
    slot->db_up = db_is_up(a->ctx.db);
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
        slot->db_up = db_is_up(a->ctx.db);
        slot_done(slot);
        if ((served + 1) % HOUSEKEEP_EVERY == 0)
            housekeep(a);
        if (++served == a->max_requests) {
            /* The master starts a replacement as soon as it sees this. */
            log_info("worker %d recycled after %ld requests", (int)getpid(), served);
            __atomic_add_fetch(&a->ctx.sb->recycled, 1, __ATOMIC_RELAXED);
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

int worker_init(struct app *a, char *err, size_t errlen)
{
    a->ctx.cfg = &a->cfg;
    a->ctx.keys = keyring_new(&a->cfg.jwt, a->cfg.explicit_algs, a->cfg.public_key_file,
                              a->cfg.jwks_file, a->cfg.jwks_table, a->cfg.jwks_reload,
                              err, errlen);
    if (a->ctx.keys == NULL)
        return -1;
    a->pool = pool_new();
    a->web_servers = getenv("FCGI_WEB_SERVER_ADDRS");
    a->ctx.db = db_open(a->cfg.database_url, a->cfg.db_prepare,
                        a->cfg.request_timeout * 1000);
    return 0;
}

void worker_free(struct app *a)
{
    db_close(a->ctx.db);
    keyring_free(a->ctx.keys);
    pool_free(a->pool);
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

int worker_serve_cgi(struct app *a)
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

