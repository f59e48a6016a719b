/*
 * exception.c - frames that are not Shunt's to the kernel's interface, and
 * the kernel's frames out the port.
 */
#include "exception.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "lwip/prot/icmp.h"
#include "lwip/prot/icmp6.h"

#include "text.h"

/* ---- the exception list ----------------------------------------------------- */

static void mark(uint64_t *bits, unsigned from, unsigned to)
{
    for (unsigned p = from; p <= to; p++)
        bits[p / 64] |= 1ull << (p % 64);
}

static bool listed(const uint64_t *bits, uint16_t port)
{
    return (bits[port / 64] >> (port % 64)) & 1;
}

/* "N" or "N-M", 1 to 65535, at s; where it ends in *end. */
static int parse_range(const char *s, unsigned *from, unsigned *to, char **end)
{
    unsigned long a = strtoul(s, end, 10), b = a;

    if (*end == s || s[0] == '-' || s[0] == '+')
        return -1;
    if (**end == '-') {
        const char *t = *end + 1;
        b = strtoul(t, end, 10);
        if (*end == t || t[0] == '-' || t[0] == '+')
            return -1;
    }
    if (a < 1 || b > 65535 || a > b)
        return -1;
    *from = (unsigned)a;
    *to = (unsigned)b;
    return 0;
}

int shunt_exception_ports_parse(const char *text, struct shunt_exception_ports *ports,
                                char *err, size_t errlen)
{
    char copy[512];

    memset(ports, 0, sizeof(*ports));
    if (snprintf(copy, sizeof(copy), "%s", text) >= (int)sizeof(copy))
        return shunt_fail(err, errlen, "longer than %zu characters", sizeof(copy) - 1);
    for (char *next = copy, *item; (item = strsep(&next, ",")) != NULL;) {
        char *s = shunt_trim(item), *end;
        bool tcp = true, udp = true;
        unsigned from, to;
        if (strncmp(s, "tcp:", 4) == 0)
            udp = false, s += 4;
        else if (strncmp(s, "udp:", 4) == 0)
            tcp = false, s += 4;
        if (parse_range(s, &from, &to, &end) != 0 || *shunt_trim(end) != '\0')
            return shunt_fail(err, errlen, "'%s' is not a port or range from 1 to 65535, "
                              "e.g. 22, 53, tcp:8000-8099, udp:5353", shunt_trim(item));
        if (tcp)
            mark(ports->tcp, from, to);
        if (udp)
            mark(ports->udp, from, to);
    }
    return 0;
}

/* ---- where a frame goes ------------------------------------------------------- */

/* ICMPv6 that Shunt answers for the host, or that only lwIP uses. */
static bool icmp6_shunts(uint8_t type)
{
    switch (type) {
    case ICMP6_TYPE_EREQ:
    case ICMP6_TYPE_MLQ:
    case ICMP6_TYPE_MLR:
    case ICMP6_TYPE_MLD:
    case 143:                   /* an MLDv2 report (RFC 3810), which lwIP does not name */
    case ICMP6_TYPE_RS:
    case ICMP6_TYPE_RA:
    case ICMP6_TYPE_NS:
        return true;
    default:
        return false;
    }
}

static enum shunt_route icmp_route(const struct shunt_class *v)
{
    if (v->proto == IPPROTO_ICMP)
        return v->icmp_type == ICMP_ECHO ? SHUNT_ROUTE_SHUNT : SHUNT_ROUTE_KERNEL;
    if (v->proto != IPPROTO_ICMPV6)
        return SHUNT_ROUTE_SHUNT;           /* IGMP */
    if (v->icmp_type == ICMP6_TYPE_NA)
        return SHUNT_ROUTE_BOTH;
    return icmp6_shunts(v->icmp_type) ? SHUNT_ROUTE_SHUNT : SHUNT_ROUTE_KERNEL;
}

/* Unicast for another MAC: the kernel's interface would not take it either. */
static bool other_host(const struct shunt_exception *ex, const struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

    return m->data_len < sizeof(*eth) ||
           (!rte_is_multicast_ether_addr(&eth->dst_addr) &&
            !rte_is_same_ether_addr(&eth->dst_addr, ex->mac));
}

enum shunt_route shunt_exception_route(const struct shunt_exception *ex, const struct rte_mbuf *m,
                                       const struct shunt_class *v)
{
    switch (v->verdict) {
    case SHUNT_VERDICT_TCP_LISTEN:
        return listed(ex->ports.tcp, v->dport) ? SHUNT_ROUTE_KERNEL : SHUNT_ROUTE_SHUNT;
    case SHUNT_VERDICT_UDP:
        return listed(ex->ports.udp, v->dport) ? SHUNT_ROUTE_KERNEL : SHUNT_ROUTE_SHUNT;
    case SHUNT_VERDICT_NO_SOCKET:
    case SHUNT_VERDICT_UNREACHABLE:         /* one no Shunt socket took */
        return SHUNT_ROUTE_KERNEL;
    case SHUNT_VERDICT_NOT_OURS:
        return other_host(ex, m) ? SHUNT_ROUTE_SHUNT : SHUNT_ROUTE_KERNEL;
    case SHUNT_VERDICT_ARP:
        return v->arp_request ? SHUNT_ROUTE_SHUNT : SHUNT_ROUTE_BOTH;
    case SHUNT_VERDICT_ARP_OTHER:
        return SHUNT_ROUTE_BOTH;
    case SHUNT_VERDICT_ICMP:
        return icmp_route(v);
    default:        /* TCP (Shunt's connections), FRAGMENT, MALFORMED */
        return SHUNT_ROUTE_SHUNT;
    }
}

/* ---- to the kernel ------------------------------------------------------------ */

void shunt_exception_to_kernel(struct shunt_exception *ex, struct rte_mbuf *m)
{
    if (ex->count == SHUNT_EXCEPTION_BUFFER)
        shunt_exception_flush(ex);
    ex->buf[ex->count++] = m;
}

void shunt_exception_copy_to_kernel(struct shunt_exception *ex, const struct rte_mbuf *m)
{
    struct rte_mbuf *copy = rte_pktmbuf_copy(m, ex->pool, 0, UINT32_MAX);

    ex->counters->kernel_copies++;
    if (copy == NULL) {
        ex->counters->drops[SHUNT_DROP_KERNEL_NOMBUF]++;
        return;
    }
    shunt_exception_to_kernel(ex, copy);
}

/* What refused frames are dropped under: a kernel interface that is down
 * refuses all it is given (a system call, on this path only). */
static enum shunt_drop_cause refused(const struct shunt_exception *ex)
{
    struct rte_eth_link link;

    if (rte_eth_link_get_nowait(ex->port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_DOWN)
        return SHUNT_DROP_KERNEL_DOWN;
    return SHUNT_DROP_KERNEL_FULL;
}

void shunt_exception_flush(struct shunt_exception *ex)
{
    uint32_t len[SHUNT_EXCEPTION_BUFFER];

    if (ex->count == 0)
        return;
    /* The PMD may free a frame as soon as it has it: note the lengths first. */
    for (uint16_t i = 0; i < ex->count; i++)
        len[i] = ex->buf[i]->pkt_len;
    uint16_t sent = rte_eth_tx_burst(ex->port_id, ex->queue_id, ex->buf, ex->count);
    ex->counters->to_kernel += sent;
    for (uint16_t i = 0; i < sent; i++)
        ex->counters->to_kernel_bytes += len[i];
    if (sent < ex->count) {
        ex->counters->drops[refused(ex)] += ex->count - sent;
        rte_pktmbuf_free_bulk(ex->buf + sent, ex->count - sent);
    }
    ex->count = 0;
}

void shunt_exception_close(struct shunt_exception *ex)
{
    rte_pktmbuf_free_bulk(ex->buf, ex->count);
    ex->count = 0;
}

/* ---- the stage: from the kernel, then up from the port ------------------------ */

/* The kernel's frames go down the pipeline as the netif's do; what the
 * port refuses is dropped, as the kernel's TCP resends what matters. */
static void from_kernel(struct shunt_exception *ex)
{
    struct rte_mbuf *pkts[SHUNT_MAX_BURST];
    uint16_t got = rte_eth_rx_burst(ex->port_id, ex->queue_id, pkts, ex->burst);

    if (got == 0)
        return;
    ex->counters->from_kernel += got;
    for (uint16_t i = 0; i < got; i++)
        ex->counters->from_kernel_bytes += pkts[i]->pkt_len;
    uint16_t sent = shunt_phy_tx(ex->phy.inner, pkts, got);
    if (sent < got) {
        ex->counters->drops[SHUNT_DROP_TX_RING_FULL] += got - sent;
        rte_pktmbuf_free_bulk(pkts + sent, got - sent);
    }
}

static uint16_t exception_rx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    from_kernel((struct shunt_exception *)phy);
    return shunt_phy_rx(phy->inner, pkts, n);
}

static uint16_t exception_tx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    return shunt_phy_tx(phy->inner, pkts, n);
}

static const struct shunt_phy_ops exception_ops = { exception_rx, exception_tx };

void shunt_exception_init(struct shunt_exception *ex, uint16_t port_id, uint16_t queue_id,
                          uint16_t burst, struct rte_mempool *pool,
                          struct shunt_counters *counters, const struct rte_ether_addr *mac)
{
    memset(ex, 0, sizeof(*ex));
    ex->phy.ops = &exception_ops;
    ex->port_id = port_id;
    ex->queue_id = queue_id;
    ex->burst = RTE_MIN(burst, (uint16_t)SHUNT_MAX_BURST);
    ex->pool = pool;
    ex->counters = counters;
    ex->mac = mac;
}

struct shunt_phy *shunt_exception_stage(struct shunt_exception *ex)
{
    return &ex->phy;
}
