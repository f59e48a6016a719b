/*
 * chksum.h - the Internet checksum (RFC 1071) lwIP uses (LWIP_CHKSUM,
 * arch/cc.h), in the widest variant this CPU runs.
 *
 * shunt_chksum(data, len) returns, like lwIP's own, the ones'-complement sum
 * of the 16-bit words as they lie in memory, not complemented; a last odd
 * byte is the first byte of a zero-padded word; len <= 0 sums nothing (0).
 * Every variant returns exactly that, for any length and any alignment.
 *
 * Which variant runs is chosen once, at the first checksum: the widest the
 * CPU has (avx2, then sse, then portable), unless shunt_chksum_use() chose
 * one before (the config's `checksum` key, tests, benches).
 */
#ifndef SHUNT_CHKSUM_H
#define SHUNT_CHKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum shunt_chksum_kind {
    SHUNT_CHKSUM_AUTO,          /* the widest this CPU has */
    SHUNT_CHKSUM_PORTABLE,      /* C, 64-bit words: any CPU */
    SHUNT_CHKSUM_SSE,           /* SSE2, 16 bytes a step */
    SHUNT_CHKSUM_AVX2,          /* AVX2, 32 bytes a step */
    SHUNT_CHKSUM_KINDS
};

/* The kind's name as the config spells it: "auto", "portable", "sse", "avx2". */
const char *shunt_chksum_name(enum shunt_chksum_kind kind);

/* Whether this CPU runs the kind (auto and portable: always). */
bool shunt_chksum_has(enum shunt_chksum_kind kind);

/*
 * The kind a config value names, one this CPU runs.  -1 with a one-line
 * reason in why for a name that is none of the kinds, or one the CPU lacks.
 */
int shunt_chksum_parse(const char *name, enum shunt_chksum_kind *kind, char *why, size_t whylen);

/* From now on shunt_chksum() is this kind's (AUTO: the widest).  -1 with
 * errno ENOTSUP, and nothing changed, for a kind this CPU lacks. */
int shunt_chksum_use(enum shunt_chksum_kind kind);

/* The kind shunt_chksum() runs (chosen now if it was not yet): never AUTO. */
enum shunt_chksum_kind shunt_chksum_in_use(void);

/* One kind's checksum, for tests and benches: the kind must be one the CPU
 * has (shunt_chksum_has), AUTO meaning the one in use. */
uint16_t shunt_chksum_of(enum shunt_chksum_kind kind, const void *data, int len);

/* The checksum in the chosen variant (what LWIP_CHKSUM calls). */
uint16_t shunt_chksum(const void *data, int len);

#endif /* SHUNT_CHKSUM_H */
