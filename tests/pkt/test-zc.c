/*
 * test-zc.c - the zero-copy calls (<shunt/zc.h>) on a net_ring port with
 * the clock driven by hand: received data handed over intact as views on
 * its mbufs, released in any order; the TCP window shut by views held and
 * opened again (a window update) by their release; the limit on batches
 * held (ENOBUFS, and back); views that outlive a reset and a close; UDP
 * views charged to SO_RCVBUF until released; zero-copy datagrams sent in
 * their own mbuf; zero-copy TCP data kept until acknowledged and
 * retransmitted intact; buffers exhausted (ENOBUFS) and back.  Each test
 * ends with the mbufs in use, lwIP's pools and the frame balance back at
 * their baseline.
 */
#include "lwip/memp.h"
#include "lwip/opt.h"
#include "lwip/stats.h"

#include <check.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "shunt/socket.h"
#include "shunt/zc.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

static uint8_t in[FRAME_MAX], out[FRAME_MAX];

enum { PORT = 7700, PEER_PORT = 33000, PEER_ISN = 9000, MSS = 1460 };

/* ---- the baseline -------------------------------------------------------------- */

struct baseline {
    unsigned mbufs_in_use;
    unsigned memp_used[MEMP_MAX];
};

static struct baseline baseline_now(void)
{
    struct baseline b = { .mbufs_in_use = ring_pool()->size - ring_mbufs_free() };

    for (int i = 0; i < MEMP_MAX; i++)
        b.memp_used[i] = lwip_stats.memp[i]->used;
    return b;
}

static void drain(void)
{
    while (ring_recv(out, sizeof(out)) > 0)
        ;
}

static void assert_back_to(const struct baseline *was)
{
    ring_advance_ms(1000);              /* lwIP's TCP timer's last tick */
    drain();
    struct baseline now = baseline_now();

    ck_assert_msg(now.mbufs_in_use == was->mbufs_in_use, "mbufs in use: %u, at the baseline %u",
                  now.mbufs_in_use, was->mbufs_in_use);
    for (int i = 0; i < MEMP_MAX; i++)
        ck_assert_msg(now.memp_used[i] == was->memp_used[i],
                      "lwIP pool %d: %u used, at the baseline %u", i, now.memp_used[i],
                      was->memp_used[i]);
    ring_assert_balance();
}

/* Byte i of the test's stream. */
static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 13 + i / 257);
}

/* ---- a connection from the peer ------------------------------------------------- */

static size_t tcp_to(uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
                     size_t len)
{
    return frame_tcp4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, sport, PORT, flags, seq, ack,
                      65535, flags & RTE_TCP_SYN_FLAG ? MSS : 0, data, len);
}

static void learn_peer(void)
{
    static const struct rte_ether_addr zero_mac = { { 0 } };

    ring_send(in, frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                            &zero_mac, SHUNT_IP4));
    drain();
}

struct conn {
    int l, fd;
    uint16_t sport;
    uint32_t isn;               /* Shunt's */
    uint32_t seq;               /* the peer's next */
};

/* The peer connects (offering MSS 1460); Shunt accepts, non-blocking. */
static struct conn connect_in(uint16_t sport)
{
    struct conn c = { .sport = sport, .seq = PEER_ISN + 1 };
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };
    struct frame_seg s;

    learn_peer();
    c.l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(c.l, 0);
    ck_assert_int_eq(shunt_bind(c.l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(c.l, 4), 0);
    ring_send(in, tcp_to(sport, RTE_TCP_SYN_FLAG, PEER_ISN, 0, "", 0));
    size_t n = ring_recv(out, sizeof(out));
    ck_assert(n > 0 && frame_tcp4_parse(out, n, &s));
    c.isn = s.seq;
    ring_send(in, tcp_to(sport, RTE_TCP_ACK_FLAG, c.seq, c.isn + 1, "", 0));
    c.fd = shunt_accept4(c.l, NULL, NULL, SOCK_NONBLOCK);
    ck_assert_int_ge(c.fd, 0);
    int one = 1;
    ck_assert_int_eq(shunt_setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    return c;
}

/* The peer sends len bytes of the pattern from stream offset off, in
 * segments of at most MSS. */
static void peer_sends(struct conn *c, size_t off, size_t len)
{
    static uint8_t seg[MSS];

    for (size_t done = 0; done < len;) {
        size_t k = len - done < MSS ? len - done : MSS;
        for (size_t i = 0; i < k; i++)
            seg[i] = pattern(off + done + i);
        ring_send(in, tcp_to(c->sport, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c->seq, c->isn + 1,
                             seg, k));
        c->seq += (uint32_t)k;
        done += k;
    }
}

/* The last segment Shunt sent with the ACK flag (drained): its window and
 * ack, false when it sent none. */
static bool last_ack(struct frame_seg *last)
{
    struct frame_seg s;
    size_t n;
    bool any = false;

    while ((n = ring_recv(out, sizeof(out))) > 0) {
        if (frame_tcp4_parse(out, n, &s) && (s.flags & RTE_TCP_ACK_FLAG)) {
            *last = s;
            any = true;
        }
    }
    return any;
}

/*
 * The peer sends the pattern as far as Shunt's window lets it, as a
 * sender does (segments of at most MSS up to the right edge Shunt last
 * announced), until the window is shut: Shunt's last ACK takes all and
 * announces 0.  The bytes sent.
 */
static size_t peer_fills_window(struct conn *c)
{
    struct frame_seg s = { .ack = c->seq, .window = 65535 };   /* the handshake's */
    size_t sent = 0;

    for (;;) {
        uint32_t edge = s.ack + s.window;
        while ((int32_t)(edge - c->seq) > 0) {
            size_t k = edge - c->seq < MSS ? edge - c->seq : MSS;
            peer_sends(c, sent, k);
            sent += k;
            last_ack(&s);
        }
        ring_advance_ms(1);             /* a lone segment's ACK waits a turn */
        last_ack(&s);
        ck_assert_uint_eq(s.ack, c->seq);
        if (s.window == 0)
            return sent;
    }
}

/* The next TCP segment Shunt sent, past the other frames timers send
 * (IPv6's, ARP's); false when there is none. */
static bool next_segment(struct frame_seg *s)
{
    size_t n;

    while ((n = ring_recv(out, sizeof(out))) > 0)
        if (frame_tcp4_parse(out, n, s))
            return true;
    return false;
}

static void peer_resets(struct conn *c)
{
    ring_send(in, tcp_to(c->sport, RTE_TCP_RST_FLAG, c->seq, 0, "", 0));
}

static void close_conn(struct conn *c)
{
    ck_assert_int_eq(shunt_close(c->fd), 0);
    ck_assert_int_eq(shunt_close(c->l), 0);
}

/* The views of rx hold the pattern from stream offset off. */
static void assert_views(const struct shunt_zc_rx *rx, size_t off)
{
    size_t at = off, sum = 0;

    for (int i = 0; i < rx->iovcnt; i++) {
        const uint8_t *p = rx->iov[i].iov_base;
        for (size_t k = 0; k < rx->iov[i].iov_len; k++, at++)
            ck_assert_msg(p[k] == pattern(at), "byte %zu: %u, not %u", at, p[k], pattern(at));
        sum += rx->iov[i].iov_len;
    }
    ck_assert_uint_eq(sum, rx->len);
}

/* ---- TCP receive ------------------------------------------------------------------ */

/*
 * The peer fills the whole window; the program takes it all as views and
 * holds them: Shunt's ACK says window 0, and stays so while they are held
 * (time passes, the views are read).  Releasing them - out of order -
 * opens the window: a window update goes out, and the peer's next data is
 * taken.
 */
START_TEST(tcp_views_hold_the_window_shut)
{
    struct baseline was = baseline_now();
    struct conn c = connect_in(PEER_PORT);
    struct frame_seg s;

    size_t sent = peer_fills_window(&c);
    /* All of the window (the peer offered no scaling): nothing is read. */
    ck_assert_uint_eq(sent, 65535);

    enum { MAX_BATCHES = 64 };
    struct shunt_zc_rx *rx = calloc(MAX_BATCHES, sizeof(*rx));
    size_t got = 0;
    int nb = 0;
    ssize_t r;
    while ((r = shunt_zc_recv(c.fd, &rx[nb], 20000, MSG_DONTWAIT)) > 0) {
        ck_assert_int_lt(nb, MAX_BATCHES - 1);
        ck_assert_int_le(rx[nb].iovcnt, SHUNT_ZC_IOV_MAX);
        ck_assert_uint_le((size_t)r, 20000);
        assert_views(&rx[nb], got);
        ck_assert_uint_eq(rx[nb].fromlen, 0);
        got += (size_t)r;
        nb++;
    }
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_uint_eq(got, sent);
    /* Read (all of it), still held: the window stays shut. */
    ring_advance_ms(300);
    if (last_ack(&s))
        ck_assert_uint_eq(s.window, 0);
    /* Given back, odd ones first, then the even ones backwards. */
    for (int i = 1; i < nb; i += 2)
        ck_assert_int_eq(shunt_zc_release(rx[i].batch), 0);
    for (int i = (nb - 1) & ~1; i >= 0; i -= 2)
        ck_assert_int_eq(shunt_zc_release(rx[i].batch), 0);
    ring_advance_ms(1);
    /* lwIP announces an opening once it is worth a segment's sending
     * (TCP_WND_UPDATE_THRESHOLD); the rest comes with the next ACK. */
    ck_assert_msg(last_ack(&s), "no window update after the release");
    ck_assert_uint_gt(s.window, 0);
    ck_assert_uint_eq(s.ack, c.seq);
    /* The peer goes on; shunt_recv reads it. */
    peer_sends(&c, got, 100);
    uint8_t buf[100];
    ck_assert_int_eq(shunt_recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT), 100);
    for (size_t i = 0; i < 100; i++)
        ck_assert_uint_eq(buf[i], pattern(got + i));
    free(rx);
    peer_resets(&c);
    close_conn(&c);
    assert_back_to(&was);
}
END_TEST

/*
 * Part of a segment, then a copying read, then views across three
 * segments starting mid-way: each call takes from the front, in order.
 */
START_TEST(tcp_partial_views_and_recv_mixed)
{
    struct baseline was = baseline_now();
    struct conn c = connect_in(PEER_PORT + 1);
    struct shunt_zc_rx a, b;
    uint8_t buf[100];

    peer_sends(&c, 0, 3000);
    ck_assert_int_eq(shunt_zc_recv(c.fd, &a, 1000, MSG_DONTWAIT), 1000);
    ck_assert_int_eq(a.iovcnt, 1);
    assert_views(&a, 0);
    ck_assert_int_eq(shunt_recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT), 100);
    for (size_t i = 0; i < 100; i++)
        ck_assert_uint_eq(buf[i], pattern(1000 + i));
    ck_assert_int_eq(shunt_zc_recv(c.fd, &b, SIZE_MAX, MSG_DONTWAIT), 1900);
    ck_assert_int_eq(b.iovcnt, 3);      /* the rest of 1, all of 2, segment 3 */
    assert_views(&b, 1100);
    /* The first segment's pbuf is in both batches: either order frees it once. */
    ck_assert_int_eq(shunt_zc_release(b.batch), 0);
    assert_views(&a, 0);
    ck_assert_int_eq(shunt_zc_release(a.batch), 0);
    ck_assert_int_eq(shunt_zc_release(NULL), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(shunt_zc_recv(c.fd, &a, 0, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(shunt_zc_recv(c.l, &a, 100, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, ENOTCONN);
    peer_resets(&c);
    close_conn(&c);
    assert_back_to(&was);
}
END_TEST

/*
 * SHUNT_ZC_MAX_HELD batches held: the next shunt_zc_recv fails with
 * ENOBUFS, the data stays queued (shunt_recv could read it); one released,
 * shunt_zc_recv takes it.
 */
START_TEST(tcp_too_many_batches_enobufs_then_back)
{
    struct baseline was = baseline_now();
    struct conn c = connect_in(PEER_PORT + 2);
    struct shunt_zc_batch **held = calloc(SHUNT_ZC_MAX_HELD, sizeof(*held));
    struct shunt_zc_rx rx;

    for (size_t i = 0; i < SHUNT_ZC_MAX_HELD; i++) {
        peer_sends(&c, i, 1);
        ck_assert_int_eq(shunt_zc_recv(c.fd, &rx, SIZE_MAX, MSG_DONTWAIT), 1);
        assert_views(&rx, i);
        held[i] = rx.batch;
    }
    peer_sends(&c, SHUNT_ZC_MAX_HELD, 1);
    ck_assert_int_eq(shunt_zc_recv(c.fd, &rx, SIZE_MAX, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, ENOBUFS);
    ck_assert_int_eq(shunt_zc_release(held[7]), 0);
    ck_assert_int_eq(shunt_zc_recv(c.fd, &rx, SIZE_MAX, MSG_DONTWAIT), 1);
    assert_views(&rx, SHUNT_ZC_MAX_HELD);
    held[7] = rx.batch;
    for (size_t i = 0; i < SHUNT_ZC_MAX_HELD; i++)
        ck_assert_int_eq(shunt_zc_release(held[i]), 0);
    free(held);
    peer_resets(&c);
    close_conn(&c);
    assert_back_to(&was);
}
END_TEST

/* Views outlive a reset and the close after it: the data is intact until
 * released.  A socket closed gracefully with views held sends FIN, not RST. */
START_TEST(tcp_views_outlive_reset_and_close)
{
    struct baseline was = baseline_now();
    struct conn c = connect_in(PEER_PORT + 3);
    struct shunt_zc_rx rx, rx2;
    struct frame_seg s;

    peer_sends(&c, 0, 2000);
    ck_assert_int_eq(shunt_zc_recv(c.fd, &rx, SIZE_MAX, MSG_DONTWAIT), 2000);
    peer_resets(&c);
    ck_assert_int_eq(shunt_zc_recv(c.fd, &rx2, SIZE_MAX, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    assert_views(&rx, 0);
    close_conn(&c);
    assert_views(&rx, 0);
    ck_assert_int_eq(shunt_zc_release(rx.batch), 0);

    c = connect_in(PEER_PORT + 4);
    peer_sends(&c, 0, 500);
    ck_assert_int_eq(shunt_zc_recv(c.fd, &rx, SIZE_MAX, MSG_DONTWAIT), 500);
    drain();
    ck_assert_int_eq(shunt_close(c.fd), 0);
    ck_assert(next_segment(&s));
    ck_assert_msg(s.flags & RTE_TCP_FIN_FLAG, "close with views held sent flags %#x", s.flags);
    ck_assert(!(s.flags & RTE_TCP_RST_FLAG));
    assert_views(&rx, 0);
    ck_assert_int_eq(shunt_zc_release(rx.batch), 0);
    peer_resets(&c);
    ck_assert_int_eq(shunt_close(c.l), 0);
    assert_back_to(&was);
}
END_TEST

/* ---- UDP receive ------------------------------------------------------------------ */

static int udp_socket(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };
    int fd = shunt_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(shunt_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void peer_datagram(size_t off, size_t len)
{
    static uint8_t d[2000];

    for (size_t i = 0; i < len; i++)
        d[i] = pattern(off + i);
    ring_send(in, frame_udp4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT, PORT, d,
                             len));
}

/*
 * One datagram a view, with its source; released out of order, mixed with
 * recvfrom.  Held datagrams stay charged to SO_RCVBUF: with them held the
 * socket fills and drops (socket_full); released, it takes datagrams again.
 */
START_TEST(udp_views_charged_until_released)
{
    struct baseline was = baseline_now();
    int fd = udp_socket();
    int rcvbuf = 4 * 2304;              /* Linux doubles it: 8 buffers' charge */
    struct shunt_zc_rx rx[16];
    uint8_t buf[200];

    learn_peer();
    ck_assert_int_eq(shunt_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    peer_datagram(0, 100);
    peer_datagram(100, 200);
    peer_datagram(300, 50);
    ck_assert_int_eq(shunt_zc_recv(fd, &rx[0], 1, MSG_DONTWAIT), 100);  /* whole, whatever max */
    assert_views(&rx[0], 0);
    const struct sockaddr_in *from = (const struct sockaddr_in *)&rx[0].from;
    ck_assert_uint_eq(rx[0].fromlen, sizeof(*from));
    ck_assert_uint_eq(from->sin_addr.s_addr, rte_cpu_to_be_32(PEER_IP4));
    ck_assert_uint_eq(from->sin_port, rte_cpu_to_be_16(PEER_PORT));
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 200);
    ck_assert_uint_eq(buf[0], pattern(100));
    ck_assert_int_eq(shunt_zc_recv(fd, &rx[1], SIZE_MAX, MSG_DONTWAIT), 50);
    assert_views(&rx[1], 300);
    ck_assert_int_eq(shunt_zc_release(rx[1].batch), 0);
    ck_assert_int_eq(shunt_zc_release(rx[0].batch), 0);

    /* Hold them until the socket is full. */
    uint64_t full_was = ring_counters().drops[SHUNT_DROP_SOCKET_FULL];
    int nh = 0;
    while (ring_counters().drops[SHUNT_DROP_SOCKET_FULL] == full_was) {
        ck_assert_int_lt(nh, 16);
        peer_datagram(0, 10);
        if (shunt_zc_recv(fd, &rx[nh], SIZE_MAX, MSG_DONTWAIT) == 10)
            nh++;
    }
    ck_assert_int_eq(nh, 8);
    ck_assert_int_eq(shunt_zc_recv(fd, &rx[nh], SIZE_MAX, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    for (int i = nh - 1; i >= 0; i--)
        ck_assert_int_eq(shunt_zc_release(rx[i].batch), 0);
    peer_datagram(7, 10);
    ck_assert_int_eq(shunt_zc_recv(fd, &rx[0], SIZE_MAX, MSG_DONTWAIT), 10);
    assert_views(&rx[0], 7);
    /* Held across the close. */
    ck_assert_int_eq(shunt_close(fd), 0);
    assert_views(&rx[0], 7);
    ck_assert_int_eq(shunt_zc_release(rx[0].batch), 0);
    assert_back_to(&was);
}
END_TEST

/* ---- UDP send --------------------------------------------------------------------- */

/*
 * A zero-copy datagram leaves in the very mbuf the program wrote: the
 * frame on the wire holds its bytes and correct headers.  Too long is
 * EMSGSIZE; the buffer is freed once the wire is done with it.
 */
START_TEST(udp_send_in_its_own_mbuf)
{
    struct baseline was = baseline_now();
    int fd = udp_socket();
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = RTE_BE16(PEER_PORT),
                              .sin_addr.s_addr = RTE_BE32(PEER_IP4) };

    learn_peer();
    ck_assert_ptr_null(shunt_zc_alloc(fd, 1473));
    ck_assert_int_eq(errno, EMSGSIZE);
    ck_assert_ptr_null(shunt_zc_alloc(fd, 0));
    ck_assert_int_eq(errno, EINVAL);
    struct shunt_zc_buf *b = shunt_zc_alloc(fd, 1472);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(b->size, 1472);
    for (size_t i = 0; i < 1472; i++)
        ((uint8_t *)b->data)[i] = pattern(i);
    ck_assert_int_eq(shunt_zc_sendto(fd, b, 1473, 0, (struct sockaddr *)&to, sizeof(to)), -1);
    ck_assert_int_eq(errno, EINVAL);
    /* Unconnected without an address: the buffer stays the program's. */
    ck_assert_int_eq(shunt_zc_send(fd, b, 1472, 0), -1);
    ck_assert_int_eq(errno, EDESTADDRREQ);
    void *data = b->data;
    ck_assert_int_eq(shunt_zc_sendto(fd, b, 1472, 0, (struct sockaddr *)&to, sizeof(to)), 1472);

    /* Taken off the wire by hand: the frame is that mbuf, the data where
     * the program wrote it. */
    struct rte_mbuf *m = ring_recv_mbuf();
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->pkt_len, 14 + 20 + 8 + 1472);
    ck_assert_ptr_eq(rte_pktmbuf_mtod_offset(m, void *, 42), data);
    const struct rte_udp_hdr *u = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, 34);
    ck_assert_uint_eq(rte_be_to_cpu_16(u->src_port), PORT);
    ck_assert_uint_eq(rte_be_to_cpu_16(u->dst_port), PEER_PORT);
    ck_assert_uint_eq(rte_be_to_cpu_16(u->dgram_len), 8 + 1472);
    for (size_t i = 0; i < 1472; i++)
        ck_assert_uint_eq(rte_pktmbuf_mtod(m, uint8_t *)[42 + i], pattern(i));
    ck_assert_uint_eq(rte_mbuf_refcnt_read(m), 1);    /* the wire's alone */
    rte_pktmbuf_free(m);
    ck_assert_int_eq(shunt_close(fd), 0);
    assert_back_to(&was);
}
END_TEST

/*
 * Buffers taken until the pool runs low: ENOBUFS, with mbufs left for the
 * port (a ping is still answered); given back, the next alloc works.  A
 * socket closed with buffers never sent frees them.
 */
START_TEST(alloc_exhausted_enobufs_then_back)
{
    struct baseline was = baseline_now();
    int fd = udp_socket();
    unsigned size = ring_pool()->size;
    struct shunt_zc_buf **bufs = calloc(size, sizeof(*bufs));
    unsigned n = 0;

    learn_peer();
    while ((bufs[n] = shunt_zc_alloc(fd, 64)) != NULL)
        ck_assert_uint_lt(++n, size);
    ck_assert_int_eq(errno, ENOBUFS);
    ck_assert_uint_gt(n, size / 2);
    ck_assert_uint_gt(ring_mbufs_free(), 0);
    uint8_t msg[64];
    size_t m = icmp4_echo(msg, RTE_IP_ICMP_ECHO_REQUEST, 0x77, 1, "up", 2);
    ring_send(in, frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_ICMP, 1, 0,
                             msg, m));
    ck_assert_uint_gt(ring_recv(out, sizeof(out)), 0);
    while (n > 100)
        shunt_zc_free(bufs[--n]);
    struct shunt_zc_buf *b = shunt_zc_alloc(fd, 64);
    ck_assert_ptr_nonnull(b);
    shunt_zc_free(b);
    free(bufs);
    ck_assert_int_eq(shunt_close(fd), 0);     /* the 100 left go with it */
    assert_back_to(&was);
}
END_TEST

/* ---- TCP send --------------------------------------------------------------------- */

/*
 * A zero-copy segment is kept, not copied, until acknowledged: lost (the
 * peer never saw it), it is retransmitted intact from the buffer; once
 * acknowledged the buffer is freed.  A buffer is a segment at most, and a
 * socket not connected says ENOTCONN.
 */
START_TEST(tcp_send_held_until_acked_and_retransmitted)
{
    struct baseline was = baseline_now();
    int lone = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_ptr_null(shunt_zc_alloc(lone, 100));
    ck_assert_int_eq(errno, ENOTCONN);
    ck_assert_int_eq(shunt_close(lone), 0);
    ck_assert_ptr_null(shunt_zc_alloc(-1, 100));
    ck_assert_int_eq(errno, EBADF);

    struct conn c = connect_in(PEER_PORT + 5);
    struct shunt_zc_buf *b = shunt_zc_alloc(c.fd, 3 * MSS);  /* a segment, no more */
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(b->size, MSS);
    shunt_zc_free(b);
    b = shunt_zc_alloc(c.fd, 1000);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < 1000; i++)
        ((uint8_t *)b->data)[i] = pattern(i);
    unsigned in_use = ring_pool()->size - ring_mbufs_free();
    ck_assert_int_eq(shunt_zc_send(c.fd, b, 1000, 0), 1000);

    struct frame_seg s;
    ck_assert(next_segment(&s));
    ck_assert_uint_eq(s.seq, c.isn + 1);
    ck_assert_uint_eq(s.len, 1000);
    for (size_t i = 0; i < 1000; i++)
        ck_assert_uint_eq(s.data[i], pattern(i));
    /* Lost: the retransmission carries the same bytes, from the buffer. */
    ring_advance_ms(1500);
    ck_assert_msg(next_segment(&s), "no retransmission");
    ck_assert_uint_eq(s.seq, c.isn + 1);
    ck_assert_uint_eq(s.len, 1000);
    for (size_t i = 0; i < 1000; i++)
        ck_assert_uint_eq(s.data[i], pattern(i));
    drain();
    /* Still kept, with the segment's headers: lwIP builds them in a pbuf
     * from its heap, which lives in mbufs (port/heap.h). */
    ck_assert_uint_eq(ring_pool()->size - ring_mbufs_free(), in_use + 1);
    /* Acknowledged: the buffer and the headers go back to the pool. */
    ring_send(in, tcp_to(c.sport, RTE_TCP_ACK_FLAG, c.seq, c.isn + 1001, "", 0));
    ck_assert_uint_eq(ring_pool()->size - ring_mbufs_free(), in_use - 1);

    /* One in flight at a reset: freed with the connection. */
    b = shunt_zc_alloc(c.fd, 10);
    ck_assert_ptr_nonnull(b);
    memset(b->data, 'z', 10);
    ck_assert_int_eq(shunt_zc_send(c.fd, b, 10, 0), 10);
    peer_resets(&c);
    ck_assert_int_eq(shunt_zc_send(c.fd, shunt_zc_alloc(c.fd, 10), 10, MSG_NOSIGNAL), -1);
    close_conn(&c);
    assert_back_to(&was);
}
END_TEST

/* Closed gracefully with a buffer unacknowledged: lwIP keeps sending it
 * after the socket is gone, and it goes when acknowledged. */
START_TEST(tcp_send_in_flight_outlives_close)
{
    struct baseline was = baseline_now();
    struct conn c = connect_in(PEER_PORT + 6);
    struct shunt_zc_buf *b = shunt_zc_alloc(c.fd, 700);
    struct frame_seg s;

    for (size_t i = 0; i < 700; i++)
        ((uint8_t *)b->data)[i] = pattern(i);
    ck_assert_int_eq(shunt_zc_send(c.fd, b, 700, 0), 700);
    drain();
    unsigned in_use = ring_pool()->size - ring_mbufs_free();
    ck_assert_int_eq(shunt_close(c.fd), 0);
    drain();
    ring_advance_ms(1500);
    ck_assert_msg(next_segment(&s), "no retransmission after the close");
    ck_assert_uint_eq(s.len, 700);
    for (size_t i = 0; i < 700; i++)
        ck_assert_uint_eq(s.data[i], pattern(i));
    drain();
    /* The buffer and its headers kept, and the FIN's segment beside them
     * (lwIP's heap, in mbufs: port/heap.h). */
    ck_assert_uint_eq(ring_pool()->size - ring_mbufs_free(), in_use + 1);
    /* The data and the FIN acknowledged (FIN-WAIT-2 then): all three go. */
    ring_send(in, tcp_to(c.sport, RTE_TCP_ACK_FLAG, c.seq, c.isn + 702, "", 0));
    ck_assert_uint_eq(ring_pool()->size - ring_mbufs_free(), in_use - 2);
    ck_assert_int_eq(shunt_close(c.l), 0);
    peer_resets(&c);
    assert_back_to(&was);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zc");
    TCase *tc = tcase_create("zero-copy");

    tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down);
    tcase_set_timeout(tc, 60);
    add_tests(tc, tcp_views_hold_the_window_shut, tcp_partial_views_and_recv_mixed,
              tcp_too_many_batches_enobufs_then_back, tcp_views_outlive_reset_and_close,
              udp_views_charged_until_released, udp_send_in_its_own_mbuf,
              alloc_exhausted_enobufs_then_back, tcp_send_held_until_acked_and_retransmitted,
              tcp_send_in_flight_outlives_close);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
