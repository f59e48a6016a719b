/*
 * bind.h - which local address and port a socket may take, by Linux's rules
 * rather than lwIP's (api/bind.c).
 */
#ifndef SHUNT_BIND_H
#define SHUNT_BIND_H

#include <stdint.h>

#include "lwip/ip_addr.h"

struct shunt_sock;

/* Whether s may bind ip:port, or listen there: 0, or -EADDRINUSE by
 * Linux's rules for SO_REUSEADDR and SO_REUSEPORT. */
int shunt_bind_check(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port);

/* Give s's pcb its reuse options, and turn lwIP's own check off. */
void shunt_bind_mark(struct shunt_sock *s);

#endif /* SHUNT_BIND_H */
