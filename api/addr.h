/*
 * addr.h - socket addresses in and out (api/addr.c): sockaddr_in and
 * sockaddr_in6 on the application's side, lwIP's ip_addr_t on the stack's.
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
 * as datagram sockets also take an IPv4 peer as sockaddr_in.  Returns 0 or
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

#endif /* SHUNT_ADDR_H */
