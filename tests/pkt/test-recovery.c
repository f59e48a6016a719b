/*
 * test-recovery.c - loss recovery (port/recovery.h) against a peer the test
 * plays, on the test's clock: which segments Shunt sends again, and when.
 *
 * The peer offers SACK and MSS 1460.  Every ACK it sends carries data of
 * its own, as an echo's or a request/response peer's do: lwIP alone counts
 * no duplicate ACK then, and waits for the retransmission timer.
 */
#include <check.h>
#include <errno.h>
#include <netinet/tcp.h>
#undef TCP_MSS           /* glibc's historical one; lwIP's own follows */
#include <string.h>

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "shunt/socket.h"
#include "cc.h"
#include "recovery.h"
#include "stack.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

#define PORT        7600
#define PEER_PORT   41000
#define MSS         1460
#define SEGS        10
#define RTO_MIN_MS  200

static uint8_t in[FRAME_MAX], out[FRAME_MAX];

struct conn {
    int fd, listener;
    uint32_t iss;                       /* Shunt's */
    uint32_t peer_seq;                  /* the peer's next byte */
    uint32_t acked;                     /* what the peer acknowledged last */
};

/* One segment Shunt sent. */
struct sent {
    uint32_t seq;
    size_t len;
};

static const uint8_t peer_data[100] = { 'x' };

/* An ACK from the peer carrying len bytes, with SACK blocks (pairs of
 * offsets from Shunt's iss + 1). */
static void peer_ack(struct conn *c, uint32_t ack_off, const uint32_t *blocks, unsigned nblocks,
                     size_t len)
{
    uint8_t opt[40] = { 1, 1, 5, (uint8_t)(2 + 8 * nblocks) };
    size_t n = 4;

    for (unsigned i = 0; i < 2 * nblocks; i++, n += 4) {
        uint32_t v = rte_cpu_to_be_32(c->iss + 1 + blocks[i]);
        memcpy(opt + n, &v, 4);
    }
    ring_send(in, frame_tcp4_opts(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT,
                                  PORT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, c->peer_seq,
                                  c->iss + 1 + ack_off, 65535, opt, nblocks ? n : 0,
                                  peer_data, len));
    c->peer_seq += (uint32_t)len;
    c->acked = ack_off;
}

/* The next TCP segment with data Shunt sent (ACKs alone skipped); false
 * when none. */
static bool next_data(const struct conn *c, struct sent *s)
{
    size_t n;
    struct frame_seg f;

    while ((n = ring_recv(out, sizeof(out))) > 0) {
        if (!frame_tcp4_parse(out, n, &f) || f.len == 0)
            continue;
        s->seq = f.seq - c->iss - 1;
        s->len = f.len;
        return true;
    }
    return false;
}

/* The handshake, the peer's SYN with options syn_opts (optlen bytes), and
 * the connection accepted from a listener with congestion control cc
 * (NULL: the instance's default). */
static struct conn connect_with(const uint8_t *syn_opts, size_t optlen, const char *cc)
{
    struct conn c = { .peer_seq = 9000 };
    int one = 1;

    c.listener = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };
    ck_assert_int_eq(shunt_bind(c.listener, (struct sockaddr *)&a, sizeof(a)), 0);
    if (cc != NULL)
        ck_assert_int_eq(shunt_setsockopt(c.listener, IPPROTO_TCP, TCP_CONGESTION, cc,
                                          (socklen_t)strlen(cc)), 0);
    ck_assert_int_eq(shunt_listen(c.listener, 1), 0);
    ring_send(in, frame_arp(in, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4, &shunt_mac,
                            SHUNT_IP4));
    ring_send(in, frame_tcp4_opts(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT, PORT,
                                  RTE_TCP_SYN_FLAG, c.peer_seq, 0, 65535, syn_opts, optlen,
                                  "", 0));
    c.peer_seq++;
    size_t n;
    while ((n = ring_recv(out, sizeof(out))) > 0 && out[14 + 9] != IPPROTO_TCP)
        ;
    ck_assert_uint_ge(n, 14 + 20 + 20);
    const struct rte_tcp_hdr *t = (const struct rte_tcp_hdr *)(out + 14 + 20);
    ck_assert_uint_eq(t->tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
    c.iss = rte_be_to_cpu_32(t->sent_seq);
    peer_ack(&c, 0, NULL, 0, 0);
    c.fd = shunt_accept4(c.listener, NULL, NULL, SOCK_NONBLOCK);
    ck_assert_int_ge(c.fd, 0);
    ck_assert_int_eq(shunt_setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    return c;
}

/* The same with MSS offered, and SACK if sack. */
static struct conn connect_peer_cc(bool sack, const char *cc)
{
    static const uint8_t syn_opts[8] = { 2, 4, MSS >> 8, MSS & 0xff, 1, 1, 4, 2 };

    return connect_with(syn_opts, sack ? sizeof(syn_opts) : 4, cc);
}

static struct conn connect_peer_sack(bool sack)
{
    return connect_peer_cc(sack, NULL);
}

static struct conn connect_peer(void)
{
    return connect_peer_sack(true);
}

/* Rounds of data, each segment acknowledged 1 ms after it left, until
 * SEGS segments fit in cwnd: the RTT is 1 ms from here on. */
static void warm_up(struct conn *c)
{
    static uint8_t buf[SEGS * MSS];
    struct sent s;

    for (int round = 0; round < 6; round++) {
        ck_assert_int_eq(shunt_send(c->fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
        uint32_t end = c->acked, want = c->acked + (uint32_t)sizeof(buf);
        while (end != want) {
            while (next_data(c, &s))
                end = s.seq + (uint32_t)s.len;
            ring_advance_ms(1);
            peer_ack(c, end, NULL, 0, 0);
        }
    }
    ck_assert(!next_data(c, &s));
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    ck_assert_int_eq(shunt_getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    ck_assert_uint_ge(ti.tcpi_snd_cwnd, SEGS);
    ck_assert_uint_eq(ti.tcpi_rtt, 1000);
}

/* SEGS full segments sent at once; their offsets in seqs. */
static void send_window(struct conn *c, uint32_t *seqs)
{
    static uint8_t buf[SEGS * MSS];
    struct sent s;

    ck_assert_int_eq(shunt_send(c->fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
    for (int i = 0; i < SEGS; i++) {
        ck_assert_msg(next_data(c, &s), "segment %d of the window was not sent", i);
        ck_assert_uint_eq(s.len, MSS);
        seqs[i] = s.seq;
    }
    ck_assert(!next_data(c, &s));
}

/* The peer gets every segment of the window but those in lost[] (a 0/1
 * map) and says so, segment by segment, as Linux does: cumulative ACK up
 * to the first hole, SACK blocks for what lies beyond (the most recent
 * first, at most 3), each ACK with data of its own. */
static void peer_receives(struct conn *c, const uint32_t *seqs, const int *lost)
{
    uint32_t cum = c->acked;

    for (int i = 0; i < SEGS; i++) {
        if (lost[i])
            continue;
        if (seqs[i] == cum)
            cum += MSS;
        uint32_t blocks[6];
        unsigned nb = 0;
        for (int j = i; j >= 0 && nb < 3; j--) {
            if (lost[j] || seqs[j] + MSS <= cum)
                continue;
            uint32_t right = seqs[j] + MSS, left = seqs[j];
            while (j > 0 && !lost[j - 1] && seqs[j - 1] + MSS > cum)
                left = seqs[--j];
            blocks[2 * nb] = left;
            blocks[2 * nb + 1] = right;
            nb++;
        }
        peer_ack(c, cum, blocks, nb, sizeof(peer_data));
    }
}

/* A window sent, and 1 ms later received as peer_receives says. */
static void window_through(struct conn *c, uint32_t *seqs, const int *lost)
{
    send_window(c, seqs);
    ring_advance_ms(1);
    peer_receives(c, seqs, lost);
}

static void close_conn(struct conn *c)
{
    shunt_close(c->fd);
    shunt_close(c->listener);
}

/* One segment lost at the start of the window: the SACKs of the others
 * (on ACKs carrying data) get it sent again at once, not at the RTO. */
START_TEST(one_loss_sent_again_at_once)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    int lost[SEGS] = { [0] = 1 };
    struct sent s;

    warm_up(&c);
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    ck_assert_int_eq(shunt_getsockopt(c.fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    ck_assert_uint_eq(ti.tcpi_rto, RTO_MIN_MS * 1000);      /* 1 ms + 4 x var < the floor */
    window_through(&c, seqs, lost);
    ck_assert_msg(next_data(&c, &s), "nothing sent again within 1 ms of the SACKs");
    ck_assert_uint_eq(s.seq, seqs[0]);
    ck_assert_uint_eq(s.len, MSS);
    ck_assert(!next_data(&c, &s));              /* only the lost one */
    struct shunt_recovery_stats st = shunt_recovery_stats();
    ck_assert_uint_eq(st.rtos, 0);
    ck_assert_uint_eq(st.lost, 1);
    ck_assert_uint_eq(st.recoveries, 1);
    close_conn(&c);
}
END_TEST

/* Three holes in one window: each is sent again, once, in order, in the
 * same round trip; nothing SACKed is. */
START_TEST(several_losses_in_one_window)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    int lost[SEGS] = { [1] = 1, [4] = 1, [7] = 1 };
    struct sent s;

    warm_up(&c);
    window_through(&c, seqs, lost);
    for (int i = 0; i < SEGS; i++) {
        if (!lost[i])
            continue;
        ck_assert_msg(next_data(&c, &s), "hole %d not sent again", i);
        ck_assert_uint_eq(s.seq, seqs[i]);
    }
    ck_assert(!next_data(&c, &s));
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 0);
    ck_assert_uint_eq(shunt_recovery_stats().lost, 3);

    /* The repairs arrive: the window is whole, recovery over. */
    peer_ack(&c, seqs[SEGS - 1] + MSS, NULL, 0, sizeof(peer_data));
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    ck_assert_int_eq(shunt_getsockopt(c.fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    ck_assert_uint_eq(ti.tcpi_unacked, 0);
    ck_assert_uint_ge(ti.tcpi_snd_cwnd, 4);         /* about halved, not down to 1 */
    ck_assert_uint_lt(ti.tcpi_snd_cwnd, SEGS);
    close_conn(&c);
}
END_TEST

/* The last two segments lost, so nothing comes back to SACK them: the
 * tail loss probe (the last segment again) goes after 2 RTT, well before
 * the RTO; its SACK shows the other lost, sent again at once. */
START_TEST(lost_tail_probed)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    int lost[SEGS] = { [8] = 1, [9] = 1 };
    struct sent s;

    warm_up(&c);
    window_through(&c, seqs, lost);
    ck_assert(!next_data(&c, &s));
    unsigned ms = 0;
    while (!next_data(&c, &s) && ms < RTO_MIN_MS) {
        ring_advance_ms(1);
        ms++;
    }
    ck_assert_msg(ms <= 3, "no probe within 3 ms (2 RTT is 2 ms); waited %u", ms);
    ck_assert_uint_eq(s.seq, seqs[9]);
    ck_assert_uint_eq(shunt_recovery_stats().probes, 1);

    ring_advance_ms(1);                         /* the probe's round trip */
    uint32_t block[2] = { seqs[9], seqs[9] + MSS };
    peer_ack(&c, seqs[8], block, 1, sizeof(peer_data));
    ck_assert_msg(next_data(&c, &s), "the hole the probe showed was not sent again");
    ck_assert_uint_eq(s.seq, seqs[8]);
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 0);
    close_conn(&c);
}
END_TEST

/* Nothing acknowledged at all: the RTO fires at the RTO the connection
 * measured (the floor here), to the millisecond, then after twice that
 * (RFC 6298 5.5), and TCP_INFO says so in microseconds. */
START_TEST(rto_to_the_millisecond_with_backoff)
{
    shunt_recovery_init(ring_clock(), 5000, 40000);     /* a trading LAN's: 5 ms floor */
    struct conn c = connect_peer();
    struct sent s;
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    warm_up(&c);
    ck_assert_int_eq(shunt_getsockopt(c.fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    ck_assert_uint_eq(ti.tcpi_rto, 5000);
    ck_assert_int_eq(shunt_send(c.fd, "tail", 4, 0), 4);
    ck_assert(next_data(&c, &s));
    /* One segment, no SACK to come: the probe first (2 RTT + 200 ms of
     * delayed ACK is beyond the RTO, so the RTO it is). */
    const unsigned want[] = { 5, 10, 20, 40, 40 };
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        unsigned ms = 0;
        do {
            ring_advance_ms(1);
            ms++;
        } while (!next_data(&c, &s) && ms < 100);
        ck_assert_msg(ms == want[i], "retransmission %u after %u ms, not %u", i, ms, want[i]);
        ck_assert_uint_eq(s.len, 4);
    }
    ck_assert_int_eq(shunt_getsockopt(c.fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    ck_assert_uint_eq(ti.tcpi_rto, 40000);                 /* capped at tcp_rto_max_us */
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 5);
    close_conn(&c);
}
END_TEST

/* SACK options that make no sense are counted and ignored: nothing is
 * judged lost on their word, nothing breaks. */
START_TEST(bad_sack_blocks_ignored)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    struct sent s;

    warm_up(&c);
    send_window(&c, seqs);
    /* Beyond snd_nxt, and left above right. */
    uint32_t blocks[4] = { seqs[2], seqs[9] + 10 * MSS, seqs[5] + MSS, seqs[4] };
    peer_ack(&c, seqs[0], blocks, 2, sizeof(peer_data));
    /* A SACK option of a length no block fits. */
    const uint8_t opt[12] = { 1, 1, 5, 9, 0, 0, 0, 0, 0, 0, 0, 0 };
    ring_send(in, frame_tcp4_opts(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT, PORT,
                                  RTE_TCP_ACK_FLAG, c.peer_seq, c.iss + 1 + seqs[0], 65535, opt,
                                  sizeof(opt), "", 0));
    ck_assert(!next_data(&c, &s));
    ck_assert_uint_eq(shunt_recovery_stats().lost, 0);
    ck_assert_uint_eq(shunt_recovery_stats().sack_bad, 3);    /* and none for the good ones */
    close_conn(&c);
}
END_TEST

/* A peer without SACK, two holes in a window: three duplicate ACKs (pure
 * ones) send the first again; the ACK of that repair stops at the second
 * hole, and the second goes at once (NewReno, RFC 6582), not at the RTO. */
START_TEST(newreno_partial_ack_without_sack)
{
    struct conn c = connect_peer_sack(false);
    uint32_t seqs[SEGS];
    struct sent s;

    warm_up(&c);
    send_window(&c, seqs);
    ring_advance_ms(1);
    peer_ack(&c, seqs[2], NULL, 0, 0);          /* 0 and 1 arrived; 2 did not */
    for (int i = 0; i < 3; i++) {               /* 3, 4 and 6 did; 5 did not */
        ck_assert(!next_data(&c, &s));
        peer_ack(&c, seqs[2], NULL, 0, 0);
    }
    ck_assert_msg(next_data(&c, &s), "no fast retransmission on the third duplicate ACK");
    ck_assert_uint_eq(s.seq, seqs[2]);
    for (int i = 7; i < SEGS; i++)
        peer_ack(&c, seqs[2], NULL, 0, 0);
    while (next_data(&c, &s))                   /* new data lwIP's inflated cwnd lets go */
        ck_assert_uint_ge(s.seq, seqs[SEGS - 1] + MSS);
    ring_advance_ms(1);
    peer_ack(&c, seqs[5], NULL, 0, 0);          /* the repair arrived: up to hole 5 */
    ck_assert_msg(next_data(&c, &s), "the partial ACK did not send the next hole");
    ck_assert_uint_eq(s.seq, seqs[5]);
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 0);
    close_conn(&c);
}
END_TEST

/* ---- congestion control (port/cc.h) ----------------------------------- */

static struct tcp_info info(const struct conn *c)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    ck_assert_int_eq(shunt_getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    return ti;
}

/* A window of SEGS segments whose first is lost, so that all SEGS are in
 * flight when the loss is found; then repaired.  Returns ssthresh in
 * segments (TCP_INFO), which the window starts from: the ACK that ends
 * recovery grows it by at most one. */
static uint32_t ssthresh_after_one_loss(struct conn *c)
{
    uint32_t seqs[SEGS];
    int lost[SEGS] = { [0] = 1 };
    struct sent s;

    window_through(c, seqs, lost);
    ck_assert(next_data(c, &s));
    ck_assert_uint_eq(s.seq, seqs[0]);
    ring_advance_ms(1);
    peer_ack(c, seqs[SEGS - 1] + MSS, NULL, 0, sizeof(peer_data));
    struct tcp_info ti = info(c);
    ck_assert_uint_eq(ti.tcpi_unacked, 0);
    ck_assert_uint_eq(shunt_recovery_stats().recoveries, 1);
    ck_assert_uint_ge(ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh);
    ck_assert_uint_le(ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh + 1);
    return ti.tcpi_snd_ssthresh;
}

/* The listener's choice reaches the accepted connection, and a loss with
 * SEGS segments in flight leaves 0.7 of them under cubic (RFC 9438 4.6),
 * half under reno (RFC 5681 eq. 4); cubic is the default. */
START_TEST(loss_cuts_the_window_by_the_algorithm)
{
    static const struct {
        const char *cc;
        uint32_t segs;
    } cases[] = { { "reno", SEGS / 2 }, { "cubic", SEGS * 7 / 10 }, { NULL, SEGS * 7 / 10 } };
    const char *cc = cases[_i].cc;
    struct conn c = connect_peer_cc(true, cc);
    char name[16];
    socklen_t len = sizeof(name);

    ck_assert_int_eq(shunt_getsockopt(c.fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
    ck_assert_str_eq(name, cc != NULL ? cc : "cubic");
    warm_up(&c);
    ck_assert_uint_gt(info(&c).tcpi_snd_cwnd, SEGS);           /* cwnd, not it, is cut */
    ck_assert_uint_eq(ssthresh_after_one_loss(&c), cases[_i].segs);
    close_conn(&c);
}
END_TEST

/* The example module of the README: a window fixed at 12 segments, which
 * neither grows nor shrinks.  Registered by the test, chosen by name, it is
 * what the connection does. */
#define CONSTANT_SEGS 12

static void constant_avoid(struct shunt_cc_conn *c, const struct shunt_cc_ack *a)
{
    (void)a;
    c->cwnd = CONSTANT_SEGS * c->mss;
}

static uint32_t constant_ssthresh(struct shunt_cc_conn *c, uint32_t flight)
{
    (void)flight;
    return CONSTANT_SEGS * c->mss;
}

static const struct shunt_cc_ops constant = {
    .name = "constant", .cong_avoid = constant_avoid, .ssthresh = constant_ssthresh,
};

/* n full segments written at once, and acknowledged together 1 ms after
 * they left: how many the window let go. */
static unsigned acked_flight(struct conn *c, unsigned n)
{
    static uint8_t buf[4 * SEGS * MSS];
    struct sent s;
    unsigned sent = 0;
    uint32_t end = c->acked;

    ck_assert_uint_le(n * MSS, sizeof(buf));
    ck_assert_int_eq(shunt_send(c->fd, buf, n * MSS, 0), (ssize_t)(n * MSS));
    while (next_data(c, &s)) {
        end = s.seq + (uint32_t)s.len;
        sent++;
    }
    ring_advance_ms(1);
    peer_ack(c, end, NULL, 0, 0);
    ck_assert(!next_data(c, &s));               /* the window took them all */
    return sent;
}

START_TEST(registered_algorithm_is_used)
{
    ck_assert(shunt_cc_register(&constant) == 0 || errno == EEXIST);
    struct conn c = connect_peer_cc(true, "constant");

    warm_up(&c);
    ck_assert_uint_eq(info(&c).tcpi_snd_cwnd, CONSTANT_SEGS);      /* reno and cubic pass SEGS */
    ck_assert_uint_eq(ssthresh_after_one_loss(&c), CONSTANT_SEGS);
    ck_assert_uint_eq(info(&c).tcpi_snd_cwnd, CONSTANT_SEGS);
    /* A choice made on the connection itself takes over from the next
     * ACK: reno adds one MSS once a full window's worth (12) is acked. */
    ck_assert_int_eq(shunt_setsockopt(c.fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
    ck_assert_uint_eq(acked_flight(&c, CONSTANT_SEGS), CONSTANT_SEGS);
    ck_assert_uint_eq(info(&c).tcpi_snd_cwnd, CONSTANT_SEGS + 1);
    /* A flight that leaves the window unfilled (10 of 13) grows nothing
     * (RFC 7661): the window limited no one. */
    for (int round = 0; round < 3; round++)
        ck_assert_uint_eq(acked_flight(&c, SEGS), SEGS);
    ck_assert_uint_eq(info(&c).tcpi_snd_cwnd, CONSTANT_SEGS + 1);
    close_conn(&c);
}
END_TEST

/* PRR (RFC 6937): one loss in a flight of N, and the application has more
 * to send.  Over the recovery the flight comes down to ssthresh (N / 2)
 * in step with what the SACKs report delivered, about one segment for
 * every two: not all at once, not nothing until the end. */
START_TEST(prr_spreads_sending_over_the_recovery)
{
    static uint8_t buf[4 * SEGS * MSS];
    struct conn c = connect_peer_cc(true, "reno");      /* ssthresh: half the flight */
    uint32_t seqs[4 * SEGS];
    struct sent s;
    unsigned n = 0;

    warm_up(&c);
    ck_assert_int_eq(shunt_send(c.fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
    while (n < 4 * SEGS && next_data(&c, &s))
        seqs[n++] = s.seq;
    ck_assert_uint_ge(n, SEGS);                 /* a flight of cwnd segments */
    ck_assert_uint_lt(n, 4 * SEGS);             /* and more waiting */
    ring_advance_ms(1);
    unsigned sent = 0, most = 0;
    for (unsigned i = 1; i < n; i++) {          /* segment 0 lost, the rest SACKed */
        uint32_t block[2] = { seqs[1], seqs[i] + MSS };
        peer_ack(&c, seqs[0], block, 1, sizeof(peer_data));
        unsigned now = 0;
        while (next_data(&c, &s))
            now++;
        sent += now;
        most = now > most ? now : most;
    }
    /* Recovery began at the third SACK (RACK's reordering window is 0 from
     * there); the N - 3 segments delivered since let about half go, the
     * retransmission of segment 0 among them. */
    unsigned half = (n - 3) / 2;
    ck_assert_msg(sent >= half && sent <= half + 2, "%u sent in recovery, flight %u", sent, n);
    ck_assert_uint_le(most, 2);
    ck_assert_uint_eq(shunt_recovery_stats().recoveries, 1);
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 0);
    close_conn(&c);
}
END_TEST

/* A retransmission lost as well: the new data sent after it is SACKed,
 * which tells RACK (RFC 8985 6) the retransmission is lost too, by the
 * time it was sent: it goes a third time, without waiting for the RTO. */
START_TEST(lost_retransmission_found_by_rack)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    int lost[SEGS] = { [0] = 1 };
    struct sent s;

    warm_up(&c);
    window_through(&c, seqs, lost);
    ck_assert(next_data(&c, &s));
    ck_assert_uint_eq(s.seq, seqs[0]);          /* the repair, which is lost */
    ck_assert_int_eq(shunt_send(c.fd, "more", 4, 0), 4);
    ck_assert_msg(next_data(&c, &s), "PRR left no room for new data");
    uint32_t more = s.seq;
    ck_assert_uint_eq(more, seqs[SEGS - 1] + MSS);
    ring_advance_ms(1);
    uint32_t block[2] = { seqs[1], more + 4 };
    peer_ack(&c, seqs[0], block, 1, sizeof(peer_data));
    ck_assert_msg(next_data(&c, &s), "the lost retransmission was not sent again");
    ck_assert_uint_eq(s.seq, seqs[0]);
    ck_assert_uint_eq(shunt_recovery_stats().lost, 2);
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 0);
    close_conn(&c);
}
END_TEST

/* Reordering, no loss: segment 0 arrives after the other nine.  The first
 * time RACK cannot tell and sends it again; the peer's DSACK (RFC 2883)
 * says it was needless, the cut is undone and the reordering window
 * grows; the second time the late segment is waited for. */
START_TEST(reordering_learned_from_dsack)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    int late[SEGS] = { [0] = 1 };
    struct sent s;

    warm_up(&c);
    uint32_t cwnd = info(&c).tcpi_snd_cwnd;
    window_through(&c, seqs, late);
    ck_assert(next_data(&c, &s));
    ck_assert_uint_eq(s.seq, seqs[0]);          /* sent again: needless */
    peer_ack(&c, seqs[SEGS - 1] + MSS, NULL, 0, sizeof(peer_data));     /* the late one */
    uint32_t dsack[2] = { seqs[0], seqs[0] + MSS };
    peer_ack(&c, seqs[SEGS - 1] + MSS, dsack, 1, sizeof(peer_data));    /* and its twin */
    ck_assert_uint_eq(shunt_recovery_stats().dsacks, 1);
    ck_assert_uint_eq(shunt_recovery_stats().undos, 1);
    ck_assert_uint_ge(info(&c).tcpi_snd_cwnd, cwnd);

    window_through(&c, seqs, late);
    peer_ack(&c, seqs[SEGS - 1] + MSS, NULL, 0, sizeof(peer_data));
    ck_assert_msg(!next_data(&c, &s), "a late segment sent again after reordering was seen");
    ck_assert_uint_eq(shunt_recovery_stats().lost, 1);
    ck_assert_uint_eq(shunt_recovery_stats().recoveries, 1);
    close_conn(&c);
}
END_TEST

/* A spurious timeout (the ACKs were only late): after the tail loss
 * probe, F-RTO (RFC 5682 3.1) sends only the first segment again; the ACK
 * that then covers the whole window acknowledges segments sent once,
 * before the timeout, so the timeout was needless and the window is
 * restored. */
START_TEST(spurious_timeout_undone_by_frto)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    struct sent s;

    warm_up(&c);
    uint32_t cwnd = info(&c).tcpi_snd_cwnd;
    send_window(&c, seqs);
    unsigned ms = 0;
    while (!next_data(&c, &s) && ms++ < RTO_MIN_MS)
        ring_advance_ms(1);
    ck_assert_uint_eq(s.seq, seqs[SEGS - 1]);   /* the tail loss probe, after 2 RTT */
    ck_assert_uint_eq(shunt_recovery_stats().probes, 1);
    while (!next_data(&c, &s) && ms++ < 2 * RTO_MIN_MS)
        ring_advance_ms(1);
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 1);
    ck_assert_uint_eq(s.seq, seqs[0]);
    ck_assert(!next_data(&c, &s));              /* only the first */
    peer_ack(&c, seqs[SEGS - 1] + MSS, NULL, 0, sizeof(peer_data));
    ck_assert(!next_data(&c, &s));
    struct shunt_recovery_stats st = shunt_recovery_stats();
    ck_assert_uint_eq(st.rtos, 1);
    ck_assert_uint_eq(st.spurious_rtos, 1);
    ck_assert_uint_eq(st.undos, 1);
    ck_assert_uint_ge(info(&c).tcpi_snd_cwnd, cwnd);
    close_conn(&c);
}
END_TEST

/* A real timeout with SACKed data in flight: only segment 2 arrived (so
 * RACK can judge 0 and 1, but not 3..9), and the repair of 0 is lost.
 * At the RTO F-RTO sends 0; the ACK of it shows nothing sent once
 * arrived, so the loss is real and every segment not SACKed goes again in
 * slow start (RFC 6675 5.1), but never segment 2. */
START_TEST(timeout_resends_only_what_is_not_sacked)
{
    struct conn c = connect_peer();
    uint32_t seqs[SEGS];
    struct sent s;

    warm_up(&c);
    send_window(&c, seqs);
    ring_advance_ms(1);
    uint32_t block[2] = { seqs[2], seqs[2] + MSS };
    peer_ack(&c, seqs[0], block, 1, sizeof(peer_data));
    ck_assert(!next_data(&c, &s));              /* within RACK's reordering window */
    ring_advance_ms(1);
    ck_assert(next_data(&c, &s));               /* then 0 goes again (PRR: nothing */
    ck_assert_uint_eq(s.seq, seqs[0]);          /* delivered since, one segment), */
    ck_assert(!next_data(&c, &s));              /* and is lost */
    unsigned ms = 0;
    while (!next_data(&c, &s) && ms++ < 2 * RTO_MIN_MS)
        ring_advance_ms(1);
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 1);
    ck_assert_uint_eq(s.seq, seqs[0]);
    ck_assert(!next_data(&c, &s));
    uint32_t acked = seqs[1];
    int got[SEGS] = { [0] = 1, [2] = 1 };
    for (int round = 0; round < 2 * SEGS && acked != seqs[SEGS - 1] + MSS; round++) {
        ring_advance_ms(1);
        peer_ack(&c, acked, block, 1, sizeof(peer_data));
        while (next_data(&c, &s)) {
            ck_assert_msg(s.seq != seqs[2], "the SACKed segment was sent again");
            got[(s.seq - seqs[0]) / MSS] = 1;
        }
        while (acked != seqs[SEGS - 1] + MSS && got[(acked - seqs[0]) / MSS])
            acked += MSS;
    }
    ck_assert_uint_eq(acked, seqs[SEGS - 1] + MSS);
    ck_assert_uint_eq(shunt_recovery_stats().rtos, 1);
    ck_assert_uint_eq(shunt_recovery_stats().spurious_rtos, 0);
    close_conn(&c);
}
END_TEST

/* ---- the peer's RTT: what Shunt echoes ------------------------------------ */

/* A NOP, NOP, timestamps option (RFC 7323 3) into opt[0..11]. */
static void ts_option(uint8_t *opt, uint32_t val, uint32_t ecr)
{
    uint32_t v = rte_cpu_to_be_32(val), e = rte_cpu_to_be_32(ecr);

    opt[0] = 1, opt[1] = 1, opt[2] = 8, opt[3] = 10;
    memcpy(opt + 4, &v, 4);
    memcpy(opt + 8, &e, 4);
}

/* 100 bytes from the peer at offset off of its data (from its iss + 1),
 * stamped tsval. */
static void peer_data_ts(const struct conn *c, uint32_t off, uint32_t tsval)
{
    uint8_t opt[12];

    ts_option(opt, tsval, 0);
    ring_send(in, frame_tcp4_opts(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT,
                                  PORT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 9001 + off,
                                  c->iss + 1, 65535, opt, sizeof(opt), peer_data,
                                  sizeof(peer_data)));
}

/* The timestamp echoed by the next segment Shunt sends, which must
 * acknowledge ack (the peer's offset). */
static uint32_t echoed(uint32_t ack)
{
    size_t n = ring_recv(out, sizeof(out));
    struct frame_seg f;

    ck_assert_msg(n > 0 && frame_tcp4_parse(out, n, &f), "no ACK sent");
    ck_assert_uint_eq(f.ack, 9001 + ack);
    const uint8_t *o = out + 14 + 20 + 20, *end = out + 14 + 20 + 4 * (out[14 + 20 + 12] >> 4);
    while (o < end && *o != 0) {
        if (*o == 1) {
            o++;
            continue;
        }
        if (o[0] == 8 && o[1] == 10) {
            uint32_t e;
            memcpy(&e, o + 6, 4);
            return rte_be_to_cpu_32(e);
        }
        o += o[1];
    }
    ck_abort_msg("no timestamps option in Shunt's ACK");
    return 0;
}

/* RFC 7323 4.3 (R3): a segment wholly below what Shunt last acknowledged -
 * the peer sending again data whose ACK was lost - has its TSval echoed,
 * so the RTT the peer takes from the echo is the retransmission's, not the
 * time since the original; an older TSval does not move the echo back
 * (port/lwip-patches/0004: lwIP echoed the original's). */
START_TEST(timestamp_of_a_retransmission_echoed)
{
    uint8_t syn_opts[20] = { 2, 4, MSS >> 8, MSS & 0xff, 1, 1, 4, 2 };
    ts_option(syn_opts + 8, 1000, 0);
    struct conn c = connect_with(syn_opts, sizeof(syn_opts), NULL);

    peer_data_ts(&c, 0, 2000);
    ck_assert_uint_eq(echoed(100), 2000);
    peer_data_ts(&c, 100, 2001);
    ck_assert_uint_eq(echoed(200), 2001);
    peer_data_ts(&c, 0, 3000);                  /* its ACK was lost: sent again */
    ck_assert_uint_eq(echoed(200), 3000);
    peer_data_ts(&c, 100, 2500);                /* an older copy, reordered */
    ck_assert_uint_eq(echoed(200), 3000);
    close_conn(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("recovery");
    TCase *tc = tcase_create("sack"), *cc = tcase_create("cc");

    tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down_balanced);
    add_tests(tc, one_loss_sent_again_at_once, several_losses_in_one_window, lost_tail_probed,
              rto_to_the_millisecond_with_backoff, bad_sack_blocks_ignored,
              newreno_partial_ack_without_sack, prr_spreads_sending_over_the_recovery,
              lost_retransmission_found_by_rack, reordering_learned_from_dsack,
              spurious_timeout_undone_by_frto, timeout_resends_only_what_is_not_sacked,
              timestamp_of_a_retransmission_echoed);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(cc, ring_stack_up, ring_stack_down_balanced);
    tcase_add_loop_test(cc, loss_cuts_the_window_by_the_algorithm, 0, 3);
    add_tests(cc, registered_algorithm_is_used);
    suite_add_tcase(s, cc);
    return run_suite(s);
}
