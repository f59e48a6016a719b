/*
 * chksum.c - the Internet checksum (RFC 1071), eight bytes per addition.
 *
 * lwIP's own sums 16 bits per step.  Ports without checksum offload (memif,
 * af_packet, a virtio device without it) pay a checksum for every segment
 * sent and every one received, and for a small TCP round trip that was the
 * largest single cost on the path.  The ones'-complement sum does not care
 * how wide the words added are, as long as every carry out of the top is
 * added back in at the bottom ("end-around carry"): so add 64-bit words and
 * fold the total down to 16 bits at the end.
 *
 * Like lwIP's, the result is the sum of the 16-bit words as they lie in
 * memory (not complemented): lwIP swaps and complements it where needed.
 */
#include <stdint.h>
#include <string.h>

#include "arch/cc.h"

/* a + b with the carry out of bit 63 added back in. */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
    uint64_t sum = a + b;
    return sum + (sum < b);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));   /* any alignment: one load on x86-64 */
    return v;
}

uint16_t shunt_chksum(const void *data, int len)
{
    const uint8_t *p = data;
    size_t n = len > 0 ? (size_t)len : 0;
    uint64_t sum = 0;

    /* Four independent words per step keep the adder busy. */
    for (; n >= 32; n -= 32, p += 32) {
        uint64_t a = load64(p), b = load64(p + 8), c = load64(p + 16), d = load64(p + 24);
        sum = add_carry(sum, add_carry(add_carry(a, b), add_carry(c, d)));
    }
    for (; n >= 8; n -= 8, p += 8)
        sum = add_carry(sum, load64(p));

    /* The tail, under eight bytes.  Where in the 64-bit sum a 16-bit word
     * lands does not matter (the fold adds every position alike); a last
     * odd byte is the first byte of a zero-padded word. */
    if (n & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        sum = add_carry(sum, v);
        p += 4;
    }
    if (n & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        sum = add_carry(sum, v);
        p += 2;
    }
    if (n & 1) {
        uint16_t v = 0;
        memcpy(&v, p, 1);
        sum = add_carry(sum, v);
    }

    /* Fold: 64 -> 32 -> 16 bits, each carry added back in. */
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}
