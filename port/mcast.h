/*
 * mcast.h - the instance's multicast groups: who is a member of what, with
 * which source filter, and the port's multicast filter that follows them.
 *
 * One table for the whole instance, an rte_hash keyed by group address
 * (IPv4 or IPv6), so that the question asked of every multicast frame -
 * "is this group joined, and does a member want this source?" - costs the
 * same at 10 groups as at 10,000.  Each group keeps its members: an owner
 * (an opaque pointer; the layer above puts its socket there, this layer
 * knows no sockets), a filter mode and up to SHUNT_MCAST_MAX_SOURCES sources,
 * as Linux keeps a socket's ip_mc_socklist.
 *
 * The port's filter: whenever the set of groups changes, the Ethernet
 * addresses they map to (01:00:5e + 23 bits, 33:33 + 32 bits; several
 * groups may share one) are programmed with rte_eth_dev_set_mc_addr_list.
 * A port with no filter (-ENOTSUP), or whose filter cannot hold them all,
 * receives all multicast instead (allmulticast), and goes back to its
 * filter when they fit again.  The filter's capacity is found once, at
 * init, by programming lists of growing length (DPDK 22.11's dev_info does
 * not say it), and the filter is left empty.
 */
#ifndef SHUNT_MCAST_H
#define SHUNT_MCAST_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

/* Sources a member's filter holds: Linux's net.ipv4.igmp_max_msf. */
#define SHUNT_MCAST_MAX_SOURCES 10
/* The longest filter list the capacity probe tries. */
#define SHUNT_MCAST_PROBE_MAX 4096

/* The member's filter mode, as Linux's MCAST_EXCLUDE and MCAST_INCLUDE:
 * EXCLUDE with no sources is an any-source join. */
enum shunt_mcast_mode { SHUNT_MCAST_EXCLUDE = 0, SHUNT_MCAST_INCLUDE = 1 };

struct shunt_mcast_member {
    const void *owner;
    enum shunt_mcast_mode mode;
    unsigned nsources;
    ip_addr_t sources[SHUNT_MCAST_MAX_SOURCES];
    bool listed;                /* it has had sources: its mode is fixed */
};

/* The sources an interface's state (below) lists at most. */
#define SHUNT_MCAST_STATE_SOURCES 64

/*
 * A group's state on the interface, all its members merged (RFC 3376 3.2,
 * RFC 3810 4.2): EXCLUDE if any member excludes, of the sources every
 * excluding member excludes and no including member includes; otherwise
 * INCLUDE of every source some member includes.  INCLUDE with no sources
 * is "not a member"; an INCLUDE list longer than SHUNT_MCAST_STATE_SOURCES
 * is widened to EXCLUDE of none (the routers forward more, the host's
 * filter still drops what no member wants).  This is what IGMPv3 and MLDv2
 * report (port/mcreport.h).
 */
struct shunt_mcast_state {
    enum shunt_mcast_mode mode;
    unsigned nsources;
    ip_addr_t sources[SHUNT_MCAST_STATE_SOURCES];
};

struct shunt_mcast_group;
struct rte_hash;

/* The port's filter, as shunt-stat shows it. */
struct shunt_mcast_filter {
    bool has_filter;            /* the port takes a list of addresses */
    unsigned capacity;          /* how many it takes (SHUNT_MCAST_PROBE_MAX: at least) */
    unsigned programmed;        /* addresses in it now */
    bool allmulticast;          /* fallback on: no filter, or too many addresses */
    uint64_t reprograms;        /* times the list was written */
};

struct shunt_mcast {
    struct rte_hash *table;     /* group -> position in groups[] */
    struct shunt_mcast_group *groups;   /* by the table's positions */
    unsigned slots;                     /* of groups[] */
    unsigned capacity;
    unsigned count;             /* groups with a member */
    uint16_t port_id;
    bool port_started;          /* false: no port to program (unit tests) */
    struct shunt_mcast_filter filter;
    uint64_t lookups;           /* frames whose group was looked up */
};

/* A table for capacity groups, named name (a DPDK object), for the port
 * port_id if has_port; probes the port's filter.  0, or -ENOMEM. */
int shunt_mcast_init(struct shunt_mcast *m, const char *name, unsigned capacity,
                     uint16_t port_id, bool has_port);
void shunt_mcast_free(struct shunt_mcast *m);

/* owner becomes a member of group with mode and no sources: 0, -EADDRINUSE
 * (a member already), -ENOBUFS (the table is full). */
int shunt_mcast_join(struct shunt_mcast *m, const ip_addr_t *group, const void *owner,
                     enum shunt_mcast_mode mode);

/* owner leaves group: 0, or -EADDRNOTAVAIL (not a member). */
int shunt_mcast_leave(struct shunt_mcast *m, const ip_addr_t *group, const void *owner);

/* owner's membership of group, for the layer above to change its filter
 * (mode, sources); NULL if none.  Valid until the next join or leave. */
struct shunt_mcast_member *shunt_mcast_member(struct shunt_mcast *m, const ip_addr_t *group,
                                              const void *owner);

/* How many members group has (0: not joined). */
unsigned shunt_mcast_members(struct shunt_mcast *m, const ip_addr_t *group);

/* Calls fn(arg, group) for each group owner is in (owner NULL: every
 * group); fn may leave the group it is given. */
void shunt_mcast_each(struct shunt_mcast *m, const void *owner,
                      void (*fn)(void *arg, const ip_addr_t *group), void *arg);

/* How many groups owner is in. */
unsigned shunt_mcast_count_of(const struct shunt_mcast *m, const void *owner);

/* group's state on the interface, as above (not joined: INCLUDE of none). */
void shunt_mcast_state(struct shunt_mcast *m, const ip_addr_t *group,
                       struct shunt_mcast_state *out);

/* Whether a state is membership (anything but INCLUDE of none). */
static inline bool shunt_mcast_state_joined(const struct shunt_mcast_state *st)
{
    return st->mode == SHUNT_MCAST_EXCLUDE || st->nsources > 0;
}

/* Whether src is in a list of n sources. */
bool shunt_mcast_listed(const ip_addr_t *list, unsigned n, const ip_addr_t *src);

/* Whether a member's filter lets a datagram from src in. */
bool shunt_mcast_member_allows(const struct shunt_mcast_member *mb, const ip_addr_t *src);

/* The hot path, per frame: the group at addr (4 or 16 bytes as in the
 * frame, v6 says which) is joined (*joined), and some member's filter lets
 * src in (the return value; false if not joined). */
bool shunt_mcast_accepts(struct shunt_mcast *m, bool v6, const uint8_t *addr,
                         const uint8_t *src, bool *joined);

/* Whether owner, if a member of group, lets src in (true if owner is no
 * member: Linux's IP_MULTICAST_ALL). */
bool shunt_mcast_owner_allows(struct shunt_mcast *m, const ip_addr_t *group, const void *owner,
                              const ip_addr_t *src);

#endif /* SHUNT_MCAST_H */
