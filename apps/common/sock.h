/*
 * sock.h - the socket chores shunt-echo and shunt-perf share, on the calls
 * of <shunt/socket.h> (so on either path: Shunt's sockets or the kernel's).
 * Messages start with app_name.
 */
#ifndef SHUNT_APPS_SOCK_H
#define SHUNT_APPS_SOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_MAX_PAYLOAD 65507   /* the most an IPv4 datagram carries */
#define EPOLL_BATCH     256     /* events taken from one epoll_wait */

/* setsockopt of one int. */
int set_int_opt(int fd, int level, int name, int value);

/* TCP_CONGESTION name on a TCP socket (nothing when name is NULL): 0, or
 * -1 after saying why. */
int set_congestion(int fd, const char *name);

/* The pending error of a socket (SO_ERROR), which also clears it. */
int socket_error(int fd);

int set_nonblocking(int fd);

/* epoll_ctl(epfd, op, fd) for events, the event's data ptr: 0, or -1
 * after saying why. */
int epoll_watch(int epfd, int op, int fd, uint32_t events, void *ptr);

/* Close fd, with a reset (SO_LINGER on, timeout 0) when reset: 0, or -1
 * after saying why (fd is closed either way). */
int close_socket(int fd, bool reset);

/*
 * What a program on these sockets does before its first socket: stdout
 * line-buffered (scripts read its lines as they come), the descriptor
 * limit raised to the hard one (thousands of connections need thousands
 * of descriptors, and Shunt's sockets hold real ones too), EPIPE rather
 * than SIGPIPE from a write to a peer that reset, the stack (the kernel's
 * sockets, or Shunt's as config, or $SHUNT_CONFIG, says), and then
 * stop_on_signals().  0, or -1 after the stack said why.  A group's
 * configuration (instances = N) starts one process per instance, or with
 * instance (--instance I; NULL: all) just that one: the launcher does
 * not return, it exits once the group has (common/group.h).
 */
int start_sockets(bool kernel, const char *config, const char *instance);

/*
 * Send len bytes from src on the zero-copy calls (<shunt/zc.h>): written
 * into buffers as large as the socket gives (a TCP buffer holds a segment
 * at most), each sent; to (UDP, or NULL) as sendto() takes it.  A full
 * send buffer or pool gets loop turns until it takes more.  0, or -1 with
 * errno (EINTR when stopped).
 */
int zc_send_all(int fd, const void *src, size_t len, const struct sockaddr_storage *to,
                socklen_t tolen);

/* "[addr]:port" of a socket address, for messages. */
const char *addr_str(const struct sockaddr_storage *ss, char *out, size_t len);
#define ADDR_STR_MAX (INET6_ADDRSTRLEN + 8)

bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* Where a client connects or sends. */
struct target {
    struct sockaddr_storage addr;
    socklen_t len;
    char name[ADDR_STR_MAX];    /* "[addr]:port" */
};

/* host (a name or an address) and port, for sockets of type: 0, or -1
 * after saying why. */
int resolve(const char *host, uint16_t port, int type, struct target *t);

#endif /* SHUNT_APPS_SOCK_H */
