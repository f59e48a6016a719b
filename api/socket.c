/*
 * socket.c - the Linux socket calls: find the descriptor, check the
 * arguments as Linux does, let the protocol try, and wait (turning the poll
 * loop) when the call blocks.  Descriptors that are not Shunt's go to the
 * kernel, and so does everything on the kernel path.
 */
#define _GNU_SOURCE         /* IOV_MAX */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "epoll.h"
#include "fd.h"
#include "kernel.h"
#include "log.h"
#include "path.h"
#include "shunt/socket.h"
#include "sock.h"
#include "sockopt.h"
#include "tcp.h"

#define K (shunt_kernel())

/* ---- helpers ------------------------------------------------------------- */

static struct shunt_sock *sock_of(int fd)
{
    return shunt_fd_get(fd, SHUNT_FD_SOCKET);
}

/* A protocol's result as a system call's: -errno becomes -1 and errno. */
static ssize_t result(ssize_t n)
{
    if (n < 0) {
        errno = (int)-n;
        return -1;
    }
    return n;
}

/* A Shunt descriptor that is not a socket (an epoll instance). */
static ssize_t not_a_socket(int fd)
{
    (void)fd;
    errno = ENOTSOCK;
    return -1;
}

int shunt_is_fd(int fd)
{
    return shunt_fd_kind(fd) != SHUNT_FD_NONE;
}

uint64_t shunt_socket_deadline(const struct timeval *tv)
{
    if (tv->tv_sec == 0 && tv->tv_usec == 0)
        return UINT64_MAX;
    return shunt_sock_now_ns() + (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

/*
 * For a call that got -EAGAIN (api/sock.h): 0 to try again after a loop
 * turn (which this then runs), else the error the call gives - -EAGAIN when it may wait no
 * longer, -EINTR when a signal handler ran (api/sock.h: Linux restarts a
 * socket call after an SA_RESTART handler unless the socket has a timeout,
 * signal(7)), -EDEADLK when it would have to wait from inside a loop turn
 * (an application's poll hook making a blocking call).  A blocking call
 * turns the loop until its deadline.  A non-blocking one gets a single turn:
 * Shunt moves packets only in loop turns, and a program that just polls its
 * sockets without ever waiting (one under LD_PRELOAD, say) must still see
 * its data arrive.
 */
int shunt_socket_wait_more(const struct shunt_sock *s, int flags, uint64_t until, unsigned *turns)
{
    bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);

    if (nonblock && *turns > 0)
        return -EAGAIN;
    int rc = shunt_sock_wait_turn(until == UINT64_MAX, nonblock ? 0 : until);
    if (rc < 0)
        return nonblock ? -EAGAIN : rc;
    ++*turns;
    return nonblock || shunt_sock_now_ns() < until ? 0 : -EAGAIN;
}

/* ---- creating and connecting -------------------------------------------- */

/*
 * Make the kernel socket fd a Shunt socket of the same kind: fd's number
 * becomes the Shunt socket's, and the kernel socket stays under it unused
 * (api/fd.h says why).  fd is not closed on failure.
 */
static int open_on(int fd, int domain, int type)
{
    struct shunt_sock *s = shunt_sock_new(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (s == NULL) {
        errno = ENOMEM;
        return -1;
    }
    s->nonblock = (type & SOCK_NONBLOCK) != 0;
    s->cloexec = (type & SOCK_CLOEXEC) != 0;
    int rc = s->proto->open(s);
    if (rc < 0) {
        shunt_sock_free(s);
        return (int)result(rc);
    }
    if (shunt_fd_claim(fd, SHUNT_FD_SOCKET, s) != 0) {
        s->proto->close(s, true);
        shunt_sock_free(s);
        errno = ENOMEM;
        return -1;
    }
    s->fd = fd;
    return fd;
}

int shunt_socket(int domain, int type, int protocol)
{
    int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (shunt_path() != SHUNT_PATH_STACK || (domain != AF_INET && domain != AF_INET6))
        return K->socket(domain, type, protocol);
    if (kind < 0 || kind > SOCK_PACKET || protocol < 0 || protocol >= IPPROTO_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (kind != SOCK_STREAM && kind != SOCK_DGRAM) {
        errno = ESOCKTNOSUPPORT;
        return -1;
    }
    if (protocol != 0 && protocol != (kind == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)) {
        errno = EPROTONOSUPPORT;
        return -1;
    }

    int fd = K->socket(domain, type, protocol);
    if (fd < 0)
        return -1;                      /* EMFILE, ENFILE: the kernel's word */
    if (open_on(fd, domain, type) < 0) {
        int err = errno;
        K->close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int shunt_socket_adopt(int fd, int domain, int type)
{
    if (shunt_path() != SHUNT_PATH_STACK) {
        errno = ENODEV;
        return -1;
    }
    return open_on(fd, domain, type);
}

int shunt_bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct shunt_sock *s = sock_of(fd);
    ip_addr_t ip;
    uint16_t port;

    if (s == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->bind(fd, addr, addrlen);
    int rc = shunt_addr_in(s, addr, addrlen, SHUNT_ADDR_BIND, &ip, &port);
    /* Linux's old compatibility: AF_UNSPEC binds an IPv4 socket if the
     * address is INADDR_ANY. */
    if (rc == -EAFNOSUPPORT && s->family == AF_INET && addr->sa_family == AF_UNSPEC &&
        ((const struct sockaddr_in *)addr)->sin_addr.s_addr == htonl(INADDR_ANY)) {
        ip_addr_set_zero_ip4(&ip);
        port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
        rc = 0;
    }
    if (rc == 0)
        rc = s->proto->bind(s, &ip, port);
    return (int)result(rc);
}

void shunt_socket_listen_both(int fd)
{
    struct shunt_sock *s = sock_of(fd);

    if (s != NULL && s->type == SOCK_STREAM)
        s->kernel_listens = true;
}

/* The kernel's half of a wildcard listener: the kernel socket under the
 * descriptor listens on the port Shunt's half has.  Without it (the kernel
 * has the port), Shunt's half listens alone. */
static void listen_kernel_too(struct shunt_sock *s, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ip_addr_t ip;
    uint16_t port;
    int on = 0;
    socklen_t onlen = sizeof(on);

    /* listen() again (nginx does): the backlog changes, nothing else. */
    if (K->getsockopt(s->fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &onlen) == 0 && on) {
        K->listen(s->fd, backlog);
        return;
    }
    s->proto->name(s, false, &ip, &port);
    shunt_addr_out(s, &ip, port, (struct sockaddr *)&ss, &len);
    if (K->bind(s->fd, (struct sockaddr *)&ss, len) != 0 || K->listen(s->fd, backlog) != 0 ||
        K->fcntl(s->fd, F_SETFL, O_NONBLOCK) != 0) {
        SHUNT_LOG(WARNING, "port %u: the kernel's side cannot listen too (%s): this host's "
                  "own programs will not reach it", port, strerror(errno));
        s->kernel_listens = false;
    }
}

int shunt_listen(int fd, int backlog)
{
    struct shunt_sock *s = sock_of(fd);

    if (s == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->listen(fd, backlog);
    if (s->type != SOCK_STREAM) {
        errno = EOPNOTSUPP;
        return -1;
    }
    int rc = s->proto->listen(s, backlog);
    if (rc == 0 && s->kernel_listens)
        listen_kernel_too(s, backlog);
    return (int)result(rc);
}

int shunt_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    struct shunt_sock *s = sock_of(fd), *child = NULL;

    if (s == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->accept4(fd, addr, addrlen, flags);
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
        errno = EINVAL;
        return -1;
    }
    if (s->type != SOCK_STREAM) {
        errno = EOPNOTSUPP;
        return -1;
    }
    if (!shunt_tcp_listening(s)) {
        errno = EINVAL;
        return -1;
    }
    if (addr != NULL && addrlen == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (addr != NULL && (int)*addrlen < 0) {
        errno = EINVAL;
        return -1;
    }

    /* The number first, as Linux does: out of descriptors, the connection
     * stays queued for a later accept(). */
    int newfd = K->socket(s->family, SOCK_STREAM | (flags & SOCK_CLOEXEC), 0);
    if (newfd < 0)
        return -1;
    if (shunt_fd_claim(newfd, SHUNT_FD_SOCKET, NULL) != 0) {
        K->close(newfd);
        errno = ENOMEM;
        return -1;
    }
    uint64_t until = shunt_socket_deadline(&s->opt.rcvtimeo);
    unsigned turns = 0;
    int rc, waited = 0;
    while ((rc = s->proto->accept(s, &child)) == -EAGAIN) {
        /* A connection on the kernel's side is the kernel's socket. */
        int kfd = s->kernel_listens ? K->accept4(fd, addr, addrlen, flags) : -1;
        if (kfd >= 0) {
            shunt_fd_release(newfd);
            return kfd;
        }
        if ((waited = shunt_socket_wait_more(s, 0, until, &turns)) != 0)
            break;
    }
    if (waited < 0)
        rc = waited;
    if (rc < 0) {
        shunt_fd_release(newfd);
        return (int)result(rc);
    }
    child->fd = newfd;
    child->nonblock = (flags & SOCK_NONBLOCK) != 0;
    child->cloexec = (flags & SOCK_CLOEXEC) != 0;
    shunt_fd_set_obj(newfd, child);
    if (addr != NULL) {
        ip_addr_t ip;
        uint16_t port;
        child->proto->name(child, true, &ip, &port);
        shunt_addr_out(child, &ip, port, addr, addrlen);
    }
    return child->fd;
}

int shunt_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    return shunt_accept4(fd, addr, addrlen, 0);
}

int shunt_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct shunt_sock *s = sock_of(fd);
    ip_addr_t ip;
    uint16_t port;
    int rc;

    if (s == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->connect(fd, addr, addrlen);
    if (addr != NULL && addrlen >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC &&
        s->type == SOCK_DGRAM)
        return (int)result(s->proto->connect(s, NULL, 0));     /* dissolve the association */
    if ((rc = shunt_addr_in(s, addr, addrlen, SHUNT_ADDR_CONNECT, &ip, &port)) != 0)
        return (int)result(rc);

    rc = s->proto->connect(s, &ip, port);
    if (rc != -EINPROGRESS || s->nonblock)
        return (int)result(rc);
    /* A blocking connect waits for the handshake; SO_SNDTIMEO bounds it. */
    uint64_t until = shunt_socket_deadline(&s->opt.sndtimeo);
    unsigned turns = 0;
    int waited = 0;
    while ((rc = s->proto->connected(s)) == -EINPROGRESS &&
           (waited = shunt_socket_wait_more(s, 0, until, &turns)) == 0)
        ;
    /* Out of time, it is still under way: EINPROGRESS, as Linux. */
    return (int)result(waited < 0 && waited != -EAGAIN ? waited : rc);
}

int shunt_shutdown(int fd, int how)
{
    struct shunt_sock *s = sock_of(fd);

    if (s == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->shutdown(fd, how);
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
        errno = EINVAL;
        return -1;
    }
    return (int)result(s->proto->shutdown(s, how));
}

/* SO_LINGER with a timeout: a blocking close waits until the peer has
 * acknowledged everything written, or the time is up. */
static void linger(struct shunt_sock *s)
{
    uint64_t until = shunt_sock_now_ns() + (uint64_t)s->opt.linger.l_linger * 1000000000u;

    while (!s->nonblock && s->proto->unacked(s) > 0 && shunt_sock_now_ns() < until &&
           shunt_sock_wait_turn(false, until) >= 0)
        ;
}

void shunt_socket_close_all(void)
{
    for (int fd = 0; fd < shunt_fd_limit(); fd++)
        if (shunt_fd_kind(fd) != SHUNT_FD_NONE)
            shunt_close(fd);
}

int shunt_close(int fd)
{
    enum shunt_fd_kind kind = shunt_fd_kind(fd);
    struct shunt_sock *s = sock_of(fd);

    if (kind == SHUNT_FD_EPOLL)
        return shunt_epoll_close(fd);
    if (s == NULL)
        return K->close(fd);
    if (shunt_fd_release(fd))
        return 0;                       /* a dup still holds the socket */

    bool abort = s->opt.linger.l_onoff && s->opt.linger.l_linger == 0;
    if (s->opt.linger.l_onoff && !abort)
        linger(s);
    shunt_epoll_forget(s);
    s->proto->close(s, abort);
    shunt_sock_free(s);
    return 0;
}

/* ---- sending ------------------------------------------------------------- */

/* Checks Linux makes of a msghdr before it looks at the socket. */
static int check_msg(const struct msghdr *msg, bool buffers)
{
    if (msg == NULL)
        return -EFAULT;
    if (msg->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    if (msg->msg_iovlen > 0 && msg->msg_iov == NULL)
        return -EFAULT;
    for (size_t i = 0; buffers && i < msg->msg_iovlen; i++)
        if (msg->msg_iov[i].iov_len > 0 && msg->msg_iov[i].iov_base == NULL)
            return -EFAULT;
    if (shunt_iov_bytes(msg->msg_iov, msg->msg_iovlen) > SSIZE_MAX)
        return -EINVAL;
    return 0;
}

/*
 * msg without its first done bytes: msg itself while nothing is done (the
 * common case, and the fast one), else rest over iov (IOV_MAX entries).
 */
static struct msghdr *skip_bytes(struct msghdr *msg, size_t done, struct msghdr *rest,
                                 struct iovec *iov)
{
    size_t n = 0;

    if (done == 0)
        return msg;
    *rest = *msg;
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        struct iovec v = msg->msg_iov[i];
        size_t skip = done < v.iov_len ? done : v.iov_len;
        done -= skip;
        if (skip == v.iov_len && v.iov_len > 0)
            continue;
        iov[n].iov_base = (char *)v.iov_base + skip;
        iov[n].iov_len = v.iov_len - skip;
        n++;
    }
    rest->msg_iov = iov;
    rest->msg_iovlen = n;
    return rest;
}

/* readv()'s or writev()'s buffers as a msghdr; false, with errno EINVAL,
 * for a count Linux refuses. */
static bool iov_msg(const struct iovec *iov, int iovcnt, struct msghdr *msg)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX) {
        errno = EINVAL;
        return false;
    }
    *msg = (struct msghdr){ NULL, 0, (struct iovec *)iov, (size_t)iovcnt, NULL, 0, 0 };
    return true;
}

/*
 * Send msg on s, waiting as a blocking send does: a stream send goes on
 * until every byte is queued (or SO_SNDTIMEO ends it).  The bytes queued, or
 * -errno when none were.
 */
static ssize_t send_msg(struct shunt_sock *s, const struct msghdr *msg, int flags,
                        const ip_addr_t *to, uint16_t port)
{
    size_t total = shunt_iov_bytes(msg->msg_iov, msg->msg_iovlen), done = 0;
    uint64_t until = shunt_socket_deadline(&s->opt.sndtimeo);
    unsigned turns = 0;
    struct iovec iov[IOV_MAX];
    struct msghdr rest;
    ssize_t rc;

    for (;;) {
        rc = s->proto->send(s, skip_bytes((struct msghdr *)msg, done, &rest, iov), flags, to,
                            port);
        if (rc > 0)
            done += (size_t)rc;
        if (rc >= 0 && (done == total || s->type == SOCK_DGRAM || s->nonblock ||
                        (flags & MSG_DONTWAIT)))
            break;
        if (rc < 0 && rc != -EAGAIN)
            break;
        int waited = shunt_socket_wait_more(s, flags, until, &turns);
        if (waited != 0) {
            rc = waited;
            break;
        }
    }
    return done > 0 ? (ssize_t)done : rc;
}

/* A send's result as the call's: EPIPE raises SIGPIPE unless MSG_NOSIGNAL. */
static ssize_t sent(ssize_t rc, int flags)
{
    if (rc == -EPIPE && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
    return result(rc);
}

ssize_t shunt_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct shunt_sock *s = sock_of(fd);
    ip_addr_t to;
    uint16_t port = 0;
    bool has_to = false;
    ssize_t rc;

    if (s == NULL)
        return shunt_fd_kind(fd) ? not_a_socket(fd) : K->sendmsg(fd, msg, flags);
    if ((rc = check_msg(msg, true)) != 0)
        return result(rc);
    if (msg->msg_name != NULL && s->type == SOCK_DGRAM) {
        if ((rc = shunt_addr_in(s, msg->msg_name, msg->msg_namelen, SHUNT_ADDR_SEND, &to,
                                &port)) != 0)
            return result(rc);
        has_to = true;
    }
    return sent(send_msg(s, msg, flags, has_to ? &to : NULL, port), flags);
}

ssize_t shunt_sendto(int fd, const void *buf, size_t len, int flags,
                     const struct sockaddr *to, socklen_t tolen)
{
    struct iovec iov = { (void *)buf, len };
    struct msghdr msg = { (void *)to, tolen, &iov, 1, NULL, 0, 0 };

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->sendto(fd, buf, len, flags, to, tolen);
    /* Linux copies an address in before any protocol looks at it (a TCP
     * socket then ignores it), so its length is checked for every socket. */
    if (to != NULL && tolen > sizeof(struct sockaddr_storage))
        return result(-EINVAL);
    return shunt_sendmsg(fd, &msg, flags);
}

ssize_t shunt_send(int fd, const void *buf, size_t len, int flags)
{
    return shunt_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t shunt_writev(int fd, const struct iovec *iov, int iovcnt)
{
    struct msghdr msg;

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->writev(fd, iov, iovcnt);
    if (!iov_msg(iov, iovcnt, &msg))
        return -1;
    return shunt_sendmsg(fd, &msg, 0);
}

ssize_t shunt_write(int fd, const void *buf, size_t len)
{
    struct iovec iov = { (void *)buf, len };

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->write(fd, buf, len);
    if (shunt_fd_kind(fd) == SHUNT_FD_EPOLL) {
        errno = EINVAL;             /* an epoll descriptor cannot be written */
        return -1;
    }
    return shunt_writev(fd, &iov, 1);
}

/* ---- sendfile ------------------------------------------------------------ */

/* What one pread() of sendfile reads: a bounce buffer's worth, handed to
 * the send path, which copies it once into the stack's segments. */
#define SENDFILE_CHUNK (64 * 1024)

/* Linux's most for one read or write (MAX_RW_COUNT). */
#define MAX_RW_COUNT (INT_MAX & ~4095L)

/*
 * Linux's checks of sendfile()'s input, in its order (do_sendfile,
 * splice_direct_to_actor): an open descriptor that reads, one that can be
 * read at an offset when one is given, no negative offset, and a regular
 * file (or block device).  0, or -errno.
 */
static int sendfile_source(int in_fd, const off_t *offset, off_t pos)
{
    struct stat st;

    if (in_fd < 0 || fstat(in_fd, &st) != 0)
        return -EBADF;
    int fl = K->fcntl(in_fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    bool shunt = shunt_fd_kind(in_fd) != SHUNT_FD_NONE;
    if (offset != NULL && (shunt || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return -ESPIPE;
    if (pos < 0)
        return -EINVAL;
    if (shunt || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
        return -EINVAL;
    return 0;
}

ssize_t shunt_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    struct shunt_sock *s = sock_of(out_fd);

    /* The kernel's own call for its descriptors. */
    if (s == NULL) {
        if (shunt_fd_kind(out_fd) != SHUNT_FD_NONE)
            return result(-EINVAL);     /* an epoll descriptor takes no data */
        return K->sendfile(out_fd, in_fd, offset, count);
    }

    off_t pos = offset != NULL ? *offset : lseek(in_fd, 0, SEEK_CUR);
    int rc = sendfile_source(in_fd, offset, pos);
    if (rc != 0)
        return result(rc);
    if (count > MAX_RW_COUNT)
        count = MAX_RW_COUNT;
    if ((off_t)count > INT64_MAX - pos)
        return result(-EOVERFLOW);

    char *buf = count > 0 ? malloc(count < SENDFILE_CHUNK ? count : SENDFILE_CHUNK) : NULL;
    if (count > 0 && buf == NULL)
        return result(-ENOMEM);
    size_t done = 0;
    ssize_t n = 0;
    while (done < count) {
        size_t want = count - done < SENDFILE_CHUNK ? count - done : SENDFILE_CHUNK;
        ssize_t got = pread(in_fd, buf, want, pos + (off_t)done);
        if (got <= 0) {                 /* the end of the file, or its error */
            n = got < 0 ? -errno : 0;
            break;
        }
        /* Linux's MSG_MORE until the last piece: a stream pushes once, a
         * datagram socket sends the whole as one. */
        struct iovec iov = { buf, (size_t)got };
        struct msghdr msg = { NULL, 0, &iov, 1, NULL, 0, 0 };
        int more = done + (size_t)got < count ? MSG_MORE : 0;
        n = send_msg(s, &msg, more, NULL, 0);
        if (n > 0)
            done += (size_t)n;
        if (n < got)                    /* no room (non-blocking, a timeout), or an error */
            break;
    }
    free(buf);
    if (done > 0) {
        if (offset != NULL)
            *offset = pos + (off_t)done;
        else
            lseek(in_fd, pos + (off_t)done, SEEK_SET);
        return (ssize_t)done;
    }
    return sent(n, 0);                  /* sendfile has no MSG_NOSIGNAL */
}

/* ---- receiving ----------------------------------------------------------- */

ssize_t shunt_recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct shunt_sock *s = sock_of(fd);
    ssize_t rc;

    if (s == NULL)
        return shunt_fd_kind(fd) ? not_a_socket(fd) : K->recvmsg(fd, msg, flags);
    /* MSG_TRUNC on a stream discards: Linux reads no buffer for it. */
    if ((rc = check_msg(msg, !(s->type == SOCK_STREAM && (flags & MSG_TRUNC)))) != 0)
        return result(rc);
    if (msg->msg_name != NULL && (int)msg->msg_namelen < 0)
        return result(-EINVAL);
    /* The error queue holds transmit stamps (api/timestamps.h), and is
     * never waited for.  Shunt keeps no urgent data: Linux's answer when
     * there is none (UDP ignores it). */
    if (flags & MSG_ERRQUEUE) {
        msg->msg_flags = 0;
        return result(shunt_tstamp_errqueue(s, msg, flags));
    }
    if ((flags & MSG_OOB) && s->type == SOCK_STREAM)
        return result(-EINVAL);
    msg->msg_flags = 0;
    s->ts.have_rx = false;

    size_t total = shunt_iov_bytes(msg->msg_iov, msg->msg_iovlen), done = 0;
    bool waitall = (flags & MSG_WAITALL) && s->type == SOCK_STREAM && !(flags & MSG_PEEK);
    uint64_t until = shunt_socket_deadline(&s->opt.rcvtimeo);
    unsigned turns = 0;
    struct iovec iov[IOV_MAX];
    struct msghdr rest;
    for (;;) {
        struct msghdr *m = skip_bytes(msg, done, &rest, iov);
        rc = s->proto->recv(s, m, flags);
        msg->msg_namelen = m->msg_namelen;
        msg->msg_flags = m->msg_flags;
        if (rc > 0)
            done += (size_t)rc;
        /* MSG_WAITALL: a blocking stream read fills the buffer, or stops
         * at end of stream or an error. */
        if (rc == 0 || (rc > 0 && (!waitall || done == total)) || (rc < 0 && rc != -EAGAIN))
            break;
        int waited = shunt_socket_wait_more(s, flags, until, &turns);
        if (waited != 0) {
            rc = waited;
            break;
        }
    }
    if (done > 0 && s->type == SOCK_STREAM)
        rc = (ssize_t)done;
    /* The stamps of what was read, as control messages. */
    if (rc >= 0)
        shunt_tstamp_cmsgs(s, msg);
    return result(rc);
}

ssize_t shunt_recvfrom(int fd, void *buf, size_t len, int flags,
                       struct sockaddr *from, socklen_t *fromlen)
{
    struct iovec iov = { buf, len };
    struct msghdr msg = { from, 0, &iov, 1, NULL, 0, 0 };

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->recvfrom(fd, buf, len, flags, from, fromlen);
    if (from != NULL) {
        if (fromlen == NULL) {
            errno = EFAULT;
            return -1;
        }
        msg.msg_namelen = *fromlen;
    }
    ssize_t n = shunt_recvmsg(fd, &msg, flags);
    if (n >= 0 && from != NULL)
        *fromlen = msg.msg_namelen;
    return n;
}

ssize_t shunt_recv(int fd, void *buf, size_t len, int flags)
{
    return shunt_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t shunt_readv(int fd, const struct iovec *iov, int iovcnt)
{
    struct msghdr msg;

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->readv(fd, iov, iovcnt);
    if (!iov_msg(iov, iovcnt, &msg))
        return -1;
    /* Linux's read() of nothing returns at once (recv() would wait). */
    if (shunt_fd_kind(fd) == SHUNT_FD_SOCKET && iov != NULL &&
        shunt_iov_bytes(iov, (size_t)iovcnt) == 0)
        return 0;
    return shunt_recvmsg(fd, &msg, 0);
}

ssize_t shunt_read(int fd, void *buf, size_t len)
{
    struct iovec iov = { buf, len };

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->read(fd, buf, len);
    if (shunt_fd_kind(fd) == SHUNT_FD_EPOLL) {
        errno = EINVAL;             /* an epoll descriptor cannot be read */
        return -1;
    }
    if (len == 0 && shunt_fd_kind(fd) == SHUNT_FD_SOCKET)
        return 0;
    return shunt_readv(fd, &iov, 1);
}

/* ---- many messages at once ----------------------------------------------- */

/* Linux's most messages for one sendmmsg() or recvmmsg() (UIO_MAXIOV). */
#define MMSG_MAX 1024

int shunt_sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags)
{
    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->sendmmsg(fd, msgvec, vlen, flags);
    if (vlen > MMSG_MAX)
        vlen = MMSG_MAX;
    if (vlen > 0 && msgvec == NULL)
        return (int)result(-EFAULT);
    /* Each message is a sendmsg(); an error after the first is lost, as
     * Linux loses it, and the count says how far it went. */
    unsigned int n = 0;
    for (; n < vlen; n++) {
        ssize_t rc = shunt_sendmsg(fd, &msgvec[n].msg_hdr, flags);
        if (rc < 0)
            return n > 0 ? (int)n : -1;
        msgvec[n].msg_len = (unsigned int)rc;
    }
    return (int)n;
}

int shunt_recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags,
                   struct timespec *timeout)
{
    struct shunt_sock *s = sock_of(fd);

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->recvmmsg(fd, msgvec, vlen, flags, timeout);
    if (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
                            timeout->tv_nsec >= 1000000000))
        return (int)result(-EINVAL);
    if (s == NULL)
        return (int)not_a_socket(fd);
    if (vlen > MMSG_MAX)
        vlen = MMSG_MAX;
    if (vlen > 0 && msgvec == NULL)
        return (int)result(-EFAULT);

    /* Linux's timeout ends the batch only between messages (a blocking
     * receive still waits for each); a zero one, after the first. */
    uint64_t now = shunt_sock_now_ns(), end = 0;
    if (timeout != NULL && (timeout->tv_sec != 0 || timeout->tv_nsec != 0))
        end = now + (uint64_t)timeout->tv_sec * 1000000000u + (uint64_t)timeout->tv_nsec;
    unsigned int n = 0;
    ssize_t rc = 0;
    while (n < vlen) {
        rc = shunt_recvmsg(fd, &msgvec[n].msg_hdr, flags & ~MSG_WAITFORONE);
        if (rc < 0) {
            rc = -errno;
            break;
        }
        msgvec[n++].msg_len = (unsigned int)rc;
        if (flags & MSG_WAITFORONE)     /* after one, take only what is there */
            flags |= MSG_DONTWAIT;
        if (timeout != NULL) {
            now = shunt_sock_now_ns();
            uint64_t left = end > now ? end - now : 0;
            timeout->tv_sec = (time_t)(left / 1000000000u);
            timeout->tv_nsec = (long)(left % 1000000000u);
            if (left == 0)
                break;
        }
    }
    if (n == 0)
        return (int)result(rc);
    /* A later message's error waits for the next call, as on Linux. */
    if (rc < 0 && rc != -EAGAIN)
        s->so_error = (int)-rc;
    return (int)n;
}

/* ---- names, options, descriptor flags ------------------------------------ */

static int name(int fd, struct sockaddr *addr, socklen_t *addrlen, bool peer)
{
    struct shunt_sock *s = sock_of(fd);
    ip_addr_t ip;
    uint16_t port;

    if (addr == NULL || addrlen == NULL)
        return (int)result(-EFAULT);
    if ((int)*addrlen < 0)
        return (int)result(-EINVAL);
    int rc = s->proto->name(s, peer, &ip, &port);
    if (rc < 0)
        return (int)result(rc);
    shunt_addr_out(s, &ip, port, addr, addrlen);
    return 0;
}

int shunt_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    if (sock_of(fd) == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->getsockname(fd, addr, addrlen);
    return name(fd, addr, addrlen, false);
}

int shunt_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    if (sock_of(fd) == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->getpeername(fd, addr, addrlen);
    return name(fd, addr, addrlen, true);
}

int shunt_setsockopt(int fd, int level, int optname, const void *val, socklen_t len)
{
    struct shunt_sock *s = sock_of(fd);

    if (s == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->setsockopt(fd, level, optname, val, len);
    return (int)result(shunt_sockopt_set(s, level, optname, val, len));
}

int shunt_getsockopt(int fd, int level, int optname, void *val, socklen_t *len)
{
    struct shunt_sock *s = sock_of(fd);

    if (s == NULL)
        return shunt_fd_kind(fd) ? (int)not_a_socket(fd) : K->getsockopt(fd, level, optname, val, len);
    return (int)result(shunt_sockopt_get(s, level, optname, val, len));
}

int shunt_fcntl(int fd, int cmd, ...)
{
    struct shunt_sock *s = sock_of(fd);
    va_list ap;

    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->fcntl(fd, cmd, arg);
    switch (cmd) {
    case F_GETFD:
    case F_SETFD:
        return K->fcntl(fd, cmd, arg);  /* the reserved descriptor carries FD_CLOEXEC */
    case F_GETFL:
        return O_RDWR | (s != NULL && s->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        if (s != NULL)
            s->nonblock = (arg & O_NONBLOCK) != 0;
        return 0;
    default:
        errno = EINVAL;
        return -1;
    }
}

int shunt_ioctl(int fd, unsigned long request, ...)
{
    struct shunt_sock *s = sock_of(fd);
    va_list ap;

    va_start(ap, request);
    int *arg = va_arg(ap, int *);
    va_end(ap);

    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return K->ioctl(fd, request, arg);
    if (s == NULL) {
        errno = ENOTTY;
        return -1;
    }
    switch (request) {
    case FIONBIO:
        if (arg == NULL)
            return (int)result(-EFAULT);
        s->nonblock = *arg != 0;
        return 0;
    case FIONREAD: {
        if (arg == NULL)
            return (int)result(-EFAULT);
        int n = s->proto->pending(s);
        if (n < 0)
            return (int)result(n);
        *arg = n;
        return 0;
    }
    default:
        errno = ENOTTY;
        return -1;
    }
}
