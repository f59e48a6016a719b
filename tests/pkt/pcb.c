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

static const struct tcp_pcb *find_any(uint16_t local_port, uint16_t remote_port)
{
    const struct tcp_pcb *pcb = find(tcp_active_pcbs, local_port, remote_port);

    return pcb != NULL ? pcb : find(tcp_tw_pcbs, local_port, remote_port);
}

const char *pcb_state(uint16_t local_port, uint16_t remote_port)
{
    const struct tcp_pcb *pcb = find_any(local_port, remote_port);

    return shunt_sockstat_state_name(pcb != NULL ? pcb->state : CLOSED);
}

bool pcb_seqs(uint16_t local_port, uint16_t remote_port, uint32_t *rcv_nxt, uint32_t *snd_nxt)
{
    const struct tcp_pcb *pcb = find_any(local_port, remote_port);

    if (pcb == NULL)
        return false;
    *rcv_nxt = pcb->rcv_nxt;
    *snd_nxt = pcb->snd_nxt;
    return true;
}

void pcb_abort_all(void)
{
    while (tcp_active_pcbs != NULL)
        tcp_abort(tcp_active_pcbs);
    while (tcp_tw_pcbs != NULL)
        tcp_abort(tcp_tw_pcbs);
}
