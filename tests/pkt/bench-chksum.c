/*
 * bench-chksum.c - what each checksum variant (port/chksum.h) costs.
 *
 *   bench-chksum [--rounds N] [--json]
 *   bench-chksum --only VARIANT SIZE CALLS     (for callgrind: just the calls)
 *
 * For each size (20, 64, 1460, 9000, 65536 bytes: a small ACK's payload, a
 * 64-byte message, a full frame, a jumbo frame, a TSO super-frame) and each
 * variant the CPU has, it times a batch of calls over data already in the
 * cache, the variants taking turns within each round so that the machine's
 * changes of speed hit them alike; the median of the rounds is printed, in
 * ns a call and TSC cycles a byte, with each variant's time over the
 * portable one's.  The starts move over 64 alignments within the batch.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "chksum.h"

static const int sizes[] = { 20, 64, 1460, 9000, 65536 };
#define NSIZES  (int)(sizeof(sizes) / sizeof(sizes[0]))
#define VARIANTS (SHUNT_CHKSUM_KINDS - SHUNT_CHKSUM_PORTABLE)
#define ROUNDS_MAX 101
#define BATCH_BYTES (1 << 21)   /* about a millisecond of work a batch */

static uint8_t data[65536 + 64];
static volatile uint16_t sink;

static double now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), compare);
    return v[n / 2];
}

/* calls calls of kind at size bytes; their result folded into sink. */
static void run(enum shunt_chksum_kind kind, int size, long calls)
{
    uint16_t acc = 0;

    for (long i = 0; i < calls; i++)
        acc ^= shunt_chksum_of(kind, data + (i & 63), size);
    sink = acc;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-chksum [--rounds N] [--json] | --only VARIANT SIZE CALLS\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "rounds", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
        { "only", no_argument, NULL, 'o' }, { NULL, 0, NULL, 0 },
    };
    int rounds = 21, json = 0, only = 0, c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'r' && (rounds = atoi(optarg)) >= 1 && rounds <= ROUNDS_MAX)
            continue;
        else if (c == 'j')
            json = 1;
        else if (c == 'o')
            only = 1;
        else
            usage();
    }
    unsigned seed = 1;
    for (size_t i = 0; i < sizeof(data); i++) {
        seed = seed * 1103515245 + 12345;
        data[i] = (uint8_t)(seed >> 16);
    }

    if (only) {
        enum shunt_chksum_kind k;
        char why[128];
        if (argc - optind != 3)
            usage();
        if (shunt_chksum_parse(argv[optind], &k, why, sizeof(why)) != 0) {
            fprintf(stderr, "bench-chksum: %s\n", why);
            return 2;
        }
        run(k, atoi(argv[optind + 1]), atol(argv[optind + 2]));
        return 0;
    }

    static double ns[NSIZES][VARIANTS][ROUNDS_MAX], tsc[NSIZES][VARIANTS][ROUNDS_MAX];
    for (int r = -1; r < rounds; r++)      /* round -1 warms up, and is not kept */
        for (int s = 0; s < NSIZES; s++) {
            long calls = BATCH_BYTES / sizes[s];
            for (int v = 0; v < VARIANTS; v++) {
                enum shunt_chksum_kind k = SHUNT_CHKSUM_PORTABLE + v;
                if (!shunt_chksum_has(k))
                    continue;
                run(k, sizes[s], calls / 16);     /* warm: code, branch predictors */
                double t0 = now_ns();
                uint64_t c0 = __rdtsc();
                run(k, sizes[s], calls);
                uint64_t c1 = __rdtsc();
                if (r >= 0) {
                    ns[s][v][r] = (now_ns() - t0) / (double)calls;
                    tsc[s][v][r] = (double)(c1 - c0) / (double)calls;
                }
            }
        }

    if (json)
        printf("{\"rounds\": %d, \"results\": [", rounds);
    else
        printf("checksum variants, median of %d rounds (ns a call; TSC cycles a byte; time / "
               "portable's)\n%8s", rounds, "bytes");
    for (int v = 0; !json && v < VARIANTS; v++)
        printf("  %-26s", shunt_chksum_name(SHUNT_CHKSUM_PORTABLE + v));
    for (int s = 0; s < NSIZES; s++) {
        double base = 0;
        if (!json)
            printf("\n%8d", sizes[s]);
        for (int v = 0; v < VARIANTS; v++) {
            enum shunt_chksum_kind k = SHUNT_CHKSUM_PORTABLE + v;
            if (!shunt_chksum_has(k)) {
                if (!json)
                    printf("  %-26s", "(this CPU lacks it)");
                continue;
            }
            double n = median(ns[s][v], rounds), t = median(tsc[s][v], rounds) / sizes[s];
            if (v == 0)
                base = n;
            if (json)
                printf("%s{\"variant\": \"%s\", \"bytes\": %d, \"ns_per_call\": %.2f, "
                       "\"tsc_per_byte\": %.4f}", s + v == 0 ? "" : ", ", shunt_chksum_name(k),
                       sizes[s], n, t);
            else
                printf("  %7.1f ns %6.3f c/B %5.2fx", n, t, n / base);
        }
    }
    printf(json ? "]}\n" : "\n");
    return 0;
}
