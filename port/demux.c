/*
 * demux.c - TCP connections by their 4-tuple, for lwIP's input.
 */
#include "demux.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "netif/ethernet.h"

/*
 * Below this many connections lwIP's walk beats a hash lookup.  Measured
 * (callgrind, shunt-perf rr over memif): at 16 connections the hash cost 57
 * instructions a request more than the walk; at 48 it saved 400.
 */
#define DEMUX_MIN 24

/* A connection as a segment names it: the local end, then the remote. */
struct key {
    uint8_t v6;
    uint8_t zero;
    uint16_t lport;
    uint16_t rport;
    uint8_t laddr[16];
    uint8_t raddr[16];
    uint8_t pad[2];
};

static struct rte_hash *table;
static struct tcp_pcb **pcbs;          /* by the table's key position */
static u8_t ext_id = 0xff;           /* lwIP hands out ids once per process */
static unsigned count;
static bool all_hashed;                 /* no connection left out (the table was never full) */

static void copy_addr(uint8_t *to, const ip_addr_t *ip)
{
    if (IP_IS_V6(ip))
        memcpy(to, ip_2_ip6(ip)->addr, 16);
    else
        memcpy(to, &ip_2_ip4(ip)->addr, 4);
}

static void pcb_key(const struct tcp_pcb *pcb, struct key *k)
{
    memset(k, 0, sizeof(*k));
    k->v6 = IP_IS_V6(&pcb->local_ip);
    k->lport = pcb->local_port;
    k->rport = pcb->remote_port;
    copy_addr(k->laddr, &pcb->local_ip);
    copy_addr(k->raddr, &pcb->remote_ip);
}

/*
 * The key of a TCP segment in an Ethernet frame, if its headers sit whole in
 * the first pbuf and it is not a fragment; false otherwise (lwIP's own path
 * then handles it).
 */
static bool frame_key(const struct pbuf *p, struct key *k)
{
    const u8_t *b = p->payload;
    const struct eth_hdr *eth = (const struct eth_hdr *)b;
    const struct tcp_hdr *tcp;

    if (p->len < SIZEOF_ETH_HDR)
        return false;
    memset(k, 0, sizeof(*k));
    if (eth->type == PP_HTONS(ETHTYPE_IP)) {
        const struct ip_hdr *ip = (const struct ip_hdr *)(b + SIZEOF_ETH_HDR);
        if (p->len < SIZEOF_ETH_HDR + IP_HLEN || IPH_PROTO(ip) != IP_PROTO_TCP ||
            (IPH_OFFSET(ip) & PP_HTONS(IP_OFFMASK | IP_MF)) != 0)
            return false;
        u16_t hl = (u16_t)(IPH_HL_BYTES(ip));
        if (p->len < SIZEOF_ETH_HDR + hl + TCP_HLEN)
            return false;
        tcp = (const struct tcp_hdr *)((const u8_t *)ip + hl);
        memcpy(k->laddr, &ip->dest, 4);
        memcpy(k->raddr, &ip->src, 4);
    } else if (eth->type == PP_HTONS(ETHTYPE_IPV6)) {
        const struct ip6_hdr *ip6 = (const struct ip6_hdr *)(b + SIZEOF_ETH_HDR);
        if (p->len < SIZEOF_ETH_HDR + IP6_HLEN + TCP_HLEN || IP6H_NEXTH(ip6) != IP6_NEXTH_TCP)
            return false;
        tcp = (const struct tcp_hdr *)((const u8_t *)ip6 + IP6_HLEN);
        k->v6 = 1;
        memcpy(k->laddr, &ip6->dest, 16);
        memcpy(k->raddr, &ip6->src, 16);
    } else {
        return false;
    }
    k->lport = lwip_ntohs(tcp->dest);
    k->rport = lwip_ntohs(tcp->src);
    return true;
}

/*
 * lwIP frees the pcb: its entry goes. By now tcp_pcb_remove() may have zeroed
 * the local port, so the key is not rebuilt from the pcb but fetched from the
 * table at the position the pcb was stored at.
 */
static void forget(u8_t id, void *data)
{
    int32_t position = (int32_t)(intptr_t)data - 1;
    void *k;

    (void)id;
    if (rte_hash_get_key_with_position(table, position, &k) == 0 && rte_hash_del_key(table, k) >= 0) {
        pcbs[position] = NULL;
        count--;
    }
}

static const struct tcp_ext_arg_callbacks on_free = { forget, NULL };

int shunt_demux_init(unsigned capacity)
{
    struct rte_hash_parameters params = {
        .name = "shunt_demux",
        .entries = capacity,
        .key_len = sizeof(struct key),
        .hash_func = rte_jhash,
        .socket_id = (int)rte_socket_id(),
    };

    table = rte_hash_create(&params);
    if (table == NULL)
        return -1;
    pcbs = calloc((size_t)rte_hash_max_key_id(table) + 1, sizeof(*pcbs));
    if (pcbs == NULL) {
        shunt_demux_free();
        return -1;
    }
    if (ext_id == 0xff)
        ext_id = tcp_ext_arg_alloc_id();
    count = 0;
    all_hashed = true;
    return 0;
}

void shunt_demux_free(void)
{
    rte_hash_free(table);
    table = NULL;
    free(pcbs);
    pcbs = NULL;
}

/*
 * From now on the connection's segments skip lwIP's walk.  lwIP refuses a
 * second connection with a live one's 4-tuple, so the key is new (or this
 * pcb's own, added before).
 */
void shunt_demux_add(struct tcp_pcb *pcb)
{
    struct key k;

    pcb_key(pcb, &k);
    int32_t position = rte_hash_add_key(table, &k);
    if (position < 0) {
        all_hashed = false;             /* full: lwIP's walk must find it */
        return;
    }
    if (pcbs[position] == NULL)
        count++;
    pcbs[position] = pcb;
    tcp_ext_arg_set_callbacks(pcb, ext_id, &on_free);
    tcp_ext_arg_set(pcb, ext_id, (void *)(intptr_t)(position + 1));
}

/* lwIP has made a connection for a SYN to a listener; its SYN-ACK is next. */
static err_t passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *pcb)
{
    (void)id;
    (void)lpcb;
    shunt_demux_add(pcb);
    return ERR_OK;
}

static const struct tcp_ext_arg_callbacks on_listen = { NULL, passive_open };

void shunt_demux_listen(struct tcp_pcb *lpcb)
{
    tcp_ext_arg_set_callbacks(lpcb, ext_id, &on_listen);
    tcp_ext_arg_set(lpcb, ext_id, NULL);
}

unsigned shunt_demux_count(void)
{
    return count;
}

/* Remove pcb from the list that starts at *head; next was its successor. */
static void unlink_pcb(struct tcp_pcb **head, struct tcp_pcb *pcb, struct tcp_pcb *next)
{
    for (struct tcp_pcb **link = head; *link != NULL; link = &(*link)->next) {
        if (*link == pcb) {
            *link = next;
            return;
        }
    }
}

/*
 * lwIP's input for one segment of pcb, with an active list of pcb alone (or
 * empty, for pcb NULL).  lwIP may take pcb off that list (a reset, a close,
 * TIME-WAIT, freed) and may put new pcbs on it; afterwards the real list
 * gets the same changes.
 */
static err_t input_alone(struct pbuf *p, struct netif *netif, struct tcp_pcb *pcb)
{
    struct tcp_pcb *list = tcp_active_pcbs, *next = pcb != NULL ? pcb->next : NULL;

    tcp_active_pcbs = pcb;
    if (pcb != NULL)
        pcb->next = NULL;
    err_t err = ethernet_input(p, netif);

    /* What lwIP left: pcb still there or not, and anything it added. */
    bool kept = false;
    struct tcp_pcb *added = NULL, *added_tail = NULL;
    for (struct tcp_pcb *q = tcp_active_pcbs, *q_next; q != NULL; q = q_next) {
        q_next = q->next;
        if (q == pcb) {
            kept = true;
            continue;
        }
        q->next = NULL;
        if (added_tail != NULL)
            added_tail->next = q;
        else
            added = q;
        added_tail = q;
    }
    if (kept)
        pcb->next = next;               /* where it was in the real list */
    else if (pcb != NULL)
        unlink_pcb(&list, pcb, next);   /* compares pointers only: pcb may be freed */
    if (added_tail != NULL) {
        added_tail->next = list;
        list = added;
    }
    tcp_active_pcbs = list;
    return err;
}

err_t shunt_demux_input(struct pbuf *p, struct netif *netif)
{
    struct key k;
    int32_t position;

    if (count < DEMUX_MIN || !frame_key(p, &k))
        return ethernet_input(p, netif);
    if ((position = rte_hash_lookup(table, &k)) < 0)
        return all_hashed ? input_alone(p, netif, NULL) : ethernet_input(p, netif);
    struct tcp_pcb *pcb = pcbs[position];
    if (pcb->state == TIME_WAIT || pcb->state == CLOSED || pcb->state == LISTEN)
        return ethernet_input(p, netif);   /* not on the active list */
    return input_alone(p, netif, pcb);
}
