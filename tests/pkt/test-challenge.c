/*
 * test-challenge.c - RFC 5961 on an established connection (port/challenge.h)
 * against a peer the test plays, on the test's clock: which segments reset
 * or feed the connection, which draw a challenge ACK (its exact sequence
 * and acknowledgment numbers), which are dropped silently, and how the
 * rate limits hold the answers back.  Each test names the section it checks.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "shunt/socket.h"
#include "challenge.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

#define PORT        7700
#define PEER_PORT   42000
#define PEER_WND    65535           /* no window scale: MAX.SND.WND */
#define FAR         1000000u        /* beyond any window Shunt offers */
#define CONNS       8

static uint8_t in[FRAME_MAX], out[FRAME_MAX];
static const char data[10] = "0123456789";

struct conn {
    int fd;
    uint16_t peer_port;
    uint32_t snd_nxt;               /* Shunt's next byte: what a challenge ACK says */
    uint32_t peer_seq;              /* the peer's next byte: Shunt's RCV.NXT */
};

/* What Shunt sent: one TCP segment. */

static int listener;

/* A fresh stack, and no listener yet. */
static void setup(void)
{
    ring_stack_up();
    listener = -1;
}

/* A segment from the peer of c. */
static void peer_send(const struct conn *c, uint8_t flags, uint32_t seq, uint32_t ack,
                      const void *payload, size_t len)
{
    ring_send(in, frame_tcp4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, c->peer_port, PORT,
                             flags, seq, ack, PEER_WND, flags & RTE_TCP_SYN_FLAG ? 1460 : 0,
                             payload, len));
}

/* The next TCP segment Shunt sent; false when there is none. */
static bool next_seg(struct frame_seg *s)
{
    size_t n;

    while ((n = ring_recv(out, sizeof(out))) > 0)
        if (frame_tcp4_parse(out, n, s))
            return true;
    return false;
}

static unsigned segs_sent(void)
{
    struct frame_seg s;
    unsigned n = 0;

    while (next_seg(&s))
        n++;
    return n;
}

/* Exactly one segment back, a challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void assert_challenge_ack(const struct conn *c, const char *what)
{
    struct frame_seg s;

    ck_assert_msg(next_seg(&s), "%s: no answer", what);
    ck_assert_uint_eq(s.dport, c->peer_port);
    ck_assert_uint_eq(s.flags, RTE_TCP_ACK_FLAG);
    ck_assert_uint_eq(s.seq, c->snd_nxt);
    ck_assert_uint_eq(s.ack, c->peer_seq);
    ck_assert_uint_eq(s.len, 0);
    ck_assert_msg(!next_seg(&s), "%s: more than one answer", what);
}

static void listen_once(void)
{
    if (listener >= 0)
        return;
    listener = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };
    ck_assert_int_eq(shunt_bind(listener, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(listener, CONNS), 0);
    ring_send(in, frame_arp(in, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4, &shunt_mac,
                            SHUNT_IP4));
}

/* The handshake from the peer's port, and the connection accepted. */
static struct conn connect_from(uint16_t peer_port)
{
    struct conn c = { .peer_port = peer_port, .peer_seq = 5000 };
    struct frame_seg s;

    listen_once();
    peer_send(&c, RTE_TCP_SYN_FLAG, c.peer_seq++, 0, "", 0);
    ck_assert(next_seg(&s));
    ck_assert_uint_eq(s.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
    c.snd_nxt = s.seq + 1;
    peer_send(&c, RTE_TCP_ACK_FLAG, c.peer_seq, c.snd_nxt, "", 0);
    c.fd = shunt_accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    ck_assert_int_ge(c.fd, 0);
    ck_assert_uint_eq(segs_sent(), 0);
    return c;
}

/* The connection is alive: data at RCV.NXT reaches the socket. */
static void assert_alive(struct conn *c)
{
    char buf[64];

    peer_send(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c->peer_seq, c->snd_nxt, data,
              sizeof(data));
    c->peer_seq += sizeof(data);
    ck_assert_int_eq(shunt_recv(c->fd, buf, sizeof(buf), 0), (int)sizeof(data));
    ck_assert_int_eq(memcmp(buf, data, sizeof(data)), 0);
    segs_sent();                        /* its ACK */
}

static uint64_t drops(enum shunt_drop_cause cause)
{
    return ring_counters().drops[cause];
}

/* The segments refused so far are counted, and the connection lives on. */
static void assert_survived(struct conn *c, uint64_t refused)
{
    ck_assert_uint_eq(drops(SHUNT_DROP_TCP_INVALID), refused);
    assert_alive(c);
}

/* Nothing reached the socket. */
static void assert_nothing_delivered(const struct conn *c)
{
    char buf[64];

    ck_assert_int_eq(shunt_recv(c->fd, buf, sizeof(buf), 0), -1);
    ck_assert_int_eq(errno, EAGAIN);
}

/* An RST with this sequence number. */
static void peer_rst(const struct conn *c, uint32_t seq)
{
    peer_send(c, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, seq, c->snd_nxt, "", 0);
}

/* Data whose ACK is far behind SND.UNA: one MAX.SND.WND and one byte. */
static void peer_old_ack(const struct conn *c)
{
    peer_send(c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c->peer_seq, c->snd_nxt - PEER_WND - 1,
              data, sizeof(data));
}

/* RFC 5961 3.2: an RST exactly at RCV.NXT resets the connection, unanswered. */
START_TEST(rst_at_rcv_nxt_resets)
{
    struct conn c = connect_from(PEER_PORT);
    char buf[8];

    peer_rst(&c, c.peer_seq);
    ck_assert_uint_eq(segs_sent(), 0);
    ck_assert_int_eq(shunt_recv(c.fd, buf, sizeof(buf), 0), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    ck_assert_uint_eq(drops(SHUNT_DROP_TCP_INVALID), 0);
}
END_TEST

/* RFC 5961 3.2: an RST elsewhere in the window draws one challenge ACK,
 * and the connection lives on; the peer's real RST, at RCV.NXT, then resets. */
START_TEST(rst_in_window_challenged)
{
    struct conn c = connect_from(PEER_PORT);
    char buf[8];

    peer_rst(&c, c.peer_seq + 1);
    assert_challenge_ack(&c, "RST at RCV.NXT + 1");
    assert_survived(&c, 1);
    peer_rst(&c, c.peer_seq);
    ck_assert_int_eq(shunt_recv(c.fd, buf, sizeof(buf), 0), -1);
    ck_assert_int_eq(errno, ECONNRESET);
}
END_TEST

/* RFC 5961 3.2 (RFC 793 3.9): an RST outside the window, below or beyond
 * it, is dropped without an answer. */
START_TEST(rst_outside_window_ignored)
{
    struct conn c = connect_from(PEER_PORT);

    peer_rst(&c, c.peer_seq - 1);
    peer_rst(&c, c.peer_seq + FAR);
    ck_assert_uint_eq(segs_sent(), 0);
    assert_survived(&c, 2);
}
END_TEST

/* RFC 5961 4.2: a SYN on an established connection, in the window or
 * not, draws a challenge ACK and the connection lives on. */
START_TEST(syn_on_established_challenged)
{
    struct conn c = connect_from(PEER_PORT);

    peer_send(&c, RTE_TCP_SYN_FLAG, c.peer_seq + 100, 0, "", 0);
    assert_challenge_ack(&c, "SYN in the window");
    ring_advance_ms(SHUNT_INVALID_RATELIMIT_MS);
    peer_send(&c, RTE_TCP_SYN_FLAG, c.peer_seq + FAR, 0, "", 0);
    assert_challenge_ack(&c, "SYN beyond the window");
    assert_survived(&c, 2);
}
END_TEST

/* RFC 5961 5.2: data whose ACK is below SND.UNA - MAX.SND.WND, or above
 * SND.NXT, draws a challenge ACK and is not delivered; the same data with
 * an acceptable ACK is. */
START_TEST(old_ack_challenged_data_dropped)
{
    struct conn c = connect_from(PEER_PORT);

    peer_old_ack(&c);
    assert_challenge_ack(&c, "ACK below SND.UNA - MAX.SND.WND");
    assert_nothing_delivered(&c);
    ring_advance_ms(SHUNT_INVALID_RATELIMIT_MS);
    peer_send(&c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c.peer_seq, c.snd_nxt + 1, data,
              sizeof(data));
    assert_challenge_ack(&c, "ACK above SND.NXT");
    assert_nothing_delivered(&c);
    /* The oldest acceptable ACK, SND.UNA - MAX.SND.WND, is taken. */
    peer_send(&c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c.peer_seq, c.snd_nxt - PEER_WND, "", 0);
    assert_survived(&c, 2);
}
END_TEST

/* RFC 5961 7 (Linux's tcp_invalid_ratelimit): ten invalid segments of
 * every kind within 500 ms get one answer between them; the others are
 * dropped silently and counted; once 500 ms have passed, one more. */
START_TEST(burst_gets_one_answer_per_interval)
{
    struct conn c = connect_from(PEER_PORT);

    for (int i = 0; i < 10; i++) {
        switch (i % 3) {
        case 0: peer_old_ack(&c); break;
        case 1: peer_rst(&c, c.peer_seq + 1); break;
        default: peer_send(&c, RTE_TCP_SYN_FLAG, c.peer_seq, 0, "", 0); break;
        }
        if (i == 0)
            assert_challenge_ack(&c, "the first of the burst");
        else
            ck_assert_msg(segs_sent() == 0, "segment %d of the burst answered", i);
        ring_advance_ms(SHUNT_INVALID_RATELIMIT_MS / 10 - 1);
    }
    ck_assert_uint_eq(drops(SHUNT_DROP_TCP_INVALID), 1);
    ck_assert_uint_eq(drops(SHUNT_DROP_TCP_THROTTLED), 9);
    ring_advance_ms(10 + 1);                    /* 500 ms since the answer */
    peer_old_ack(&c);
    assert_challenge_ack(&c, "the first after 500 ms");
    assert_nothing_delivered(&c);
    assert_alive(&c);
}
END_TEST

/* RFC 793 3.9 with RFC 5961 7: a segment without data outside the window
 * gets an ACK, one per interval; data outside the window (here, a
 * retransmission of what arrived) is answered every time, never throttled. */
START_TEST(out_of_window_empty_throttled_data_not)
{
    struct conn c = connect_from(PEER_PORT);

    for (int i = 0; i < 3; i++)
        peer_send(&c, RTE_TCP_ACK_FLAG, c.peer_seq + FAR, c.snd_nxt, "", 0);
    assert_challenge_ack(&c, "an empty segment beyond the window");
    ck_assert_uint_eq(drops(SHUNT_DROP_TCP_THROTTLED), 2);
    assert_alive(&c);
    for (int i = 0; i < 3; i++) {
        peer_send(&c, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c.peer_seq - sizeof(data), c.snd_nxt,
                  data, sizeof(data));
        ck_assert_uint_eq(segs_sent(), 1);
    }
    ck_assert_uint_eq(drops(SHUNT_DROP_TCP_THROTTLED), 2);
    assert_nothing_delivered(&c);
}
END_TEST

/* Each of the connections sends one RST in its window: how many answers. */
static unsigned challenge_all(struct conn *cs)
{
    unsigned answered = 0;

    for (int i = 0; i < CONNS; i++) {
        peer_rst(&cs[i], cs[i].peer_seq + 1);
        answered += segs_sent();
    }
    return answered;
}

/* RFC 5961 7 (Linux's tcp_challenge_ack_limit): the instance's allowance
 * holds across connections, each second drawn from [limit/2, limit +
 * limit/2); by default (Linux 6.1's) there is none. */
START_TEST(instance_limit_across_connections)
{
    struct conn cs[CONNS];
    const uint32_t limit = 3;                   /* allowance: 2 to 4 a second */

    uint64_t throttled = 0;

    for (int i = 0; i < CONNS; i++)
        cs[i] = connect_from((uint16_t)(PEER_PORT + i));
    ck_assert_uint_eq(challenge_all(cs), CONNS);
    shunt_challenge_init(ring_clock(), SHUNT_INVALID_RATELIMIT_MS, limit);
    for (int second = 0; second < 3; second++) {
        ring_advance_ms(1000);                  /* a new second, each connection's limit over */
        unsigned answered = challenge_all(cs);
        ck_assert_uint_ge(answered, (limit + 1) / 2);
        ck_assert_uint_le(answered, limit + (limit + 1) / 2 - 1);
        throttled += CONNS - answered;
        ck_assert_uint_eq(drops(SHUNT_DROP_TCP_THROTTLED), throttled);
    }
    for (int i = 0; i < CONNS; i++)
        assert_alive(&cs[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("challenge");
    TCase *tc = tcase_create("rfc5961");

    tcase_add_checked_fixture(tc, setup, ring_stack_down_balanced);
    add_tests(tc, rst_at_rcv_nxt_resets, rst_in_window_challenged, rst_outside_window_ignored,
              syn_on_established_challenged, old_ack_challenged_data_dropped,
              burst_gets_one_answer_per_interval, out_of_window_empty_throttled_data_not,
              instance_limit_across_connections);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
