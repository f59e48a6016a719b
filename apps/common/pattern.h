/*
 * pattern.h - the test pattern: a pseudo-random byte stream (splitmix64,
 * read a byte at a time) that a sender generates and a receiver generates
 * again from the same seed, so any byte lost, repeated, reordered or
 * corrupted shows up with its offset and nothing has to be kept in memory.
 * shunt-echo's client checks its echo with it, and the server (server.h)
 * checks a stream sent to it, or sends one, with it.
 *
 * A connection to the server's check or source port starts with a
 * pattern_request (big-endian): the seed, and how many bytes follow (check)
 * or are wanted (source).
 */
#ifndef SHUNT_APPS_PATTERN_H
#define SHUNT_APPS_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct pattern {
    uint64_t state;
    uint64_t word;              /* the current output word */
    int left;                   /* its bytes not yet used */
};

struct pattern_request {
    uint64_t seed;
    uint64_t bytes;
};

/* The seed of a client's connection i: "SHUNT" + i, so no two are alike. */
#define PATTERN_SEED(i) (0x5348554E54ull + (uint64_t)(i))

void pattern_init(struct pattern *p, uint64_t seed);

/* The next n bytes of the pattern, into out. */
void pattern_fill(struct pattern *p, unsigned char *out, size_t n);

/* Whether got[0, n) is the next n bytes of the pattern (scratch holds n
 * bytes): n if so, else the index of the first byte that differs. */
size_t pattern_check(struct pattern *p, const unsigned char *got, size_t n, unsigned char *scratch);

#endif /* SHUNT_APPS_PATTERN_H */
