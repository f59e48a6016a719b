/*
 * pcb.c - a connection's state, found in lwIP's lists of pcbs.
 */
#include "pcb.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "sockstat.h"

static const struct tcp_pcb *find(struct tcp_pcb *list, uint16_t local_port,
                                  uint16_t remote_port)
{
    for (const struct tcp_pcb *pcb = list; pcb != NULL; pcb = pcb->next)
        if (pcb->local_port == local_port && pcb->remote_port == remote_port)
            return pcb;
    return NULL;
}

const char *pcb_state(uint16_t local_port, uint16_t remote_port)
{
    const struct tcp_pcb *pcb = find(tcp_active_pcbs, local_port, remote_port);

    if (pcb == NULL)
        pcb = find(tcp_tw_pcbs, local_port, remote_port);
    return shunt_sockstat_state_name(pcb != NULL ? pcb->state : CLOSED);
}

struct tcp_pcb *pcb_listener(uint16_t local_port)
{
    for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
        if (l->local_port == local_port)
            return (struct tcp_pcb *)l;
    return NULL;
}
