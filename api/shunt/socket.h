/*
 * <shunt/socket.h> - the Linux socket calls, served by Shunt.
 *
 * Each shunt_X takes the arguments of Linux's X, returns what it returns and
 * sets errno as it does, so a program moves to Shunt by prefixing its calls
 * (or by -Wl,--wrap, or unchanged under LD_PRELOAD).  Descriptors Shunt does
 * not own pass straight to the kernel: shunt_read() on a pipe is read().
 *
 * Shunt serves AF_INET and AF_INET6 sockets of type SOCK_STREAM (TCP) and
 * SOCK_DGRAM (UDP).  Its descriptor numbers are real, reserved kernel
 * descriptors, so they never collide with the process's other files.
 *
 * Everything runs on the thread that called shunt_init(): a blocking call
 * (a blocking socket, or epoll_wait/poll/select with a timeout) turns the
 * poll loop until it can return; timeout 0 turns it once.
 *
 * The kernel path is a switch, not a fork: after shunt_init_kernel() (or
 * shunt_init() with SHUNT_KERNEL=1 in the environment) every call here is
 * its Linux twin, so the same program measures both paths.
 */
#ifndef SHUNT_SOCKET_H
#define SHUNT_SOCKET_H

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmsghdr;                 /* <sys/socket.h> has it with _GNU_SOURCE */

/* Use the kernel's sockets for every call below (no DPDK, no lwIP). */
int shunt_init_kernel(void);

/* Non-zero when fd is one of Shunt's sockets or epoll instances. */
int shunt_is_fd(int fd);

int shunt_socket(int domain, int type, int protocol);
int shunt_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
int shunt_listen(int fd, int backlog);
int shunt_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int shunt_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int shunt_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
int shunt_shutdown(int fd, int how);
int shunt_close(int fd);

ssize_t shunt_read(int fd, void *buf, size_t len);
ssize_t shunt_write(int fd, const void *buf, size_t len);
ssize_t shunt_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t shunt_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t shunt_send(int fd, const void *buf, size_t len, int flags);
ssize_t shunt_recv(int fd, void *buf, size_t len, int flags);
ssize_t shunt_sendto(int fd, const void *buf, size_t len, int flags,
                     const struct sockaddr *to, socklen_t tolen);
ssize_t shunt_recvfrom(int fd, void *buf, size_t len, int flags,
                       struct sockaddr *from, socklen_t *fromlen);
ssize_t shunt_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t shunt_recvmsg(int fd, struct msghdr *msg, int flags);
/* Linux's sendmmsg() and recvmmsg(); up to vlen messages. */
int shunt_sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags);
int shunt_recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags,
                   struct timespec *timeout);
/* sendfile(2): from a file (read at *offset, or at its position when offset
 * is NULL) to a socket. */
ssize_t shunt_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);

int shunt_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
int shunt_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);
int shunt_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int shunt_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int shunt_fcntl(int fd, int cmd, ... /* int arg */);
int shunt_ioctl(int fd, unsigned long request, ... /* int *arg */);

/*
 * poll(2).  Named shunt_poll_fds because shunt_poll() (<shunt/shunt.h>) is
 * one turn of the loop.  Kernel descriptors may be mixed in.
 */
int shunt_poll_fds(struct pollfd *fds, nfds_t nfds, int timeout);
int shunt_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                 struct timeval *timeout);
/* ppoll() and pselect(): the wait runs with sigmask as the thread's signal
 * mask (unchanged when NULL), the old mask back after; timeout is left as
 * it was.  A signal pending already that sigmask lets through ends a wait
 * with nothing ready: EINTR, once its handler has run. */
int shunt_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
                const sigset_t *sigmask);
int shunt_pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                  const struct timespec *timeout, const sigset_t *sigmask);

/* epoll_create(): size must be positive, and means nothing more. */
int shunt_epoll_create(int size);
int shunt_epoll_create1(int flags);
int shunt_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int shunt_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
/* epoll_wait() with sigmask as the thread's signal mask while it waits. */
int shunt_epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                      const sigset_t *sigmask);

#ifdef __cplusplus
}
#endif

#endif /* SHUNT_SOCKET_H */
