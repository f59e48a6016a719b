/*
 * cc.c - the registry of congestion-control algorithms and each
 * connection's choice and state (the contract: cc.h, <shunt/cc.h>).
 *
 * A connection's state lives in a pool beside lwIP's pcbs, found through
 * an ext-arg slot of the pcb and given back when lwIP frees the pcb, as
 * port/recovery.c keeps its own.  Before each call the algorithm's view
 * (struct shunt_cc_conn) is filled from the pcb, and what the algorithm
 * decides goes back to it: an algorithm never sees lwIP's types.
 */
#include "cc.h"

#include <errno.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "clock.h"
#include "pcbstate.h"

/* A connection's algorithm and its view, from the first call to lwIP's free. */
struct state {
    const struct shunt_cc_ops *ops;
    struct shunt_cc_conn conn;
};

static struct {
    const struct shunt_clock *clock;
    const struct shunt_cc_ops *def;
    unsigned n;
    const struct shunt_cc_ops *algos[SHUNT_CC_MAX];
    struct shunt_pcb_pool pool;
    struct state states[MEMP_NUM_TCP_PCB];      /* lwIP has no more pcbs */
} cc = {
    .def = &shunt_cc_cubic,
    .n = 2,
    .algos = { &shunt_cc_reno, &shunt_cc_cubic },
    .pool = SHUNT_PCB_POOL_NEW,
};

/* ---- the registry ---------------------------------------------------------- */

const struct shunt_cc_ops *shunt_cc_find(const char *name)
{
    for (unsigned i = 0; i < cc.n; i++)
        if (strcmp(cc.algos[i]->name, name) == 0)
            return cc.algos[i];
    return NULL;
}

const struct shunt_cc_ops *shunt_cc_default(void)
{
    return cc.def;
}

int shunt_cc_register(const struct shunt_cc_ops *ops)
{
    if (ops == NULL || ops->name[0] == '\0' ||
        memchr(ops->name, '\0', sizeof(ops->name)) == NULL ||
        ops->cong_avoid == NULL || ops->ssthresh == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (shunt_cc_find(ops->name) != NULL) {
        errno = EEXIST;
        return -1;
    }
    if (cc.n == SHUNT_CC_MAX) {
        errno = ENOSPC;
        return -1;
    }
    cc.algos[cc.n++] = ops;
    return 0;
}

/* ---- each connection's state ----------------------------------------------- */

void shunt_cc_init(const struct shunt_clock *clock, const struct shunt_cc_ops *def)
{
    cc.clock = clock;
    cc.def = def != NULL ? def : shunt_cc_find(SHUNT_CC_DEFAULT);
    shunt_pcb_pool_init(&cc.pool, cc.states, sizeof(cc.states[0]), MEMP_NUM_TCP_PCB);
}

/* The algorithm's view of pcb as it is now. */
static struct shunt_cc_conn *view(struct state *s, const struct tcp_pcb *pcb)
{
    s->conn.cwnd = pcb->cwnd;
    s->conn.ssthresh = pcb->ssthresh;
    s->conn.mss = pcb->mss;
    return &s->conn;
}

static void start(struct state *s, const struct tcp_pcb *pcb, const struct shunt_cc_ops *ops)
{
    s->ops = ops;
    memset(&s->conn, 0, sizeof(s->conn));
    if (ops->init != NULL)
        ops->init(view(s, pcb));
}

/* pcb's state; the pool holds one for every pcb lwIP can have. */
static struct state *state_of(struct tcp_pcb *pcb)
{
    bool fresh;
    struct state *s = shunt_pcb_pool_get(&cc.pool, pcb, &fresh);

    if (fresh)
        start(s, pcb, cc.def);
    return s;
}

void shunt_cc_choose(struct tcp_pcb *pcb, const struct shunt_cc_ops *ops)
{
    struct state *s = state_of(pcb);

    if (s != NULL && s->ops != ops)
        start(s, pcb, ops);
}

/* ---- what lwIP and recovery ask ------------------------------------------- */

bool shunt_cc_limited(const struct tcp_pcb *pcb, uint32_t acked)
{
    uint32_t flight = pcb->snd_nxt - pcb->lastack + acked;     /* before this ACK */

    if (pcb->cwnd < pcb->ssthresh)
        return pcb->cwnd < 2 * flight;
    return flight + pcb->mss > pcb->cwnd;
}

void shunt_cc_ack(struct tcp_pcb *pcb, uint32_t acked, uint32_t srtt_us, uint32_t min_rtt_us)
{
    struct state *s = state_of(pcb);

    if (s == NULL)
        return;
    struct shunt_cc_ack a = {
        .acked = acked, .srtt_us = srtt_us, .min_rtt_us = min_rtt_us,
        .now_ns = shunt_clock_ns(cc.clock),
    };
    struct shunt_cc_conn *c = view(s, pcb);
    s->ops->cong_avoid(c, &a);
    /* Whatever the algorithm says, one segment may always be in flight. */
    pcb->cwnd = (tcpwnd_size_t)LWIP_MAX(c->cwnd, (uint32_t)pcb->mss);
}

uint32_t shunt_cc_loss(struct tcp_pcb *pcb, uint32_t flight, int timeout)
{
    struct state *s = state_of(pcb);

    if (s == NULL)
        return shunt_cc_reno_ssthresh(&(struct shunt_cc_conn){ .mss = pcb->mss }, flight);
    struct shunt_cc_conn *c = view(s, pcb);
    c->prior_cwnd = c->cwnd;
    uint32_t ssthresh = s->ops->ssthresh(c, flight);
    if (timeout && s->ops->on_rto != NULL)
        s->ops->on_rto(c);
    return LWIP_MAX(ssthresh, 2u * pcb->mss);   /* RFC 5681 eq. 4's floor */
}

uint32_t shunt_cc_undo(struct tcp_pcb *pcb)
{
    struct state *s = state_of(pcb);

    if (s == NULL)
        return pcb->cwnd;
    struct shunt_cc_conn *c = view(s, pcb);
    if (s->ops->undo_cwnd != NULL)
        return s->ops->undo_cwnd(c);
    return LWIP_MAX(c->cwnd, c->prior_cwnd);    /* Linux's tcp_reno_undo_cwnd */
}
