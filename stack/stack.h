/*
 * stack.h - the stack instance of this process, brought up in order:
 * configuration, EAL, port, clock, lwIP, netif.
 *
 * shunt_stack_init() does it all (for shunt_init() in <shunt/shunt.h>).  The
 * two halves are here for tests that need to create their own port
 * (net_ring) after the EAL is up and before the stack opens it.
 */
#ifndef SHUNT_STACK_H
#define SHUNT_STACK_H

#include <stdbool.h>

#include "capture.h"
#include "config.h"
#include "netif.h"
#include "stats.h"

/* Bring up the instance from a configuration file (NULL: $SHUNT_CONFIG).
 * Returns 0, or -1 with errno after printing one line saying what is wrong. */
int shunt_stack_init(const char *config_path);

/* First half: keep a copy of the configuration and start the EAL. */
int shunt_stack_start_eal(const struct shunt_config *c);

/* Second half: open the port and bring up lwIP on it. */
int shunt_stack_start(void);

/* Whether the instance is up, one turn of its loop, and its end (which
 * prints the counters unless the configuration says stats = no). */
bool shunt_stack_is_up(void);
unsigned shunt_stack_poll(void);
void shunt_stack_exit(void);

/* Start capturing to path the frames filter keeps (NULL or "": all), cut
 * and rotated as the configuration says, or stop; see port/capture.h.  A
 * capture under way stops first, even if the new one cannot start.  Start
 * returns 0, or -1 with one line in err. */
int shunt_stack_capture_start(const char *path, const char *filter, char *err, size_t errlen);
void shunt_stack_capture_stop(void);

/* The instance's netif (for tests and diagnostics). */
struct shunt_netif *shunt_stack_netif(void);

/* The instance's counters, with the port's and lwIP's folded in. */
void shunt_stack_counters(struct shunt_counters *out);

#endif /* SHUNT_STACK_H */
