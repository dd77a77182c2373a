/*
 * main.c: reads the options and starts the process mode they ask for; the
 * requests themselves are worker.c's, supervising the workers is master.c's,
 * the one-shot commands are commands.c's.
 *
 *   todo-fcgi                      fd 0 is a listening socket (spawn-fcgi,
 *                                  systemd's StandardInput=socket), or fd 3
 *                                  with LISTEN_FDS=1 (systemd): serve FastCGI
 *                                  on it; otherwise one plain CGI request
 *   todo-fcgi --listen PATH|HOST:PORT [--backlog N]   open that socket and
 *                                  serve FastCGI
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
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "commands.h"
#include "master.h"
#include "worker.h"

#ifndef SCHEMA_DIR
#define SCHEMA_DIR "schema"
#endif

/* The environment we started with, which a reload restores (kept for life). */
static char **environ0;

/* Whether the configured key files read well, before any worker starts. */
static int check_keys(struct config *c, char *err, size_t errlen)
{
    struct keyring *k = keyring_new(&c->jwt, c->explicit_algs, c->public_key_file,
                                    c->jwks_file, JWKS_TABLE_OFF, 60, err, errlen);

    keyring_free(k);
    return k != NULL ? 0 : -1;
}

/* A scoreboard of one slot, for a process that serves without a master. */
static struct sb_slot *alone(struct app *a)
{
    if ((a->ctx.sb = scoreboard_new(1, 0)) == NULL)
        die_oom();
    a->ctx.sb->slot[0].pid = getpid();
    a->ctx.sb->slot[0].started = a->ctx.sb->started;
    return &a->ctx.sb->slot[0];
}

/* Serves FastCGI as one worker: a child of the master (master.h's
 * worker_fn), or the only process. */
static int serve_fastcgi(void *arg, struct sb_slot *slot)
{
    struct app *a = arg;
    char err[256];
    int rc;

    if (worker_init(a, err, sizeof err) != 0) {
        log_error("%s", err);
        return 2;
    }
    rc = worker_serve_fcgi(a, slot);
    worker_free(a);
    return rc;
}

/*
 * SIGHUP in the master (master.h's reload_fn): the environment is put back
 * as it was at start, the env file read again, and the configuration
 * checked; on any error the running one stays.
 */
static int reload_config(void *arg, long *request_timeout)
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

/* A copy of the environment's entries, for reload_config(). */
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

/* ----------------------------------------------------------- commands */

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
        return command_token(&a.cfg, token_user, role, ttl);
    if (migrate)
        return db_migrate(a.cfg.database_url, schema) == 0 ? 0 : 1;
    if (explain_user != NULL)
        return command_explain(&a.cfg, explain_user, optind < argc ? argv[optind] : "");
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
        rc = worker_serve_cgi(&a);
        worker_free(&a);
    } else if (workers > 0) {
        mo.workers = (unsigned)workers;
        mo.request_timeout = a.cfg.request_timeout;
        if ((a.ctx.sb = scoreboard_new(2 * mo.workers, 1)) == NULL) {
            fprintf(stderr, "todo-fcgi: cannot map the scoreboard\n");
            return 1;
        }
        rc = master_run(&mo, a.ctx.sb, serve_fastcgi, reload_config, &a);
    } else {
        rc = serve_fastcgi(&a, alone(&a));
    }
    scoreboard_free(a.ctx.sb);
    return rc;
}
