/*
 * sockopt.h - setsockopt() and getsockopt() on a Shunt socket
 * (api/sockopt.c): Linux's options, with Linux's defaults, limits and errors.
 * The values live in the socket's struct shunt_sockopts (sock.h); after each
 * change the protocol applies them to its pcb (apply_options).
 */
#ifndef SHUNT_SOCKOPT_H
#define SHUNT_SOCKOPT_H

#include <sys/socket.h>

struct shunt_sock;

/* The options of a new socket: Linux's defaults. */
void shunt_sockopt_defaults(struct shunt_sock *s);

/* setsockopt() and getsockopt(): 0 or -errno, as Linux's. */
int shunt_sockopt_set(struct shunt_sock *s, int level, int name, const void *val,
                      socklen_t len);
int shunt_sockopt_get(struct shunt_sock *s, int level, int name, void *val, socklen_t *len);

#endif /* SHUNT_SOCKOPT_H */
