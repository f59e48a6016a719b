/*
 * test-exhaustion.c - the stack at its limits, and back: the mbuf pool
 * drained by an out-of-order flood on a connection nobody reads, a send
 * buffer filled until EAGAIN, lwIP's TCP pcb pool used up (the next
 * socket() fails with ENOBUFS, the next SYN goes unanswered).  Each test
 * takes a baseline first - mbufs in use, every lwIP pool's used count,
 * the process's open descriptors - and once its load is gone asserts all
 * three are exactly back, with the frame balance holding.
 *
 * Covered elsewhere: EMFILE under a low RLIMIT_NOFILE (tests/unit/
 * test-socket.c, both paths), the accept backlog full and the ARP queue,
 * reassembly and TX pools empty (tests/pkt/test-pkt.c, cause_*), sockets
 * that never read on a real port (tests/integration/pressure.sh).
 */
#include "lwip/memp.h"
#include "lwip/stats.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_arp.h>
#include <rte_tcp.h>

#include "shunt/socket.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

static uint8_t in[FRAME_MAX], out[FRAME_MAX];

enum { LISTEN_PORT = 7600, PEER_PORT = 32000, PEER_ISN = 5000, MSS = 1460 };

/* ---- the baseline ------------------------------------------------------------ */

struct baseline {
    unsigned mbufs_in_use;
    unsigned memp_used[MEMP_MAX];
    int fds;
};

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static struct baseline baseline_now(void)
{
    struct baseline b = { .mbufs_in_use = ring_pool()->size - ring_mbufs_free(), .fds = open_fds() };

    for (int i = 0; i < MEMP_MAX; i++)
        b.memp_used[i] = lwip_stats.memp[i]->used;
    return b;
}

/* Everything is back where it was, and every frame is accounted for. */
static void assert_back_to(const struct baseline *was)
{
    /* lwIP's TCP timer stays on until a run finds no pcb left: one tick. */
    ring_advance_ms(1000);
    while (ring_recv(out, sizeof(out)) > 0)
        ;
    struct baseline now = baseline_now();

    ck_assert_msg(now.mbufs_in_use == was->mbufs_in_use, "mbufs in use: %u, at the baseline %u",
                  now.mbufs_in_use, was->mbufs_in_use);
    for (int i = 0; i < MEMP_MAX; i++)
        ck_assert_msg(now.memp_used[i] == was->memp_used[i], "lwIP pool %d (memp_std.h order): %u used, at the "
                      "baseline %u", i, now.memp_used[i], was->memp_used[i]);
    ck_assert_int_eq(now.fds, was->fds);
    ring_assert_balance();
}

/* ---- a connection from the peer ---------------------------------------------------- */

static size_t tcp_to(uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
                     size_t len)
{
    return frame_tcp4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, sport, LISTEN_PORT, flags,
                      seq, ack, 65535, 0, data, len);
}

/* Shunt learns the peer's address from its ARP request, so its replies
 * need no ARP of their own; then a listener on LISTEN_PORT. */
static int listener(void)
{
    static const struct rte_ether_addr zero_mac = { { 0 } };
    ring_send(in, frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                            &zero_mac, SHUNT_IP4));
    while (ring_recv(out, sizeof(out)) > 0)
        ;
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(LISTEN_PORT) };

    ck_assert_int_ge(l, 0);
    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, 16), 0);
    return l;
}

/* A SYN from sport: Shunt's ISN from its SYN-ACK, or 0 if none came. */
static uint32_t syn(uint16_t sport)
{
    while (ring_recv(out, sizeof(out)) > 0)
        ;
    ring_send(in, tcp_to(sport, RTE_TCP_SYN_FLAG, PEER_ISN, 0, "", 0));
    struct frame_seg s;
    size_t n = ring_recv(out, sizeof(out));
    if (n == 0)
        return 0;
    ck_assert(frame_tcp4_parse(out, n, &s));
    return s.seq;
}

/* The handshake from sport, accepted (non-blocking): *isn is Shunt's. */
static int accepted(int l, uint16_t sport, uint32_t *isn)
{
    *isn = syn(sport);
    ck_assert_uint_ne(*isn, 0);
    ring_send(in, tcp_to(sport, RTE_TCP_ACK_FLAG, PEER_ISN + 1, *isn + 1, "", 0));
    int fd = shunt_accept4(l, NULL, NULL, SOCK_NONBLOCK);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* The peer resets the connection: nothing of it is left in lwIP. */
static void peer_reset(uint16_t sport, uint32_t seq)
{
    ring_send(in, tcp_to(sport, RTE_TCP_RST_FLAG, seq, 0, "", 0));
}

/* ---- the tests ------------------------------------------------------------------------ */

/*
 * Out-of-order segments past a hole, as many as the window takes, to a
 * socket nobody reads: held in lwIP's out-of-order queue, on the pool's
 * mbufs.  The port never runs dry (no rx_nombuf) and a ping is still
 * answered.  Then the hole is filled: every byte reaches the reader, in
 * order, and every mbuf the queue held is given back.
 */
START_TEST(ooo_flood_drains_nothing_for_good)
{
    struct baseline was = baseline_now();
    int l = listener();
    uint32_t isn;
    int fd = accepted(l, PEER_PORT, &isn);
    static uint8_t data[65535];         /* the window: the SYN offered no scaling */
    const size_t segs = sizeof(data) / MSS;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + i / 251);
    /* Segments 1.. first, the window's worth; segment 0 is the hole. */
    for (size_t i = 1; i < segs; i++)
        ring_send(in, tcp_to(PEER_PORT, RTE_TCP_ACK_FLAG, PEER_ISN + 1 + (uint32_t)(i * MSS),
                             isn + 1, data + i * MSS, MSS));
    ck_assert_uint_gt(ring_mbufs_free(), 0);
    ck_assert_uint_eq(ring_counters().drops[SHUNT_DROP_RX_NOMBUF], 0);
    uint8_t msg[64];
    size_t m = icmp4_echo(msg, RTE_IP_ICMP_ECHO_REQUEST, 0x99, 1, "still up", 8);
    while (ring_recv(out, sizeof(out)) > 0)
        ;
    ring_send(in, frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_ICMP, 1, 0,
                             msg, m));
    ck_assert_uint_gt(ring_recv(out, sizeof(out)), 0);
    /* The hole: everything is in order now. */
    ring_send(in, tcp_to(PEER_PORT, RTE_TCP_ACK_FLAG, PEER_ISN + 1, isn + 1, data, MSS));
    static uint8_t got[sizeof(data)];
    size_t n = 0, want = segs * MSS;
    while (n < want) {
        ssize_t r = shunt_recv(fd, got + n, want - n, MSG_DONTWAIT);
        ck_assert_msg(r > 0, "read %zu of %zu bytes, then %zd (%s)", n, want, r, strerror(errno));
        n += (size_t)r;
    }
    ck_assert_int_eq(memcmp(got, data, want), 0);
    peer_reset(PEER_PORT, PEER_ISN + 1 + (uint32_t)want);
    ck_assert_int_eq(shunt_close(fd), 0);
    ck_assert_int_eq(shunt_close(l), 0);
    assert_back_to(&was);
}
END_TEST

/*
 * A send buffer filled: the peer acknowledges nothing, so a non-blocking
 * send() fills the window and then the buffer, and fails with EAGAIN as on
 * Linux; poll() says not writable.  Once the peer acknowledges what it
 * got, send() takes more.
 */
START_TEST(full_send_buffer_eagain_then_room)
{
    struct baseline was = baseline_now();
    int l = listener();
    uint32_t isn;
    int fd = accepted(l, PEER_PORT + 1, &isn);
    static uint8_t chunk[16384];
    size_t queued = 0;
    ssize_t r;

    memset(chunk, 's', sizeof(chunk));
    while ((r = shunt_send(fd, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0)
        queued += (size_t)r;
    ck_assert_int_eq(r, -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_uint_gt(queued, 65535);           /* more than the peer's window */
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    ck_assert_int_eq(shunt_poll_fds(&p, 1, 0), 0);
    /* The peer takes what arrived: the highest sequence number sent. */
    uint32_t acked = isn + 1;
    struct frame_seg s;
    size_t n;
    while ((n = ring_recv(out, sizeof(out))) > 0)
        if (frame_tcp4_parse(out, n, &s) && s.len > 0 && (int32_t)(s.seq + s.len - acked) > 0)
            acked = s.seq + s.len;
    ck_assert_uint_gt(acked - isn - 1, 0);
    ring_send(in, tcp_to(PEER_PORT + 1, RTE_TCP_ACK_FLAG, PEER_ISN + 1, acked, "", 0));
    ck_assert_int_gt(shunt_send(fd, chunk, sizeof(chunk), MSG_DONTWAIT), 0);
    peer_reset(PEER_PORT + 1, PEER_ISN + 1);
    ck_assert_int_eq(shunt_close(fd), 0);
    ck_assert_int_eq(shunt_close(l), 0);
    assert_back_to(&was);
}
END_TEST

/*
 * lwIP's TCP pcbs (MEMP_NUM_TCP_PCB) all taken by sockets: the next
 * socket() fails with ENOBUFS (Linux's word when it has no memory for
 * one), a SYN to a listener gets no SYN-ACK (as Linux drops a SYN it has
 * no room for), and nothing else breaks; with one socket closed, the SYN
 * is answered.  The descriptors come from the kernel, so the limit on
 * open files is raised for the test.
 */
START_TEST(tcp_pcb_limit_fails_cleanly)
{
    struct rlimit was_limit, rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &was_limit), 0);
    rl.rlim_cur = rl.rlim_max = MEMP_NUM_TCP_PCB + 1024;
    if (was_limit.rlim_max > rl.rlim_max)
        rl.rlim_max = was_limit.rlim_max;
    ck_assert_msg(setrlimit(RLIMIT_NOFILE, &rl) == 0, "raising RLIMIT_NOFILE to %lu: %s",
                  (unsigned long)rl.rlim_cur, strerror(errno));
    struct baseline was = baseline_now();
    int l = listener();
    int *fds = calloc(MEMP_NUM_TCP_PCB + 1, sizeof(*fds));
    int n = 0, fd;

    while ((fd = shunt_socket(AF_INET, SOCK_STREAM, 0)) >= 0) {
        ck_assert_int_lt(n, MEMP_NUM_TCP_PCB);
        fds[n++] = fd;
    }
    ck_assert_int_eq(errno, ENOBUFS);
    /* Every pcb is a socket's (the listener's pcb is of another pool). */
    ck_assert_int_eq(n, MEMP_NUM_TCP_PCB - (int)was.memp_used[MEMP_TCP_PCB]);
    ck_assert_uint_eq(lwip_stats.memp[MEMP_TCP_PCB]->used, MEMP_NUM_TCP_PCB);
    ck_assert_uint_eq(syn(PEER_PORT + 2), 0);
    /* One given back: a SYN is answered, and the connection accepted. */
    ck_assert_int_eq(shunt_close(fds[--n]), 0);
    uint32_t isn;
    int c = accepted(l, PEER_PORT + 3, &isn);
    peer_reset(PEER_PORT + 3, PEER_ISN + 1);
    ck_assert_int_eq(shunt_close(c), 0);
    while (n > 0)
        ck_assert_int_eq(shunt_close(fds[--n]), 0);
    free(fds);
    ck_assert_int_eq(shunt_close(l), 0);
    /* The SYN-ACK lwIP never sent holds nothing either. */
    assert_back_to(&was);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &was_limit), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exhaustion");
    TCase *tc = tcase_create("limits");

    tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down);
    tcase_set_timeout(tc, 60);
    add_tests(tc, ooo_flood_drains_nothing_for_good, full_send_buffer_eagain_then_room,
              tcp_pcb_limit_fails_cleanly);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
