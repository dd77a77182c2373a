/*
 * scoreboard.c: the workers' shared status memory.
 */
#include "scoreboard.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "timestamp.h"

const char *const slot_state_names[] = {
    [SLOT_EMPTY] = "empty", [SLOT_STARTING] = "starting", [SLOT_IDLE] = "idle",
    [SLOT_BUSY] = "busy", [SLOT_STOPPING] = "stopping",
};

static size_t size_of(unsigned nslots)
{
    return sizeof(struct scoreboard) + nslots * sizeof(struct sb_slot);
}

struct scoreboard *scoreboard_new(unsigned nslots, int shared)
{
    struct scoreboard *sb;

    if (nslots == 0 || nslots > SCOREBOARD_MAX)
        return NULL;
    sb = mmap(NULL, size_of(nslots), PROT_READ | PROT_WRITE,
              (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (sb == MAP_FAILED)
        return NULL;
    memset(sb, 0, size_of(nslots));
    sb->nslots = nslots;
    sb->shared = shared;
    sb->started = ts_now();
    return sb;
}

void scoreboard_free(struct scoreboard *sb)
{
    if (sb != NULL)
        munmap(sb, size_of(sb->nslots));
}

void slot_set(struct sb_slot *s, enum slot_state st)
{
    __atomic_store_n(&s->state, (int)st, __ATOMIC_RELAXED);
}

/* Ready, busy and idle never overwrite STOPPING, which the master may set
 * at any time. */
void slot_ready(struct sb_slot *s)
{
    int starting = SLOT_STARTING;

    __atomic_compare_exchange_n(&s->state, &starting, SLOT_IDLE, 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void slot_busy(struct sb_slot *s)
{
    int cur = __atomic_load_n(&s->state, __ATOMIC_RELAXED);

    __atomic_store_n(&s->busy_since, ts_mono(), __ATOMIC_RELAXED);
    while (cur != SLOT_STOPPING &&
           !__atomic_compare_exchange_n(&s->state, &cur, SLOT_BUSY, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

void slot_done(struct sb_slot *s)
{
    int busy = SLOT_BUSY;

    __atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->busy_since, 0, __ATOMIC_RELAXED);
    __atomic_compare_exchange_n(&s->state, &busy, SLOT_IDLE, 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
