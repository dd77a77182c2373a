/*
 * master.h: the prefork master (`--workers N`), as php-fpm runs its workers.
 *
 * master_run() forks o->workers workers that share the listening socket and
 * supervises them until SIGTERM or SIGINT:
 *   - a worker that dies is replaced; one that dies soon after it started
 *     is replaced after a back-off (100 ms doubling to 10 s), so a crash
 *     loop cannot spin the CPU; one that marks its own slot SLOT_STOPPING
 *     (--max-requests served) is replaced at once;
 *   - a worker busy on one request for longer than request_timeout plus a
 *     grace period is killed and replaced (its request fails; nginx answers
 *     503 for it);
 *   - SIGHUP calls reload(); when it succeeds, workers are replaced one at a
 *     time: the new one starts first, the old one is told to stop once the
 *     new one accepts, and finishes its request in hand; the watchdog takes
 *     the request time limit reload() returns;
 *   - SIGTERM/SIGINT: the workers finish their requests in hand and exit;
 *     after shutdown_timeout seconds the rest are killed.  Returns 0.
 * work() runs in each child with its scoreboard slot; its return value is
 * the child's exit status.
 */
#ifndef TODO_MASTER_H
#define TODO_MASTER_H

#include "../common/scoreboard.h"

struct master_opts {
    unsigned workers;
    long shutdown_timeout;      /* seconds */
    long request_timeout;       /* seconds; the watchdog adds a grace period */
};

typedef int (*worker_fn)(void *arg, struct sb_slot *slot);
/* 0 when the new configuration holds; *request_timeout gets its limit. */
typedef int (*reload_fn)(void *arg, long *request_timeout);

/*
 * sb must be shared and have 2 * o->workers slots: during a reload, workers
 * told to stop may still finish their request in hand while their
 * replacements already serve.
 */
int master_run(const struct master_opts *o, struct scoreboard *sb,
               worker_fn work, reload_fn reload, void *arg);

#endif
