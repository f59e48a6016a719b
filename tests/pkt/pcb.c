/*
 * pcb.c - a connection's state, found in lwIP's lists of pcbs.
 */
#include "pcb.h"

#include <string.h>

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

struct tcp_pcb *pcb_listener(uint16_t local_port)
{
    for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
        if (l->local_port == local_port)
            return (struct tcp_pcb *)l;
    return NULL;
}

static void set_v6(ip_addr_t *ip, const uint8_t raw[16])
{
    memcpy(ip_2_ip6(ip)->addr, raw, 16);
    IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V6);
}

struct tcp_pcb *pcb_made_v6(const uint8_t laddr[16], uint16_t lport, const uint8_t raddr[16],
                            uint16_t rport)
{
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V6);

    if (pcb == NULL)
        return NULL;
    set_v6(&pcb->local_ip, laddr);
    set_v6(&pcb->remote_ip, raddr);
    pcb->local_port = lport;
    pcb->remote_port = rport;
    return pcb;
}

void pcb_drop(struct tcp_pcb *pcb)
{
    tcp_close(pcb);
}
