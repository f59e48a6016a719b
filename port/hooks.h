/*
 * hooks.h - where Shunt reaches into lwIP's TCP.  lwIP's sources include
 * this file (LWIP_HOOK_FILENAME in lwipopts.h); the hooks live in
 * port/netif.c, which hands them to whoever registered for them there (the
 * socket layer: the listen backlog, MSS clamping), to port/challenge.c
 * (RFC 5961: segments a connection refuses, and the ACKs it answers them
 * with), and to port/recovery.c
 * (loss detection and the retransmission timer), which reads every ACK
 * before lwIP does and stamps every segment that leaves.
 *
 * Every received frame passes the classifier (port/classify.h) before lwIP
 * sees it.  What the stack sends to its own addresses comes back through
 * lwIP's loopback straight to its IP layer: the IP input hook judges those
 * packets by the same classifier (a port unreachable among them is a
 * socket's), and waves every other packet through.
 */
#ifndef SHUNT_HOOKS_H
#define SHUNT_HOOKS_H

#include "lwip/err.h"
#include "lwip/arch.h"

struct pbuf;
struct netif;
struct tcp_pcb;
struct tcp_hdr;

/* A packet at lwIP's IP input: non-zero when the hook used it up. */
int shunt_hook_ip_input(struct pbuf *p, struct netif *inp);

#define LWIP_HOOK_IP4_INPUT(p, inp)     shunt_hook_ip_input((p), (inp))
#define LWIP_HOOK_IP6_INPUT(p, inp)     shunt_hook_ip_input((p), (inp))

/* A segment lwIP has found the pcb for (a connection's or a listener's),
 * before it processes it: anything but ERR_OK drops the segment.  Its
 * options: opt1len bytes after hdr, the rest of optlen at opt2 (or none);
 * its data: p, headers already taken off. */
err_t shunt_hook_tcp_input(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
                           u16_t opt1len, const u8_t *opt2, u16_t datalen);

#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    shunt_hook_tcp_input((pcb), (hdr), (optlen), (opt1len), (opt2), (p)->tot_len)

/* A segment of a pcb's queues leaves (port/lwip-patches/0001). */
struct tcp_seg;
void shunt_recovery_seg_sent(struct tcp_pcb *pcb, struct tcp_seg *seg);

void shunt_hook_tcp_seg_sent(struct tcp_pcb *pcb, struct tcp_seg *seg);

/* Recovery's marks and timers, then the layer above (its transmit stamps). */
#define LWIP_HOOK_TCP_SEG_SENT(pcb, seg) shunt_hook_tcp_seg_sent((pcb), (seg))

/* A segment about to leave, its header and options written (pcb NULL: a
 * reset sent without one).  Returns where options end, as lwIP wants. */
u32_t *shunt_hook_tcp_output(struct tcp_hdr *hdr, const struct tcp_pcb *pcb, u32_t *opts);

#define LWIP_HOOK_TCP_OUT_ADD_TCPOPTS(p, hdr, pcb, opts) \
    shunt_hook_tcp_output((hdr), (pcb), (opts))

/* Congestion control (port/cc.h, port/lwip-patches/0003): an ACK of acked
 * new bytes grows cwnd as the connection's algorithm says, and lwIP's own
 * fast retransmit (a peer without SACK) takes ssthresh from it too. */
void shunt_hook_tcp_cong_avoid(struct tcp_pcb *pcb, u32_t acked);
u32_t shunt_cc_loss(struct tcp_pcb *pcb, u32_t flight, int timeout);

#define LWIP_HOOK_TCP_CONG_AVOID(pcb, acked) shunt_hook_tcp_cong_avoid((pcb), (acked))
#define LWIP_HOOK_TCP_SSTHRESH(pcb) \
    shunt_cc_loss((pcb), (pcb)->snd_nxt - (pcb)->lastack, 0)

#endif /* SHUNT_HOOKS_H */
