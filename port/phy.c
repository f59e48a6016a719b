/*
 * phy.c - linking the stages that are on into one pipeline.
 */
#include "phy.h"

#include <string.h>

void shunt_pipeline_init(struct shunt_pipeline *pl, struct shunt_phy *port)
{
    memset(pl, 0, sizeof(*pl));
    pl->port = port;
    pl->top = port;
}

/* From the port up: each stage that is on wraps what is below it. */
static void relink(struct shunt_pipeline *pl)
{
    struct shunt_phy *below = pl->port;

    for (int slot = SHUNT_STAGES - 1; slot >= 0; slot--) {
        struct shunt_phy *stage = pl->stages[slot];
        if (stage == NULL)
            continue;
        stage->inner = below;
        below = stage;
    }
    pl->top = below;
}

void shunt_pipeline_set(struct shunt_pipeline *pl, enum shunt_stage slot,
                        struct shunt_phy *stage)
{
    pl->stages[slot] = stage;
    relink(pl);
}
