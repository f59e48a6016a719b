/*
 * test-idle.c - the loop's poll modes (stack/idle.h) on net_ring, on the
 * test's clock: each loop turn takes TURN_NS of it, and the sleep the loop
 * asks for is recorded (and takes its time) instead of sleeping.  Under
 * spin a wait never sleeps; under spin-then-sleep it sleeps once spin_us
 * has passed without work, never past its deadline or the next timer, and
 * a frame that arrives ends the sleep.  Last, the real sleep: it returns
 * when a descriptor it waits on is readable, and a port with nothing to
 * wait on gets bounded sleeps.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"
#include "idle.h"
#include "recovery.h"
#include "stack.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

#define TURN_NS     10000u          /* what a loop turn takes on the test's clock */
#define SPIN_US     50u
#define PORT        7900

static uint8_t frame[FRAME_MAX];
static uint64_t now_ns;

/* The sleeps the loop asked for. */
#define MAX_SLEEPS 64
static struct {
    uint64_t at, ns;
} sleeps[MAX_SLEEPS];
static unsigned nsleeps;
static bool frame_in_sleep;         /* the first sleep ends with a datagram's arrival */

static uint64_t test_clock(void *arg)
{
    (void)arg;
    return now_ns;
}

static void turn_takes_time(void *arg)
{
    (void)arg;
    now_ns += TURN_NS;
}

static void datagram_arrives(void)
{
    ring_put(frame, frame_udp4(frame, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, 40000, PORT,
                               "wake up", 7));
}

/* The recorded sleep: it lasts what was asked, unless a frame comes first. */
static void record_sleep(void *arg, struct pollfd *fds, unsigned nfds, uint64_t ns)
{
    (void)arg, (void)fds, (void)nfds;
    ck_assert_uint_lt(nsleeps, MAX_SLEEPS);
    sleeps[nsleeps].at = now_ns;
    sleeps[nsleeps].ns = ns;
    if (nsleeps++ == 0 && frame_in_sleep) {
        now_ns += ns / 2;
        datagram_arrives();
        return;
    }
    now_ns += ns;
}

static struct shunt_idle *idle(void)
{
    return &shunt_instance()->loop.idle;
}

static void setup(void)
{
    ring_stack_up();
    now_ns = 5000000000ull;
    shunt_clock_set_source(ring_clock(), test_clock, NULL);
    shunt_set_poll_hook(turn_takes_time, NULL);
    /* net_ring has neither sockets nor RX interrupts. */
    ck_assert_int_eq(shunt_idle_add_port(idle(), shunt_instance()->dev.port_id,
                                         shunt_instance()->dev.queue_id, NULL, 0),
                     SHUNT_WAKE_BOUNDED);
    shunt_idle_set_sleep(idle(), record_sleep, NULL);
    shunt_idle_set_mode(idle(), SHUNT_POLL_SLEEP, SPIN_US);
    nsleeps = 0;
    frame_in_sleep = false;
}

static void teardown(void)
{
    shunt_set_poll_hook(NULL, NULL);
    ring_stack_down();
}

/* A UDP socket on PORT whose receives wait up to timeout_us. */
static int udp_socket(long timeout_us)
{
    int fd = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
    struct timeval tv = { timeout_us / 1000000, timeout_us % 1000000 };

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(shunt_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    return fd;
}

/* A datagram arrives and is read: the loop had work, at the clock's now. */
static uint64_t work(int fd)
{
    char buf[64];

    datagram_arrives();
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), 0), 7);
    nsleeps = 0;
    return now_ns;
}

/* A receive with nothing to receive times out. */
static void times_out(int fd)
{
    char buf[64];

    errno = 0;
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), 0), -1);
    ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(spin_never_sleeps)
{
    shunt_idle_set_mode(idle(), SHUNT_POLL_SPIN, SPIN_US);
    int fd = udp_socket(2000);
    work(fd);
    uint64_t turns = shunt_instance()->loop.turns;
    times_out(fd);
    ck_assert_uint_eq(nsleeps, 0);
    /* It turned the whole 2 ms instead. */
    ck_assert_uint_ge(shunt_instance()->loop.turns - turns, 2000000 / TURN_NS);
}
END_TEST

START_TEST(sleeps_after_spin_us)
{
    int fd = udp_socket(5000);
    uint64_t worked = work(fd);
    times_out(fd);
    ck_assert_uint_ge(nsleeps, 4);
    /* Not before spin_us without work, and not much after. */
    ck_assert_uint_ge(sleeps[0].at - worked, SPIN_US * 1000u);
    ck_assert_uint_le(sleeps[0].at - worked, SPIN_US * 1000u + 3 * TURN_NS);
    /* net_ring has no wake-up: each sleep is cut short, and the loop looks
     * again in between, then sleeps again (no spinning). */
    for (unsigned i = 0; i < nsleeps; i++)
        ck_assert_uint_le(sleeps[i].ns, SHUNT_IDLE_BOUND_US * 1000u);
    for (unsigned i = 1; i < nsleeps; i++)
        ck_assert_uint_le(sleeps[i].at - (sleeps[i - 1].at + sleeps[i - 1].ns), 2 * TURN_NS);
}
END_TEST

START_TEST(deadline_bounds_sleep)
{
    int fd = udp_socket(300);
    uint64_t worked = work(fd);
    times_out(fd);
    ck_assert_uint_ge(nsleeps, 1);
    for (unsigned i = 0; i < nsleeps; i++)
        ck_assert_uint_le(sleeps[i].at + sleeps[i].ns, worked + 300000u + TURN_NS);
}
END_TEST

/* Shunt's own TCP timer (a SYN's retransmission) ends the sleep in time. */
START_TEST(timer_bounds_sleep)
{
    int tcp = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(9),
                                .sin_addr.s_addr = htonl(PEER_IP4) };
    ck_assert_int_eq(shunt_connect(tcp, (struct sockaddr *)&peer, sizeof(peer)), -1);
    ck_assert_int_eq(errno, EINPROGRESS);
    while (ring_recv(frame, sizeof(frame)) > 0)         /* ARP, then the SYN */
        ;
    uint64_t due = shunt_recovery_next_due_ns();
    ck_assert_uint_ne(due, UINT64_MAX);
    ck_assert_uint_gt(due, now_ns + 400000u);

    /* Up to 400 µs before the retransmission is due, then an idle wait. */
    int fd = udp_socket(20000);
    now_ns = due - 400000u;
    work(fd);
    times_out(fd);
    ck_assert_uint_ge(nsleeps, 1);
    /* The loop counts from its last turn's clock reading, before the
     * turn's hook: late by that much at most. */
    ck_assert_uint_le(sleeps[0].at + sleeps[0].ns, due + TURN_NS);
    ck_assert_uint_lt(sleeps[0].ns, SHUNT_IDLE_BOUND_US * 1000u);
    /* The SYN went again, at its time. */
    ck_assert_uint_gt(shunt_recovery_stats().rtos, 0);
}
END_TEST

START_TEST(frame_ends_sleep)
{
    char buf[64];
    int fd = udp_socket(1000000);
    work(fd);
    frame_in_sleep = true;
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), 0), 7);
    ck_assert_mem_eq(buf, "wake up", 7);
    ck_assert_uint_eq(nsleeps, 1);
    /* The frame was work: the next wait spins first again. */
    ck_assert(!shunt_idle_sleepy(idle(), shunt_instance()->loop.now));
}
END_TEST

START_TEST(epoll_wait_sleeps)
{
    struct epoll_event ev = { .events = EPOLLIN };
    int fd = udp_socket(0);
    int ep = shunt_epoll_create1(0);
    ck_assert_int_eq(shunt_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
    work(fd);
    ck_assert_int_eq(shunt_epoll_wait(ep, &ev, 1, 3), 0);
    ck_assert_uint_ge(nsleeps, 2);
    frame_in_sleep = true;
    nsleeps = 0;
    ck_assert_int_eq(shunt_epoll_wait(ep, &ev, 1, -1), 1);
    ck_assert(ev.events & EPOLLIN);
}
END_TEST

/* ---- the real sleep, on descriptors --------------------------------------------- */

START_TEST(readable_fd_ends_sleep)
{
    struct shunt_idle i;
    int p[2];

    ck_assert_int_eq(pipe(p), 0);
    shunt_idle_init(&i);
    shunt_idle_set_mode(&i, SHUNT_POLL_SLEEP, 0);
    ck_assert_int_eq(shunt_idle_add_port(&i, 0, 0, &p[0], 1), SHUNT_WAKE_SOCKET);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    /* Returns at once, not in 60 s (check's timeout would fail it first). */
    shunt_idle_sleep(&i, 60000000000ull);
    ck_assert_uint_eq(i.sleeps, 1);
    shunt_idle_close(&i);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(nothing_to_wait_on_bounds_sleep)
{
    struct shunt_idle i;

    shunt_idle_init(&i);
    shunt_idle_set_mode(&i, SHUNT_POLL_SLEEP, 0);
    /* No such port: no sockets, no interrupt. */
    ck_assert_int_eq(shunt_idle_add_port(&i, RTE_MAX_ETHPORTS - 1, 0, NULL, 0),
                     SHUNT_WAKE_BOUNDED);
    for (int k = 0; k < 3; k++)
        shunt_idle_sleep(&i, 60000000000ull);
    ck_assert_uint_eq(i.sleeps, 3);
    shunt_idle_close(&i);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idle");
    TCase *tc = tcase_create("decisions");

    tcase_add_checked_fixture(tc, setup, teardown);
    add_tests(tc, spin_never_sleeps, sleeps_after_spin_us, deadline_bounds_sleep,
              timer_bounds_sleep, frame_ends_sleep, epoll_wait_sleeps);
    suite_add_tcase(s, tc);

    tc = tcase_create("sleep");
    add_tests(tc, readable_fd_ends_sleep, nothing_to_wait_on_bounds_sleep);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
