/*
 * chksum.c - the Internet checksum (RFC 1071): 64-bit words in C, and 16 or
 * 32 bytes a step with SSE2 or AVX2 where the CPU has them.
 *
 * lwIP's own sums 16 bits per step.  Ports without checksum offload (memif,
 * af_packet, a virtio device without it) pay a checksum for every segment
 * sent and every one received.  The ones'-complement sum does not care how
 * wide the words added are, as long as every carry out of the top is added
 * back in at the bottom ("end-around carry"): so add 64-bit words and fold
 * the total down to 16 bits at the end.  The vector variants add 32-bit
 * words into 64-bit lanes instead (each widened with zeros, so a lane
 * cannot carry for 2^32 additions), which needs no carry handling at all.
 *
 * The variants are compiled with __attribute__((target)), so the build
 * needs no -m flags and the binary runs on any x86-64; which one runs is
 * chosen once, from what the CPU says it has.
 */
#include "chksum.h"

#include <errno.h>
#include <immintrin.h>
#include <stdio.h>
#include <string.h>

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

static inline size_t length(int len)
{
    return len > 0 ? (size_t)len : 0;
}

/* sum plus the n bytes at p, 64 bits at a time (every variant's tail). */
static inline uint64_t sum_words(const uint8_t *p, size_t n, uint64_t sum)
{
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
    return sum;
}

/* 64 -> 32 -> 16 bits, each carry added back in. */
static inline uint16_t fold(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

/* Below this many bytes the vector variants sum in 64-bit words: the
 * vectors' reduction at the end costs more than they save (bench-chksum:
 * at 64 bytes both were 7-17% slower than the 64-bit words). */
#define VECTOR_MIN 128

static uint16_t chksum_portable(const void *data, int len)
{
    return fold(sum_words(data, length(len), 0));
}

/*
 * 64 bytes a step: each 32-bit word widened to 64 bits (unpacked against
 * zero) and added into one of four accumulators, whose lanes stay below
 * 2^57 for any int length.  The rest, under 64 bytes, in 64-bit words.
 */
__attribute__((target("sse2")))
static uint16_t chksum_sse(const void *data, int len)
{
    const uint8_t *p = data;
    size_t n = length(len);
    uint64_t sum = 0;

    if (n >= VECTOR_MIN) {
        const __m128i zero = _mm_setzero_si128();
        __m128i a = zero, b = zero, c = zero, d = zero;
        for (; n >= 64; n -= 64, p += 64) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            __m128i w = _mm_loadu_si128((const __m128i *)(p + 16));
            __m128i x = _mm_loadu_si128((const __m128i *)(p + 32));
            __m128i y = _mm_loadu_si128((const __m128i *)(p + 48));
            a = _mm_add_epi64(a, _mm_add_epi64(_mm_unpacklo_epi32(v, zero), _mm_unpackhi_epi32(v, zero)));
            b = _mm_add_epi64(b, _mm_add_epi64(_mm_unpacklo_epi32(w, zero), _mm_unpackhi_epi32(w, zero)));
            c = _mm_add_epi64(c, _mm_add_epi64(_mm_unpacklo_epi32(x, zero), _mm_unpackhi_epi32(x, zero)));
            d = _mm_add_epi64(d, _mm_add_epi64(_mm_unpacklo_epi32(y, zero), _mm_unpackhi_epi32(y, zero)));
        }
        a = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
        sum = (uint64_t)_mm_cvtsi128_si64(a) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a));
    }
    return fold(sum_words(p, n, sum));
}

/* The same with 256-bit registers: 128 bytes a step. */
__attribute__((target("avx2")))
static uint16_t chksum_avx2(const void *data, int len)
{
    const uint8_t *p = data;
    size_t n = length(len);
    uint64_t sum = 0;

    if (n >= VECTOR_MIN) {
        const __m256i zero = _mm256_setzero_si256();
        __m256i a = zero, b = zero, c = zero, d = zero;
        for (; n >= 128; n -= 128, p += 128) {
            __m256i v = _mm256_loadu_si256((const __m256i *)p);
            __m256i w = _mm256_loadu_si256((const __m256i *)(p + 32));
            __m256i x = _mm256_loadu_si256((const __m256i *)(p + 64));
            __m256i y = _mm256_loadu_si256((const __m256i *)(p + 96));
            a = _mm256_add_epi64(a, _mm256_add_epi64(_mm256_unpacklo_epi32(v, zero),
                                                     _mm256_unpackhi_epi32(v, zero)));
            b = _mm256_add_epi64(b, _mm256_add_epi64(_mm256_unpacklo_epi32(w, zero),
                                                     _mm256_unpackhi_epi32(w, zero)));
            c = _mm256_add_epi64(c, _mm256_add_epi64(_mm256_unpacklo_epi32(x, zero),
                                                     _mm256_unpackhi_epi32(x, zero)));
            d = _mm256_add_epi64(d, _mm256_add_epi64(_mm256_unpacklo_epi32(y, zero),
                                                     _mm256_unpackhi_epi32(y, zero)));
        }
        for (; n >= 32; n -= 32, p += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)p);
            a = _mm256_add_epi64(a, _mm256_add_epi64(_mm256_unpacklo_epi32(v, zero),
                                                     _mm256_unpackhi_epi32(v, zero)));
        }
        a = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
        __m128i s = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
        sum = (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
    }
    return fold(sum_words(p, n, sum));
}

/* ---- Choosing one ------------------------------------------------------- */

typedef uint16_t chksum_fn(const void *data, int len);

static const struct {
    const char *name;
    chksum_fn *sum;             /* NULL: auto */
} variants[SHUNT_CHKSUM_KINDS] = {
    [SHUNT_CHKSUM_AUTO] = { "auto", NULL },
    [SHUNT_CHKSUM_PORTABLE] = { "portable", chksum_portable },
    [SHUNT_CHKSUM_SSE] = { "sse", chksum_sse },
    [SHUNT_CHKSUM_AVX2] = { "avx2", chksum_avx2 },
};

static enum shunt_chksum_kind in_use = SHUNT_CHKSUM_AUTO;     /* AUTO: not chosen yet */

const char *shunt_chksum_name(enum shunt_chksum_kind kind)
{
    return (unsigned)kind < SHUNT_CHKSUM_KINDS ? variants[kind].name : "?";
}

bool shunt_chksum_has(enum shunt_chksum_kind kind)
{
    __builtin_cpu_init();       /* callable before constructors have run */
    switch (kind) {
    case SHUNT_CHKSUM_AUTO:
    case SHUNT_CHKSUM_PORTABLE:
        return true;
    case SHUNT_CHKSUM_SSE:
        return __builtin_cpu_supports("sse2");
    case SHUNT_CHKSUM_AVX2:     /* libgcc also checks the OS saves the ymm registers */
        return __builtin_cpu_supports("avx2");
    default:
        return false;
    }
}

static enum shunt_chksum_kind widest(void)
{
    for (int k = SHUNT_CHKSUM_KINDS - 1; k > SHUNT_CHKSUM_PORTABLE; k--)
        if (shunt_chksum_has(k))
            return k;
    return SHUNT_CHKSUM_PORTABLE;
}

int shunt_chksum_parse(const char *name, enum shunt_chksum_kind *kind, char *why, size_t whylen)
{
    for (int k = 0; k < SHUNT_CHKSUM_KINDS; k++) {
        if (strcmp(name, variants[k].name) != 0)
            continue;
        if (!shunt_chksum_has(k)) {
            snprintf(why, whylen, "this CPU has no %s: use auto, or portable", name);
            return -1;
        }
        *kind = k;
        return 0;
    }
    snprintf(why, whylen, "'%s' is no checksum variant: use auto, portable, sse or avx2", name);
    return -1;
}

int shunt_chksum_use(enum shunt_chksum_kind kind)
{
    if ((unsigned)kind >= SHUNT_CHKSUM_KINDS || !shunt_chksum_has(kind)) {
        errno = ENOTSUP;
        return -1;
    }
    __atomic_store_n(&in_use, kind == SHUNT_CHKSUM_AUTO ? widest() : kind, __ATOMIC_RELAXED);
    return 0;
}

enum shunt_chksum_kind shunt_chksum_in_use(void)
{
    enum shunt_chksum_kind k = __atomic_load_n(&in_use, __ATOMIC_RELAXED);

    if (k == SHUNT_CHKSUM_AUTO) {
        k = widest();
        __atomic_store_n(&in_use, k, __ATOMIC_RELAXED);
    }
    return k;
}

uint16_t shunt_chksum_of(enum shunt_chksum_kind kind, const void *data, int len)
{
    if (kind == SHUNT_CHKSUM_AUTO)
        kind = shunt_chksum_in_use();
    return variants[kind].sum(data, len);
}

uint16_t shunt_chksum(const void *data, int len)
{
    return variants[shunt_chksum_in_use()].sum(data, len);
}
