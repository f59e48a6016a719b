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
#include "idle.h"
#include "shunt/shunt.h"

struct shunt_netif;
struct shunt_telemetry;

/* Work a socket (or anything above) leaves for the end of the turn: a node
 * it embeds, on the loop's list until the turn does it. */
struct shunt_turn_work {
    struct shunt_turn_work *next;
    bool queued;
};

struct shunt_loop {
    struct shunt_netif *netif;
    const struct shunt_clock *clock;
    struct shunt_telemetry *telemetry;
    shunt_poll_hook hook;               /* the application's */
    void *hook_arg;
    /* The layer above's work for each queued node (output the application
     * queued, pending ACKs), run just before the TX flush. */
    void (*output)(void *arg, struct shunt_turn_work *w);
    void *output_arg;
    struct shunt_turn_work *work;       /* queued for this turn's output step */
    uint64_t next_timer_look;           /* on the clock, in ns */
    uint64_t now;                       /* the clock as the last turn read it */
    struct shunt_idle idle;             /* what a wait does with no work */
    uint64_t turns;                     /* turns begun: the one under way */
    /* Turns that received or sent a frame; the others found nothing to do.
     * Their ratio is how busy the loop is, counted with one addition a turn
     * and no clock read (shunt-doctor shows it). */
    uint64_t busy_turns;
    /* The clock time of the spans from one turn's clock read to the next's
     * with a busy turn at either end and no sleep inside: the turn's own
     * work and the application's between turns (its send builds the frame
     * the next turn flushes; its recv takes what the turn before received),
     * the spinning left out, and spans of 1 ms or more (the thread was
     * preempted).  One compare and one addition a turn, on the
     * clock read the turn makes anyway (shunt_loop_load in <shunt/shunt.h>). */
    uint64_t work_ns;
    bool last_busy;                     /* the turn before this one */
    uint64_t last_sleeps;               /* idle.sleeps at the turn before */
    bool in_turn;
};

void shunt_loop_init(struct shunt_loop *l, struct shunt_netif *netif,
                     const struct shunt_clock *clock, struct shunt_telemetry *telemetry);

void shunt_loop_set_output(struct shunt_loop *l,
                           void (*fn)(void *arg, struct shunt_turn_work *w), void *arg);

/* Have fn run for w at the end of this turn (once, however often asked);
 * a node the turn may run again must ask again. */
void shunt_loop_want_turn(struct shunt_loop *l, struct shunt_turn_work *w);

/* Take w off the list (its owner is going away). */
void shunt_loop_forget(struct shunt_loop *l, struct shunt_turn_work *w);

/*
 * For a call that waits until `until` (on the clock; UINT64_MAX: no end)
 * and whose last turn found nothing: how long it may sleep before it turns
 * again (stack/idle.h), 0 to turn at once - poll = spin, work within the
 * last spin_us, or a timer (lwIP's or Shunt's TCP timers) or the deadline
 * due.  No clock read of its own: it counts from the last turn's.
 */
uint64_t shunt_loop_idle_ns(struct shunt_loop *l, uint64_t until);

/* One turn.  Returns the number of frames received, or -EDEADLK when
 * called from inside a turn. */
int shunt_loop_turn(struct shunt_loop *l);

#endif /* SHUNT_LOOP_H */
