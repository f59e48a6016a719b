/*
 * groups.h - a Shunt socket's multicast memberships as the multicast
 * packet tests make them (IPv4, addresses in host order), each option
 * asserted to succeed.
 */
#ifndef SHUNT_TEST_GROUPS_H
#define SHUNT_TEST_GROUPS_H

#include <stdint.h>

/* IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP of group. */
void group_join(int fd, uint32_t group);
void group_leave(int fd, uint32_t group);

/* An ip_mreq_source option (IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, ...). */
void group_source(int fd, int name, uint32_t group, uint32_t src);

#endif /* SHUNT_TEST_GROUPS_H */
