/*
 * shunt-zc-echo - a TCP and UDP echo server on the zero-copy calls
 * (<shunt/zc.h>): the example the header points to, and the server of
 * scripts/bench's zero-copy rows.
 *
 *     shunt-zc-echo (-c FILE | --kernel) [-p PORT]
 *
 * Received data is read where it arrived (shunt_zc_recv's views) and
 * written once, straight into the buffer that is sent (shunt_zc_alloc,
 * shunt_zc_send): one copy per echo, where recv() and send() make three
 * (out of the mbuf, into lwIP's buffer, into the frame).  The same code
 * runs on the kernel path, where the calls copy.
 *
 * One busy epoll loop on IPv4 port PORT (default 11111), TCP_NODELAY on;
 * each view goes back through zc_send_all (common/sock.h: buffers of a
 * segment at most, each written once and sent).  It is kept short: an echo
 * the peer does not take makes it wait, turning the loop, until the peer
 * does.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"
#include "shunt/zc.h"

#include "app.h"
#include "opts.h"
#include "sock.h"

const char app_name[] = "shunt-zc-echo";

struct options {
    const char *config;
    bool kernel;
    uint16_t port;
};

#define AT(field) OPT_AT(struct options, field)
static const struct opt table[] = {
    { 'c', NULL, OPT_STRING, "FILE", AT(config), .help = "stack configuration (default: $SHUNT_CONFIG)" },
    { 0, "kernel", OPT_SET, NULL, AT(kernel), .help = "the kernel's sockets instead of Shunt" },
    { 'p', NULL, OPT_UINT, "PORT", AT(port), .min = 1, .max = 65535,
      .help = "the port, TCP and UDP (default 11111)" },
    { 'h', "help", OPT_HELP, .help = "this help" },
};
static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-zc-echo (-c FILE | --kernel) [-p PORT]\n\n", 12, 0, NULL,
};

/* Echo what a socket has (a TCP connection's bytes, or UDP datagrams)
 * until it has no more: 0, or -1 when the connection is over. */
static int serve(int fd, bool udp)
{
    struct shunt_zc_rx rx;
    ssize_t n;

    while ((n = shunt_zc_recv(fd, &rx, SIZE_MAX, MSG_DONTWAIT)) >= 0) {
        if (n == 0 && rx.batch == NULL)
            return -1;                  /* the peer closed */
        int rc = 0;
        for (int i = 0; i < rx.iovcnt && rc == 0; i++)
            rc = zc_send_all(fd, rx.iov[i].iov_base, rx.iov[i].iov_len, udp ? &rx.from : NULL,
                             udp ? rx.fromlen : 0);
        shunt_zc_release(rx.batch);
        if (rc != 0 && !udp)
            return -1;
    }
    return errno == EAGAIN ? 0 : -1;
}

/* fd in the epoll set, for reading, by its number. */
static int watch(int ep, int fd)
{
    struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

    return shunt_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int bound(int type, uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = shunt_socket(AF_INET, type | SOCK_NONBLOCK, 0);

    if (fd < 0 || set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0 ||
        shunt_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        (type == SOCK_STREAM && shunt_listen(fd, 128) != 0)) {
        fprintf(stderr, "%s: port %u: %s\n", app_name, port, strerror(errno));
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct options o = { .port = 11111 };
    unsigned gave = 0;

    if (opts_parse(&spec, argc, argv, &o, &gave) < 0)
        return 2;
    if (start_sockets(o.kernel, o.config, NULL) != 0)
        return 1;
    int l = bound(SOCK_STREAM, o.port), u = bound(SOCK_DGRAM, o.port);
    int ep = shunt_epoll_create1(0);
    if (l < 0 || u < 0 || ep < 0 || watch(ep, l) != 0 || watch(ep, u) != 0)
        return 1;
    printf("%s: running: echo on tcp and udp port %u, %s path\n", app_name, o.port,
           o.kernel ? "kernel" : "shunt");

    struct epoll_event ev[EPOLL_BATCH];
    while (!stop) {
        int n = shunt_epoll_wait(ep, ev, EPOLL_BATCH, 0);
        for (int i = 0; i < n; i++) {
            int fd = ev[i].data.fd;
            if (fd == l) {
                int c;
                while ((c = shunt_accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0)
                    if (set_int_opt(c, IPPROTO_TCP, TCP_NODELAY, 1) != 0 || watch(ep, c) != 0)
                        shunt_close(c);
            } else if (serve(fd, fd == u) != 0 && fd != u) {
                shunt_close(fd);
            }
        }
    }
    shunt_close(ep);
    shunt_close(u);
    shunt_close(l);
    shunt_exit();
    return 0;
}
