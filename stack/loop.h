/*
 * loop.h - one turn of the run-to-completion poll loop.
 *
 * A stack instance does all its work in turns of this loop, on the one
 * thread that owns it: nothing on this path sleeps or locks, and nothing
 * per packet makes a system call or allocates from the C heap (a question
 * from shunt-stat, answered between turns, may).  The application's hook
 * (shunt_set_poll_hook in <shunt/shunt.h>) runs inside each turn.
 */
#ifndef SHUNT_LOOP_H
#define SHUNT_LOOP_H

#include "netif.h"
#include "shunt/shunt.h"

/* The socket layer's work for each turn (output queued by the application,
 * pending ACKs), run just before the TX flush. */
void shunt_loop_set_output(void (*fn)(void));

/* One turn over sn.  Returns the number of frames received. */
unsigned shunt_loop_turn(struct shunt_netif *sn);

#endif /* SHUNT_LOOP_H */
