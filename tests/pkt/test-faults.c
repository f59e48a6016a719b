/*
 * test-faults.c - the fault stage (port/faults.h), frame by frame on a
 * net_ring port (each fault; delays with jitter, and a bounded queue of
 * delayed frames), and a 1 MB TCP echo through it: 5 % of the frames each way
 * dropped, 5 % reordered, 1 % duplicated, on the test's clock, byte-exact,
 * and the same from the same seed.
 *
 * The peer of the echo is this test: a small TCP of its own (go-back-N on
 * a timer to send, in-order only to receive) speaking to Shunt through the
 * ring, as a kernel would through a wire.
 */
#define ALLOW_EXPERIMENTAL_API          /* rte_ipv4_udptcp_cksum_verify, in DPDK 22.11 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_random.h>
#include <rte_tcp.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"
#include "stack.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

static uint8_t in[FRAME_MAX], out[FRAME_MAX], want[FRAME_MAX];
static const struct rte_ether_addr zero_mac = { { 0 } };

static void faults(const char *spec)
{
    char err[256];

    ck_assert_msg(shunt_stack_faults(spec, err, sizeof(err)) == 0, "%s: %s", spec, err);
}

static uint64_t fault_count(enum shunt_dir d, enum shunt_fault k)
{
    return shunt_instance()->faults.way[d].count[k];
}

/* The peer and Shunt learn each other's MAC. */
static void arp_exchange(void)
{
    ring_send(in, frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                            &zero_mac, SHUNT_IP4));
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 42);
}

/* The peer's ping number seq, and the reply Shunt owes it (in want). */
static size_t ping(uint16_t seq, size_t *reply_len)
{
    uint8_t msg[64], data[16];

    memset(data, (int)seq, sizeof(data));
    size_t m = icmp4_echo(msg, RTE_IP_ICMP_ECHO_REQUEST, 0x77, seq, data, sizeof(data));
    size_t n = frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_ICMP, seq, 0,
                          msg, m);
    m = icmp4_echo(msg, RTE_IP_ICMP_ECHO_REPLY, 0x77, seq, data, sizeof(data));
    *reply_len = frame_ipv4(want, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4, IPPROTO_ICMP, seq,
                            0, msg, m);
    return n;
}

/* The sequence number of the echo reply in out. */
static uint16_t reply_seq(void)
{
    return rte_be_to_cpu_16(((const struct rte_icmp_hdr *)(out + 14 + 20))->icmp_seq_nb);
}

/* ---- each fault, on its own ----------------------------------------------------- */

START_TEST(drop_takes_the_frame)
{
    size_t reply, n;

    arp_exchange();
    faults("rx:drop=1");
    n = ping(1, &reply);
    ring_send(in, n);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
    ck_assert_uint_eq(fault_count(SHUNT_DIR_RX, SHUNT_FAULT_DROP), 1);
    faults("off");
    ring_send(in, n);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), reply);
    ck_assert_mem_eq(out, want, reply);
}
END_TEST

START_TEST(dup_sends_a_copy)
{
    size_t reply, n;

    arp_exchange();
    faults("tx:dup=1");
    n = ping(2, &reply);
    ring_send(in, n);
    for (int copy = 0; copy < 2; copy++) {
        ck_assert_uint_eq(ring_recv(out, sizeof(out)), reply);
        ck_assert_mem_eq(out, want, reply);
    }
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
    ck_assert_uint_eq(fault_count(SHUNT_DIR_TX, SHUNT_FAULT_DUP), 1);
}
END_TEST

/* Exactly one bit of the frame differs from what Shunt meant to send, past
 * its Ethernet header. */
START_TEST(corrupt_flips_one_bit)
{
    size_t reply, n;

    arp_exchange();
    faults("tx:corrupt=1");
    n = ping(3, &reply);
    ring_send(in, n);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), reply);
    unsigned flipped = 0;
    for (size_t i = 0; i < reply; i++)
        flipped += (unsigned)__builtin_popcount(out[i] ^ want[i]);
    ck_assert_uint_eq(flipped, 1);
    ck_assert_mem_eq(out, want, RTE_ETHER_HDR_LEN);     /* past the Ethernet header */
    ck_assert_uint_eq(fault_count(SHUNT_DIR_TX, SHUNT_FAULT_CORRUPT), 1);
}
END_TEST

/* Held for delay_us on the stack's clock, then sent. */
START_TEST(delay_holds_on_the_stacks_clock)
{
    size_t reply, n;

    arp_exchange();
    faults("tx:delay=1,delay_us=5000");
    n = ping(4, &reply);
    ring_send(in, n);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
    ring_advance_ms(4);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
    ring_advance_ms(1);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), reply);
    ck_assert_mem_eq(out, want, reply);
}
END_TEST

/* n pings sent at once through spec; the millisecond each reply came at
 * (in ms[], by sequence number) and the order they came in. */
static void replies_over_time(const char *spec, uint16_t n, uint32_t *ms, uint16_t *order)
{
    size_t reply;
    uint16_t got = 0;

    faults(spec);
    for (uint16_t seq = 0; seq < n; seq++)
        ring_send(in, ping(seq, &reply));
    for (uint32_t t = 0; t <= 100 && got < n; t++) {
        size_t len;
        while ((len = ring_recv(out, sizeof(out))) > 0) {
            ck_assert_uint_eq(len, reply);
            ck_assert_uint_lt(got, n);
            uint16_t seq = reply_seq();
            ck_assert_uint_lt(seq, n);
            ms[seq] = t;
            order[got++] = seq;
        }
        ring_advance_ms(1);
    }
    ck_assert_uint_eq(got, n);
}

/* More frames than the reordered list's 64 held at once: a fixed delay
 * keeps them all, and in their order. */
START_TEST(delay_holds_many_in_order)
{
    uint32_t ms[200];
    uint16_t order[200];

    arp_exchange();
    replies_over_time("tx:delay=1,delay_us=10000", 200, ms, order);
    for (uint16_t i = 0; i < 200; i++) {
        ck_assert_uint_eq(order[i], i);
        ck_assert_uint_eq(ms[i], 10);
    }
    ck_assert_uint_eq(fault_count(SHUNT_DIR_TX, SHUNT_FAULT_DELAY), 200);
    ck_assert_uint_eq(shunt_instance()->faults.way[SHUNT_DIR_TX].overflow, 0);
}
END_TEST

/* 10 ms +- 5 ms: each frame its own delay within the bounds, spread over
 * them, and (as with netem) frames whose delays differ pass each other. */
START_TEST(jitter_spreads_and_reorders)
{
    uint32_t ms[200], lo = UINT32_MAX, hi = 0;
    uint16_t order[200];
    bool sorted = true;

    arp_exchange();
    replies_over_time("tx:delay=1,delay_us=10000,jitter_us=5000", 200, ms, order);
    for (uint16_t i = 0; i < 200; i++) {
        ck_assert_uint_ge(ms[i], 5);
        ck_assert_uint_le(ms[i], 15);
        lo = RTE_MIN(lo, ms[i]);
        hi = RTE_MAX(hi, ms[i]);
        sorted = sorted && order[i] == i;
    }
    ck_assert_msg(lo <= 6 && hi >= 14, "200 delays spread over %u..%u ms only", lo, hi);
    ck_assert_msg(!sorted, "jitter reordered nothing");
}
END_TEST

/* Delayed frames beyond limit are dropped, and counted: as overflow, and
 * as the stage's drops (the frame balance, checked by the fixture, holds). */
START_TEST(limit_drops_and_counts_the_rest)
{
    uint32_t ms[30];
    uint16_t order[30];
    size_t reply;

    arp_exchange();
    faults("tx:delay=1,delay_us=5000,limit=10");
    for (uint16_t seq = 0; seq < 30; seq++)
        ring_send(in, ping(seq, &reply));
    ring_advance_ms(5);
    for (uint16_t i = 0; i < 10; i++) {
        ck_assert_uint_eq(ring_recv(out, sizeof(out)), reply);
        ck_assert_uint_eq(reply_seq(), i);
    }
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
    const struct shunt_faults_way *w = &shunt_instance()->faults.way[SHUNT_DIR_TX];
    ck_assert_uint_eq(w->overflow, 20);
    ck_assert_uint_eq(w->count[SHUNT_FAULT_DELAY], 10);
    ck_assert_uint_eq(ring_counters().drops[SHUNT_DROP_TX_FAULT], 20);
    /* The limit is the stage's at a time: with room again, frames are held. */
    replies_over_time("tx:delay=1,delay_us=5000,limit=30", 30, ms, order);
    ck_assert_uint_eq(shunt_instance()->faults.way[SHUNT_DIR_TX].overflow, 0);
}
END_TEST

/* The order 30 pings come back in, with reordering on the way in. */
static void reply_order(const char *spec, uint16_t *order)
{
    size_t reply;

    faults(spec);
    for (uint16_t seq = 0; seq < 30; seq++)
        ring_put(in, ping(seq, &reply));
    for (int i = 0; i < 30; i++) {
        size_t got = 0;
        for (int turn = 0; turn < 100 && got == 0; turn++) {
            got = ring_recv(out, sizeof(out));
            if (got == 0)
                ring_advance_ms(1);
        }
        ck_assert_uint_eq(got, reply);
        order[i] = reply_seq();
    }
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
}

/* Frames picked are held behind `hold` others: every reply comes, out of
 * order, in the same order for the same seed and another for another. */
START_TEST(reorder_is_the_seeds)
{
    uint16_t first[30], again[30], other[30];
    bool seen[30] = { false }, sorted = true;

    arp_exchange();
    reply_order("seed=7;rx:reorder=0.3,hold=2", first);
    for (int i = 0; i < 30; i++) {
        ck_assert_uint_lt(first[i], 30);
        ck_assert(!seen[first[i]]);
        seen[first[i]] = true;
        sorted = sorted && first[i] == i;
    }
    ck_assert_msg(!sorted, "nothing was reordered");
    ck_assert_uint_gt(fault_count(SHUNT_DIR_RX, SHUNT_FAULT_REORDER), 0);
    reply_order("seed=7;rx:reorder=0.3,hold=2", again);
    ck_assert_mem_eq(first, again, sizeof(first));
    reply_order("seed=8;rx:reorder=0.3,hold=2", other);
    ck_assert_msg(memcmp(first, other, sizeof(first)) != 0, "seed 8 reordered as seed 7 did");
}
END_TEST

/* Switched off, the stage lets go of what it held, both ways. */
START_TEST(off_lets_go_of_what_it_holds)
{
    size_t reply, n;

    arp_exchange();
    faults("tx:delay=1,delay_us=1000000");
    n = ping(5, &reply);
    ring_send(in, n);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
    faults("off");
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), reply);

    faults("rx:delay=1,delay_us=1000000");
    ring_send(in, n);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0);
    faults("off");
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), reply);
    ck_assert_mem_eq(out, want, reply);
}
END_TEST

START_TEST(bad_specifications_refused)
{
    const char *bad[] = { "rx:drop=2", "rx:drop=-1", "rx:drop=x", "up:drop=0.1",
                          "rx:nothing=0.1", "rx:hold=0", "rx:hold=65", "tx:delay_us=0",
                          "seed=x", "rx:drop", "rx:limit=0", "rx:limit=65537", "tx:jitter_us=x",
                          "tx:jitter_us=10000001" };
    char err[256];

    for (size_t i = 0; i < RTE_DIM(bad); i++) {
        err[0] = '\0';
        ck_assert_msg(shunt_stack_faults(bad[i], err, sizeof(err)) == -1, "%s taken", bad[i]);
        ck_assert_msg(err[0] != '\0' && strchr(err, '\n') == NULL, "%s: no one-line error", bad[i]);
    }
    ck_assert(!shunt_instance()->faults.on);
}
END_TEST

/* ---- a 1 MB echo through the faults ---------------------------------------------- */

#define ECHO_BYTES      (1u << 20)
#define ECHO_PORT       7500
#define PEER_PORT       40000
#define PEER_MSS        1460
#define PEER_WINDOW     (16 * PEER_MSS)     /* in flight at most */
#define PEER_RTO_MS     200
#define GIVE_UP_MS      (1000 * 1000)       /* of the test's clock */
#define FAULTS          "rx:drop=0.05,reorder=0.05,dup=0.01;tx:drop=0.05,reorder=0.05,dup=0.01"

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 131 + (i >> 9));
}

/* What one run found; the same seed must find the same. */
struct echo_run {
    int ok;                     /* every byte came back, in order */
    uint64_t shunt_resent;      /* segments of Shunt's the peer had seen before */
    uint64_t peer_resent;       /* segments the peer sent again */
    uint64_t ms;                /* how long it took, on the test's clock */
    uint64_t faults[SHUNT_DIRS][SHUNT_FAULT_KINDS];
};

/* The test's TCP: it sends ECHO_BYTES and takes back what Shunt echoes. */
struct peer {
    uint32_t iss, snd_una, snd_nxt;
    uint32_t rcv_nxt, max_seen;         /* next byte wanted; highest seen */
    uint32_t shunt_window;
    size_t received;                    /* echoed bytes taken, in order */
    uint64_t last_ack_ms;               /* when snd_una last moved */
    uint64_t now_ms;
    struct echo_run *run;
};

static void peer_segment(struct peer *pr, uint8_t flags, uint32_t seq, const void *data,
                         size_t len)
{
    ring_put(in, frame_tcp4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT, ECHO_PORT,
                            flags, seq, pr->rcv_nxt, 65535, 0, data, len));
}

/* A frame Shunt sent: its ACK moves the peer's window, its data is taken
 * if it is the next in order (and acknowledged, in order or not). */
static void peer_receive(struct peer *pr, const uint8_t *f, size_t n)
{
    const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(f + 14);

    if (f[12] == 0x08 && f[13] == 0x06 && arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST)) {
        ring_put(in, frame_arp(in, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4, &shunt_mac,
                               SHUNT_IP4));
        return;
    }
    if (n < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != IPPROTO_TCP)
        return;
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + 14);
    const struct rte_tcp_hdr *t = (const struct rte_tcp_hdr *)(f + 14 + 20);
    if (rte_ipv4_udptcp_cksum_verify(ip, t) != 0)
        return;                         /* the wire damaged it */
    size_t hl = (t->data_off >> 4) * 4u, len = rte_be_to_cpu_16(ip->total_length) - 20 - hl;
    uint32_t seq = rte_be_to_cpu_32(t->sent_seq), ack = rte_be_to_cpu_32(t->recv_ack);
    const uint8_t *data = (const uint8_t *)t + hl;

    if ((t->tcp_flags & RTE_TCP_ACK_FLAG) && (int32_t)(ack - pr->snd_una) > 0 &&
        (int32_t)(ack - pr->snd_nxt) <= 0) {
        pr->snd_una = ack;
        pr->last_ack_ms = pr->now_ms;
    }
    pr->shunt_window = rte_be_to_cpu_16(t->rx_win);
    if (len == 0)
        return;
    if ((int32_t)(seq + (uint32_t)len - pr->max_seen) <= 0)
        pr->run->shunt_resent++;
    else
        pr->max_seen = seq + (uint32_t)len;
    if (seq == pr->rcv_nxt) {
        for (size_t i = 0; i < len; i++)
            if (data[i] != pattern(pr->received + i))
                pr->run->ok = 0;
        pr->received += len;
        pr->rcv_nxt += (uint32_t)len;
    }
    peer_segment(pr, RTE_TCP_ACK_FLAG, pr->snd_nxt, "", 0);
}

/* Send what the window allows; after a timeout, again from the first byte
 * not acknowledged (go-back-N). */
static void peer_send(struct peer *pr)
{
    uint8_t seg[PEER_MSS];

    if (pr->snd_una != pr->snd_nxt && pr->now_ms - pr->last_ack_ms >= PEER_RTO_MS) {
        pr->run->peer_resent++;
        pr->snd_nxt = pr->snd_una;
        pr->last_ack_ms = pr->now_ms;
    }
    for (;;) {
        size_t off = pr->snd_nxt - pr->iss - 1, flight = pr->snd_nxt - pr->snd_una;
        size_t room = RTE_MIN((size_t)PEER_WINDOW, (size_t)pr->shunt_window);
        if (off >= ECHO_BYTES || flight + PEER_MSS > room)
            return;
        size_t len = RTE_MIN((size_t)PEER_MSS, ECHO_BYTES - off);
        for (size_t i = 0; i < len; i++)
            seg[i] = pattern(off + i);
        peer_segment(pr, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, pr->snd_nxt, seg, len);
        pr->snd_nxt += (uint32_t)len;
    }
}

/* Shunt's side: an echo server that never waits. */
static void shunt_echo(int fd, uint8_t *backlog, size_t *taken, size_t *echoed)
{
    ssize_t n;

    while ((n = shunt_recv(fd, backlog + *taken, ECHO_BYTES - *taken, MSG_DONTWAIT)) > 0)
        *taken += (size_t)n;
    while (*echoed < *taken &&
           (n = shunt_send(fd, backlog + *echoed, *taken - *echoed, MSG_DONTWAIT)) > 0)
        *echoed += (size_t)n;
}

/* The peer connects to Shunt's listener; the faults start after the
 * handshake, which is not what is under test. */
static int handshake(struct peer *pr, int listener)
{
    pr->iss = 5000;
    ring_send(in, frame_tcp4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT, ECHO_PORT,
                             RTE_TCP_SYN_FLAG, pr->iss, 0, 65535, PEER_MSS, "", 0));
    ck_assert_uint_ge(ring_recv(out, sizeof(out)), 14 + 20 + 20);
    const struct rte_tcp_hdr *t = (const struct rte_tcp_hdr *)(out + 14 + 20);
    ck_assert_uint_eq(t->tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
    pr->rcv_nxt = pr->max_seen = rte_be_to_cpu_32(t->sent_seq) + 1;
    pr->snd_una = pr->snd_nxt = pr->iss + 1;
    pr->shunt_window = rte_be_to_cpu_16(t->rx_win);
    peer_segment(pr, RTE_TCP_ACK_FLAG, pr->snd_nxt, "", 0);
    int fd = -1;
    for (int i = 0; i < 10 && fd < 0; i++)
        fd = shunt_accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* One whole run, in a process of its own (a fresh EAL, a fresh lwIP, the
 * same start every time): the report goes up the pipe. */
static void echo_run_child(const char *spec, int report)
{
    static uint8_t backlog[ECHO_BYTES];
    struct echo_run run = { .ok = 1 };
    struct peer pr = { .run = &run };
    size_t taken = 0, echoed = 0, n;

    ring_stack_up();
    rte_srand(1);                       /* lwIP's own random choices, the same each run */
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(ECHO_PORT) };
    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, 1), 0);
    arp_exchange();
    int fd = handshake(&pr, l);
    faults(spec);

    while (pr.received < ECHO_BYTES && pr.now_ms < GIVE_UP_MS) {
        bool busy = false;
        shunt_echo(fd, backlog, &taken, &echoed);
        while ((n = ring_recv(out, sizeof(out))) > 0) {
            peer_receive(&pr, out, n);
            busy = true;
        }
        peer_send(&pr);
        if (!busy) {                    /* nothing moves: let time pass */
            ring_advance_ms(1);
            pr.now_ms++;
        }
    }
    for (size_t i = 0; i < taken; i++)
        if (backlog[i] != pattern(i))
            run.ok = 0;
    run.ok = run.ok && pr.received == ECHO_BYTES && taken == ECHO_BYTES;
    run.ms = pr.now_ms;
    for (int d = 0; d < SHUNT_DIRS; d++)
        memcpy(run.faults[d], shunt_instance()->faults.way[d].count, sizeof(run.faults[d]));
    ck_assert_int_eq((int)write(report, &run, sizeof(run)), (int)sizeof(run));
    shunt_close(fd);
    shunt_close(l);
    ring_stack_down();
}

static struct echo_run echo_run(const char *spec)
{
    struct echo_run run;
    int pipefd[2];

    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pipefd[0]);
        echo_run_child(spec, pipefd[1]);
        _exit(0);
    }
    close(pipefd[1]);
    ssize_t got = read(pipefd[0], &run, sizeof(run));
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    close(pipefd[0]);
    ck_assert_msg(got == (ssize_t)sizeof(run) && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the run with %s did not finish (status %d)", spec, status);
    return run;
}

START_TEST(echo_of_a_megabyte_through_faults)
{
    struct echo_run first = echo_run("seed=1;" FAULTS);

    ck_assert_msg(first.ok, "the echo came back wrong or short (after %lu ms)",
                  (unsigned long)first.ms);
    for (int d = 0; d < SHUNT_DIRS; d++)
        for (int k = SHUNT_FAULT_DROP; k <= SHUNT_FAULT_REORDER; k++)
            ck_assert_msg(k == SHUNT_FAULT_CORRUPT || first.faults[d][k] > 0,
                          "no %s %s happened", shunt_dir_name(d), shunt_fault_name(k));
    ck_assert_uint_gt(first.shunt_resent, 0);
    fprintf(stderr, "echo of 1 MB through %s: %lu ms on the test's clock, Shunt resent %lu "
            "segments, the peer %lu times; rx drop %lu reorder %lu dup %lu, tx drop %lu "
            "reorder %lu dup %lu\n", FAULTS, (unsigned long)first.ms,
            (unsigned long)first.shunt_resent, (unsigned long)first.peer_resent,
            (unsigned long)first.faults[0][SHUNT_FAULT_DROP],
            (unsigned long)first.faults[0][SHUNT_FAULT_REORDER],
            (unsigned long)first.faults[0][SHUNT_FAULT_DUP],
            (unsigned long)first.faults[1][SHUNT_FAULT_DROP],
            (unsigned long)first.faults[1][SHUNT_FAULT_REORDER],
            (unsigned long)first.faults[1][SHUNT_FAULT_DUP]);

    /* The same seed: the very same run. */
    struct echo_run again = echo_run("seed=1;" FAULTS);
    ck_assert(again.ok);
    ck_assert_uint_eq(again.shunt_resent, first.shunt_resent);
    ck_assert_uint_eq(again.peer_resent, first.peer_resent);
    ck_assert_uint_eq(again.ms, first.ms);
    ck_assert_mem_eq(again.faults, first.faults, sizeof(first.faults));

    /* Another seed: other faults, the same bytes. */
    struct echo_run other = echo_run("seed=2;" FAULTS);
    ck_assert(other.ok);
    ck_assert_msg(memcmp(other.faults, first.faults, sizeof(first.faults)) != 0,
                  "seed 2 faulted as seed 1 did");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("stage");

    tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down_balanced);
    add_tests(tc, drop_takes_the_frame, dup_sends_a_copy, corrupt_flips_one_bit,
              delay_holds_on_the_stacks_clock, delay_holds_many_in_order, jitter_spreads_and_reorders,
              limit_drops_and_counts_the_rest, reorder_is_the_seeds, off_lets_go_of_what_it_holds,
              bad_specifications_refused);
    suite_add_tcase(s, tc);

    /* Each run brings up a stack of its own, in a child process. */
    tc = tcase_create("echo");
    tcase_set_timeout(tc, 300);
    add_tests(tc, echo_of_a_megabyte_through_faults);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
