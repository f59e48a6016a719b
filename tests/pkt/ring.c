/*
 * ring.c - a Shunt stack instance on rings the test holds the other ends of.
 */
#include "ring.h"

#include <check.h>
#include <string.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "clock.h"
#include "config.h"
#include "shunt/shunt.h"
#include "sock.h"
#include "stack.h"

#define RINGS_NAME  "test"
#define PORT_NAME   "net_ring_" RINGS_NAME     /* what rte_eth_from_rings calls it */
#define MAX_STARTUP 16

const struct rte_ether_addr shunt_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };
const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
const struct rte_ether_addr broadcast_mac = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
const uint8_t shunt_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
const uint8_t peer_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static const char config_text[] =
    "eal = -l 0 --no-huge -m 256 --no-shconf --no-pci --no-telemetry --log-level=lib.eal:error\n"
    "port = " PORT_NAME "\n"
    "mac = 02:00:00:00:00:02\n"
    "ip = 10.0.0.2/24\n"
    "gateway = 10.0.0.1\n"
    "ip6 = fd00::2/64\n"
    "mbufs = 4095\n"
    "rx_ring = 256\n"
    "tx_ring = 256\n"
    "stats = no\n";

/* The port's queue pairs (its rings), and the one the instance owns. */
#define QUEUES 2
static struct rte_ring *to_shunt_on[QUEUES], *from_shunt_on[QUEUES];
static struct rte_ring *to_shunt, *from_shunt;
static uint64_t now_ns;
static struct {
    size_t len;
    uint8_t frame[1600];
} startup[MAX_STARTUP];
static unsigned nstartup;

static struct rte_mbuf *frame_mbuf(const void *frame, size_t len);

static uint64_t test_clock(void *arg)
{
    (void)arg;
    return now_ns;
}

/* extra: more lines of configuration after config_text's (they win), or "". */
static void eal_up(unsigned queue, const char *extra)
{
    static int up;
    struct shunt_config c;
    char text[sizeof(config_text) + 1024], err[256];

    if (up++)
        return;
    ck_assert_uint_lt(strlen(extra), sizeof(text) - sizeof(config_text));
    snprintf(text, sizeof(text), "%s%s", config_text, extra);
    ck_assert_msg(shunt_config_parse(&c, text, "ring.conf", err, sizeof(err)) == 0,
                  "%s", err);
    c.queue = queue;
    ck_assert_int_eq(shunt_stack_start_eal(&c), 0);
}

void ring_eal_up(void)
{
    eal_up(0, "");
}

static void stack_up(unsigned queue, const char *extra)
{
    eal_up(queue, extra);
    for (unsigned q = 0; q < QUEUES; q++) {
        char to[32], from[32];
        snprintf(to, sizeof(to), "to_shunt%u", q);
        snprintf(from, sizeof(from), "from_shunt%u", q);
        to_shunt_on[q] = rte_ring_create(to, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        from_shunt_on[q] = rte_ring_create(from, 1024, SOCKET_ID_ANY,
                                           RING_F_SP_ENQ | RING_F_SC_DEQ);
        ck_assert(to_shunt_on[q] != NULL && from_shunt_on[q] != NULL);
    }
    ck_assert_int_ge(rte_eth_from_rings(RINGS_NAME, to_shunt_on, QUEUES, from_shunt_on, QUEUES,
                                        SOCKET_ID_ANY), 0);
    to_shunt = to_shunt_on[queue];
    from_shunt = from_shunt_on[queue];

    now_ns = 1000000000ull;
    shunt_clock_set_source(ring_clock(), test_clock, NULL);
    ck_assert_int_eq(shunt_stack_start(), 0);
    shunt_sock_attach_stack();          /* as shunt_init() does */

    nstartup = 0;
    size_t len;
    while (nstartup < MAX_STARTUP &&
           (len = ring_recv(startup[nstartup].frame, sizeof(startup[0].frame))) > 0)
        startup[nstartup++].len = len;
}

void ring_stack_up(void)
{
    stack_up(0, "");
}

void ring_stack_up_with(const char *config)
{
    stack_up(0, config);
}

void ring_stack_up_on_queue_1(void)
{
    stack_up(1, "");
}

void ring_put_on(unsigned queue, const void *frame, size_t len)
{
    ck_assert_int_eq(rte_ring_enqueue(to_shunt_on[queue], frame_mbuf(frame, len)), 0);
}

unsigned ring_waiting(unsigned queue)
{
    return rte_ring_count(to_shunt_on[queue]);
}

/* lwIP's, declared here: its headers and DPDK's both define struct ip6_hdr. */
struct tcp_pcb;
extern struct tcp_pcb *tcp_active_pcbs;
void tcp_abort(struct tcp_pcb *pcb);

/* The peer the test played is gone: what Shunt's connections still have to
 * send would wait for ACKs that never come, through shunt_exit's drain of
 * 2 s of real time.  Reset them first. */
void ring_stack_down(void)
{
    while (tcp_active_pcbs != NULL)
        tcp_abort(tcp_active_pcbs);
    shunt_exit();
}

size_t ring_startup_frame(unsigned i, void *buf, size_t cap)
{
    if (i >= nstartup)
        return 0;
    ck_assert_uint_le(startup[i].len, cap);
    memcpy(buf, startup[i].frame, startup[i].len);
    return startup[i].len;
}

struct rte_mempool *ring_pool(void)
{
    return shunt_stack_netif()->conf.pool;
}

void ring_send_mbuf(struct rte_mbuf *m)
{
    ck_assert_int_eq(rte_ring_enqueue(to_shunt, m), 0);
    for (int i = 0; i < 4 && rte_ring_count(to_shunt) > 0; i++)
        shunt_poll();
    ck_assert_uint_eq(rte_ring_count(to_shunt), 0);
    shunt_poll();
}

/* A frame longer than one mbuf's room comes as a chain, as a port that
 * scatters (net_ring, memif) delivers it. */
static struct rte_mbuf *frame_mbuf(const void *frame, size_t len)
{
    struct rte_mbuf *head = NULL;

    for (size_t off = 0; off < len || head == NULL;) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(ring_pool());
        ck_assert_ptr_nonnull(m);
        size_t n = RTE_MIN(len - off, (size_t)rte_pktmbuf_tailroom(m));
        memcpy(rte_pktmbuf_append(m, (uint16_t)n), (const char *)frame + off, n);
        off += n;
        if (head == NULL)
            head = m;
        else
            ck_assert_int_eq(rte_pktmbuf_chain(head, m), 0);
    }
    return head;
}

void ring_send(const void *frame, size_t len)
{
    ring_send_mbuf(frame_mbuf(frame, len));
}

void ring_put(const void *frame, size_t len)
{
    ck_assert_int_eq(rte_ring_enqueue(to_shunt, frame_mbuf(frame, len)), 0);
}

struct rte_mbuf *ring_recv_mbuf(void)
{
    struct rte_mbuf *m;

    shunt_poll();
    return rte_ring_dequeue(from_shunt, (void **)&m) == 0 ? m : NULL;
}

size_t ring_recv(void *buf, size_t cap)
{
    struct rte_mbuf *m = ring_recv_mbuf();

    if (m == NULL)
        return 0;
    size_t len = m->pkt_len;
    ck_assert_uint_le(len, cap);
    const void *data = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
    if (data != buf)
        memcpy(buf, data, len);
    rte_pktmbuf_free(m);
    return len;
}

struct shunt_clock *ring_clock(void)
{
    return &shunt_instance()->clock;
}

void ring_advance_ms(uint32_t ms)
{
    /* In steps of at most 10 ms, so every timer fires when it is due. */
    for (uint32_t t = 0; t < ms;) {
        uint32_t step = ms - t < 10 ? ms - t : 10;
        now_ns += step * 1000000ull;
        t += step;
        shunt_poll();
    }
}

struct shunt_counters ring_counters(void)
{
    struct shunt_counters c;

    shunt_stack_counters(&c);
    return c;
}

struct shunt_balance ring_balance(void)
{
    struct shunt_counters c;
    struct shunt_balance b;

    shunt_stack_balance(&c, &b);
    return b;
}

void ring_assert_balance(void)
{
    struct shunt_balance b = ring_balance();

    ck_assert_msg(b.rx_holds && b.rx_packets + b.rx_copies + b.looped ==
                                    b.consumed + shunt_balance_rx_held(&b) + b.rx_drops,
                  "frames in do not add up: rx %lu + copies %lu + looped %lu, consumed %lu + "
                  "held %lu + drops %lu", (unsigned long)b.rx_packets, (unsigned long)b.rx_copies,
                  (unsigned long)b.looped, (unsigned long)b.consumed,
                  (unsigned long)shunt_balance_rx_held(&b), (unsigned long)b.rx_drops);
    ck_assert_msg(b.tx_holds, "frames out do not add up: produced %lu + copies %lu, tx %lu + "
                  "drops %lu + held %lu", (unsigned long)b.tx_produced, (unsigned long)b.tx_copies,
                  (unsigned long)b.tx_packets, (unsigned long)b.tx_drops,
                  (unsigned long)shunt_balance_tx_held(&b));
}

void ring_stack_down_balanced(void)
{
    ring_assert_balance();
    ring_stack_down();
}

unsigned ring_mbufs_free(void)
{
    return rte_mempool_avail_count(ring_pool());
}
