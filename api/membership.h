/*
 * membership.h - a UDP socket's multicast memberships, as Linux's
 * setsockopt()s make them (net/ipv4/igmp.c ip_mc_join_group, ip_mc_source;
 * net/ipv6/mcast.c ipv6_sock_mc_join): the same checks in the same order,
 * the same errno for each misuse.
 *
 *   IPPROTO_IP    IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP (ip_mreq, ip_mreqn),
 *                 IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP,
 *                 IP_BLOCK_SOURCE, IP_UNBLOCK_SOURCE (ip_mreq_source),
 *                 MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP (group_req),
 *                 MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP,
 *                 MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE (group_source_req)
 *   IPPROTO_IPV6  IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP (ipv6_mreq), and
 *                 MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP with IPv6 groups
 *
 * The memberships live in the instance's group table (port/mcast.h), owned
 * by the socket; lwIP's IGMP and MLD hold each group too, once while it
 * has members, and send the reports.  A socket joins at most igmp_max_memberships
 * groups of each family (the configuration's); the instance at most
 * mcast_groups in all.
 */
#ifndef SHUNT_MEMBERSHIP_H
#define SHUNT_MEMBERSHIP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "lwip/ip_addr.h"

#include "sock.h"

/* A membership option (as above) on the UDP socket s: 0 or -errno. */
int shunt_membership_set(struct shunt_sock *s, int level, int name, const void *val, socklen_t len);

/* Whether s lets a datagram from src to the group dst in: its own source
 * filter, if it is a member (one that is not hears every group, as Linux's
 * IP_MULTICAST_ALL). */
bool shunt_membership_allows(const struct shunt_sock *s, const ip_addr_t *dst,
                             const ip_addr_t *src);

/* Leave every group s is in (close). */
void shunt_membership_leave_all(struct shunt_sock *s);

#endif /* SHUNT_MEMBERSHIP_H */
