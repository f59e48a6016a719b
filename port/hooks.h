/*
 * hooks.h - where Shunt reaches into lwIP's input path.  lwIP's sources
 * include this file (LWIP_HOOK_FILENAME in lwipopts.h); the hooks live in
 * port/netif.c.
 */
#ifndef SHUNT_HOOKS_H
#define SHUNT_HOOKS_H

#include <stdbool.h>
#include "lwip/err.h"
#include "lwip/arch.h"

struct pbuf;
struct netif;
struct tcp_pcb;
struct tcp_hdr;

/*
 * Before lwIP's IP input (in port/netif.c): a packet addressed to another
 * host is counted as not_for_us and freed (lwIP would drop IPv4 ones as a
 * generic IP drop, and IPv6 ones without counting them at all); an IPv6
 * fragment of a datagram that would reassemble to more than lwIP's 65,535
 * bytes is counted as too_big and freed (lwIP would abort on an assertion).
 * Non-zero when the packet was eaten.
 */
int shunt_netif_ip4_input(struct pbuf *p, struct netif *inp);
int shunt_netif_ip6_input(struct pbuf *p, struct netif *inp);

#define LWIP_HOOK_IP4_INPUT(p, inp)     shunt_netif_ip4_input((p), (inp))
#define LWIP_HOOK_IP6_INPUT(p, inp)     shunt_netif_ip6_input((p), (inp))

/*
 * An ICMP or ICMPv6 "port unreachable" about a datagram sent from local:lport
 * to remote:rport (found in the IP input hooks above): a UDP socket connected
 * there gets ECONNREFUSED, as on Linux.  True if one did.  In api/udp.c.
 */
struct ip_addr;
bool shunt_udp_unreachable(const struct ip_addr *local, u16_t lport,
                           const struct ip_addr *remote, u16_t rport);

/*
 * A SYN for a listening socket whose accept queue is full is dropped (and
 * counted backlog_full), as Linux drops it; anything else goes on.  An ACK
 * for the segment being timed gives a round-trip sample.  In api/tcp.c.
 */
err_t shunt_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
                         u16_t opt1len, u8_t *opt2, struct pbuf *p);

#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    shunt_tcp_inpacket((pcb), (hdr), (optlen), (opt1len), (opt2), (p))

/*
 * A SYN's MSS option, lowered to what TCP_MAXSEG asked for (lwIP builds it
 * from TCP_MSS and the MTU alone); and the time the segment lwIP times for
 * its round trip leaves.  In api/tcp.c.
 */
u32_t *shunt_tcp_options(struct pbuf *p, struct tcp_hdr *hdr, const struct tcp_pcb *pcb,
                         u32_t *opts);   /* pcb NULL: a reset sent without one */

#define LWIP_HOOK_TCP_OUT_ADD_TCPOPTS(p, hdr, pcb, opts) \
    shunt_tcp_options((p), (hdr), (pcb), (opts))

#endif /* SHUNT_HOOKS_H */
