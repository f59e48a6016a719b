/*
 * config.c - parse a stack instance's `key = value` configuration file.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "cc.h"
#include "chksum.h"
#include "exception.h"
#include "faults.h"
#include "policy.h"
#include "challenge.h"
#include "eal.h"
#include "recovery.h"
#include "text.h"

enum kind {
    KIND_STRING,        /* a char array of the key's size */
    KIND_UINT,          /* uint32_t in [min, max] */
    KIND_BOOL,          /* yes|no */
    KIND_LOG_LEVEL,     /* uint32_t, an RTE_LOG_* level by name */
    KIND_MAC,           /* uint8_t[6] */
    KIND_IP4,           /* struct in_addr */
    KIND_IP4_PREFIX,    /* struct in_addr, then its prefix length */
    KIND_IP6_PREFIX,    /* struct in6_addr, then its prefix length */
    KIND_FAULTS,        /* a char array: a fault specification (port/faults.h) */
    KIND_RULES,         /* a char array: socket rules (stack/policy.h) */
    KIND_POLL,          /* enum shunt_poll_mode, by name */
    KIND_PORTS,         /* a char array: the exception path's ports (port/exception.h) */
    KIND_CORES,         /* uint16_t cores[], their count in ncores */
    KIND_CHECKSUM,      /* enum shunt_chksum_kind, by name (port/chksum.h) */
};

struct key {
    const char *name;
    enum kind kind;
    size_t offset;          /* of the value in struct shunt_config */
    size_t size;            /* KIND_STRING: of the array */
    size_t has;             /* offset of the key's has_ flag, or 0 */
    size_t prefix;          /* KIND_*_PREFIX: offset of the prefix length */
    uint32_t min, max;      /* KIND_UINT */
    const char *example;
};

#define AT(field)           offsetof(struct shunt_config, field)
#define STRING(n, f, ex)    { n, KIND_STRING, AT(f), sizeof(((struct shunt_config *)0)->f), 0, 0, 0, 0, ex }
#define UINT(n, f, lo, hi)  { n, KIND_UINT, AT(f), 0, 0, 0, lo, hi, NULL }

static const struct key keys[] = {
    STRING("eal", eal, "-l 0 --no-pci --vdev=net_af_xdp0,iface=sh0"),
    STRING("port", port, "net_af_xdp0"),
    UINT("queue", queue, 0, 1023),
    UINT("instances", instances, 1, SHUNT_INSTANCES_MAX),
    { "cores", KIND_CORES, AT(cores), 0, 0, 0, 0, 0, "0,1" },
    { "mac", KIND_MAC, AT(mac), 0, AT(has_mac), 0, 0, 0, "02:00:00:00:00:02" },
    { "ip", KIND_IP4_PREFIX, AT(ip4), 0, AT(has_ip4), AT(ip4_prefix), 0, 0, "10.9.0.2/24" },
    { "gateway", KIND_IP4, AT(gateway4), 0, AT(has_gateway4), 0, 0, 0, "10.9.0.1" },
    { "ip6", KIND_IP6_PREFIX, AT(ip6), 0, AT(has_ip6), AT(ip6_prefix), 0, 0, "fd00:9::2/64" },
    UINT("mtu", mtu, 1280, 9702),
    UINT("mbufs", mbufs, 1023, 1u << 24),
    UINT("mbuf_cache", mbuf_cache, 0, 512),
    UINT("mbuf_size", mbuf_size, 1024, 65535 - RTE_PKTMBUF_HEADROOM),
    UINT("rx_ring", rx_ring, 64, 32768),
    UINT("tx_ring", tx_ring, 64, 32768),
    UINT("burst", burst, 1, 64),
    { "stats", KIND_BOOL, AT(stats), 0, 0, 0, 0, 0, "yes" },
    { "log", KIND_LOG_LEVEL, AT(log_level), 0, 0, 0, 0, 0, "info" },
    STRING("capture", capture, "/tmp/shunt.pcap"),
    STRING("capture_filter", capture_filter, "tcp port 7"),
    UINT("capture_snaplen", capture_snaplen, 14, 65535),
    UINT("capture_rotate", capture_rotate_mib, 1, 1u << 20),
    { "faults", KIND_FAULTS, AT(faults), sizeof(((struct shunt_config *)0)->faults), 0, 0, 0, 0,
      "rx:drop=0.01,reorder=0.05;tx:dup=0.01" },
    UINT("faults_seed", faults_seed, 0, UINT32_MAX),
    STRING("program", program, "redis-server"),
    { "accelerate", KIND_RULES, AT(accelerate), sizeof(((struct shunt_config *)0)->accelerate),
      0, 0, 0, 0, "tcp:6379, udp" },
    { "kernel", KIND_RULES, AT(kernel), sizeof(((struct shunt_config *)0)->kernel),
      0, 0, 0, 0, "udp:53, 10.9.0.7" },
    UINT("progress_us", progress_us, 0, 1000000),
    UINT("tcp_rto_min_us", tcp_rto_min_us, 1, SHUNT_RTO_MAX_US),
    UINT("tcp_rto_max_us", tcp_rto_max_us, 1, SHUNT_RTO_MAX_US),
    STRING("tcp_congestion", tcp_congestion, "reno"),
    UINT("tcp_invalid_ratelimit", tcp_invalid_ratelimit, 0, UINT32_MAX),
    UINT("tcp_challenge_ack_limit", tcp_challenge_ack_limit, 1, SHUNT_CHALLENGE_ACK_LIMIT),
    { "poll", KIND_POLL, AT(poll), 0, 0, 0, 0, 0, "spin-then-sleep" },
    { "checksum", KIND_CHECKSUM, AT(checksum), 0, 0, 0, 0, 0, "portable" },
    UINT("spin_us", spin_us, 0, 1000000),
    { "exception", KIND_BOOL, AT(exception), 0, 0, 0, 0, 0, "yes" },
    { "exception_ports", KIND_PORTS, AT(exception_ports),
      sizeof(((struct shunt_config *)0)->exception_ports), 0, 0, 0, 0, "22, 53" },
    STRING("exception_iface", exception_iface, "ksh0"),
    UINT("mcast_groups", mcast_groups, 16, 1u << 20),
    UINT("igmp_max_memberships", igmp_max_memberships, 1, 1u << 20),
    UINT("force_igmp_version", force_igmp_version, 0, 3),
    UINT("force_mld_version", force_mld_version, 0, 2),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void defaults(struct shunt_config *c)
{
    memset(c, 0, sizeof(*c));
    c->instances = 1;
    c->instance = SHUNT_INSTANCE_NONE;
    c->mbufs = 16383;
    c->mbuf_cache = 256;
    c->mbuf_size = 2048;
    c->rx_ring = 1024;
    c->tx_ring = 1024;
    c->burst = 32;
    c->stats = true;
    c->log_level = RTE_LOG_INFO;
    c->faults_seed = 1;
    c->progress_us = 500;
    c->tcp_rto_min_us = SHUNT_RTO_MIN_US;
    c->tcp_rto_max_us = SHUNT_RTO_MAX_US;
    strcpy(c->tcp_congestion, SHUNT_CC_DEFAULT);
    c->tcp_invalid_ratelimit = SHUNT_INVALID_RATELIMIT_MS;
    c->tcp_challenge_ack_limit = SHUNT_CHALLENGE_ACK_LIMIT;
    c->poll = SHUNT_POLL_SPIN;
    c->spin_us = SHUNT_SPIN_US_DEFAULT;
    c->mcast_groups = SHUNT_MCAST_GROUPS_DEFAULT;
    c->igmp_max_memberships = SHUNT_MAX_MEMBERSHIPS_DEFAULT;
}

/* Keys that are gone, and what does their work now. */
static const struct { const char *name, *instead; } retired[] = {
    { "wait_sleep_us", "poll = spin-then-sleep, with spin_us = 0 to sleep at once" },
};

static const char *const log_levels[] = {
    [RTE_LOG_ERR] = "error", [RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
    [RTE_LOG_INFO] = "info", [RTE_LOG_DEBUG] = "debug",
};

/* Parse "address/len" of family af; len must be within [1, max]. */
static int parse_prefix(int af, const char *value, void *addr, uint32_t max, uint32_t *len)
{
    char text[INET6_ADDRSTRLEN + 8], *end;
    const char *slash = strchr(value, '/');

    if (slash == NULL || (size_t)(slash - value) >= sizeof(text))
        return -1;
    memcpy(text, value, (size_t)(slash - value));
    text[slash - value] = '\0';
    errno = 0;
    unsigned long n = strtoul(slash + 1, &end, 10);
    if (errno != 0 || end == slash + 1 || *end != '\0' || n < 1 || n > max)
        return -1;
    if (inet_pton(af, text, addr) != 1)
        return -1;
    *len = (uint32_t)n;
    return 0;
}

/* Store value for key k in c; on failure, say why in why. */
static int set_value(struct shunt_config *c, const struct key *k, const char *value,
                     char *why, size_t whylen)
{
    void *field = (char *)c + k->offset;
    unsigned long n;
    char *end;

    switch (k->kind) {
    case KIND_FAULTS:
    case KIND_RULES:
    case KIND_PORTS:
    case KIND_STRING: {
        struct shunt_faults_conf faults;    /* parsed again when used */
        struct shunt_rules rules;
        static struct shunt_exception_ports ports;     /* 16 KiB: not on the stack */
        if (k->kind == KIND_FAULTS && shunt_faults_parse(value, &faults, why, whylen) != 0)
            return -1;
        if (k->kind == KIND_RULES && shunt_rules_parse(value, &rules, why, whylen) != 0)
            return -1;
        if (k->kind == KIND_PORTS && shunt_exception_ports_parse(value, &ports, why, whylen) != 0)
            return -1;
        if (strlen(value) >= k->size)
            return shunt_fail(why, whylen, "longer than %zu characters", k->size - 1);
        strcpy(field, value);
        return 0;
    }
    case KIND_UINT:
        errno = 0;
        n = strtoul(value, &end, 0);
        if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
            n < k->min || n > k->max)
            return shunt_fail(why, whylen, "'%s' is not a whole number from %u to %u",
                        value, k->min, k->max);
        *(uint32_t *)field = (uint32_t)n;
        return 0;
    case KIND_BOOL:
        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
            return shunt_fail(why, whylen, "'%s' is neither yes nor no", value);
        *(bool *)field = strcmp(value, "yes") == 0;
        return 0;
    case KIND_LOG_LEVEL:
        for (uint32_t l = RTE_LOG_ERR; l <= RTE_LOG_DEBUG; l++) {
            if (strcmp(value, log_levels[l]) == 0) {
                *(uint32_t *)field = l;
                return 0;
            }
        }
        return shunt_fail(why, whylen, "'%s' is not a level: error, warning, notice, info or debug",
                    value);
    case KIND_POLL:
        if (strcmp(value, "spin") == 0)
            *(enum shunt_poll_mode *)field = SHUNT_POLL_SPIN;
        else if (strcmp(value, "spin-then-sleep") == 0)
            *(enum shunt_poll_mode *)field = SHUNT_POLL_SLEEP;
        else
            return shunt_fail(why, whylen, "'%s' is neither spin nor spin-then-sleep", value);
        return 0;
    case KIND_CHECKSUM:
        return shunt_chksum_parse(value, field, why, whylen);
    case KIND_CORES: {
        char *end;
        c->ncores = 0;
        for (const char *p = value;; p = end + 1) {
            errno = 0;
            n = strtoul(p, &end, 10);
            if (errno != 0 || end == p || *p == '-' || n >= RTE_MAX_LCORE ||
                (*end != ',' && *end != '\0'))
                return shunt_fail(why, whylen, "'%s' is not a list of cores from 0 to %d, e.g. %s",
                                  value, RTE_MAX_LCORE - 1, k->example);
            for (uint32_t i = 0; i < c->ncores; i++)
                if (c->cores[i] == n)
                    return shunt_fail(why, whylen, "core %lu is listed twice: one instance a core",
                                      n);
            if (c->ncores == SHUNT_INSTANCES_MAX)
                return shunt_fail(why, whylen, "more than %d cores", SHUNT_INSTANCES_MAX);
            c->cores[c->ncores++] = (uint16_t)n;
            if (*end == '\0')
                return 0;
        }
    }
    case KIND_MAC: {
        uint8_t *mac = field;
        int used = 0;
        if (sscanf(value, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2],
                   &mac[3], &mac[4], &mac[5], &used) != 6 || value[used] != '\0' ||
            used != 17 || (mac[0] & 1) != 0 ||
            (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
            return shunt_fail(why, whylen, "'%s' is not a unicast MAC address, e.g. %s",
                        value, k->example);
        return 0;
    }
    case KIND_IP4:
        if (inet_pton(AF_INET, value, field) != 1)
            return shunt_fail(why, whylen, "'%s' is not an IPv4 address, e.g. %s", value, k->example);
        return 0;
    case KIND_IP4_PREFIX:
        if (parse_prefix(AF_INET, value, field, 32, (uint32_t *)((char *)c + k->prefix)) != 0)
            return shunt_fail(why, whylen, "'%s' is not an IPv4 address/prefix length, e.g. %s",
                        value, k->example);
        return 0;
    case KIND_IP6_PREFIX:
        if (parse_prefix(AF_INET6, value, field, 128, (uint32_t *)((char *)c + k->prefix)) != 0)
            return shunt_fail(why, whylen, "'%s' is not an IPv6 address/prefix length, e.g. %s",
                        value, k->example);
        if (*(uint32_t *)((char *)c + k->prefix) != 64)
            return shunt_fail(why, whylen, "lwIP takes IPv6 on-link prefixes as /64: write %.*s/64",
                        (int)strcspn(value, "/"), value);
        return 0;
    }
    return shunt_fail(why, whylen, "unknown kind of key");
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* Whether the eal line has an option among opts (NULL-terminated), as a
 * word of its own or with =value. */
static bool eal_has(const char *eal, const char *const *opts)
{
    for (const char *w = eal + strspn(eal, " \t"); *w; w += strcspn(w, " \t"),
         w += strspn(w, " \t"))
        for (const char *const *o = opts; *o; o++) {
            size_t n = strlen(*o);
            if (strncmp(w, *o, n) == 0 && (w[n] == '\0' || w[n] == ' ' || w[n] == '\t' ||
                                           w[n] == '='))
                return true;
        }
    return false;
}

/* A group's settings (instances > 1), each instance's made by select. */
static int check_group(const struct shunt_config *c, char *err, size_t errlen)
{
    static const char *const core_opts[] = { "-l", "-c", "--lcores", NULL };
    const char *xdp = strstr(c->eal, "net_af_xdp");

    if (c->ncores != 0 && c->ncores != c->instances)
        return shunt_fail(err, errlen, "%s: cores lists %u core%s for instances = %u: give one "
                          "core per instance, e.g. cores = 0,1", c->source, c->ncores,
                          c->ncores == 1 ? "" : "s", c->instances);
    if (c->instances == 1)
        return 0;
    if (c->ncores == 0)
        return shunt_fail(err, errlen, "%s: instances = %u needs cores: one core per instance, "
                          "e.g. cores = 0,1", c->source, c->instances);
    if (eal_has(c->eal, core_opts))
        return shunt_fail(err, errlen, "%s: with instances = %u the eal line takes no -l, -c or "
                          "--lcores: cores = places each instance", c->source, c->instances);
    if (c->queue != 0)
        return shunt_fail(err, errlen, "%s: with instances = %u instance i owns queue i: remove "
                          "queue", c->source, c->instances);
    if (c->exception)
        return shunt_fail(err, errlen, "%s: the exception path takes one instance: set "
                          "instances = 1 or exception = no", c->source);
    if (strstr(c->eal, "net_af_packet") != NULL)
        return shunt_fail(err, errlen, "%s: instances = %u cannot share a net_af_packet port "
                          "(each socket sees every queue's frames): use net_af_xdp",
                          c->source, c->instances);
    if (xdp == NULL)
        return 0;               /* shared: primary and secondaries */
    const char *end = xdp + strcspn(xdp, " \t");
    const char *q = strstr(xdp, "queue");
    if (q != NULL && q < end)
        return shunt_fail(err, errlen, "%s: remove start_queue and queue_count from the "
                          "net_af_xdp vdev: with instances = %u instance i opens queue i",
                          c->source, c->instances);
    return 0;
}

/* Settings that are each fine alone but not together. */
static int check_whole(const struct shunt_config *c, char *err, size_t errlen)
{
    if (c->eal[0] == '\0')
        return shunt_fail(err, errlen, "%s: no eal line: add one naming the port, e.g. eal = %s",
                    c->source, keys[0].example);
    if (!c->has_ip4 && !c->has_ip6)
        return shunt_fail(err, errlen, "%s: no address: add ip = ADDRESS/PREFIX (e.g. ip = 10.9.0.2/24)"
                    " or ip6 = ADDRESS/64", c->source);
    if (c->has_gateway4) {
        uint32_t mask = c->has_ip4 ? htonl(~0u << (32 - c->ip4_prefix)) : 0;
        if (!c->has_ip4 || ((c->gateway4.s_addr ^ c->ip4.s_addr) & mask) != 0) {
            char gw[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &c->gateway4, gw, sizeof(gw));
            return shunt_fail(err, errlen, "%s: gateway %s is not inside the ip subnet: "
                        "a gateway must be on the local link", c->source, gw);
        }
    }
    if (c->tcp_rto_min_us > c->tcp_rto_max_us)
        return shunt_fail(err, errlen, "%s: tcp_rto_min_us = %u is above tcp_rto_max_us = %u: "
                    "the minimum RTO must not exceed the maximum", c->source,
                    c->tcp_rto_min_us, c->tcp_rto_max_us);
    if (shunt_cc_find(c->tcp_congestion) == NULL)
        return shunt_fail(err, errlen, "%s: tcp_congestion = %s is no algorithm Shunt has: "
                    "use reno, cubic or one the program registers (shunt_cc_register)",
                    c->source, c->tcp_congestion);
    if (!c->exception && (c->exception_ports[0] != '\0' || c->exception_iface[0] != '\0'))
        return shunt_fail(err, errlen, "%s: %s is set but the exception path is off: add "
                    "exception = yes, or remove it", c->source,
                    c->exception_ports[0] != '\0' ? "exception_ports" : "exception_iface");
    if (c->mbufs < 2 * (c->rx_ring + c->tx_ring))
        return shunt_fail(err, errlen, "%s: mbufs = %u cannot fill rx_ring + tx_ring twice over: "
                    "raise mbufs to at least %u", c->source, c->mbufs,
                    2 * (c->rx_ring + c->tx_ring));
    return check_group(c, err, errlen);
}

int shunt_config_parse(struct shunt_config *c, const char *text, const char *name,
                       char *err, size_t errlen)
{
    bool seen[NKEYS] = { false };
    char why[256];
    int lineno = 0;

    defaults(c);
    snprintf(c->source, sizeof(c->source), "%s", name);

    for (const char *line = text; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[4096];

        lineno++;
        if (len >= sizeof(buf))
            return shunt_fail(err, errlen, "%s:%d: line longer than %zu characters",
                        name, lineno, sizeof(buf) - 1);
        memcpy(buf, line, len);
        buf[len] = '\0';
        line += nl ? len + 1 : len;

        char *hash = strchr(buf, '#');
        if (hash != NULL)
            *hash = '\0';
        char *s = shunt_trim(buf);
        if (*s == '\0')
            continue;

        char *eq = strchr(s, '=');
        if (eq == NULL)
            return shunt_fail(err, errlen, "%s:%d: '%s' is not a 'key = value' line", name, lineno, s);
        *eq = '\0';
        char *key = shunt_trim(s), *value = shunt_trim(eq + 1);

        for (size_t i = 0; i < sizeof(retired) / sizeof(retired[0]); i++)
            if (strcmp(key, retired[i].name) == 0)
                return shunt_fail(err, errlen, "%s:%d: %s is gone: write %s instead",
                                  name, lineno, key, retired[i].instead);
        const struct key *k = find_key(key);
        if (k == NULL) {
            char known[512] = "";
            for (size_t i = 0; i < NKEYS; i++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                         i ? ", " : "", keys[i].name);
            return shunt_fail(err, errlen, "%s:%d: unknown key '%s' (known: %s)",
                        name, lineno, key, known);
        }
        if (seen[k - keys])
            return shunt_fail(err, errlen, "%s:%d: %s is set twice: keep one", name, lineno, key);
        seen[k - keys] = true;
        if (*value == '\0')
            return shunt_fail(err, errlen, "%s:%d: %s has no value", name, lineno, key);
        if (set_value(c, k, value, why, sizeof(why)) != 0)
            return shunt_fail(err, errlen, "%s:%d: %s: %s", name, lineno, key, why);
        if (k->has != 0)
            *(bool *)((char *)c + k->has) = true;
    }
    if (c->instances == 1)
        c->instance = 0;
    return check_whole(c, err, errlen);
}

/* The RX queues the kernel gives interface iface; 0 if it cannot say. */
static unsigned iface_queues(const char *iface)
{
    char path[128];
    unsigned n = 0;

    for (;; n++) {
        snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%u", iface, n);
        if (access(path, F_OK) != 0)
            return n;
    }
}

/* Word w of an eal line, as instance i's: its file-prefix P-i (P as it
 * is for a shared port), its net_af_xdp vdev on queue i; into out at
 * *used.  Returns -1 if full. */
static int instance_word(struct shunt_config *c, const char *w, bool prefix_value, unsigned i,
                         char *out, size_t *used, size_t len)
{
    const char *eq = strncmp(w, "--file-prefix=", 14) == 0 ? w + 14 : prefix_value ? w : NULL;
    int n;

    if (eq != NULL) {
        snprintf(c->prefix, sizeof(c->prefix), "%s", eq);
        n = c->shared ? snprintf(out + *used, len - *used, "%s%s", *used ? " " : "", w) :
                        snprintf(out + *used, len - *used, "%s%.*s%s-%u", *used ? " " : "",
                                 (int)(eq - w), w, eq, i);
    } else if (strstr(w, "net_af_xdp") != NULL) {
        n = snprintf(out + *used, len - *used, "%s%s,start_queue=%u,queue_count=1",
                     *used ? " " : "", w, i);
    } else {
        n = snprintf(out + *used, len - *used, "%s%s", *used ? " " : "", w);
    }
    if (n < 0 || (size_t)n >= len - *used)
        return -1;
    *used += (size_t)n;
    return 0;
}

int shunt_config_select(struct shunt_config *c, const char *index, char *err, size_t errlen)
{
    unsigned long i = 0;
    char *end;

    if (index != NULL) {
        errno = 0;
        i = strtoul(index, &end, 10);
        if (errno != 0 || end == index || *end != '\0' || *index == '-' || i >= c->instances)
            return shunt_fail(err, errlen, "instance '%s' is out of range: %s has instances "
                              "0 to %u (instances = %u)", index, c->source, c->instances - 1,
                              c->instances);
    } else if (c->instances > 1) {
        return shunt_fail(err, errlen, "%s describes %u instances: choose one with --instance I "
                          "(or %s=I), or let the program start them all", c->source,
                          c->instances, SHUNT_INSTANCE_ENV);
    }
    if (c->instances == 1)
        return 0;

    char iface[32];
    unsigned queues;
    if (shunt_eal_iface(c->eal, "net_af_xdp", iface, sizeof(iface)) &&
        (queues = iface_queues(iface)) != 0 && i >= queues)
        return shunt_fail(err, errlen, "%s: instance %lu needs queue %lu of %s, which has %u: "
                          "lower instances, or give the interface more queues (numrxqueues, "
                          "ethtool -L)", c->source, i, i, iface, queues);

    /* The eal line, word by word, as instance i's.  On a shared port the
     * secondaries learn its devices from the primary, and poll queue i. */
    c->shared = strstr(c->eal, "net_af_xdp") == NULL;
    char words[sizeof(c->eal)], eal[sizeof(c->eal)];
    size_t used = 0;
    bool prefix_next = false, has_prefix = false;
    strcpy(words, c->eal);
    for (char *w = strtok(words, " \t"); w != NULL; w = strtok(NULL, " \t")) {
        has_prefix |= prefix_next || strncmp(w, "--file-prefix=", 14) == 0;
        if (instance_word(c, w, prefix_next, (unsigned)i, eal, &used, sizeof(eal)) != 0)
            return shunt_fail(err, errlen, "%s: the eal line is too long", c->source);
        prefix_next = strcmp(w, "--file-prefix") == 0;
    }
    char tail[128], prefix[48] = "", proc[32] = "";
    if (!has_prefix && c->shared)
        snprintf(prefix, sizeof(prefix), " --file-prefix=shunt");
    else if (!has_prefix)
        snprintf(prefix, sizeof(prefix), " --file-prefix=shunt-%lu", i);
    if (c->shared)
        snprintf(proc, sizeof(proc), " --proc-type=%s", i == 0 ? "primary" : "secondary");
    snprintf(tail, sizeof(tail), " -l %u%s%s", c->cores[i], prefix, proc);
    if (!has_prefix)
        snprintf(c->prefix, sizeof(c->prefix), "shunt");
    if (used + strlen(tail) >= sizeof(eal))
        return shunt_fail(err, errlen, "%s: the eal line is too long", c->source);
    strcpy(eal + used, tail);
    strcpy(c->eal, eal);
    c->instance = (uint32_t)i;
    if (c->shared)
        c->queue = (uint32_t)i;
    return 0;
}

int shunt_config_load(struct shunt_config *c, const char *path, char *err, size_t errlen)
{
    if (path == NULL)
        path = getenv(SHUNT_CONFIG_ENV);
    if (path == NULL || *path == '\0')
        return shunt_fail(err, errlen, "no configuration file: pass -c FILE or set %s=FILE",
                    SHUNT_CONFIG_ENV);

    FILE *f = fopen(path, "r");
    if (f == NULL)
        return shunt_fail(err, errlen, "cannot open configuration file %s: %s", path, strerror(errno));

    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    char chunk[4096];
    size_t n;
    while (mem != NULL && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, mem);
    int read_error = ferror(f);
    fclose(f);
    if (mem == NULL || fclose(mem) != 0 || read_error) {
        free(text);
        return shunt_fail(err, errlen, "cannot read configuration file %s", path);
    }

    int rc = shunt_config_parse(c, text, path, err, errlen);
    free(text);
    const char *index = getenv(SHUNT_INSTANCE_ENV);
    if (rc == 0 && index != NULL && *index != '\0')
        rc = shunt_config_select(c, index, err, errlen);
    return rc;
}
