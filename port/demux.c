/*
 * demux.c - TCP connections by their 4-tuple, for lwIP's input.
 */
#include "demux.h"
#include "fresh_hash.h"

#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/ip.h"

/*
 * Below this many connections lwIP's walk beats a hash lookup.  Measured
 * (callgrind, shunt-perf rr over memif): at 16 connections the hash cost 57
 * instructions a request more than the walk; at 48 it saved 400.
 */
#define DEMUX_MIN 24

/* The hash's key: the local end, then the remote. */
struct key {
    uint8_t v6;
    uint8_t zero;
    uint16_t lport;
    uint16_t rport;
    uint8_t laddr[16];
    uint8_t raddr[16];
    uint8_t pad[2];
};

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

static void tuple_key(const struct shunt_tuple *t, struct key *k)
{
    size_t len = t->v6 ? 16 : 4;

    memset(k, 0, sizeof(*k));
    k->v6 = t->v6;
    k->lport = t->lport;
    k->rport = t->rport;
    memcpy(k->laddr, t->laddr, len);
    memcpy(k->raddr, t->raddr, len);
}

/*
 * lwIP frees the pcb: its entry goes. By now tcp_pcb_remove() may have zeroed
 * the local port, so the key is not rebuilt from the pcb but fetched from the
 * table at the position the pcb was stored at.
 */
static void forget(u8_t id, void *data)
{
    struct shunt_demux_entry *e = data;
    struct shunt_demux *d = e->demux;
    int32_t position = (int32_t)(e - d->entries);
    void *k;

    (void)id;
    if (d->table != NULL && rte_hash_get_key_with_position(d->table, position, &k) == 0 &&
        rte_hash_del_key(d->table, k) >= 0) {
        e->pcb = NULL;
        d->count--;
    }
}

static const struct tcp_ext_arg_callbacks on_free = { forget, NULL };

int shunt_demux_init(struct shunt_demux *d, const char *name, unsigned capacity)
{
    struct rte_hash_parameters params = {
        .name = name,
        .entries = capacity,
        .key_len = sizeof(struct key),
        .hash_func = rte_jhash,
        .socket_id = (int)rte_socket_id(),
    };

    memset(d, 0, sizeof(*d));
    d->table = shunt_fresh_hash(&params);
    if (d->table == NULL)
        return -1;
    d->entries = calloc((size_t)rte_hash_max_key_id(d->table) + 1, sizeof(*d->entries));
    if (d->entries == NULL) {
        shunt_demux_free(d);
        return -1;
    }
    d->ext_id = tcp_ext_arg_alloc_id();
    d->all_hashed = true;
    return 0;
}

void shunt_demux_free(struct shunt_demux *d)
{
    rte_hash_free(d->table);
    d->table = NULL;
    free(d->entries);
    d->entries = NULL;
}

/*
 * From now on the connection's segments skip lwIP's walk.  lwIP refuses a
 * second connection with a live one's 4-tuple, so the key is new (or this
 * pcb's own, added before).
 */
void shunt_demux_add(struct shunt_demux *d, struct tcp_pcb *pcb)
{
    struct key k;

    pcb_key(pcb, &k);
    int32_t position = rte_hash_add_key(d->table, &k);
    if (position < 0) {
        d->all_hashed = false;          /* full: lwIP's walk must find it */
        return;
    }
    struct shunt_demux_entry *e = &d->entries[position];
    if (e->pcb == NULL)
        d->count++;
    e->pcb = pcb;
    e->demux = d;
    tcp_ext_arg_set_callbacks(pcb, d->ext_id, &on_free);
    tcp_ext_arg_set(pcb, d->ext_id, e);
}

/* lwIP has made a connection for a SYN to a listener; its SYN-ACK is next. */
static err_t passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *pcb)
{
    shunt_demux_add(tcp_ext_arg_get((struct tcp_pcb *)lpcb, id), pcb);
    return ERR_OK;
}

static const struct tcp_ext_arg_callbacks on_listen = { NULL, passive_open };

void shunt_demux_listen(struct shunt_demux *d, struct tcp_pcb *lpcb)
{
    tcp_ext_arg_set_callbacks(lpcb, d->ext_id, &on_listen);
    tcp_ext_arg_set(lpcb, d->ext_id, d);
}

unsigned shunt_demux_count(const struct shunt_demux *d)
{
    return d->count;
}

/* Whether pcb is the connection t names (lwIP's own test, on the frame's bytes). */
static inline bool same_connection(const struct tcp_pcb *pcb, const struct shunt_tuple *t)
{
    return pcb->local_port == t->lport && pcb->remote_port == t->rport &&
           shunt_tuple_addr_is(&pcb->local_ip, t->v6, t->laddr) &&
           shunt_tuple_addr_is(&pcb->remote_ip, t->v6, t->raddr);
}

static inline __attribute__((always_inline)) struct tcp_pcb *walk(struct tcp_pcb *list, const struct shunt_tuple *t)
{
    for (struct tcp_pcb *pcb = list; pcb != NULL; pcb = pcb->next)
        if (same_connection(pcb, t))
            return pcb;
    return NULL;
}

struct tcp_pcb *shunt_demux_find(struct shunt_demux *d, const struct shunt_tuple *t)
{
    if (d->count >= DEMUX_MIN) {
        struct key k;
        tuple_key(t, &k);
        int32_t position = rte_hash_lookup(d->table, &k);
        if (position >= 0) {
            d->stats.hits++;
            return d->entries[position].pcb;
        }
        if (d->all_hashed) {
            d->stats.misses++;
            return NULL;
        }
    }
    d->stats.walks++;
    struct tcp_pcb *pcb = walk(tcp_active_pcbs, t);
    return pcb != NULL ? pcb : walk(tcp_tw_pcbs, t);
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
 * lwIP's IP input for one segment of pcb, with an active list of pcb alone
 * (or empty: pcb NULL, or not on the active list).  lwIP may take pcb off that
 * list (a reset, a close, TIME-WAIT, freed) and may put new pcbs on it;
 * afterwards the real list gets the same changes.
 */
err_t shunt_demux_input(struct pbuf *p, struct netif *netif, struct tcp_pcb *found)
{
    bool active = found != NULL && found->state != TIME_WAIT && found->state != CLOSED &&
                  found->state != LISTEN;
    struct tcp_pcb *pcb = active ? found : NULL;

    /* First in the list already (a connection that was just busy): lwIP's
     * walk ends where it starts. */
    if (pcb != NULL && pcb == tcp_active_pcbs)
        return ip_input(p, netif);
    struct tcp_pcb *list = tcp_active_pcbs, *next = pcb != NULL ? pcb->next : NULL;

    tcp_active_pcbs = pcb;
    if (pcb != NULL)
        pcb->next = NULL;
    err_t err = ip_input(p, netif);

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
