/*
 * loop.h - one turn of the run-to-completion poll loop.
 *
 * A stack instance does all its work in turns of this loop, on the one
 * thread that owns it: nothing on this path sleeps or locks, and nothing
 * per packet makes a system call or allocates from the C heap (a question
 * from shunt-stat, answered between turns, may).  The application's hook
 * (shunt_set_poll_hook in <shunt/shunt.h>) runs inside each turn.
 *
 * A turn cannot start inside another: a hook that makes a blocking Shunt
 * call would otherwise turn the loop from within its own turn.  Such a
 * turn is refused with EDEADLK (and the blocking call fails with it).
 */
#ifndef SHUNT_LOOP_H
#define SHUNT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "netif.h"
#include "shunt/shunt.h"
#include "telemetry.h"

struct shunt_loop {
    struct shunt_netif *netif;
    const struct shunt_clock *clock;
    struct shunt_telemetry *telemetry;
    shunt_poll_hook hook;               /* the application's */
    void *hook_arg;
    void (*output)(void *arg);          /* the socket layer's */
    void *output_arg;
    uint64_t next_timer_look;           /* on the clock, in ns */
    uint64_t turns;                     /* turns begun */
    bool in_turn;
};

void shunt_loop_init(struct shunt_loop *l, struct shunt_netif *netif,
                     const struct shunt_clock *clock, struct shunt_telemetry *telemetry);

/* The socket layer's work for each turn (output queued by the application,
 * pending ACKs), run just before the TX flush. */
void shunt_loop_set_output(struct shunt_loop *l, void (*fn)(void *arg), void *arg);

/* One turn.  Returns the number of frames received, or -EDEADLK when
 * called from inside a turn. */
int shunt_loop_turn(struct shunt_loop *l);

/* Whether a turn is under way (a call from the hook, or from lwIP). */
static inline bool shunt_loop_busy(const struct shunt_loop *l)
{
    return l->in_turn;
}

#endif /* SHUNT_LOOP_H */
