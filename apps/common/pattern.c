/*
 * pattern.c - see pattern.h.
 */
#include "pattern.h"

#include <string.h>

void pattern_init(struct pattern *p, uint64_t seed)
{
    p->state = seed;
    p->left = 0;
}

void pattern_fill(struct pattern *p, unsigned char *out, size_t n)
{
    while (n-- > 0) {
        if (p->left == 0) {
            uint64_t z = (p->state += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            p->word = z ^ (z >> 31);
            p->left = 8;
        }
        *out++ = (unsigned char)p->word;
        p->word >>= 8;
        p->left--;
    }
}

size_t pattern_check(struct pattern *p, const unsigned char *got, size_t n, unsigned char *scratch)
{
    pattern_fill(p, scratch, n);
    if (memcmp(got, scratch, n) == 0)
        return n;
    size_t i = 0;
    while (got[i] == scratch[i])
        i++;
    return i;
}
