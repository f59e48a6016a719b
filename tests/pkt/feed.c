/*
 * feed.c - a device whose frames the caller puts in, under a steering stage.
 */
#include "feed.h"

#include <string.h>

static uint16_t feed_rx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    struct feed *f = (struct feed *)phy;
    uint16_t got = 0;

    while (got < n && f->head < f->n)
        pkts[got++] = f->q[f->head++];
    return got;
}

static uint16_t feed_tx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    (void)phy;
    rte_pktmbuf_free_bulk(pkts, n);
    return n;
}

static const struct shunt_phy_ops feed_ops = { feed_rx, feed_tx };

int feed_inst_up(struct feed_inst *in, const struct shunt_steer_conf *conf, char *err,
                 size_t errlen)
{
    if (shunt_steer_attach(&in->s, conf, err, errlen) != 0)
        return -1;
    memset(&in->feed, 0, sizeof(in->feed));
    in->feed.phy.ops = &feed_ops;
    in->pool = conf->pool;
    shunt_pipeline_init(&in->pl, &in->feed.phy);
    shunt_pipeline_set(&in->pl, SHUNT_STAGE_STEER, shunt_steer_stage(&in->s));
    return 0;
}

void feed_inst_down(struct feed_inst *in)
{
    shunt_pipeline_set(&in->pl, SHUNT_STAGE_STEER, NULL);
    shunt_steer_detach(&in->s);
}

unsigned feed_turn(struct feed_inst *in, struct rte_mbuf **got)
{
    return shunt_phy_rx(in->pl.top, got, SHUNT_MAX_BURST);
}
