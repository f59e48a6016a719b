/*
 * bind.h - which local address and port a socket may take, by Linux's rules
 * rather than lwIP's (api/bind.c).  Both protocols' bind() and TCP's
 * listen() ask here before they let lwIP bind.
 */
#ifndef SHUNT_BIND_H
#define SHUNT_BIND_H

#include <stdint.h>

#include "lwip/ip_addr.h"

struct shunt_sock;

/*
 * bind()'s checks that every protocol makes, in this order: 0, or
 * -EINVAL when s is bound already, -EADDRNOTAVAIL for an address not this
 * host's (and for TCP, a multicast one), -EACCES for a port below 1024
 * without root, -EADDRINUSE as shunt_bind_conflict() says.
 */
int shunt_bind_check(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port);

/* Whether another binding holds ip:port against s: 0, or -EADDRINUSE by
 * Linux's rules for SO_REUSEADDR and SO_REUSEPORT.  Port 0 never conflicts
 * (lwIP picks a free one). */
int shunt_bind_conflict(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port);

/* bind() took ip:port: s is bound, and remembers whether it named the
 * address and the port (what a new connect() keeps). */
void shunt_bind_named(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port);

/* Give s's pcb its reuse options, and turn lwIP's own check off. */
void shunt_bind_mark(struct shunt_sock *s);

#endif /* SHUNT_BIND_H */
