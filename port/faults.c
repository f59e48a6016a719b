/*
 * faults.c - the fault-injecting stage: a seeded random decision for each
 * frame, a small list of frames held back, and a queue of frames to go on.
 */
#include "faults.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>

#include "mbuf.h"
#include "text.h"

#define DEFAULT_HOLD        3
#define DEFAULT_DELAY_US    1000
#define DEFAULT_LIMIT       1000        /* netem's */
#define MAX_DELAY_US        10000000u
#define EXAMPLE             "rx:drop=0.01,reorder=0.05;tx:dup=0.01"

static const char *const fault_names[SHUNT_FAULT_KINDS] = {
    [SHUNT_FAULT_DROP] = "drop",
    [SHUNT_FAULT_CORRUPT] = "corrupt",
    [SHUNT_FAULT_DUP] = "dup",
    [SHUNT_FAULT_REORDER] = "reorder",
    [SHUNT_FAULT_DELAY] = "delay",
};

static const char *const dir_names[SHUNT_DIRS] = { [SHUNT_DIR_RX] = "rx", [SHUNT_DIR_TX] = "tx" };

const char *shunt_fault_name(enum shunt_fault kind)
{
    return (unsigned)kind < SHUNT_FAULT_KINDS ? fault_names[kind] : "unknown";
}

const char *shunt_dir_name(enum shunt_dir dir)
{
    return (unsigned)dir < SHUNT_DIRS ? dir_names[dir] : "unknown";
}

/* ---- the specification ------------------------------------------------------- */

static void no_faults(struct shunt_faults_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->seed = 1;
    for (int d = 0; d < SHUNT_DIRS; d++) {
        conf->hold[d] = DEFAULT_HOLD;
        conf->delay_us[d] = DEFAULT_DELAY_US;
        conf->limit[d] = DEFAULT_LIMIT;
    }
}

static bool whole_number(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;

    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0' && *out <= max;
}

/* One "key=value" of a direction's group. */
static int parse_setting(char *kv, enum shunt_dir d, struct shunt_faults_conf *conf,
                         char *err, size_t errlen)
{
    char *eq = strchr(kv, '=');
    unsigned long long n;

    if (eq == NULL)
        return shunt_fail(err, errlen, "'%s' is not key=value, e.g. %s", kv, EXAMPLE);
    *eq = '\0';
    const char *key = kv, *value = eq + 1;
    for (int k = 0; k < SHUNT_FAULT_KINDS; k++) {
        if (strcmp(key, fault_names[k]) != 0)
            continue;
        char *end;
        double rate = strtod(value, &end);
        if (end == value || *end != '\0' || !(rate >= 0 && rate <= 1))
            return shunt_fail(err, errlen, "%s=%s: a rate is a number from 0 to 1, e.g. %s=0.01",
                        key, value, key);
        conf->rate[d][k] = rate;
        return 0;
    }
    if (strcmp(key, "hold") == 0) {
        if (!whole_number(value, SHUNT_FAULTS_HOLD_MAX, &n) || n == 0)
            return shunt_fail(err, errlen, "hold=%s: frames a reordered frame waits behind, "
                        "1 to %d", value, SHUNT_FAULTS_HOLD_MAX);
        conf->hold[d] = (uint16_t)n;
        return 0;
    }
    if (strcmp(key, "delay_us") == 0) {
        if (!whole_number(value, MAX_DELAY_US, &n) || n == 0)
            return shunt_fail(err, errlen, "delay_us=%s: microseconds, 1 to %u", value, MAX_DELAY_US);
        conf->delay_us[d] = (uint32_t)n;
        return 0;
    }
    if (strcmp(key, "jitter_us") == 0) {
        if (!whole_number(value, MAX_DELAY_US, &n))
            return shunt_fail(err, errlen, "jitter_us=%s: microseconds, 0 to %u", value, MAX_DELAY_US);
        conf->jitter_us[d] = (uint32_t)n;
        return 0;
    }
    if (strcmp(key, "limit") == 0) {
        if (!whole_number(value, SHUNT_FAULTS_LIMIT_MAX, &n) || n == 0)
            return shunt_fail(err, errlen, "limit=%s: delayed frames held at once, 1 to %d", value,
                        SHUNT_FAULTS_LIMIT_MAX);
        conf->limit[d] = (uint32_t)n;
        return 0;
    }
    return shunt_fail(err, errlen, "unknown setting '%s' (known: drop, corrupt, dup, reorder, delay, "
                "hold, delay_us, jitter_us, limit)", key);
}

/* "rx:k=v,k=v" or "seed=N". */
static int parse_group(char *group, struct shunt_faults_conf *conf, char *err, size_t errlen)
{
    unsigned long long n;

    if (strncmp(group, "seed=", 5) == 0) {
        if (!whole_number(group + 5, UINT64_MAX, &n))
            return shunt_fail(err, errlen, "%s: the seed is a whole number, e.g. seed=7", group);
        conf->seed = n;
        conf->has_seed = true;
        return 0;
    }
    enum shunt_dir d;
    if (strncmp(group, "rx:", 3) == 0)
        d = SHUNT_DIR_RX;
    else if (strncmp(group, "tx:", 3) == 0)
        d = SHUNT_DIR_TX;
    else
        return shunt_fail(err, errlen, "'%s' names no direction: start it with rx: or tx:, e.g. %s",
                    group, EXAMPLE);
    char *save;
    for (char *kv = strtok_r(group + 3, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save))
        if (parse_setting(shunt_trim(kv), d, conf, err, errlen) != 0)
            return -1;
    return 0;
}

int shunt_faults_parse(const char *spec, struct shunt_faults_conf *conf, char *err,
                       size_t errlen)
{
    char text[512];

    no_faults(conf);
    if (snprintf(text, sizeof(text), "%s", spec) >= (int)sizeof(text))
        return shunt_fail(err, errlen, "longer than %zu characters", sizeof(text) - 1);
    char *s = shunt_trim(text), *save;
    if (*s == '\0' || strcmp(s, "off") == 0)
        return 0;
    for (char *g = strtok_r(s, ";", &save); g != NULL; g = strtok_r(NULL, ";", &save)) {
        char *group = shunt_trim(g);
        if (*group != '\0' && parse_group(group, conf, err, errlen) != 0)
            return -1;
    }
    return 0;
}

bool shunt_faults_any(const struct shunt_faults_conf *conf)
{
    for (int d = 0; d < SHUNT_DIRS; d++)
        for (int k = 0; k < SHUNT_FAULT_KINDS; k++)
            if (conf->rate[d][k] > 0)
                return true;
    return false;
}

/* printf at out + *used, as far as len allows. */
static void append(char *out, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *out, size_t len, size_t *used, const char *fmt, ...)
{
    va_list ap;

    if (*used >= len)
        return;
    va_start(ap, fmt);
    *used += (size_t)vsnprintf(out + *used, len - *used, fmt, ap);
    va_end(ap);
}

void shunt_faults_format(const struct shunt_faults_conf *conf, char *out, size_t len)
{
    size_t used = 0;

    append(out, len, &used, "seed=%llu", (unsigned long long)conf->seed);
    for (int d = 0; d < SHUNT_DIRS; d++) {
        bool first = true;
        for (int k = 0; k < SHUNT_FAULT_KINDS; k++) {
            if (conf->rate[d][k] <= 0)
                continue;
            if (first)
                append(out, len, &used, ";%s:", dir_names[d]);
            else
                append(out, len, &used, ",");
            append(out, len, &used, "%s=%g", fault_names[k], conf->rate[d][k]);
            first = false;
        }
        if (first)
            continue;
        append(out, len, &used, ",hold=%u,delay_us=%u", conf->hold[d], conf->delay_us[d]);
        /* Only when set: telemetry's strings are short (128). */
        if (conf->jitter_us[d] > 0)
            append(out, len, &used, ",jitter_us=%u", conf->jitter_us[d]);
        if (conf->limit[d] != DEFAULT_LIMIT)
            append(out, len, &used, ",limit=%u", conf->limit[d]);
    }
}

/* ---- the random sequence ------------------------------------------------------ */

/*
 * SplitMix64 (Steele, Lea and Flood): tiny, fast, and good enough to pick
 * frames.  DPDK's rte_rand() is one sequence for the whole process - lwIP
 * draws its ports and delays from it too - so it could not give the same
 * faults for the same seed.
 */
static uint64_t next_random(struct shunt_faults_way *w)
{
    uint64_t z = (w->random += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Whether this frame gets fault kind k.  Every kind draws, whatever its
 * rate, so raising one rate leaves the other kinds' choices as they were. */
static bool picked(struct shunt_faults_way *w, enum shunt_fault k)
{
    return next_random(w) < w->threshold[k];
}

static uint64_t threshold(double rate)
{
    if (rate >= 1)
        return UINT64_MAX;
    return (uint64_t)(rate * 18446744073709551616.0);  /* 2^64 */
}

/* ---- frames waiting to go on -------------------------------------------------- */

static unsigned queue_room(const struct shunt_faults_way *w)
{
    return SHUNT_FAULTS_QUEUE - w->queued;
}

static void queue_push(struct shunt_faults_way *w, struct rte_mbuf *m)
{
    w->queue[(w->head + w->queued++) % SHUNT_FAULTS_QUEUE] = m;
}

static struct rte_mbuf *queue_peek(const struct shunt_faults_way *w, unsigned i)
{
    return w->queue[(w->head + i) % SHUNT_FAULTS_QUEUE];
}

static void queue_pop(struct shunt_faults_way *w, unsigned n)
{
    w->head = (w->head + n) % SHUNT_FAULTS_QUEUE;
    w->queued -= n;
}

/* A frame goes on; reordered frames held until enough others passed
 * follow it. */
static void pass(struct shunt_faults_way *w, struct rte_mbuf *m)
{
    queue_push(w, m);
    w->passed++;
    for (unsigned i = 0; i < w->nheld;) {
        if (w->held[i].until_seq <= w->passed) {
            queue_push(w, w->held[i].m);
            memmove(&w->held[i], &w->held[i + 1], (--w->nheld - i) * sizeof(w->held[0]));
        } else {
            i++;
        }
    }
}

/* ---- the delayed frames: a binary min-heap ------------------------------------- */

static bool sooner(const struct shunt_faults_held *a, const struct shunt_faults_held *b)
{
    return a->until_ns < b->until_ns || (a->until_ns == b->until_ns && a->until_seq < b->until_seq);
}

static void swap_held(struct shunt_faults_held *a, struct shunt_faults_held *b)
{
    struct shunt_faults_held t = *a;

    *a = *b;
    *b = t;
}

static void delay_push(struct shunt_faults_way *w, struct rte_mbuf *m, uint64_t until_ns)
{
    struct shunt_faults_held *h = w->delayed;
    unsigned i = w->ndelayed++;

    h[i] = (struct shunt_faults_held){ m, until_ns, w->arrivals++ };
    while (i > 0 && sooner(&h[i], &h[(i - 1) / 2])) {
        swap_held(&h[i], &h[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

/* The frame due first, taken off the heap. */
static struct rte_mbuf *delay_pop(struct shunt_faults_way *w)
{
    struct shunt_faults_held *h = w->delayed;
    struct rte_mbuf *m = h[0].m;
    unsigned i = 0, n = --w->ndelayed;

    h[0] = h[n];
    for (;;) {
        unsigned first = i, l = 2 * i + 1, r = l + 1;
        if (l < n && sooner(&h[l], &h[first]))
            first = l;
        if (r < n && sooner(&h[r], &h[first]))
            first = r;
        if (first == i)
            return m;
        swap_held(&h[i], &h[first]);
        i = first;
    }
}

/*
 * Held frames whose time has come go on: reordered ones in the order they
 * were held, delayed ones in the order they are due, as far as the queue
 * has room beyond what the reordered frames may yet need (the rest are
 * still due next turn).
 */
static void release_due(struct shunt_faults_way *w, uint64_t now)
{
    unsigned kept = 0;

    for (unsigned i = 0; i < w->nheld; i++) {
        if (w->held[i].until_ns <= now)
            queue_push(w, w->held[i].m);
        else
            w->held[kept++] = w->held[i];
    }
    w->nheld = kept;
    while (w->ndelayed > 0 && w->delayed[0].until_ns <= now && queue_room(w) > w->nheld)
        queue_push(w, delay_pop(w));
}

/* ---- the faults ------------------------------------------------------------------ */

/*
 * m damaged by one flipped bit: itself, or a copy when others read the same
 * bytes (a frame sent from the mbuf lwIP keeps it in until it is acked, or
 * from a zero-copy buffer: damage there would go out again, checksummed,
 * with every retransmission).  NULL (m freed) when no copy can be made.
 */
static struct rte_mbuf *corrupt(struct shunt_faults_way *w, struct rte_mbuf *m, enum shunt_dir d)
{
    if (m->data_len == 0)
        return m;
    if (rte_mbuf_refcnt_read(m) > 1) {
        struct rte_mbuf *copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        rte_pktmbuf_free(m);
        if (copy == NULL)
            return NULL;
        m = copy;
    }
    if (d == SHUNT_DIR_TX) {
        shunt_mbuf_tx_checksums(m);     /* the NIC must not sum the damage */
    } else {
        /* Whatever the NIC found of the checksums no longer holds. */
        m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
    }
    /* Past the Ethernet header: only the FCS, which the NIC checks and
     * drops on, guards it, so damage there never reaches a stack, and a
     * flipped source address would be taken unseen. */
    uint64_t r = next_random(w);
    unsigned skip = m->data_len > RTE_ETHER_HDR_LEN ? RTE_ETHER_HDR_LEN : 0;
    uint8_t *byte = rte_pktmbuf_mtod_offset(m, uint8_t *, skip + (r >> 3) % (m->data_len - skip));
    *byte ^= (uint8_t)(1u << (r & 7));
    return m;
}

/* When a frame delayed now is due: delay_ns, give or take jitter_ns. */
static uint64_t due(struct shunt_faults_way *w, uint64_t now)
{
    if (w->jitter_ns == 0)
        return now + w->delay_ns;
    uint64_t d = w->delay_ns + next_random(w) % (2 * w->jitter_ns + 1);

    return now + (d > w->jitter_ns ? d - w->jitter_ns : 0);
}

/* One frame through the faults of direction d; the queue has room for two
 * beyond what the reordered frames may need. */
static void judge(struct shunt_faults *f, enum shunt_dir d, struct rte_mbuf *m, uint64_t now)
{
    struct shunt_faults_way *w = &f->way[d];
    bool drop = picked(w, SHUNT_FAULT_DROP), bad = picked(w, SHUNT_FAULT_CORRUPT);
    bool dup = picked(w, SHUNT_FAULT_DUP), reorder = picked(w, SHUNT_FAULT_REORDER);
    bool delay = picked(w, SHUNT_FAULT_DELAY);

    if (drop) {
        w->count[SHUNT_FAULT_DROP]++;
        w->dropped++;
        rte_pktmbuf_free(m);
        return;
    }
    if (bad) {
        w->count[SHUNT_FAULT_CORRUPT]++;
        m = corrupt(w, m, d);
        if (m == NULL) {
            w->dropped++;
            return;
        }
    }
    if (dup) {
        struct rte_mbuf *copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        if (copy != NULL) {
            w->count[SHUNT_FAULT_DUP]++;
            w->copies++;
            pass(w, copy);
        }
    }
    if (reorder && w->nheld < SHUNT_FAULTS_HOLD_MAX) {
        w->count[SHUNT_FAULT_REORDER]++;
        w->held[w->nheld++] = (struct shunt_faults_held){ m, now + w->delay_ns, w->passed + w->hold };
        return;
    }
    if (delay && !reorder) {
        if (w->ndelayed == w->limit) {
            /* netem drops what its limit has no room for: so does this,
             * counted (overflow) as one of the stage's drops. */
            w->overflow++;
            w->dropped++;
            rte_pktmbuf_free(m);
            return;
        }
        w->count[SHUNT_FAULT_DELAY]++;
        delay_push(w, m, due(w, now));
        return;
    }
    pass(w, m);
}

/* How many new frames direction d can take now: each may take two places
 * (itself and a copy, or a copy and a place in the reordered list), and
 * every reordered frame may come due. */
static unsigned can_take(const struct shunt_faults_way *w)
{
    unsigned room = queue_room(w);

    return room > w->nheld ? (room - w->nheld) / 2 : 0;
}

/* Send what waits to go out, as far as the device below takes it. */
static void send_queued(struct shunt_faults *f)
{
    struct shunt_faults_way *w = &f->way[SHUNT_DIR_TX];
    struct rte_mbuf *burst[SHUNT_MAX_BURST];

    while (w->queued > 0) {
        uint16_t n = (uint16_t)RTE_MIN(w->queued, (unsigned)SHUNT_MAX_BURST);
        for (uint16_t i = 0; i < n; i++)
            burst[i] = queue_peek(w, i);
        uint16_t sent = shunt_phy_tx(f->phy.inner, burst, n);
        queue_pop(w, sent);
        if (sent < n)
            return;                     /* the rest go next time, first */
    }
}

static uint16_t faults_rx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    struct shunt_faults *f = (struct shunt_faults *)phy;
    struct shunt_faults_way *w = &f->way[SHUNT_DIR_RX];
    uint64_t now = shunt_clock_ns(f->clock);
    struct rte_mbuf *got[SHUNT_MAX_BURST];

    /* Frames held on their way out may be due too: this runs every turn. */
    release_due(&f->way[SHUNT_DIR_TX], now);
    send_queued(f);

    release_due(w, now);
    uint16_t take = (uint16_t)RTE_MIN(can_take(w), (unsigned)RTE_MIN(n, SHUNT_MAX_BURST));
    uint16_t arrived = take > 0 ? shunt_phy_rx(phy->inner, got, take) : 0;
    for (uint16_t i = 0; i < arrived; i++)
        judge(f, SHUNT_DIR_RX, got[i], now);

    uint16_t out = (uint16_t)RTE_MIN(w->queued, (unsigned)n);
    for (uint16_t i = 0; i < out; i++)
        pkts[i] = queue_peek(w, i);
    queue_pop(w, out);
    return out;
}

static uint16_t faults_tx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    struct shunt_faults *f = (struct shunt_faults *)phy;
    struct shunt_faults_way *w = &f->way[SHUNT_DIR_TX];
    uint64_t now = shunt_clock_ns(f->clock);

    release_due(w, now);
    uint16_t take = (uint16_t)RTE_MIN(can_take(w), (unsigned)n);
    for (uint16_t i = 0; i < take; i++)
        judge(f, SHUNT_DIR_TX, pkts[i], now);
    send_queued(f);
    return take;
}

static const struct shunt_phy_ops faults_ops = { faults_rx, faults_tx };

struct shunt_phy *shunt_faults_stage(struct shunt_faults *f)
{
    return &f->phy;
}

unsigned shunt_faults_holding(const struct shunt_faults *f, enum shunt_dir d)
{
    return f->way[d].nheld + f->way[d].ndelayed + f->way[d].queued;
}

/* ---- on and off ---------------------------------------------------------------- */

void shunt_faults_init(struct shunt_faults *f, const struct shunt_clock *clock)
{
    memset(f, 0, sizeof(*f));
    f->phy.ops = &faults_ops;
    f->clock = clock;
    no_faults(&f->conf);
}

int shunt_faults_start(struct shunt_faults *f, const struct shunt_faults_conf *conf)
{
    for (int d = 0; d < SHUNT_DIRS; d++) {
        struct shunt_faults_way *w = &f->way[d];
        w->delayed = calloc(conf->limit[d], sizeof(w->delayed[0]));
        if (w->delayed == NULL) {
            free(f->way[SHUNT_DIR_RX].delayed);
            f->way[SHUNT_DIR_RX].delayed = NULL;
            errno = ENOMEM;
            return -1;
        }
        w->limit = conf->limit[d];
        w->ndelayed = 0;
        w->arrivals = 0;
    }
    f->conf = *conf;
    for (int d = 0; d < SHUNT_DIRS; d++) {
        struct shunt_faults_way *w = &f->way[d];
        memset(w->count, 0, sizeof(w->count));
        w->overflow = 0;
        for (int k = 0; k < SHUNT_FAULT_KINDS; k++)
            w->threshold[k] = threshold(conf->rate[d][k]);
        w->hold = conf->hold[d];
        w->delay_ns = (uint64_t)conf->delay_us[d] * 1000u;
        w->jitter_ns = (uint64_t)conf->jitter_us[d] * 1000u;
        /* Each direction its own sequence, both from the one seed. */
        w->random = conf->seed * 2 + (uint64_t)d;
        w->passed = 0;
    }
    f->on = true;
    return 0;
}

/* Every frame direction w holds, due now: into the queue to go on, or, once
 * it is full, to out. */
static void release_all(struct shunt_faults_way *w, struct rte_mbuf **out, unsigned *nout)
{
    release_due(w, UINT64_MAX);
    while (w->queued > 0) {
        out[(*nout)++] = queue_peek(w, 0);
        queue_pop(w, 1);
    }
    while (w->ndelayed > 0)
        out[(*nout)++] = delay_pop(w);
}

unsigned shunt_faults_stop(struct shunt_faults *f, struct rte_mbuf **rx, unsigned *nrx)
{
    struct shunt_faults_way *out = &f->way[SHUNT_DIR_TX], *in = &f->way[SHUNT_DIR_RX];
    unsigned lost = 0;

    /* Going out: what the device takes now, the rest freed. */
    while (shunt_faults_holding(f, SHUNT_DIR_TX) > 0) {
        unsigned before = shunt_faults_holding(f, SHUNT_DIR_TX);
        release_due(out, UINT64_MAX);
        send_queued(f);
        if (shunt_faults_holding(f, SHUNT_DIR_TX) == before)
            break;                      /* the device takes no more */
    }
    lost = shunt_faults_holding(f, SHUNT_DIR_TX);
    while (out->queued > 0) {
        rte_pktmbuf_free(queue_peek(out, 0));
        queue_pop(out, 1);
    }
    for (unsigned i = 0; i < out->nheld; i++)
        rte_pktmbuf_free(out->held[i].m);
    out->nheld = 0;
    while (out->ndelayed > 0)
        rte_pktmbuf_free(delay_pop(out));
    *nrx = 0;
    release_all(in, rx, nrx);
    for (int d = 0; d < SHUNT_DIRS; d++) {
        free(f->way[d].delayed);
        f->way[d].delayed = NULL;
    }
    f->on = false;
    return lost;
}
