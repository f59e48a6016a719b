/*
 * bind.c - which local address and port a socket may take, by Linux's
 * rules rather than lwIP's.
 *
 * lwIP's own check (in tcp_bind, udp_bind, tcp_listen) lets a dual-stack
 * wildcard [::] share a port with a specific IPv6 address, and knows neither
 * SO_REUSEPORT nor Linux's rule that SO_REUSEADDR never shares a port with a
 * listener.  So Shunt turns lwIP's check off (SOF_REUSEADDR on every pcb)
 * and decides here.  A TCP pcb carries its socket's reuse options with it,
 * in an lwIP ext arg, so a connection in TIME-WAIT, long after its socket
 * closed, still counts as Linux would count it.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "addr.h"
#include "bind.h"
#include "sock.h"
#include "tcp.h"
#include "udp.h"

#define REUSE_ADDR 1u
#define REUSE_PORT 2u

/* Ports below this one are root's (Linux: net.ipv4.ip_unprivileged_port_start). */
#define FIRST_UNPRIVILEGED_PORT 1024

static u8_t ext_id = 0xff;

static uintptr_t reuse_of(const struct shunt_sock *s)
{
    return (s->opt.reuseaddr ? REUSE_ADDR : 0) | (s->opt.reuseport ? REUSE_PORT : 0);
}

/* A connection lwIP accepts carries the listener's options. */
static err_t inherit(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
    tcp_ext_arg_set(cpcb, id, tcp_ext_arg_get((struct tcp_pcb *)lpcb, id));
    return ERR_OK;
}

static const struct tcp_ext_arg_callbacks carry = { NULL, inherit };

void shunt_bind_mark(struct shunt_sock *s)
{
    if (s->type == SOCK_STREAM) {
        struct tcp_pcb *pcb = shunt_tcp_of(s)->pcb;
        if (ext_id == 0xff)
            ext_id = tcp_ext_arg_alloc_id();
        tcp_ext_arg_set_callbacks(pcb, ext_id, &carry);
        tcp_ext_arg_set(pcb, ext_id, (void *)reuse_of(s));
        ip_set_option(pcb, SOF_REUSEADDR);
    } else {
        ip_set_option(shunt_udp_of(s)->pcb, SOF_REUSEADDR);
    }
}

/* Whether two bindings' addresses meet: the same, or a wildcard that covers
 * the other's family (a dual-stack [::] covers IPv4 too). */
static bool overlap(const ip_addr_t *a, const ip_addr_t *b)
{
    u8_t ta = IP_GET_TYPE(a), tb = IP_GET_TYPE(b);

    if (ta != IPADDR_TYPE_ANY && tb != IPADDR_TYPE_ANY && ta != tb)
        return false;
    return ip_addr_isany(a) || ip_addr_isany(b) || ip_addr_cmp(a, b);
}

/*
 * Linux's verdict on two bindings of one port whose addresses meet: shared
 * by SO_REUSEPORT on both (one process is always the same user); never
 * with a listener otherwise; and else only by SO_REUSEADDR on both - which
 * is also what lets a new listener start over connections in TIME-WAIT.
 */
static bool conflict(uintptr_t mine, uintptr_t theirs, bool they_listen)
{
    if ((mine & REUSE_PORT) && (theirs & REUSE_PORT))
        return false;
    if (they_listen)
        return true;
    return !((mine & REUSE_ADDR) && (theirs & REUSE_ADDR));
}

static int stream_conflict(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    const struct tcp_pcb *mine = shunt_tcp_of(s)->pcb;
    struct tcp_pcb *const *lists[] = {
        &tcp_bound_pcbs, (struct tcp_pcb *const *)&tcp_listen_pcbs.pcbs,
        &tcp_active_pcbs, &tcp_tw_pcbs,
    };

    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        for (const struct tcp_pcb *p = *lists[l]; p != NULL; p = p->next) {
            if (p == mine || p->local_port != port || !overlap(ip, &p->local_ip))
                continue;
            uintptr_t theirs = ext_id != 0xff ? (uintptr_t)tcp_ext_arg_get(p, ext_id) : 0;
            if (conflict(reuse_of(s), theirs, p->state == LISTEN))
                return -EADDRINUSE;
        }
    }
    return 0;
}

static int dgram_conflict(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    const struct udp_pcb *mine = shunt_udp_of(s)->pcb;

    for (const struct udp_pcb *p = udp_pcbs; p != NULL; p = p->next) {
        const struct shunt_udp_sock *other = p->recv_arg;
        if (p == mine || p->local_port != port || other == NULL || !overlap(ip, &p->local_ip))
            continue;
        if (conflict(reuse_of(s), reuse_of(&other->sock), false))
            return -EADDRINUSE;
    }
    return 0;
}

int shunt_bind_conflict(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    if (port == 0)
        return 0;                       /* lwIP picks a free ephemeral port */
    return s->type == SOCK_STREAM ? stream_conflict(s, ip, port) : dgram_conflict(s, ip, port);
}

int shunt_bind_check(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    if (s->bound)
        return -EINVAL;
    /* A UDP socket may bind a group's address, to receive only its datagrams. */
    if (!shunt_addr_is_local(ip) || (s->type == SOCK_STREAM && ip_addr_ismulticast(ip)))
        return -EADDRNOTAVAIL;
    if (port != 0 && port < FIRST_UNPRIVILEGED_PORT && geteuid() != 0)
        return -EACCES;
    return shunt_bind_conflict(s, ip, port);
}

void shunt_bind_named(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    s->bound = true;
    s->addr_by_hand = !ip_addr_isany(ip);
    s->port_by_hand = port != 0;
}
