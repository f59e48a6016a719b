/*
 * addr.c - socket addresses in and out: sockaddr_in/sockaddr_in6 on the
 * application's side, lwIP's ip_addr_t on the stack's.  An AF_INET6 socket
 * talks to IPv4 peers through v4-mapped addresses (::ffff:a.b.c.d), as on
 * Linux.  With one netif per instance lwIP keeps no IPv6 zones: a link-local
 * address is on the one link there is, whatever its scope id.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lwip/netif.h"

#include "addr.h"
#include "sock.h"

/* A sockaddr_in: Linux's checks, then the address. */
static int addr_in4(const struct sockaddr *sa, socklen_t len, ip_addr_t *ip, uint16_t *port)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

    if (len < sizeof(*in))
        return -EINVAL;
    if (in->sin_family != AF_INET)
        return -EAFNOSUPPORT;
    ip_addr_set_ip4_u32_val(*ip, in->sin_addr.s_addr);
    *port = ntohs(in->sin_port);
    return 0;
}

int shunt_addr_in(const struct shunt_sock *s, const struct sockaddr *sa, socklen_t len,
                  enum shunt_addr_use use, ip_addr_t *ip, uint16_t *port)
{
    /* Linux's checks before any protocol sees the address. */
    if ((int)len < 0 || len > sizeof(struct sockaddr_storage))
        return -EINVAL;
    if (len > 0 && sa == NULL)
        return -EFAULT;
    if (len == 0)
        return -EINVAL;

    if (s->family == AF_INET)
        return addr_in4(sa, len, ip, port);
    /* An IPv6 datagram socket sends to, or connects to, an IPv4 peer given
     * as such, as Linux's does (udpv6_sendmsg, ip6_datagram_connect). */
    if (s->type == SOCK_DGRAM && use != SHUNT_ADDR_BIND && len >= sizeof(sa_family_t) &&
        sa->sa_family == AF_INET) {
        if (s->opt.v6only)
            return use == SHUNT_ADDR_SEND ? -ENETUNREACH : -EAFNOSUPPORT;
        return addr_in4(sa, len, ip, port);
    }

    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    if (len < offsetof(struct sockaddr_in6, sin6_scope_id))     /* SIN6_LEN_RFC2133 */
        return -EINVAL;
    if (in6->sin6_family != AF_INET6)
        return -EAFNOSUPPORT;
    *port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
        uint32_t v4;
        memcpy(&v4, &in6->sin6_addr.s6_addr[12], 4);
        ip_addr_set_ip4_u32_val(*ip, v4);
        /* An IPV6_V6ONLY socket binds IPv6's wildcard for this one too
         * (where Linux refuses it: EINVAL). */
        if (use == SHUNT_ADDR_BIND && v4 == INADDR_ANY && s->opt.v6only)
            ip_addr_copy(*ip, *IP6_ADDR_ANY);
        return 0;
    }
    memset(ip, 0, sizeof(*ip));
    IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V6);
    memcpy(ip_2_ip6(ip)->addr, &in6->sin6_addr, 16);
    /* The wildcard :: is the socket's: both families' unless IPV6_V6ONLY. */
    if (ip6_addr_isany(ip_2_ip6(ip)))
        ip_addr_copy(*ip, *shunt_addr_any(s));
    return 0;
}

void shunt_addr_out(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port,
                    struct sockaddr *sa, socklen_t *len)
{
    struct sockaddr_storage ss;
    socklen_t size;

    memset(&ss, 0, sizeof(ss));
    if (s->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = IP_IS_V4(ip) ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
        size = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        if (IP_IS_V4(ip)) {
            uint32_t v4 = ip4_addr_get_u32(ip_2_ip4(ip));
            in6->sin6_addr.s6_addr[10] = 0xff;
            in6->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&in6->sin6_addr.s6_addr[12], &v4, 4);
        } else if (IP_IS_V6(ip)) {
            memcpy(&in6->sin6_addr, ip_2_ip6(ip)->addr, 16);
        }
        size = sizeof(*in6);
    }
    if (sa != NULL)
        memcpy(sa, &ss, *len < size ? *len : size);
    *len = size;
}

bool shunt_addr_is_local(const ip_addr_t *ip)
{
    struct netif *n = shunt_sock_netif();

    if (ip_addr_isany(ip) || ip_addr_ismulticast(ip))
        return true;
    if (n == NULL)
        return false;
    if (IP_IS_V4(ip))
        return ip4_addr_cmp(ip_2_ip4(ip), netif_ip4_addr(n));
    return netif_get_ip6_addr_match(n, ip_2_ip6(ip)) >= 0;
}

u8_t shunt_addr_type(const struct shunt_sock *s)
{
    if (s->family == AF_INET)
        return IPADDR_TYPE_V4;
    return s->opt.v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY;
}

const ip_addr_t *shunt_addr_any(const struct shunt_sock *s)
{
    switch (shunt_addr_type(s)) {
    case IPADDR_TYPE_V4:
        return IP4_ADDR_ANY;
    case IPADDR_TYPE_V6:
        return IP6_ADDR_ANY;
    default:
        return IP_ANY_TYPE;
    }
}

bool shunt_addr_reaches(const struct shunt_sock *s, const ip_addr_t *peer)
{
    return !(shunt_addr_type(s) == IPADDR_TYPE_V6 && IP_IS_V4(peer));
}
