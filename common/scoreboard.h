/*
 * scoreboard: what every worker of a master is doing, in memory the master
 * shares with its workers (as Apache's scoreboard), so any worker can answer
 * the status endpoint for all of them.
 *
 * The master creates it before forking, fills a slot's pid and generation
 * when it starts a worker, and clears the slot when the worker exits (adding
 * its request count to retired).  A
 * worker writes only its own slot, and the recycled count when
 * --max-requests ends it.  A worker that runs alone (spawn-fcgi, one
 * process) gets a private scoreboard of one slot.  Counters are updated
 * with atomic builtins; readers may see a slot mid-update, which a status
 * report tolerates.
 */
#ifndef TODO_SCOREBOARD_H
#define TODO_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

#define SCOREBOARD_MAX 256

enum slot_state {
    SLOT_EMPTY,         /* no worker */
    SLOT_STARTING,      /* forked, not accepting yet */
    SLOT_IDLE,          /* waiting for a request */
    SLOT_BUSY,          /* serving one */
    SLOT_STOPPING,      /* told to stop, or recycling: finishing */
};

extern const char *const slot_state_names[];

struct sb_slot {
    pid_t pid;
    int state;                  /* enum slot_state */
    int db_up;                  /* its connection is open */
    unsigned generation;        /* bumped by each reload (SIGHUP) */
    uint64_t requests;
    int64_t started;            /* microseconds, wall clock */
    int64_t busy_since;         /* start of the request in hand (ts_mono); 0: none */
};

struct scoreboard {
    int64_t started;            /* the master's start */
    int shared;                 /* 1 under a master */
    unsigned nslots;
    uint64_t restarts;          /* workers replaced after dying */
    uint64_t recycled;          /* workers replaced after --max-requests */
    uint64_t retired;           /* requests served by workers now gone */
    struct sb_slot slot[];
};

/* Shared (MAP_SHARED) for a master's workers, or private; NULL on failure. */
struct scoreboard *scoreboard_new(unsigned nslots, int shared);
void scoreboard_free(struct scoreboard *sb);

void slot_set(struct sb_slot *s, enum slot_state st);
void slot_ready(struct sb_slot *s);        /* started: STARTING -> IDLE */
void slot_busy(struct sb_slot *s);         /* a request began */
void slot_done(struct sb_slot *s);         /* it ended */

#endif
