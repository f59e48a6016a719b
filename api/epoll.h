/*
 * epoll.h - what the socket layer tells Shunt's epoll instances (api/epoll.c;
 * the calls themselves are in <shunt/socket.h>).
 */
#ifndef SHUNT_EPOLL_H
#define SHUNT_EPOLL_H

#include <stdint.h>

struct shunt_sock;

/* Its readiness may have changed: tell the epoll instances watching it. */
void shunt_sock_wakeup(struct shunt_sock *s);

/* Forget s in every epoll instance (it is being closed). */
void shunt_epoll_forget(struct shunt_sock *s);

/* Close an epoll descriptor. */
int shunt_epoll_close(int epfd);

/* Readiness of an epoll instance itself (for poll/select). */
uint32_t shunt_epoll_events(int epfd);

#include <stdbool.h>

/* For the interposer (api/preload.c): the kernel epoll epfd, holding
 * nkernel kernel descriptors, becomes a Shunt epoll instance around itself
 * (0, or -1 with errno). */
int shunt_epoll_adopt(int epfd, int nkernel);

/* Whether the Shunt epoll epfd watches any Shunt socket (if not, a wait may
 * sleep in the kernel epoll under it). */
bool shunt_epoll_watches_sockets(int epfd);

#endif /* SHUNT_EPOLL_H */
