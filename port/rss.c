/*
 * rss.c - see rss.h.
 */
#include "rss.h"

#include <arpa/inet.h>
#include <string.h>

#include <rte_thash.h>

const uint8_t SHUNT_RSS_SYMMETRIC_KEY[SHUNT_RSS_KEY_LEN] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

void shunt_rss_init(struct shunt_rss *r, const uint8_t key[SHUNT_RSS_KEY_LEN],
                    unsigned reta_size, unsigned queues)
{
    memcpy(r->key, key, SHUNT_RSS_KEY_LEN);
    r->reta_size = reta_size < 1 ? 1 : reta_size > SHUNT_RSS_RETA_MAX ? SHUNT_RSS_RETA_MAX
                                                                      : reta_size;
    for (unsigned i = 0; i < r->reta_size; i++)
        r->reta[i] = (uint16_t)(i % (queues ? queues : 1));
}

uint32_t shunt_rss_hash4(const struct shunt_rss *r, uint32_t src, uint32_t dst,
                         uint16_t sport, uint16_t dport)
{
    struct rte_ipv4_tuple t = {
        .src_addr = ntohl(src), .dst_addr = ntohl(dst), .sport = sport, .dport = dport,
    };

    return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, r->key);
}

uint32_t shunt_rss_hash6(const struct shunt_rss *r, const uint8_t src[16],
                         const uint8_t dst[16], uint16_t sport, uint16_t dport)
{
    union rte_thash_tuple t;

    /* rte_softrss reads 32-bit words in host order: the addresses' bytes
     * as words, as rte_thash_load_v6_addrs does. */
    for (int i = 0; i < 4; i++) {
        uint32_t s, d;
        memcpy(&s, src + 4 * i, 4);
        memcpy(&d, dst + 4 * i, 4);
        ((uint32_t *)t.v6.src_addr)[i] = ntohl(s);
        ((uint32_t *)t.v6.dst_addr)[i] = ntohl(d);
    }
    t.v6.sport = sport;
    t.v6.dport = dport;
    return rte_softrss((uint32_t *)&t.v6, RTE_THASH_V6_L4_LEN, r->key);
}

uint16_t shunt_rss_pick_port(const struct shunt_rss *r, uint16_t queue, int ipv6,
                             const void *local, const void *remote, uint16_t rport,
                             uint16_t lo, uint16_t hi, uint16_t *cursor)
{
    unsigned span = (unsigned)hi - lo + 1;

    for (unsigned tried = 0; tried < span; tried++) {
        uint16_t port = (uint16_t)(lo + (*cursor + tried) % span);
        uint32_t h;
        if (ipv6) {
            h = shunt_rss_hash6(r, remote, local, rport, port);
        } else {
            uint32_t l, rm;
            memcpy(&l, local, 4);
            memcpy(&rm, remote, 4);
            h = shunt_rss_hash4(r, rm, l, rport, port);
        }
        if (shunt_rss_queue(r, h) == queue) {
            *cursor = (uint16_t)((*cursor + tried + 1) % span);
            return port;
        }
    }
    return 0;
}
