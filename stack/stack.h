/*
 * stack.h - the stack instance of this process, and its life: configuration,
 * EAL, port, clock, lwIP, netif, brought up in that order.
 *
 * Everything Shunt keeps for an instance is in struct shunt_instance, one
 * part per module; lwIP keeps its own state in globals, which is why a
 * process holds one instance (several cores: several processes).  The
 * instance's DPDK objects (its mbuf pool, its connection hash) are named
 * after its id, so instances that share DPDK's memory do not collide.
 *
 * shunt_stack_init() does it all (for shunt_init() in <shunt/shunt.h>).  The
 * two halves are here for tests that need to create their own port
 * (net_ring) after the EAL is up and before the stack opens it.
 */
#ifndef SHUNT_STACK_H
#define SHUNT_STACK_H

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "clock.h"
#include "config.h"
#include "counters.h"
#include "dev.h"
#include "exception.h"
#include "faults.h"
#include "loop.h"
#include "netif.h"
#include "stats.h"
#include "steer.h"
#include "telemetry.h"

struct shunt_instance {
    enum { STACK_DOWN, STACK_EAL, STACK_UP, STACK_OVER } state;
    unsigned id;                        /* the port queue it owns (a group's: its
                                           index); names its DPDK objects,
                                           shunt<id>_mbufs, shunt<id>_demux */
    struct shunt_config config;
    struct shunt_clock clock;
    struct shunt_dev dev;               /* the port, its pool, its ring-drop sockets */
    /* The exception path (config exception = yes): the kernel's tap, a
     * second port to receive from (kernel.port_id, queue 0), and the
     * pipeline stage that carries frames between it and the port. */
    struct shunt_dev kernel;
    struct shunt_exception exception;
    struct shunt_netif netif;           /* lwIP's netif, the pipeline, the counters */
    struct shunt_capture *capture;      /* NULL: not capturing */
    struct shunt_faults faults;         /* in the pipeline while faults.on */
    /* A group's instance (config instances > 1): frames that land here for
     * another instance's flows go to it (port/steer.h). */
    struct shunt_steer steer;
    bool steering;
    struct shunt_loop loop;
    struct shunt_telemetry telemetry;
};

/* The process's instance (whatever its state). */
struct shunt_instance *shunt_instance(void);

/* Bring up the instance from a configuration file (NULL: $SHUNT_CONFIG).
 * Returns 0, or -1 with errno after printing one line saying what is wrong. */
int shunt_stack_init(const char *config_path);

/* First half: keep a copy of the configuration and start the EAL. */
int shunt_stack_start_eal(const struct shunt_config *c);

/* Second half: open the port and bring up lwIP on it. */
int shunt_stack_start(void);

/* Whether the instance is up, one turn of its loop (frames received, or
 * -EDEADLK from inside a turn: see stack/loop.h), and its end (which prints
 * the counters unless the configuration says stats = no). */
bool shunt_stack_is_up(void);
int shunt_stack_poll(void);
void shunt_stack_exit(void);

/* Start capturing to path the frames filter keeps (NULL or "": all), cut
 * and rotated as the configuration says, or stop; see port/capture.h.  A
 * capture under way stops first, even if the new one cannot start.  Start
 * returns 0, or -1 with one line in err. */
int shunt_stack_capture_start(const char *path, const char *filter, char *err, size_t errlen);
void shunt_stack_capture_stop(void);

/* Switch the fault stage (port/faults.h) to spec ("off" or "" stops it);
 * without a seed of its own, spec takes the configuration's faults_seed.
 * Returns 0, or -1 with one line in err. */
int shunt_stack_faults(const char *spec, char *err, size_t errlen);

/* The instance's netif (for tests and diagnostics); NULL unless up. */
struct shunt_netif *shunt_stack_netif(void);

/* The steering stage of a group's instance, for the socket layer's
 * ownership calls; NULL when the instance is alone. */
struct shunt_steer *shunt_stack_steer(void);

/* The instance's counters, with the port's and lwIP's folded in. */
void shunt_stack_counters(struct shunt_counters *out);

/* Those counters, and their frame balance (stack/stats.h). */
void shunt_stack_balance(struct shunt_counters *c, struct shunt_balance *b);

#endif /* SHUNT_STACK_H */
