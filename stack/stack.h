/*
 * stack.h - the stack instance of this process, brought up in order:
 * configuration, EAL, port, clock, lwIP, netif.
 *
 * shunt_init() (<shunt/shunt.h>) does it all.  The two halves are here for
 * tests that need to create their own port (net_ring) after the EAL is up
 * and before the stack opens it.
 */
#ifndef SHUNT_STACK_H
#define SHUNT_STACK_H

#include "config.h"
#include "netif.h"
#include "stats.h"

/* First half: keep a copy of the configuration and start the EAL. */
int shunt_stack_start_eal(const struct shunt_config *c);

/* Second half: open the port and bring up lwIP on it. */
int shunt_stack_start(void);

/* The instance's netif (for tests and diagnostics). */
struct shunt_netif *shunt_stack_netif(void);

/* The instance's counters, with the port's and lwIP's folded in. */
void shunt_stack_counters(struct shunt_counters *out);

#endif /* SHUNT_STACK_H */
