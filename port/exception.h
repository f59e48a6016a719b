/*
 * exception.h - the exception path: frames the classifier finds are not
 * Shunt's go to the Linux kernel, through a second DPDK port whose far end
 * is a kernel interface (net_tap), and what the kernel sends on that
 * interface goes out the port.  The host answers as one machine: Shunt
 * serves its sockets, the kernel everything else (ssh, monitoring, its own
 * outgoing connections).
 *
 * Which frames are the kernel's is decided from the classifier's verdict
 * (port/classify.h), never by reading the frame again:
 *
 *   kernel   other IP protocols; TCP and UDP for a port no Shunt socket has,
 *            or for a port in the exception list (below) even when one has
 *            it; other addresses (an IP address or a group of the kernel's
 *            own, other EtherTypes, broadcasts no Shunt socket takes);
 *            ICMP but an echo request, and a port unreachable no Shunt socket
 *            takes; ICMPv6 but echo requests, neighbour solicitations, router
 *            discovery and MLD
 *   both     ARP replies and announcements, ARP about other addresses, and
 *            neighbour advertisements: the kernel resolves its own next hops
 *            (a copy goes to the kernel, the frame to lwIP)
 *   Shunt    the rest: Shunt's connections (TIME-WAIT included), listeners
 *            and UDP sockets; ARP requests and neighbour solicitations for
 *            Shunt's addresses, echo requests, IGMP and MLD - so each is
 *            answered once, by Shunt, though the kernel holds the same
 *            addresses; fragments (lwIP reassembles them)
 *   dropped  malformed frames, and unicast for another MAC, as without it
 *
 * The path is a stage of the device pipeline (port/phy.h), the top one:
 * each turn it first takes a burst from the kernel and sends it down the
 * pipeline, then passes up what the port received.  So the frames to and
 * from the kernel cross the fault and capture stages as every frame of the
 * port does, and a capture shows the wire with both hosts' traffic on it.
 * Frames for the kernel wait in a small buffer and go to it in one burst
 * per RX burst (shunt_exception_flush).
 *
 * Counted in the netif's counters (port/counters.h): to_kernel and
 * from_kernel, packets and bytes; drops on the way under kernel_full (the
 * kernel's queue refused the frame), kernel_down (its interface is down),
 * tx_nombuf (no mbuf for the kernel's copy) and, from the kernel,
 * tx_ring_full (the port's TX queue refused it).
 *
 * The exception list: "22, 53, tcp:8000-8099, udp:5353": ports, or ranges,
 * of TCP and UDP both unless named.  It is checked with one bit test.
 */
#ifndef SHUNT_EXCEPTION_H
#define SHUNT_EXCEPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "classify.h"
#include "counters.h"
#include "phy.h"

/* The exception list: one bit per port, for TCP and for UDP. */
struct shunt_exception_ports {
    uint64_t tcp[65536 / 64];
    uint64_t udp[65536 / 64];
};

/* Parse a list into ports.  Returns 0, or -1 with one line in err. */
int shunt_exception_ports_parse(const char *text, struct shunt_exception_ports *ports,
                                char *err, size_t errlen);

/* Where a received frame goes. */
enum shunt_route {
    SHUNT_ROUTE_SHUNT,      /* as without the exception path: lwIP's, or dropped */
    SHUNT_ROUTE_KERNEL,     /* the kernel's alone */
    SHUNT_ROUTE_BOTH,       /* lwIP's, and a copy to the kernel */
};

#define SHUNT_EXCEPTION_BUFFER  (2 * SHUNT_MAX_BURST)

struct shunt_exception {
    struct shunt_phy phy;               /* the pipeline stage; must come first */
    uint16_t port_id;                   /* the kernel's interface, as a DPDK port */
    uint16_t queue_id;
    uint16_t burst;
    struct rte_mempool *pool;           /* for the kernel's copies */
    struct shunt_counters *counters;
    const struct rte_ether_addr *mac;   /* the port's, which the kernel shares */
    struct shunt_exception_ports ports;
    uint16_t count;                     /* frames waiting for the kernel */
    struct rte_mbuf *buf[SHUNT_EXCEPTION_BUFFER];
};

/*
 * Set up ex on the kernel's port (started, queue queue_id), counting into
 * counters; mac is the port's (frames to other unicast MACs stay dropped).
 * The exception list starts empty: parse one into ex->ports.
 */
void shunt_exception_init(struct shunt_exception *ex, uint16_t port_id, uint16_t queue_id,
                          uint16_t burst, struct rte_mempool *pool,
                          struct shunt_counters *counters, const struct rte_ether_addr *mac);

/* The path as a pipeline stage (its slot: SHUNT_STAGE_EXCEPTION). */
struct shunt_phy *shunt_exception_stage(struct shunt_exception *ex);

/* Where the received frame m, judged v by the classifier, goes. */
enum shunt_route shunt_exception_route(const struct shunt_exception *ex, const struct rte_mbuf *m,
                                       const struct shunt_class *v);

/* Give m to the kernel (it is the path's now); copy: give a copy, m stays
 * the caller's. */
void shunt_exception_to_kernel(struct shunt_exception *ex, struct rte_mbuf *m);
void shunt_exception_copy_to_kernel(struct shunt_exception *ex, const struct rte_mbuf *m);

/* Send what waits for the kernel (once an RX burst is through). */
void shunt_exception_flush(struct shunt_exception *ex);

/* Free what still waits (the instance is stopping). */
void shunt_exception_close(struct shunt_exception *ex);

#endif /* SHUNT_EXCEPTION_H */
