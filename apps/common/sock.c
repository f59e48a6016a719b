/*
 * sock.c - see sock.h.
 */
#include "sock.h"


#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"
#include "shunt/zc.h"

#include "app.h"
#include "group.h"

int set_int_opt(int fd, int level, int name, int value)
{
    return shunt_setsockopt(fd, level, name, &value, sizeof(value));
}

int set_congestion(int fd, const char *name)
{
    if (name == NULL)
        return 0;
    if (shunt_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, (socklen_t)strlen(name)) != 0) {
        fprintf(stderr, "%s: TCP_CONGESTION %s: %s\n", app_name, name, strerror(errno));
        return -1;
    }
    return 0;
}

int socket_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (shunt_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

int set_nonblocking(int fd)
{
    int flags = shunt_fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    return shunt_fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int epoll_watch(int epfd, int op, int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = { .events = events, .data.ptr = ptr };

    if (shunt_epoll_ctl(epfd, op, fd, &ev) != 0) {
        fprintf(stderr, "%s: epoll_ctl: %s\n", app_name, strerror(errno));
        return -1;
    }
    return 0;
}

int close_socket(int fd, bool reset)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    if (reset && shunt_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0) {
        fprintf(stderr, "%s: SO_LINGER: %s\n", app_name, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    if (shunt_close(fd) != 0) {
        fprintf(stderr, "%s: close: %s\n", app_name, strerror(errno));
        return -1;
    }
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int start_sockets(bool kernel, const char *config, const char *instance)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!kernel) {
        int rc = group_start(config, instance);
        if (rc >= 0)
            exit(rc);
    }
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    if ((kernel ? shunt_init_kernel() : shunt_init(config)) != 0)
        return -1;
    /* After the stack's start, which may set handlers of its own. */
    stop_on_signals();
    return 0;
}

int zc_send_all(int fd, const void *src, size_t len, const struct sockaddr_storage *to,
                socklen_t tolen)
{
    while (len > 0) {
        struct shunt_zc_buf *b = shunt_zc_alloc(fd, len);   /* TCP: a segment at most */
        if (b != NULL) {
            size_t k = b->size;
            /* Pushed as it goes (no MSG_MORE): the first segment is on the
             * wire while the next is written (1472-byte TCP ping-pong p50,
             * A/B against the copy: 0.85x so, 0.96x holding them for one push). */
            memcpy(b->data, src, k);    /* the one copy: into the frame's buffer */
            if (shunt_zc_sendto(fd, b, k, MSG_NOSIGNAL, (const struct sockaddr *)to, tolen) >= 0) {
                src = (const char *)src + k;
                len -= k;
                continue;
            }
            int err = errno;
            shunt_zc_free(b);
            errno = err;
        }
        if (stop) {
            errno = EINTR;
            return -1;
        }
        if (errno != EAGAIN && errno != ENOBUFS)
            return -1;
        shunt_poll();                   /* room and buffers come back as frames go */
    }
    return 0;
}

const char *addr_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
    }
    snprintf(out, len, "[%s]:%u", host, port);
    return out;
}

bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

int resolve(const char *host, uint16_t port, int type, struct target *t)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = type }, *ai;
    int err = getaddrinfo(host, NULL, &hints, &ai);

    if (err != 0) {
        fprintf(stderr, "%s: %s: %s\n", app_name, host, gai_strerror(err));
        return -1;
    }
    memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
    t->len = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (t->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&t->addr)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(port);
    addr_str(&t->addr, t->name, sizeof(t->name));
    return 0;
}
