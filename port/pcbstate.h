/*
 * pcbstate.h - state a port module keeps for each TCP connection, reached
 * through one of lwIP's ext-arg slots on the pcb.  A pool holds one entry
 * for every pcb lwIP can have (MEMP_NUM_TCP_PCB), so it never runs dry; an
 * entry is taken, zeroed, when the module first asks for a pcb's, and
 * comes back when lwIP frees the pcb (the slot's destroy callback).
 * port/recovery.c and port/cc.c keep their per-connection state here.
 */
#ifndef SHUNT_PCBSTATE_H
#define SHUNT_PCBSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_pcb;

struct shunt_pcb_pool {
    uint8_t ext_id;             /* lwIP's slot; SHUNT_PCB_POOL_NEW before the first init */
    size_t size;                /* bytes an entry */
    void *free;                 /* entries not in use, linked through their first bytes */
};

#define SHUNT_PCB_POOL_NEW      { .ext_id = 0xff }

/* count entries of size bytes (at least a pointer's) at base, all free.
 * The slot is lwIP's for good (it hands them out once per process); a
 * second init of the same pool keeps it. */
void shunt_pcb_pool_init(struct shunt_pcb_pool *p, void *base, size_t size, size_t count);

/* pcb's entry, or NULL when it has none yet. */
void *shunt_pcb_pool_find(const struct shunt_pcb_pool *p, const struct tcp_pcb *pcb);

/* pcb's entry, a zeroed one when it had none (then *fresh is true). */
void *shunt_pcb_pool_get(struct shunt_pcb_pool *p, struct tcp_pcb *pcb, bool *fresh);

#endif /* SHUNT_PCBSTATE_H */
