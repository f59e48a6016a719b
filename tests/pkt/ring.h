/*
 * ring.h - a stack instance on a net_ring port that the test drives.
 *
 * The test puts frames on the port's RX ring, reads what Shunt transmits
 * from its TX ring, and moves the stack's clock by hand: time stands still
 * unless the test advances it, so no timer sends anything unasked.
 *
 * Shunt is 02:00:00:00:00:02, 10.0.0.2/24 and fd00::2/64; the test plays
 * the peer 02:00:00:00:00:01, 10.0.0.1 and fd00::1.
 */
#ifndef SHUNT_TEST_RING_H
#define SHUNT_TEST_RING_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "counters.h"
#include "stats.h"

#define SHUNT_IP4   RTE_IPV4(10, 0, 0, 2)
#define PEER_IP4    RTE_IPV4(10, 0, 0, 1)

extern const struct rte_ether_addr shunt_mac, peer_mac, broadcast_mac;
extern const uint8_t shunt_ip6[16], peer_ip6[16];

/* Start the EAL, once per process.  Each test runs in a process of its
 * own: with --no-huge the EAL's memory is a shared memfd, so an EAL started
 * in the parent would be one heap shared by every test. */
void ring_eal_up(void);

/* Bring up a fresh stack in this test's process (a checked fixture, which
 * starts the EAL too), and keep the frames it sends as it comes up. */
void ring_stack_up(void);
void ring_stack_down(void);

/* The same with more lines of configuration ("key = value\n" each), which
 * take the place of the defaults above (e.g. "mtu = 1280\n"). */
void ring_stack_up_with(const char *config);

/* The same on a port of two queues, the instance owning queue 1 (queue = 1
 * in its configuration); ring_send and ring_recv use queue 1 then. */
void ring_stack_up_on_queue_1(void);

/* A frame onto the given queue's wire only, and how many wait there. */
void ring_put_on(unsigned queue, const void *frame, size_t len);
unsigned ring_waiting(unsigned queue);

/* The i-th frame sent while the stack came up; 0 when there is none. */
size_t ring_startup_frame(unsigned i, void *buf, size_t cap);

/* Hand Shunt a frame (copied into an mbuf, a chain of them past one mbuf's
 * room, or an mbuf of the stack's pool) and run the loop until it has
 * taken it. */
void ring_send(const void *frame, size_t len);
void ring_send_mbuf(struct rte_mbuf *m);

/* Put a frame on the wire to Shunt and nothing more: no loop turn. */
void ring_put(const void *frame, size_t len);

/* The next frame Shunt sent (the loop runs first), or 0 if none. */
size_t ring_recv(void *buf, size_t cap);

/* The same as the mbuf it was sent in (the caller frees it), or NULL. */
struct rte_mbuf *ring_recv_mbuf(void);

/* The stack's clock (a test may put another source behind it). */
struct shunt_clock *ring_clock(void);

/* Move the clock forward, running the loop on the way. */
void ring_advance_ms(uint32_t ms);

/* The stack's counters now, and how many mbufs of its pool are free. */
struct shunt_counters ring_counters(void);
unsigned ring_mbufs_free(void);

/* The frame balance now (stack/stats.h), and a checked assertion that it
 * holds both ways - for any test to call once its traffic has stopped. */
struct shunt_balance ring_balance(void);
void ring_assert_balance(void);

/* ring_stack_down, once the balance is asserted: a fixture's teardown. */
void ring_stack_down_balanced(void);
struct rte_mempool *ring_pool(void);

#endif /* SHUNT_TEST_RING_H */
