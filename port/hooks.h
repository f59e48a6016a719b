/*
 * hooks.h - where Shunt reaches into lwIP's input path.  lwIP's sources
 * include this file (LWIP_HOOK_FILENAME in lwipopts.h); the hooks live in
 * port/netif.c.
 */
#ifndef SHUNT_HOOKS_H
#define SHUNT_HOOKS_H

struct pbuf;
struct netif;

/*
 * A packet addressed to another host is counted as not_for_us and freed
 * (lwIP would drop IPv4 ones as a generic IP drop, and IPv6 ones without
 * counting them at all).  Non-zero when the packet was eaten.
 */
int shunt_netif_ip4_not_for_us(struct pbuf *p, struct netif *inp);
int shunt_netif_ip6_not_for_us(struct pbuf *p, struct netif *inp);

#define LWIP_HOOK_IP4_INPUT(p, inp)     shunt_netif_ip4_not_for_us((p), (inp))
#define LWIP_HOOK_IP6_INPUT(p, inp)     shunt_netif_ip6_not_for_us((p), (inp))

#endif /* SHUNT_HOOKS_H */
