/*
 * wire.h - the header every shunt-feed message starts with, as the publisher
 * writes it and the handler reads it.  Big-endian, 24 bytes; the rest of a
 * message (up to its size) is padding:
 *
 *     offset  0  u32  magic "SFD1"
 *             4  u8   line (0: A, 1: B)
 *             5  u8   0
 *             6  u16  group (0 .. K-1)
 *             8  u64  sequence number within the group, from 1
 *            16  u64  send time, CLOCK_REALTIME in ns
 *
 * The sequence's lowest byte is the message's byte 15 (UDP payload bit 120,
 * transport-header bit 184), where tests/integration/feed.sh matches it to
 * drop chosen sequences with nftables.  64 bits: a sequence never wraps.
 */
#ifndef SHUNT_FEED_WIRE_H
#define SHUNT_FEED_WIRE_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FEED_MAGIC  0x53464431u         /* "SFD1" */
#define FEED_HDR    24                  /* the smallest message */

struct feed_hdr {
    uint8_t line;
    uint16_t group;
    uint64_t seq;
    uint64_t sent_ns;
};

static inline void feed_put(unsigned char *msg, const struct feed_hdr *h)
{
    uint32_t magic = htobe32(FEED_MAGIC);
    uint16_t group = htobe16(h->group);
    uint64_t seq = htobe64(h->seq), sent = htobe64(h->sent_ns);

    memcpy(msg, &magic, 4);
    msg[4] = h->line;
    msg[5] = 0;
    memcpy(msg + 6, &group, 2);
    memcpy(msg + 8, &seq, 8);
    memcpy(msg + 16, &sent, 8);
}

/* Whether msg (len bytes) is a feed message; its header into h. */
static inline bool feed_get(const unsigned char *msg, size_t len, struct feed_hdr *h)
{
    uint32_t magic;
    uint16_t group;
    uint64_t seq, sent;

    if (len < FEED_HDR)
        return false;
    memcpy(&magic, msg, 4);
    if (be32toh(magic) != FEED_MAGIC || msg[4] > 1)
        return false;
    memcpy(&group, msg + 6, 2);
    memcpy(&seq, msg + 8, 8);
    memcpy(&sent, msg + 16, 8);
    h->line = msg[4];
    h->group = be16toh(group);
    h->seq = be64toh(seq);
    h->sent_ns = be64toh(sent);
    return true;
}

#endif /* SHUNT_FEED_WIRE_H */
