/*
 * demux.h - find a TCP segment's connection in one hash lookup.
 *
 * lwIP finds the pcb of each arriving segment by walking its list of active
 * connections (and moves each hit to the front, which is cheap only while
 * traffic stays with a few of them).  With thousands of connections that walk
 * is most of what a segment costs.  So Shunt keeps a hash of its connections,
 * each from its first segment on (the SYN it sends or answers).  The
 * classifier (port/classify.c) asks it which connection a segment belongs
 * to, and lwIP is handed an active list holding just that pcb while it
 * processes the segment, and the real list is put back
 * afterwards - without the pcb, if lwIP closed it meanwhile, and with any pcb
 * lwIP added.  A segment the hash does not know belongs to no active
 * connection (a SYN for a listener, most often): lwIP is handed an empty
 * active list, and goes straight to TIME-WAIT and the listeners.
 *
 * While there are few connections it walks lwIP's lists instead of the
 * hash, which is cheaper then; lwIP still walks no list of its own.
 */
#ifndef SHUNT_DEMUX_H
#define SHUNT_DEMUX_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

struct tcp_pcb;
struct rte_hash;

/* A connection as a segment names it: this host's end, then the peer's,
 * ports in host order, addresses as they lie in the frame. */
struct shunt_tuple {
    bool v6;
    uint16_t lport;
    uint16_t rport;
    const uint8_t *laddr;               /* 4 or 16 bytes */
    const uint8_t *raddr;
};

/* Whether lwIP's address a is the frame's raw one (4 or 16 bytes). */
static inline bool shunt_tuple_addr_is(const ip_addr_t *a, bool v6, const uint8_t *raw)
{
    if (IP_IS_V6_VAL(*a) != v6)
        return false;
    return v6 ? memcmp(ip_2_ip6(a)->addr, raw, 16) == 0 : memcmp(&ip_2_ip4(a)->addr, raw, 4) == 0;
}

/* What the demux found, for tests and telemetry. */
struct shunt_demux_stats {
    uint64_t hits;                      /* found in the hash */
    uint64_t misses;                    /* not in the hash: in no active connection */
    uint64_t walks;                     /* looked for in lwIP's lists instead */
};

struct shunt_demux_entry {
    struct tcp_pcb *pcb;
    struct shunt_demux *demux;          /* for lwIP's callback when the pcb goes */
};

struct shunt_demux {
    struct rte_hash *table;
    struct shunt_demux_entry *entries;  /* by the table's key position */
    uint8_t ext_id;                     /* lwIP's ext arg slot for the entry */
    unsigned count;
    bool all_hashed;                    /* no connection left out (the table was never full) */
    struct shunt_demux_stats stats;
};

/* Make the hash (a DPDK object called name), for up to capacity
 * connections; 0 or -1 (no memory). */
int shunt_demux_init(struct shunt_demux *d, const char *name, unsigned capacity);
void shunt_demux_free(struct shunt_demux *d);

/* A connection has sent its SYN (or is established): find its segments by
 * hash from now on.  It leaves the hash when lwIP frees the pcb.  Adding it
 * again is harmless. */
void shunt_demux_add(struct shunt_demux *d, struct tcp_pcb *pcb);

/* A listener: the connections it accepts go into the hash as lwIP makes
 * them, before their SYN-ACK leaves. */
void shunt_demux_listen(struct shunt_demux *d, struct tcp_pcb *lpcb);

/*
 * The connection (active or in TIME-WAIT) a segment belongs to, or NULL:
 * from the hash, or while there are few connections (or the hash could not
 * take them all) from a walk of lwIP's lists.  Either way the answer holds
 * for lwIP too: give the segment to shunt_demux_input, and lwIP will not
 * walk its active list again.
 */
struct tcp_pcb *shunt_demux_find(struct shunt_demux *d, const struct shunt_tuple *t);

/* lwIP's IP input for a packet (its Ethernet header taken off) whose
 * connection shunt_demux_find found (NULL: none): lwIP sees an active list
 * of that connection alone, or an empty one. */
err_t shunt_demux_input(struct pbuf *p, struct netif *netif, struct tcp_pcb *found);

/* Connections in the hash. */
unsigned shunt_demux_count(const struct shunt_demux *d);

#endif /* SHUNT_DEMUX_H */
