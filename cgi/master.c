/*
 * master.c: the prefork master: fork, supervise, reload, stop.  See master.h.
 *
 * The master is one loop around sigtimedwait(): every signal it cares about
 * stays blocked and is taken synchronously, so no state is touched from a
 * signal handler.  Each pass reaps children, keeps o->workers running,
 * advances a rolling reload, and runs the watchdog.
 */
#include "master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/timestamp.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define QUICK_DEATH_MS 2000     /* dying sooner than this counts as a crash loop */
#define WATCHDOG_GRACE_S 2     /* beyond request_timeout: statement_timeout's turn */

struct master {
    const struct master_opts *o;
    struct scoreboard *sb;
    worker_fn work;
    void *arg;
    sigset_t orig;              /* the mask to give children */
    unsigned gen;               /* configuration generation */
    long request_timeout;       /* seconds, as the last (re)load set it */
    pid_t fresh;                /* the new worker of a rolling reload */
    unsigned fails;             /* consecutive quick deaths */
    int64_t next_start;         /* ms: no worker starts before (back-off) */
};

static struct sb_slot *slot_of(struct scoreboard *sb, pid_t pid)
{
    unsigned i;

    for (i = 0; i < sb->nslots; i++)
        if (sb->slot[i].pid == pid)
            return &sb->slot[i];
    return NULL;
}

/* Starts a worker in slot i; 0, or -1 when fork failed. */
static int start_worker(struct master *m, unsigned i)
{
    struct sb_slot *s = &m->sb->slot[i];
    pid_t pid, parent;

    /* The slot is ready before the child runs, which may write to it at once. */
    memset(s, 0, sizeof *s);
    s->generation = m->gen;
    s->started = ts_now();
    slot_set(s, SLOT_STARTING);
    fflush(NULL);
    parent = getpid();
    pid = fork();
    if (pid < 0) {
        log_error("master: fork failed: %s", strerror(errno));
        memset(s, 0, sizeof *s);
        return -1;
    }
    if (pid == 0) {
        /* A worker whose master is gone (killed) stops as if told to. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            exit(0);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_IGN);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, &m->orig, NULL);
        exit(m->work(m->arg, s));
    }
    s->pid = pid;
    return 0;
}

/*
 * Workers that serve (not told to stop), and among them those of an older
 * generation; with all, stopping ones count too.
 */
static unsigned count(struct master *m, unsigned *old, int all)
{
    unsigned i, n = 0;

    *old = 0;
    for (i = 0; i < m->sb->nslots; i++) {
        struct sb_slot *s = &m->sb->slot[i];

        if (s->pid == 0 || (!all && s->state == SLOT_STOPPING))
            continue;
        n++;
        if (s->generation != m->gen && s->state != SLOT_STOPPING)
            (*old)++;
    }
    return n;
}

/*
 * A slot for a new worker; -1 when all are taken (by workers still finishing
 * the request in hand after a reload: 2 x workers slots leave room).
 */
static int free_slot(const struct scoreboard *sb)
{
    unsigned i;

    for (i = 0; i < sb->nslots; i++)
        if (sb->slot[i].pid == 0)
            return (int)i;
    return -1;
}

static void stop_worker(struct sb_slot *s)
{
    slot_set(s, SLOT_STOPPING);
    kill(s->pid, SIGTERM);
}

/* Collects every exited child and decides how it counts. */
static void reap(struct master *m, int stopping)
{
    struct sb_slot *s;
    int status, asked, quick;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if ((s = slot_of(m->sb, pid)) == NULL)
            continue;
        /* A worker leaving on purpose marks its slot and exits 0 (or is
         * ended by our SIGTERM before it could catch it); a crash or a
         * failure while leaving still counts. */
        asked = stopping ||
                (s->state == SLOT_STOPPING &&
                 ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                  (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)));
        __atomic_add_fetch(&m->sb->retired, s->requests, __ATOMIC_RELAXED);
        if (asked) {
            /* Told to go, or recycled itself (--max-requests): nothing to count. */
        } else {
            m->sb->restarts++;
            /* The slot's start time, the one the status report shows. */
            quick = ts_now() - s->started < QUICK_DEATH_MS * 1000;
            m->fails = quick ? m->fails + 1 : 0;
            if (m->fails > 0) {
                int64_t delay = (int64_t)BACKOFF_MIN_MS << (m->fails > 7 ? 7 : m->fails - 1);

                m->next_start = (ts_mono() / 1000) + (delay > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay);
            }
            if (WIFSIGNALED(status))
                log_error("master: worker %d killed by signal %d", (int)pid, WTERMSIG(status));
            else
                log_error("master: worker %d exited with %d", (int)pid, WEXITSTATUS(status));
        }
        if (pid == m->fresh)
            m->fresh = 0;
        memset(s, 0, sizeof *s);
    }
}

/* Keeps o->workers serving, and moves a rolling reload one step on. */
static void tend(struct master *m)
{
    unsigned i, old, live = count(m, &old, 0);
    struct sb_slot *fresh;
    int k;

    if (old > 0) {
        /* Rolling: start one new worker, retire one old one once it accepts. */
        if (m->fresh == 0 && live <= m->o->workers &&
            (ts_mono() / 1000) >= m->next_start &&     /* the crash back-off */
            (k = free_slot(m->sb)) >= 0 && start_worker(m, (unsigned)k) == 0)
            m->fresh = m->sb->slot[k].pid;
        fresh = m->fresh ? slot_of(m->sb, m->fresh) : NULL;
        if (fresh != NULL && (fresh->state == SLOT_IDLE || fresh->state == SLOT_BUSY)) {
            for (i = 0; i < m->sb->nslots; i++) {
                struct sb_slot *s = &m->sb->slot[i];

                if (s->pid != 0 && s->generation != m->gen && s->state != SLOT_STOPPING) {
                    stop_worker(s);
                    break;
                }
            }
            m->fresh = 0;
        }
        return;
    }
    while (live < m->o->workers && (ts_mono() / 1000) >= m->next_start &&
           (k = free_slot(m->sb)) >= 0 && start_worker(m, (unsigned)k) == 0)
        live++;
}

/* Kills a worker stuck on one request well past the request time limit. */
static void watchdog(struct master *m)
{
    int64_t limit = (int64_t)(m->request_timeout + WATCHDOG_GRACE_S) * 1000000;
    int64_t now = ts_mono(), since;
    unsigned i;

    for (i = 0; i < m->sb->nslots; i++) {
        struct sb_slot *s = &m->sb->slot[i];

        since = __atomic_load_n(&s->busy_since, __ATOMIC_RELAXED);
        if (s->pid != 0 && since != 0 && now - since > limit) {
            log_error("master: worker %d stuck on one request for %lld s; killing it",
                      (int)s->pid, (long long)((now - since) / 1000000));
            kill(s->pid, SIGKILL);
            __atomic_store_n(&s->busy_since, 0, __ATOMIC_RELAXED);
        }
    }
}

int master_run(const struct master_opts *o, struct scoreboard *sb,
               worker_fn work, reload_fn reload, void *arg)
{
    struct master m = { .o = o, .sb = sb, .work = work, .arg = arg, .gen = 1,
                             .request_timeout = o->request_timeout };
    struct timespec tick = { 0, 100 * 1000000 };
    int64_t deadline = 0;
    unsigned i, old;
    sigset_t set;
    int sig, stopping = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &m.orig);
    log_info("master %d: %u workers", (int)getpid(), o->workers);

    for (;;) {
        reap(&m, stopping);
        if (stopping) {
            if (count(&m, &old, 1) == 0)
                break;
            if ((ts_mono() / 1000) > deadline) {
                log_warn("master: shutdown timeout; killing the remaining workers");
                for (i = 0; i < sb->nslots; i++)
                    if (sb->slot[i].pid != 0)
                        kill(sb->slot[i].pid, SIGKILL);
                deadline = INT64_MAX;
            }
        } else {
            tend(&m);
            watchdog(&m);
        }
        sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGHUP && !stopping) {
            if (reload(arg, &m.request_timeout) == 0) {
                m.gen++;
                log_info("master: configuration reloaded; replacing workers");
            } else {
                log_error("master: reload failed; the workers keep the running configuration");
            }
        } else if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
            stopping = 1;
            deadline = (ts_mono() / 1000) + o->shutdown_timeout * 1000;
            log_info("master: stopping; workers finish their requests");
            for (i = 0; i < sb->nslots; i++)
                if (sb->slot[i].pid != 0)
                    stop_worker(&sb->slot[i]);
        }
    }
    log_info("master: stopped");
    return 0;
}
