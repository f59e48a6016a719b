/*
 * groups.c - multicast memberships for the packet tests.
 */
#include "groups.h"

#include <check.h>
#include <netinet/in.h>

#include <rte_byteorder.h>

#include "shunt/socket.h"

static void membership(int fd, int name, uint32_t group)
{
    struct ip_mreq mr = { .imr_multiaddr.s_addr = rte_cpu_to_be_32(group) };

    ck_assert_int_eq(shunt_setsockopt(fd, IPPROTO_IP, name, &mr, sizeof(mr)), 0);
}

void group_join(int fd, uint32_t group)
{
    membership(fd, IP_ADD_MEMBERSHIP, group);
}

void group_leave(int fd, uint32_t group)
{
    membership(fd, IP_DROP_MEMBERSHIP, group);
}

void group_source(int fd, int name, uint32_t group, uint32_t src)
{
    struct ip_mreq_source m = { .imr_multiaddr.s_addr = rte_cpu_to_be_32(group),
                                .imr_sourceaddr.s_addr = rte_cpu_to_be_32(src) };

    ck_assert_int_eq(shunt_setsockopt(fd, IPPROTO_IP, name, &m, sizeof(m)), 0);
}
