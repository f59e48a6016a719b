/*
 * faults.h - a stage of the device pipeline (port/phy.h) that hurts the
 * frames passing through it, on purpose: it drops, duplicates, reorders,
 * corrupts and delays them, each at its own rate, in each direction.
 *
 * For tests that need a bad wire on demand: a reliability suite, a TCP
 * that must recover from loss, an application that must survive both.
 * Every decision comes from a pseudo-random sequence of the stage's own,
 * started from a seed: the same seed, the same frames in the same order,
 * the same faults - so a failure found once can be run again.  Delays are
 * on the instance's clock, so a test that drives the clock drives them.
 *
 * What each fault does to a frame it picks:
 *   drop     the frame is freed
 *   corrupt  one bit of it past the Ethernet header (which only the FCS
 *            guards) is flipped, so every IP frame it damages fails a
 *            checksum on the other side (checksums the NIC would
 *            have computed or checked are done in software first, so the
 *            damage is seen the way a wire's would be)
 *   dup      a copy follows it
 *   reorder  it is held back until `hold` later frames have passed (or
 *            delay_us has, whichever comes first)
 *   delay    it is held back for delay_us, give or take up to jitter_us
 *            (uniformly drawn; as with netem, frames whose delays differ
 *            pass each other: jitter reorders)
 *
 * A specification, in the configuration (`faults = ...`) or through
 * telemetry, names rates per direction: "rx:" for frames received, "tx:"
 * for frames sent, groups separated by ';', settings by ',':
 *
 *     rx:drop=0.01,reorder=0.05,hold=3;tx:dup=0.01,delay=0.1,delay_us=500
 *
 * Rates are from 0 to 1; hold is 1 to 64 frames (3); delay_us is 1 to
 * 10,000,000 (1,000), jitter_us 0 to 10,000,000 (0; a delay it would make
 * negative is none).  limit is how many delayed frames a direction holds at
 * once, 1 to 65,536 (1,000, netem's default): a frame to be delayed beyond
 * it is dropped, and counted (overflow, and a drop: the fault cause).  A
 * group "seed=N" sets the seed (the configuration's faults_seed does too; 1
 * if neither does).
 *
 * Held frames: a reordered frame waits in a short list (at most 64: beyond
 * that a frame picked is passed on in order); a delayed one in a queue
 * ordered by the time it is due (a heap of `limit`, kept in arrival order
 * among frames due at the same time), so a fixed delay keeps the order.
 */
#ifndef SHUNT_FAULTS_H
#define SHUNT_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "clock.h"
#include "phy.h"

enum shunt_fault {
    SHUNT_FAULT_DROP,
    SHUNT_FAULT_CORRUPT,
    SHUNT_FAULT_DUP,
    SHUNT_FAULT_REORDER,
    SHUNT_FAULT_DELAY,
    SHUNT_FAULT_KINDS
};

enum shunt_dir { SHUNT_DIR_RX, SHUNT_DIR_TX, SHUNT_DIRS };

#define SHUNT_FAULTS_HOLD_MAX   64      /* reordered frames one direction holds at most */
#define SHUNT_FAULTS_LIMIT_MAX  65536   /* delayed frames one direction may hold */
#define SHUNT_FAULTS_QUEUE      256     /* frames waiting to go on, per direction */

struct shunt_faults_conf {
    double rate[SHUNT_DIRS][SHUNT_FAULT_KINDS];
    uint16_t hold[SHUNT_DIRS];
    uint32_t delay_us[SHUNT_DIRS];
    uint32_t jitter_us[SHUNT_DIRS];
    uint32_t limit[SHUNT_DIRS];
    uint64_t seed;
    bool has_seed;                      /* the specification named one */
};

/* A frame held back, and when it goes on. */
struct shunt_faults_held {
    struct rte_mbuf *m;
    uint64_t until_ns;
    uint64_t until_seq;                 /* reordered: after this many frames have passed;
                                         * delayed: its place in arrival order */
};

/* One direction: its odds, its random sequence, what it holds. */
struct shunt_faults_way {
    uint64_t threshold[SHUNT_FAULT_KINDS];     /* rate as a fraction of 2^64 */
    uint16_t hold;
    uint64_t delay_ns, jitter_ns;
    uint64_t random;                    /* the generator's state */
    uint64_t passed;                    /* frames that went on */
    struct shunt_faults_held held[SHUNT_FAULTS_HOLD_MAX];      /* reordered */
    unsigned nheld;
    struct shunt_faults_held *delayed;  /* a heap of limit, by (until_ns, until_seq) */
    unsigned ndelayed, limit;
    uint64_t arrivals;                  /* delayed frames so far: their order */
    struct rte_mbuf *queue[SHUNT_FAULTS_QUEUE];        /* to go on, in order */
    unsigned head, queued;
    uint64_t count[SHUNT_FAULT_KINDS];  /* faults done */
    uint64_t overflow;                  /* frames dropped: delayed beyond limit */
    /* Since init, not since start, for the frame balance (stack/stats.h):
     * frames freed (a drop) and copies added (a dup). */
    uint64_t dropped, copies;
};

struct shunt_faults {
    struct shunt_phy phy;               /* the stage; must come first */
    const struct shunt_clock *clock;
    struct shunt_faults_conf conf;
    bool on;
    struct shunt_faults_way way[SHUNT_DIRS];
};

/* Names: "drop", ...; "rx", "tx". */
const char *shunt_fault_name(enum shunt_fault kind);
const char *shunt_dir_name(enum shunt_dir dir);

/* Parse a specification (see above) into conf; 0, or -1 with one line in
 * err saying what is wrong.  "" and "off" parse to no faults at all. */
int shunt_faults_parse(const char *spec, struct shunt_faults_conf *conf, char *err,
                       size_t errlen);

/* Whether conf asks for any fault at all. */
bool shunt_faults_any(const struct shunt_faults_conf *conf);

/* conf written back as a specification (what telemetry shows). */
void shunt_faults_format(const struct shunt_faults_conf *conf, char *out, size_t len);

/* Ready to use, off. */
void shunt_faults_init(struct shunt_faults *f, const struct shunt_clock *clock);

/* Start from conf, while off: counts to zero, the random sequences from the
 * seed, room for the delayed frames allocated (0, or -1 with errno ENOMEM).
 * The caller then puts shunt_faults_stage(f) in the pipeline. */
int shunt_faults_start(struct shunt_faults *f, const struct shunt_faults_conf *conf);

/*
 * Stop, while still in the pipeline: frames held for sending go to the
 * device below (those it refuses are freed: the return value counts them),
 * frames held on the way in are put in rx (room for
 * shunt_faults_holding(f, SHUNT_DIR_RX)) for the caller to take in, *nrx of
 * them, in the order they would have gone on.  Then the caller takes the
 * stage out of the pipeline.
 */
unsigned shunt_faults_stop(struct shunt_faults *f, struct rte_mbuf **rx, unsigned *nrx);

struct shunt_phy *shunt_faults_stage(struct shunt_faults *f);

/* Frames direction d holds now: reordered, delayed, or waiting to go on. */
unsigned shunt_faults_holding(const struct shunt_faults *f, enum shunt_dir d);

#endif /* SHUNT_FAULTS_H */
