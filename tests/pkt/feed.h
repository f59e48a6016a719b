/*
 * feed.h - a steering stage (port/steer.h) on a device the caller feeds,
 * for the steering tests and bench: frames put in the feed's queue come
 * out of its rx, in order; frames sent to it are freed.
 */
#ifndef SHUNT_TEST_FEED_H
#define SHUNT_TEST_FEED_H

#include <stddef.h>

#include <rte_mbuf.h>

#include "phy.h"
#include "steer.h"

#define FEED_MAX 4096

struct feed {
    struct shunt_phy phy;
    struct rte_mbuf *q[FEED_MAX];
    unsigned head, n;                   /* the next to hand up; how many were put */
};

/* One instance of a group: its stage on its feed. */
struct feed_inst {
    struct shunt_steer s;
    struct feed feed;
    struct shunt_pipeline pl;
    struct rte_mempool *pool;           /* the caller's, for its frames */
};

/* Join the group as conf says, the stage on an empty feed: 0, or -1 with
 * shunt_steer_attach's err. */
int feed_inst_up(struct feed_inst *in, const struct shunt_steer_conf *conf, char *err,
                 size_t errlen);
void feed_inst_down(struct feed_inst *in);

/* What the pipeline hands up this turn, into got (room for SHUNT_MAX_BURST). */
unsigned feed_turn(struct feed_inst *in, struct rte_mbuf **got);

#endif /* SHUNT_TEST_FEED_H */
