/*
 * rss.h - where a port with Toeplitz RSS (PCI NICs, virtio with RSS) sends
 * a flow's frames, computed in software (DPDK's rte_softrss) from the key
 * and redirection table (RETA) Shunt gave the port, and the choice of an
 * active open's local port whose replies come back to its own queue - so
 * a group's instances need no steering for the flows they open.
 *
 * Shunt programs SHUNT_RSS_SYMMETRIC_KEY where the port takes a key: a
 * key of one repeated 16-bit word (0x6d5a) hashes a flow and its reverse
 * the same (Woo and Park, "Scalable TCP Session Monitoring with Symmetric
 * Receive-side Scaling", 2012), so a connection's two directions share a
 * queue whichever side the hash is computed from.
 *
 * The hash is over what the port sees in a received frame: source = the
 * peer, destination = us.
 */
#ifndef SHUNT_RSS_H
#define SHUNT_RSS_H

#include <stdint.h>

#define SHUNT_RSS_KEY_LEN   40
#define SHUNT_RSS_RETA_MAX  512

extern const uint8_t SHUNT_RSS_SYMMETRIC_KEY[SHUNT_RSS_KEY_LEN];

struct shunt_rss {
    uint8_t key[SHUNT_RSS_KEY_LEN];
    uint16_t reta[SHUNT_RSS_RETA_MAX];  /* hash % reta_size -> queue */
    unsigned reta_size;
};

/* The table a port is given by default: entry i -> queue i % queues. */
void shunt_rss_init(struct shunt_rss *r, const uint8_t key[SHUNT_RSS_KEY_LEN],
                    unsigned reta_size, unsigned queues);

/* The Toeplitz hash of an IPv4 (ip6 NULL) or IPv6 TCP/UDP flow as
 * received: addresses in network order, ports in host order. */
uint32_t shunt_rss_hash4(const struct shunt_rss *r, uint32_t src, uint32_t dst,
                         uint16_t sport, uint16_t dport);
uint32_t shunt_rss_hash6(const struct shunt_rss *r, const uint8_t src[16],
                         const uint8_t dst[16], uint16_t sport, uint16_t dport);

/* The queue the port gives a frame of that hash. */
static inline uint16_t shunt_rss_queue(const struct shunt_rss *r, uint32_t hash)
{
    return r->reta[hash % r->reta_size];
}

/*
 * A local port in [lo, hi] for an active open from local to remote:rport
 * whose replies the port puts on queue, trying from *cursor on (moved past
 * the port returned, so successive opens spread over the range); 0 when
 * none in the range does.  IPv4: local and remote are 4 bytes, IPv6: 16.
 */
uint16_t shunt_rss_pick_port(const struct shunt_rss *r, uint16_t queue, int ipv6,
                             const void *local, const void *remote, uint16_t rport,
                             uint16_t lo, uint16_t hi, uint16_t *cursor);

#endif /* SHUNT_RSS_H */
