/*
 * sockopt.h - setsockopt() and getsockopt() on a Shunt socket
 * (api/sockopt.c): Linux's options, with Linux's defaults, limits and errors.
 */
#ifndef SHUNT_SOCKOPT_H
#define SHUNT_SOCKOPT_H

#include <sys/socket.h>

struct shunt_sock;

/* The options of a new socket: Linux's defaults. */
void shunt_sockopt_defaults(struct shunt_sock *s);
int shunt_sockopt_set(struct shunt_sock *s, int level, int name, const void *val,
                      socklen_t len);
int shunt_sockopt_get(struct shunt_sock *s, int level, int name, void *val, socklen_t *len);
/* Leave the multicast groups s joined. */
void shunt_sockopt_leave_groups(struct shunt_sock *s);

#endif /* SHUNT_SOCKOPT_H */
