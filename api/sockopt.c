/*
 * sockopt.c - setsockopt() and getsockopt(): Linux's options, their
 * defaults, limits and errors, carried by the socket and applied to its
 * lwIP pcb.  An option Shunt does not know is ENOPROTOOPT, as on Linux.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

/* glibc's <netinet/tcp.h> still defines the historical TCP_MSS (512); the
 * TCP_MSS that matters below is lwIP's, from lwipopts.h. */
#undef TCP_MSS

#include "lwip/opt.h"

#include "addr.h"
#include "sock.h"
#include "sockopt.h"
#include "tcp.h"
#include "udp.h"

/* Linux's defaults: net.core.rmem_default/wmem_default for UDP; for TCP what
 * lwIP's buffers give, counted as Linux counts (twice the payload). */
#define UDP_DEFAULT_BUF 212992
#define SOCK_MIN_RCVBUF 2304
#define SOCK_MIN_SNDBUF 4608

void shunt_sockopt_defaults(struct shunt_sock *s)
{
    struct shunt_sockopts *o = &s->opt;

    memset(o, 0, sizeof(*o));
    o->rcvbuf.bytes = s->type == SOCK_STREAM ? 2 * TCP_WND : UDP_DEFAULT_BUF;
    o->sndbuf.bytes = s->type == SOCK_STREAM ? 2 * TCP_SND_BUF : UDP_DEFAULT_BUF;
    o->ttl = IP_DEFAULT_TTL;
    o->keepidle = 7200;
    o->keepintvl = 75;
    o->keepcnt = 9;
    o->mcast_ttl = 1;
    o->mcast_loop = true;
}

/* ---- reading the caller's value ------------------------------------------ */

/* Linux checks the length first, then reads (EFAULT). */
static int get_int(const void *val, socklen_t len, int *out)
{
    if (len < sizeof(int))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(out, val, sizeof(int));
    return 0;
}

/* IPv4-level options may also come as one byte, which Linux accepts. */
static int get_int_or_byte(const void *val, socklen_t len, int *out)
{
    if (val != NULL && len >= 1 && len < sizeof(int)) {
        *out = *(const unsigned char *)val;
        return 0;
    }
    return get_int(val, len, out);
}

static int get_timeval(const void *val, socklen_t len, struct timeval *out)
{
    struct timeval tv;

    if (val == NULL)
        return -EFAULT;
    if (len < sizeof(tv))
        return -EINVAL;
    memcpy(&tv, val, sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    if (tv.tv_sec < 0) {                /* Linux: a negative timeout ends at once */
        tv.tv_sec = 0;
        tv.tv_usec = 1;
    }
    *out = tv;
    return 0;
}

/* A buffer size as Linux stores it: doubled, with a floor. */
static int buffer_size(int val, int floor)
{
    if (val > INT_MAX / 2)
        return INT_MAX;
    return val * 2 < floor ? floor : val * 2;
}

/* ---- IPv4 multicast membership --------------------------------------------- */

/* The group of an ip_mreq or ip_mreqn (both start with the group, then the
 * interface's address), which must be this host's, or any. */
static int get_group(const void *val, socklen_t len, ip4_addr_t *group)
{
    struct ip_mreq mreq;
    ip_addr_t iface;

    if (val == NULL)
        return -EFAULT;
    if (len < sizeof(mreq))
        return -EINVAL;
    memcpy(&mreq, val, sizeof(mreq));
    ip4_addr_set_u32(group, mreq.imr_multiaddr.s_addr);
    if (!ip4_addr_ismulticast(group))
        return -EINVAL;
    ip_addr_set_ip4_u32_val(iface, mreq.imr_interface.s_addr);
    return shunt_addr_is_local(&iface) ? 0 : -ENODEV;
}

/* ---- setsockopt -------------------------------------------------------------- */

static int set_socket_level(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct shunt_sockopts *o = &s->opt;
    int v = 0, rc;

    switch (name) {
    case SO_RCVTIMEO:
        return get_timeval(val, len, &o->rcvtimeo);
    case SO_SNDTIMEO:
        return get_timeval(val, len, &o->sndtimeo);
    case SO_LINGER:
        if (val == NULL)
            return -EFAULT;
        if (len < sizeof(struct linger))
            return -EINVAL;
        memcpy(&o->linger, val, sizeof(o->linger));
        o->linger.l_onoff = o->linger.l_onoff != 0;
        return 0;
    case SO_REUSEADDR:
    case SO_REUSEPORT:
    case SO_KEEPALIVE:
    case SO_BROADCAST:
    case SO_RCVBUF:
    case SO_SNDBUF:
        break;
    default:
        return -ENOPROTOOPT;
    }
    if ((rc = get_int(val, len, &v)) != 0)
        return rc;
    switch (name) {
    case SO_REUSEADDR:
        o->reuseaddr = v != 0;
        break;
    case SO_REUSEPORT:
        o->reuseport = v != 0;
        break;
    case SO_KEEPALIVE:
        o->keepalive = v != 0;
        break;
    case SO_BROADCAST:
        o->broadcast = v != 0;
        break;
    case SO_RCVBUF:
        o->rcvbuf.bytes = buffer_size(v, SOCK_MIN_RCVBUF);
        o->rcvbuf.set = true;
        if (s->type == SOCK_DGRAM && shunt_udp_resize(s) != 0)
            return -ENOMEM;
        break;
    case SO_SNDBUF:
        o->sndbuf.bytes = buffer_size(v, SOCK_MIN_SNDBUF);
        o->sndbuf.set = true;
        break;
    }
    return 0;
}

static int set_tcp_level(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct shunt_sockopts *o = &s->opt;
    int v, rc;

    if (s->type != SOCK_STREAM)
        return -ENOPROTOOPT;
    switch (name) {
    case TCP_NODELAY:
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
    case TCP_KEEPCNT:
    case TCP_MAXSEG:
        break;
    default:
        return -ENOPROTOOPT;
    }
    if ((rc = get_int(val, len, &v)) != 0)
        return rc;
    switch (name) {
    case TCP_NODELAY:
        o->nodelay = v != 0;
        if (o->nodelay)
            shunt_tcp_nodelay_on(s);
        break;
    case TCP_KEEPIDLE:
        if (v < 1 || v > 32767)
            return -EINVAL;
        o->keepidle = v;
        break;
    case TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return -EINVAL;
        o->keepintvl = v;
        break;
    case TCP_KEEPCNT:
        if (v < 1 || v > 127)
            return -EINVAL;
        o->keepcnt = v;
        break;
    case TCP_MAXSEG:
        if (v < 88 || v > 32767)
            return -EINVAL;
        o->maxseg = v;
        shunt_tcp_maxseg_set(s);
        break;
    }
    return 0;
}

static int set_ip_level(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct shunt_sockopts *o = &s->opt;
    ip4_addr_t group;
    int v = 0, rc;

    switch (name) {
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP:
        if (s->type == SOCK_STREAM)
            return -EPROTO;             /* as Linux: groups are for datagrams */
        if ((rc = get_group(val, len, &group)) != 0)
            return rc;
        return name == IP_ADD_MEMBERSHIP ? shunt_udp_join(s, &group) : shunt_udp_leave(s, &group);
    case IP_MULTICAST_IF: {
        /* An in_addr, or the interface address of an ip_mreq or ip_mreqn
         * (both have it second); INADDR_ANY lets the route choose. */
        struct in_addr a;
        if (s->type == SOCK_STREAM || len < sizeof(a))
            return -EINVAL;
        if (val == NULL)
            return -EFAULT;
        memcpy(&a, len >= sizeof(struct ip_mreq) ?
                   (const void *)&((const struct ip_mreq *)val)->imr_interface : val, sizeof(a));
        ip_addr_t ip;
        ip_addr_set_ip4_u32_val(ip, a.s_addr);
        if (a.s_addr != INADDR_ANY && !shunt_addr_is_local(&ip))
            return -EADDRNOTAVAIL;
        ip4_addr_set_u32(&o->mcast_if, a.s_addr);
        return 0;
    }
    case IP_MULTICAST_TTL:
        if (s->type == SOCK_STREAM)
            return -EINVAL;
        if ((rc = get_int_or_byte(val, len, &v)) != 0)
            return rc;
        if (v == -1)
            v = 1;
        if (v < 0 || v > 255)
            return -EINVAL;
        o->mcast_ttl = v;
        return 0;
    case IP_MULTICAST_LOOP:
        if ((rc = get_int_or_byte(val, len, &v)) != 0)
            return rc;
        o->mcast_loop = v != 0;
        return 0;
    case IP_TTL:
        if ((rc = get_int_or_byte(val, len, &v)) != 0)
            return rc;
        if (v == -1)
            v = IP_DEFAULT_TTL;
        if (v < 1 || v > 255)
            return -EINVAL;
        o->ttl = v;
        return 0;
    case IP_TOS:
        if ((rc = get_int_or_byte(val, len, &v)) != 0)
            return rc;
        /* TCP keeps the ECN bits for itself (Linux). */
        o->tos = s->type == SOCK_STREAM ? v & 0xfc : v & 0xff;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int set_ipv6_level(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    int v, rc;

    if (s->family != AF_INET6)
        return -ENOPROTOOPT;
    switch (name) {
    case IPV6_V6ONLY:
        if ((rc = get_int(val, len, &v)) != 0)
            return rc;
        if (s->bound)
            return -EINVAL;             /* too late, as on Linux */
        s->opt.v6only = v != 0;
        return 0;
    case IPV6_UNICAST_HOPS:
        if ((rc = get_int(val, len, &v)) != 0)
            return rc;
        if (v == -1)
            v = IP_DEFAULT_TTL;
        if (v < 0 || v > 255)
            return -EINVAL;
        s->opt.ttl = v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int shunt_sockopt_set(struct shunt_sock *s, int level, int name, const void *val,
                      socklen_t len)
{
    int rc;

    switch (level) {
    case SOL_SOCKET:
        rc = set_socket_level(s, name, val, len);
        break;
    case IPPROTO_TCP:
        rc = set_tcp_level(s, name, val, len);
        break;
    case IPPROTO_IP:
        rc = set_ip_level(s, name, val, len);
        break;
    case IPPROTO_IPV6:
        rc = set_ipv6_level(s, name, val, len);
        break;
    default:
        rc = -ENOPROTOOPT;
        break;
    }
    if (rc == 0)
        s->proto->apply_options(s);
    return rc;
}

/* ---- getsockopt -------------------------------------------------------------- */

/* Copy size bytes of value out, truncated to *len; *len becomes the size. */
static int put(const void *value, size_t size, void *val, socklen_t *len)
{
    if (len == NULL || (val == NULL && *len > 0))
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    socklen_t n = *len < size ? *len : (socklen_t)size;
    memcpy(val, value, n);
    *len = n;
    return 0;
}

static int put_int(int v, void *val, socklen_t *len)
{
    return put(&v, sizeof(v), val, len);
}

static int get_socket_level(struct shunt_sock *s, int name, void *val, socklen_t *len)
{
    const struct shunt_sockopts *o = &s->opt;

    switch (name) {
    case SO_TYPE:
        return put_int(s->type, val, len);
    case SO_DOMAIN:
        return put_int(s->family, val, len);
    case SO_PROTOCOL:
        return put_int(s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, val, len);
    case SO_ACCEPTCONN:
        return put_int(shunt_tcp_listening(s), val, len);
    case SO_ERROR:
        return put_int(shunt_sock_take_error(s), val, len);
    case SO_REUSEADDR:
        return put_int(o->reuseaddr, val, len);
    case SO_REUSEPORT:
        return put_int(o->reuseport, val, len);
    case SO_KEEPALIVE:
        return put_int(o->keepalive, val, len);
    case SO_BROADCAST:
        return put_int(o->broadcast, val, len);
    case SO_RCVBUF:
        return put_int(o->rcvbuf.bytes, val, len);
    case SO_SNDBUF:
        return put_int(o->sndbuf.bytes, val, len);
    case SO_RCVTIMEO:
        return put(&o->rcvtimeo, sizeof(o->rcvtimeo), val, len);
    case SO_SNDTIMEO:
        return put(&o->sndtimeo, sizeof(o->sndtimeo), val, len);
    case SO_LINGER:
        return put(&o->linger, sizeof(o->linger), val, len);
    default:
        return -ENOPROTOOPT;
    }
}

/* getsockopt() at a level the socket lacks: IPv4 sockets say EOPNOTSUPP,
 * IPv6 ones ENOPROTOOPT (Linux's ip_getsockopt and ipv6_getsockopt). */
static int no_such_level(const struct shunt_sock *s)
{
    return s->family == AF_INET ? -EOPNOTSUPP : -ENOPROTOOPT;
}

static int get_tcp_level(struct shunt_sock *s, int name, void *val, socklen_t *len)
{
    const struct shunt_sockopts *o = &s->opt;

    if (s->type != SOCK_STREAM)
        return no_such_level(s);
    switch (name) {
    case TCP_NODELAY:
        return put_int(o->nodelay, val, len);
    case TCP_KEEPIDLE:
        return put_int(o->keepidle, val, len);
    case TCP_KEEPINTVL:
        return put_int(o->keepintvl, val, len);
    case TCP_KEEPCNT:
        return put_int(o->keepcnt, val, len);
    case TCP_MAXSEG:
        return put_int(shunt_tcp_maxseg(s), val, len);
    case TCP_INFO: {
        struct tcp_info ti;
        shunt_tcp_info(s, &ti);
        return put(&ti, sizeof(ti), val, len);
    }
    default:
        return -ENOPROTOOPT;
    }
}

static int get_ip_level(struct shunt_sock *s, int name, void *val, socklen_t *len)
{
    const struct shunt_sockopts *o = &s->opt;

    switch (name) {
    case IP_TTL:
        return put_int(o->ttl, val, len);
    case IP_TOS:
        return put_int(o->tos, val, len);
    case IP_MULTICAST_TTL:
        return put_int(o->mcast_ttl, val, len);
    case IP_MULTICAST_LOOP:
        return put_int(o->mcast_loop, val, len);
    case IP_MULTICAST_IF: {
        struct in_addr a = { ip4_addr_get_u32(&o->mcast_if) };
        return put(&a, sizeof(a), val, len);
    }
    default:
        return -ENOPROTOOPT;
    }
}

static int get_ipv6_level(struct shunt_sock *s, int name, void *val, socklen_t *len)
{
    if (s->family != AF_INET6)
        return no_such_level(s);
    switch (name) {
    case IPV6_V6ONLY:
        return put_int(s->opt.v6only, val, len);
    case IPV6_UNICAST_HOPS:
        return put_int(s->opt.ttl, val, len);
    default:
        return -ENOPROTOOPT;
    }
}

int shunt_sockopt_get(struct shunt_sock *s, int level, int name, void *val, socklen_t *len)
{
    if (len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    switch (level) {
    case SOL_SOCKET:
        return get_socket_level(s, name, val, len);
    case IPPROTO_TCP:
        return get_tcp_level(s, name, val, len);
    case IPPROTO_IP:
        return get_ip_level(s, name, val, len);
    case IPPROTO_IPV6:
        return get_ipv6_level(s, name, val, len);
    default:
        return no_such_level(s);
    }
}
