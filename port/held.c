/*
 * held.c - the received frames lwIP holds (port/held.h).
 */
#include "held.h"

#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"

/* Frames of a pbuf chain (one pbuf each, as received frames of one segment). */
static unsigned frames_of(const struct pbuf *p)
{
    return p != NULL ? pbuf_clen(p) : 0;
}

struct shunt_held shunt_held_in_lwip(void)
{
    struct shunt_held h = { .reassembly = shunt_reassembly_frames_ip4() +
                                          shunt_reassembly_frames_ip6() };

    /* Only connections in progress keep data; listeners and TIME-WAIT none. */
    for (const struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
        for (const struct tcp_seg *seg = pcb->ooseq; seg != NULL; seg = seg->next)
            h.tcp += frames_of(seg->p);
        h.refused += frames_of(pcb->refused_data);
    }
    h.tcp += h.refused;
    return h;
}
