/*
 * membership.c - a UDP socket's multicast memberships, as Linux makes them.
 */
#include "membership.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "mcast.h"
#include "netif.h"
#include "addr.h"
#include "stack.h"
#include "udp.h"

static struct shunt_mcast *table(void)
{
    struct shunt_netif *sn = shunt_stack_netif();

    return sn != NULL ? &sn->mcast : NULL;
}

/* ---- the groups and their reports ------------------------------------------- */

static unsigned *count_of(struct shunt_sock *s, const ip_addr_t *group)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);

    return IP_IS_V6(group) ? &u->ngroups6 : &u->ngroups4;
}

/* The routers hear of every change to a group's state, all sockets merged
 * (port/mcreport.h): the caller takes the state before a change, and this
 * reports it after. */
static void report_change(const ip_addr_t *group, const struct shunt_mcast_state *before)
{
    struct shunt_netif *sn = shunt_stack_netif();
    struct shunt_mcast_state after;

    if (sn == NULL)
        return;
    shunt_mcast_state(&sn->mcast, group, &after);
    shunt_mcreport_changed(&sn->report, group, before, &after);
}

/* Linux's __ip_mc_join_group and __ipv6_sock_mc_join, past their checks of
 * the interface: -EADDRINUSE, then the socket's limit (IPv4: ENOBUFS at
 * igmp_max_memberships; IPv6, which has no such count, runs out of option
 * memory: ENOMEM). */
static int join(struct shunt_sock *s, const ip_addr_t *group, enum shunt_mcast_mode mode)
{
    struct shunt_mcast *m = table();
    unsigned *count = count_of(s, group);
    struct shunt_mcast_state before;

    if (m == NULL)
        return -ENODEV;
    if (shunt_mcast_member(m, group, s) != NULL)
        return -EADDRINUSE;
    if (*count >= shunt_instance()->config.igmp_max_memberships)
        return IP_IS_V6(group) ? -ENOMEM : -ENOBUFS;
    shunt_mcast_state(m, group, &before);
    int rc = shunt_mcast_join(m, group, s, mode);
    if (rc != 0)
        return rc;
    (*count)++;
    report_change(group, &before);
    return 0;
}

static int leave(struct shunt_sock *s, const ip_addr_t *group)
{
    struct shunt_mcast *m = table();
    struct shunt_mcast_state before;

    if (m == NULL || shunt_mcast_member(m, group, s) == NULL)
        return -EADDRNOTAVAIL;
    shunt_mcast_state(m, group, &before);
    shunt_mcast_leave(m, group, s);
    (*count_of(s, group))--;
    report_change(group, &before);
    return 0;
}

/* ---- source filters: Linux's ip_mc_source ------------------------------------ */

static int find_source(const struct shunt_mcast_member *mb, const ip_addr_t *src)
{
    for (unsigned i = 0; i < mb->nsources; i++)
        if (ip_addr_cmp(&mb->sources[i], src))
            return (int)i;
    return -1;
}

static void drop_source(struct shunt_mcast_member *mb, int at)
{
    mb->nsources--;
    mb->sources[at] = mb->sources[mb->nsources];
}

static void add_source(struct shunt_mcast_member *mb, const ip_addr_t *src)
{
    ip_addr_copy(mb->sources[mb->nsources], *src);
    mb->nsources++;
    mb->listed = true;
}

/*
 * Add src to (add) or take it from the filter of s's membership of group,
 * whose mode must be omode: a filter that ever had sources keeps its mode
 * (EINVAL; Linux keeps the emptied list), one that never had switches.  Taking the last source of an INCLUDE
 * filter leaves the group.
 */
static int change_source(struct shunt_sock *s, bool add, enum shunt_mcast_mode omode,
                         const ip_addr_t *group, const ip_addr_t *src)
{
    struct shunt_mcast *m = table();
    struct shunt_mcast_member *mb = m != NULL ? shunt_mcast_member(m, group, s) : NULL;

    if (mb == NULL)                     /* must have a prior join */
        return -EINVAL;
    if (mb->listed && mb->mode != omode)
        return -EINVAL;
    int at = find_source(mb, src);
    if (!add && at < 0)
        return -EADDRNOTAVAIL;
    if (!add && mb->nsources == 1 && omode == SHUNT_MCAST_INCLUDE)
        return leave(s, group);
    if (add && mb->nsources >= SHUNT_MCAST_MAX_SOURCES)
        return -ENOBUFS;
    if (add && at >= 0)                 /* already there */
        return -EADDRNOTAVAIL;
    struct shunt_mcast_state before;
    shunt_mcast_state(m, group, &before);
    mb->mode = omode;
    if (add)
        add_source(mb, src);
    else
        drop_source(mb, at);
    report_change(group, &before);
    return 0;
}

/* ---- the interface an option names ------------------------------------------- */

/* An interface address: this host's, or any (the route chooses). */
static bool iface_addr_ok(uint32_t s_addr)
{
    ip_addr_t ip;

    ip_addr_set_ip4_u32_val(ip, s_addr);
    return s_addr == INADDR_ANY || shunt_addr_is_local(&ip);
}

/* An interface index: none, or one the host has (Shunt's port is reached
 * by any of them: it is the only interface Shunt has). */
static bool iface_index_ok(unsigned index)
{
    char name[IF_NAMESIZE];

    if (index == 0)
        return true;
    return if_indextoname(index, name) != NULL;     /* glibc's own calls: never interposed */
}

static void group4(ip_addr_t *g, uint32_t s_addr)
{
    ip_addr_set_ip4_u32_val(*g, s_addr);
}

static void group6(ip_addr_t *g, const struct in6_addr *a)
{
    ip_addr_set_zero_ip6(g);
    memcpy(ip_2_ip6(g)->addr, a->s6_addr, 16);          /* both in network order */
}

/* ---- IPv4: by address (ip_mreq, ip_mreqn, ip_mreq_source) ------------------- */

/* IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP: an ip_mreq or ip_mreqn (both start
 * with the group, then the interface's address). */
static int membership(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct ip_mreqn mreq = { 0 };
    ip_addr_t group;

    if (len < sizeof(struct ip_mreq))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(&mreq, val, len >= sizeof(mreq) ? sizeof(mreq) : sizeof(struct ip_mreq));
    group4(&group, mreq.imr_multiaddr.s_addr);
    if (name == IP_DROP_MEMBERSHIP)
        return leave(s, &group);
    if (!ip_addr_ismulticast(&group))
        return -EINVAL;
    if (!iface_addr_ok(mreq.imr_address.s_addr) || !iface_index_ok((unsigned)mreq.imr_ifindex))
        return -ENODEV;
    return join(s, &group, SHUNT_MCAST_EXCLUDE);
}

/* The source options' common part, once the group, source and interface
 * are read: Linux's do_ip_setsockopt and do_mcast_group_source. */
static int source_option(struct shunt_sock *s, int name, const ip_addr_t *group,
                         const ip_addr_t *src, bool iface_ok)
{
    bool add = name == IP_BLOCK_SOURCE || name == MCAST_BLOCK_SOURCE ||
               name == IP_ADD_SOURCE_MEMBERSHIP || name == MCAST_JOIN_SOURCE_GROUP;
    bool include = name == IP_ADD_SOURCE_MEMBERSHIP || name == MCAST_JOIN_SOURCE_GROUP ||
                   name == IP_DROP_SOURCE_MEMBERSHIP || name == MCAST_LEAVE_SOURCE_GROUP;

    if (name == IP_ADD_SOURCE_MEMBERSHIP || name == MCAST_JOIN_SOURCE_GROUP) {
        if (!ip_addr_ismulticast(group))
            return -EINVAL;
        if (!iface_ok)
            return -ENODEV;
        int rc = join(s, group, SHUNT_MCAST_INCLUDE);
        if (rc != 0 && rc != -EADDRINUSE)
            return rc;
    }
    if (!ip_addr_ismulticast(group))
        return -EINVAL;
    if (!iface_ok)
        return -ENODEV;
    return change_source(s, add, include ? SHUNT_MCAST_INCLUDE : SHUNT_MCAST_EXCLUDE, group, src);
}

/* IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE,
 * IP_UNBLOCK_SOURCE: an ip_mreq_source, exactly. */
static int source_membership(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct ip_mreq_source mreqs;
    ip_addr_t group, src;

    if (len != sizeof(mreqs))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(&mreqs, val, sizeof(mreqs));
    group4(&group, mreqs.imr_multiaddr.s_addr);
    group4(&src, mreqs.imr_sourceaddr.s_addr);
    return source_option(s, name, &group, &src, iface_addr_ok(mreqs.imr_interface.s_addr));
}

/* ---- by interface index (group_req, group_source_req) ------------------------- */

/* MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP: a group_req whose group is of the
 * level's family (IPPROTO_IP: AF_INET, IPPROTO_IPV6: AF_INET6). */
static int group_req(struct shunt_sock *s, int level, int name, const void *val, socklen_t len)
{
    struct group_req greq;
    ip_addr_t group;

    if (len < sizeof(greq))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(&greq, val, sizeof(greq));
    int family = level == IPPROTO_IP ? AF_INET : AF_INET6;
    if (greq.gr_group.ss_family != family)
        return family == AF_INET ? -EINVAL : -EADDRNOTAVAIL;
    if (family == AF_INET)
        group4(&group, ((const struct sockaddr_in *)&greq.gr_group)->sin_addr.s_addr);
    else
        group6(&group, &((const struct sockaddr_in6 *)&greq.gr_group)->sin6_addr);
    if (name == MCAST_LEAVE_GROUP)
        return family == AF_INET6 && !ip_addr_ismulticast(&group) ? -EINVAL : leave(s, &group);
    if (!ip_addr_ismulticast(&group))
        return -EINVAL;
    if (!iface_index_ok(greq.gr_interface))
        return -ENODEV;
    return join(s, &group, SHUNT_MCAST_EXCLUDE);
}

/* MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP, MCAST_BLOCK_SOURCE,
 * MCAST_UNBLOCK_SOURCE: a group_source_req, exactly, of IPv4 addresses. */
static int group_source_req(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct group_source_req gsr;
    ip_addr_t group, src;

    if (len != sizeof(gsr))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(&gsr, val, sizeof(gsr));
    if (gsr.gsr_group.ss_family != AF_INET || gsr.gsr_source.ss_family != AF_INET)
        return -EADDRNOTAVAIL;
    group4(&group, ((const struct sockaddr_in *)&gsr.gsr_group)->sin_addr.s_addr);
    group4(&src, ((const struct sockaddr_in *)&gsr.gsr_source)->sin_addr.s_addr);
    return source_option(s, name, &group, &src, iface_index_ok(gsr.gsr_interface));
}

/* ---- IPv6: ipv6_mreq ------------------------------------------------------------ */

/* IPV6_JOIN_GROUP (IPV6_ADD_MEMBERSHIP), IPV6_LEAVE_GROUP. */
static int ipv6_membership(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct ipv6_mreq mreq;
    ip_addr_t group;

    if (len < sizeof(mreq))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(&mreq, val, sizeof(mreq));
    group6(&group, &mreq.ipv6mr_multiaddr);
    if (!ip_addr_ismulticast(&group))
        return -EINVAL;
    if (name == IPV6_LEAVE_GROUP)
        return leave(s, &group);
    if (shunt_mcast_member(table(), &group, s) != NULL)
        return -EADDRINUSE;
    if (!iface_index_ok(mreq.ipv6mr_interface))
        return -ENODEV;
    return join(s, &group, SHUNT_MCAST_EXCLUDE);
}

int shunt_membership_set(struct shunt_sock *s, int level, int name, const void *val, socklen_t len)
{
    if (table() == NULL)
        return -ENODEV;
    if (level == IPPROTO_IPV6)
        return name == MCAST_JOIN_GROUP || name == MCAST_LEAVE_GROUP
                   ? group_req(s, level, name, val, len)
                   : ipv6_membership(s, name, val, len);
    switch (name) {
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP:
        return membership(s, name, val, len);
    case IP_ADD_SOURCE_MEMBERSHIP:
    case IP_DROP_SOURCE_MEMBERSHIP:
    case IP_BLOCK_SOURCE:
    case IP_UNBLOCK_SOURCE:
        return source_membership(s, name, val, len);
    case MCAST_JOIN_GROUP:
    case MCAST_LEAVE_GROUP:
        return group_req(s, level, name, val, len);
    default:                            /* the table names no other */
        return group_source_req(s, name, val, len);
    }
}

/* ---- on the way in, and at close ----------------------------------------------- */

bool shunt_membership_allows(const struct shunt_sock *s, const ip_addr_t *dst,
                             const ip_addr_t *src)
{
    struct shunt_mcast *m = table();

    return m == NULL || shunt_mcast_owner_allows(m, dst, s, src);
}

static void leave_one(void *s, const ip_addr_t *group)
{
    leave(s, group);
}

void shunt_membership_leave_all(struct shunt_sock *s)
{
    struct shunt_mcast *m = table();
    struct shunt_udp_sock *u = shunt_udp_of(s);

    if (m != NULL && u->ngroups4 + u->ngroups6 > 0)
        shunt_mcast_each(m, s, leave_one, s);
    u->ngroups4 = u->ngroups6 = 0;
}
