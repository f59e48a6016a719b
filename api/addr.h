/*
 * addr.h - socket addresses in and out (api/addr.c): sockaddr_in and
 * sockaddr_in6 on the application's side, lwIP's ip_addr_t on the stack's,
 * and which of lwIP's address types a socket's family gives its pcbs.
 */
#ifndef SHUNT_ADDR_H
#define SHUNT_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lwip/ip_addr.h"

struct shunt_sock;

/* What an address given to a call is: the socket's own, or a peer's. */
enum shunt_addr_use { SHUNT_ADDR_BIND, SHUNT_ADDR_CONNECT, SHUNT_ADDR_SEND };

/*
 * A caller's address for socket s: sockaddr_in for AF_INET sockets,
 * sockaddr_in6 (v4-mapped addresses become IPv4) for AF_INET6 ones, which
 * as datagram sockets also take an IPv4 peer as sockaddr_in.  A wildcard to
 * bind is the socket's own (IPv6's alone with IPV6_V6ONLY).  Returns 0 or
 * -errno (EFAULT, EINVAL, EAFNOSUPPORT, ENETUNREACH) as Linux's checks would.
 */
int shunt_addr_in(const struct shunt_sock *s, const struct sockaddr *sa, socklen_t len,
                  enum shunt_addr_use use, ip_addr_t *ip, uint16_t *port);

/*
 * ip:port as s's family sees it, into sa truncated to *len; *len becomes the
 * full size, as Linux's getsockname() does.
 */
void shunt_addr_out(const struct shunt_sock *s, const ip_addr_t *ip, uint16_t port,
                    struct sockaddr *sa, socklen_t *len);

/* Whether ip is one of the stack's own addresses (or the wildcard). */
bool shunt_addr_is_local(const ip_addr_t *ip);

/* The lwIP address type of s's pcbs: IPv4 for AF_INET; for AF_INET6, IPv6
 * alone with IPV6_V6ONLY, else both (IPv4 peers as v4-mapped addresses). */
u8_t shunt_addr_type(const struct shunt_sock *s);

/* s's wildcard address, of that type: what bind() to "any" takes. */
const ip_addr_t *shunt_addr_any(const struct shunt_sock *s);

/* Whether s can talk to peer: a socket of IPv6 alone cannot reach an IPv4
 * one (Linux: ENETUNREACH). */
bool shunt_addr_reaches(const struct shunt_sock *s, const ip_addr_t *peer);

#endif /* SHUNT_ADDR_H */
