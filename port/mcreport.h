/*
 * mcreport.h - the host side of IGMP (v1, v2, v3) and MLD (v1, v2): telling
 * the routers on the link which groups, and which sources in them, this
 * host wants (RFC 3376, RFC 3810; RFC 2236 and RFC 2710 for the older
 * versions).
 *
 * lwIP 2.1.3 speaks only IGMPv2 and MLDv1, and a feed handler's routers
 * speak IGMPv3 and MLDv2: a source-specific join (IP_ADD_SOURCE_MEMBERSHIP)
 * means nothing to them unless the report lists the source.  So Shunt
 * reports for the host itself, from the group table (port/mcast.h), and
 * lwIP never sees a query: the netif hands every IGMP and MLD message here
 * instead of to lwIP, and the layer above reports its joins here rather
 * than to lwIP's IGMP.  (lwIP still joins each address's solicited-node
 * group in its own MLD list at start-up, which sends two MLDv1 reports
 * before any querier is heard; every later report is this module's.)
 *
 * What it does, as Linux does:
 * - A change of a group's state (a join, a leave, a source added or
 *   dropped, merged over every socket: shunt_mcast_state) is reported at
 *   once - IGMPv3/MLDv2: TO_EX/TO_IN on a change of filter mode, otherwise
 *   ALLOW/BLOCK of the sources that changed - and sent again
 *   [Robustness Variable] - 1 times at random within the Unsolicited Report
 *   Interval (1 s), later changes merged into what is still to send.
 * - A general query is answered after a random delay within its Maximum
 *   Response Time with the current state of every group (IS_EX/IS_IN); a
 *   group-specific or group-and-source-specific query with that group's,
 *   pending answers merged as RFC 3376 5.2 says.
 * - An IGMPv1 or v2 query (an MLDv1 query) switches the family to that
 *   version for the Older Version Querier Present Timeout (Robustness x
 *   Query Interval + Query Response Interval): reports, leaves and answers
 *   are then of that version, per group, and another host's report for a
 *   group cancels this host's pending answer (suppression).  The
 *   configuration can force a version, as Linux's force_igmp_version and
 *   force_mld_version.
 * - The robustness and query interval a v3/v2 querier announces are
 *   adopted; queries whose checksum is wrong, or MLD queries not from a
 *   link-local address, are dropped and counted.
 *
 * Time is lwIP's (sys_now), on a 100 ms tick, so tests drive it with the
 * stack's clock.
 */
#ifndef SHUNT_MCREPORT_H
#define SHUNT_MCREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

#include "mcast.h"

struct netif;

/* How often pending reports are looked at (ms). */
#define SHUNT_MCREPORT_TICK_MS 100

enum { SHUNT_MCREPORT_IGMP = 0, SHUNT_MCREPORT_MLD = 1 };

/* What happened, for shunt-stat and telemetry (per family). */
struct shunt_mcreport_stats {
    uint64_t queries[4];        /* received, by version (IGMP 1-3, MLD 1-2) */
    uint64_t reports;           /* reports (and leaves) sent */
    uint64_t records;           /* group records in the v3/v2 reports */
    uint64_t suppressed;        /* v1/v2 answers another host's report made needless */
    uint64_t bad;               /* queries dropped: checksum, length, source */
    uint64_t no_memory;         /* reports not sent: no pbuf, or no room to remember */
};

struct shunt_mcreport_change;
struct shunt_mcreport_answer;

/* One family's view of the link. */
struct shunt_mcreport_family {
    uint8_t forced;             /* 0: follow the querier; else the version to speak */
    uint32_t older_until[3];    /* sys_now() until which a v1 / v2 querier is present (0: none) */
    bool general_pending;       /* a v3/v2 general query's answer is due at general_due */
    uint32_t general_due;
    uint8_t robustness;         /* the querier's (2 by default) */
    uint32_t query_interval_ms; /* the querier's (125 s by default) */
    struct shunt_mcreport_stats stats;
};

struct shunt_mcreport {
    struct netif *netif;
    struct shunt_mcast *groups;
    struct shunt_mcreport_family family[2];
    struct shunt_mcreport_change *changes;      /* state changes still to send again */
    unsigned nchanges, changes_room;
    struct shunt_mcreport_answer *answers;      /* answers to group queries, due later */
    unsigned nanswers, answers_room;
};

/* Report for the groups of table on netif; force_igmp (0-3) and force_mld
 * (0-2) as the configuration says, 0 following the querier.  room is how
 * many groups may have a change or an answer pending at once.  Starts the
 * tick.  0, or -ENOMEM. */
int shunt_mcreport_init(struct shunt_mcreport *r, struct netif *netif, struct shunt_mcast *table,
                        unsigned force_igmp, unsigned force_mld, unsigned room);
void shunt_mcreport_free(struct shunt_mcreport *r);

/* group's state went from before to after (the table says after already):
 * report it now, and again later. */
void shunt_mcreport_changed(struct shunt_mcreport *r, const ip_addr_t *group,
                            const struct shunt_mcast_state *before,
                            const struct shunt_mcast_state *after);

/* Whether an IP packet of protocol proto (ICMPv6: of type icmp_type) is
 * an IGMP or MLD message this module takes instead of lwIP. */
bool shunt_mcreport_takes(uint8_t proto, uint8_t icmp_type);

enum shunt_mcreport_verdict {
    SHUNT_MCREPORT_READ,        /* answered, or nothing to do */
    SHUNT_MCREPORT_MALFORMED,   /* lengths that do not add up, a bad source */
    SHUNT_MCREPORT_BAD_CHECKSUM,
};

/* An IGMP or MLD message: ip is its IP header (IPv4, or IPv6 with any
 * hop-by-hop header), len bytes of packet.  Anything but READ is counted
 * in the family's bad. */
enum shunt_mcreport_verdict shunt_mcreport_input(struct shunt_mcreport *r, const uint8_t *ip,
                                                 size_t len);

/* The version the family speaks now (IGMP 1-3, MLD 1-2). */
unsigned shunt_mcreport_version(const struct shunt_mcreport *r, int family);

#endif /* SHUNT_MCREPORT_H */
