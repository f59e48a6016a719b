/*
 * seeds.c - the fuzz targets' seed corpus, written from what the packet
 * tests send: each TCP conformance scenario (a .pkt of tests/pkt/scenarios/) as
 * one fuzz-rx input - its segments made relative to the connection
 * (fuzz-rx.h's SEG), its waits TIME records, its socket calls CALLs - and
 * the frames of tests/pkt/frames.h (ARP, ICMP, ICMPv6 neighbour discovery,
 * UDP, fragments of both IP versions, TCP over IPv6) as FIXED records; for
 * fuzz-config, configurations that set every key.
 *
 *   fuzz-seeds SCENARIO_DIR OUT_DIR     writes OUT_DIR/rx/ and OUT_DIR/config/
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "frames.h"
#include "fuzz-rx.h"
#include "ring.h"
#include "scenario.h"

/* ---- an input, built up ------------------------------------------------------------ */

static uint8_t input[1 << 16];
static size_t used;
static unsigned written;

static void put(const void *p, size_t n)
{
    if (used + n > sizeof(input)) {
        fprintf(stderr, "fuzz-seeds: an input longer than %zu bytes\n", sizeof(input));
        exit(1);
    }
    memcpy(input + used, p, n);
    used += n;
}

static void put8(uint8_t v)
{
    put(&v, 1);
}

static void put16(uint16_t v)
{
    put8((uint8_t)v);
    put8((uint8_t)(v >> 8));
}

static void put32(uint32_t v)
{
    put16((uint16_t)v);
    put16((uint16_t)(v >> 16));
}

static void start(uint8_t offer)
{
    used = 0;
    put8(offer);
}

static void put_frame(const uint8_t *f, size_t n)
{
    put8(FUZZ_FIXED);
    put16((uint16_t)n);
    put(f, n);
}

static void put_time(uint64_t ms)
{
    for (; ms > 0; ms -= ms > FUZZ_MAX_ADVANCE_MS ? FUZZ_MAX_ADVANCE_MS : ms) {
        put8(FUZZ_TIME);
        put16((uint16_t)(ms > FUZZ_MAX_ADVANCE_MS ? FUZZ_MAX_ADVANCE_MS : ms));
    }
}

static void put_call(enum fuzz_call op, uint16_t arg)
{
    put8(FUZZ_CALL);
    put8(op);
    put16(arg);
}

static void finish(const char *dir, const char *name)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(input, 1, used, f) != used || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    written++;
}

/* ---- scenarios --------------------------------------------------------------------- */

/* Where the scenario's connection stands, in its own numbers: the peer's
 * next sequence number, and Shunt's (relative to its ISN). */
struct track {
    bool synced;
    uint32_t peer_next, shunt_next;
    uint64_t now_ms;
};

static uint32_t seg_end(const struct scn_seg *g)
{
    return g->seq.v + g->len.v + !!(g->flags & RTE_TCP_SYN_FLAG) + !!(g->flags & RTE_TCP_FIN_FLAG);
}

static void scenario_segment(struct track *t, const struct scn_seg *g)
{
    uint8_t opt[40];
    size_t optlen = g->has_opts ? scn_opts_build(g, opt) : 0;
    bool syn = (g->flags & RTE_TCP_SYN_FLAG) && !(g->flags & RTE_TCP_ACK_FLAG);

    if (syn && !t->synced) {            /* the handshake: fuzz-rx made it already */
        t->synced = true;
        t->peer_next = seg_end(g);
        return;
    }
    put8(FUZZ_SEG);
    put8(syn ? 1 << 2 : 0);             /* a second connection: the peer's next port */
    put8(g->flags);
    put32(syn ? 0 : g->seq.v - t->peer_next);
    put32(g->has_ack ? g->ack.v - t->shunt_next : 0);
    put16(g->has_win ? (uint16_t)g->win.v : 65535);
    put8((uint8_t)optlen);
    put(opt, optlen);
    put16((uint16_t)g->len.v);
    if (!syn && (int32_t)(seg_end(g) - t->peer_next) > 0)
        t->peer_next = seg_end(g);
}

static void scenario_call(const struct scn_call *k)
{
    long n = k->nargs > 1 ? strtol(k->args[1], NULL, 10) : 0;

    if (strcmp(k->name, "write") == 0)
        put_call(FUZZ_WRITE, (uint16_t)n);
    else if (strcmp(k->name, "read") == 0)
        put_call(FUZZ_READ, (uint16_t)n);
    else if (strcmp(k->name, "shutdown") == 0)
        put_call(FUZZ_SHUTDOWN, strstr(k->args[1], "RDWR") ? SHUT_RDWR
                              : strstr(k->args[1], "WR") ? SHUT_WR : SHUT_RD);
    else if (strcmp(k->name, "close") == 0)
        put_call(FUZZ_CLOSE, 0);
    else if (strcmp(k->name, "connect") == 0)
        put_call(FUZZ_CONNECT, 0);
    else if (strcmp(k->name, "setsockopt") == 0 && k->nargs > 2) {
        long v = strtol(k->args[2], NULL, 10);
        if (strcmp(k->args[1], "TCP_NODELAY") == 0)
            put_call(FUZZ_SETSOCKOPT, 0);
        else if (strcmp(k->args[1], "SO_RCVBUF") == 0)
            put_call(FUZZ_SETSOCKOPT, (uint16_t)((v & ~3) | 1));
        else if (strncmp(k->args[1], "SO_KEEPALIVE", 12) == 0 ||
                 strncmp(k->args[1], "TCP_KEEP", 8) == 0)
            put_call(FUZZ_SETSOCKOPT, 2);
        else if (strcmp(k->args[1], "SO_LINGER") == 0)
            put_call(FUZZ_SETSOCKOPT, 3);
    }
    /* socket, bind, listen, accept: the fixture's; getsockopt reads only. */
}

static void scenario(const char *path, const char *out, const char *name)
{
    struct scn_script s;
    struct track t = { .shunt_next = 1 };
    char err[512], file[512];

    if (!scn_read(path, &s, err, sizeof(err))) {
        fprintf(stderr, "fuzz-seeds: %s\n", err);
        exit(1);
    }
    start(FUZZ_OFFER_MSS | FUZZ_OFFER_WSCALE | FUZZ_OFFER_SACK | 7 << 4);
    for (unsigned i = 0; i < s.n; i++) {
        const struct scn_event *e = &s.ev[i];
        if (e->kind == SCN_PORT)
            continue;
        uint64_t at = e->absolute ? e->at_ms : t.now_ms + e->at_ms;
        if (at > t.now_ms)
            put_time(at - t.now_ms);
        t.now_ms = at;
        switch (e->kind) {
        case SCN_IN:
            scenario_segment(&t, &e->u.seg);
            break;
        case SCN_OUT:
            if ((int32_t)(seg_end(&e->u.seg) - t.shunt_next) > 0 && !e->u.seg.seq.any)
                t.shunt_next = seg_end(&e->u.seg);
            break;
        case SCN_CALL:
            scenario_call(&e->u.call);
            break;
        default:
            break;
        }
    }
    scn_free(&s);
    snprintf(file, sizeof(file), "scn-%.*s", (int)(strlen(name) - 4), name);
    finish(out, file);
}

/* ---- frames ------------------------------------------------------------------------ */

static uint8_t f[FRAME_MAX], m[FRAME_MAX];
static const struct rte_ether_addr zero_mac = { { 0 } };

/* A TCP segment over IPv6 (checksum left to FIXED): frames.h has none. */
static size_t tcp6(uint8_t *b, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq)
{
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
    struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
    struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);
    size_t n = sizeof(*eth) + sizeof(*ip) + sizeof(*t);

    memset(b, 0, n);
    eth->dst_addr = shunt_mac;
    eth->src_addr = peer_mac;
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
    ip->vtc_flow = RTE_BE32(6u << 28);
    ip->proto = IPPROTO_TCP;
    ip->hop_limits = 64;
    memcpy(ip->src_addr, peer_ip6, 16);
    memcpy(ip->dst_addr, shunt_ip6, 16);
    t->src_port = rte_cpu_to_be_16(sport);
    t->dst_port = rte_cpu_to_be_16(dport);
    t->sent_seq = rte_cpu_to_be_32(seq);
    t->data_off = 5 << 4;
    t->tcp_flags = flags;
    t->rx_win = RTE_BE16(65535);
    return n;
}

static void one_frame(const char *out, const char *name, size_t n)
{
    start(FUZZ_OFFER_MSS);
    put_frame(f, n);
    finish(out, name);
}

static void frames(const char *out)
{
    uint8_t snm[16], data[3000];
    struct rte_ether_addr snm_mac;
    size_t n;

    memset(data, 'd', sizeof(data));
    one_frame(out, "arp-request", frame_arp(f, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac,
                                            PEER_IP4, &zero_mac, SHUNT_IP4));
    one_frame(out, "arp-reply", frame_arp(f, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4,
                                          &shunt_mac, SHUNT_IP4));
    n = icmp4_echo(m, RTE_IP_ICMP_ECHO_REQUEST, 7, 1, data, 56);
    one_frame(out, "ping4", frame_ipv4(f, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4,
                                       IPPROTO_ICMP, 1, 0, m, n));
    one_frame(out, "udp4", frame_udp4(f, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, 5000,
                                      FUZZ_UDP_PORT, data, 100));
    one_frame(out, "syn-closed-port", frame_tcp4(f, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4,
                                                 FUZZ_PEER_PORT + 3, FUZZ_CLOSED_PORT,
                                                 RTE_TCP_SYN_FLAG, 1, 0, 65535, 1460, NULL, 0));
    ip6_solicited_node(shunt_ip6, snm);
    ip6_multicast_mac(snm, &snm_mac);
    n = icmp6_neighbor_solicit(m, shunt_ip6, &peer_mac);
    one_frame(out, "nd-solicit", frame_icmp6(f, &snm_mac, &peer_mac, peer_ip6, snm, 255, m, n));
    n = icmp6_neighbor_advert(m, 0x60000000, peer_ip6, &peer_mac);
    one_frame(out, "nd-advert", frame_icmp6(f, &shunt_mac, &peer_mac, peer_ip6, shunt_ip6, 255,
                                            m, n));
    n = icmp6_echo(m, 128, 7, 1, data, 56);
    one_frame(out, "ping6", frame_icmp6(f, &shunt_mac, &peer_mac, peer_ip6, shunt_ip6, 64, m, n));
    one_frame(out, "syn6", tcp6(f, FUZZ_PEER_PORT, FUZZ_PORT6, RTE_TCP_SYN_FLAG, 1));

    /* A UDP datagram of 2000 bytes in IPv4 fragments of 1000, and IPv6's. */
    size_t whole = frame_udp4(m, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, 5000, FUZZ_UDP_PORT,
                              data, 2000) - 14 - 20;
    start(FUZZ_OFFER_MSS);
    for (size_t off = 0; off < whole; off += 1000) {
        size_t part = whole - off < 1000 ? whole - off : 1000;
        uint16_t frag = (uint16_t)(off / 8) | (off + part < whole ? RTE_IPV4_HDR_MF_FLAG : 0);
        put_frame(f, frame_ipv4(f, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_UDP, 9,
                                frag, m + 14 + 20 + off, part));
    }
    finish(out, "fragments4");
    start(FUZZ_OFFER_MSS);
    uint8_t udp[8 + 2000];
    memset(udp, 'd', sizeof(udp));
    udp[0] = 5000 >> 8, udp[1] = 5000 & 0xff;
    udp[2] = FUZZ_UDP_PORT6 >> 8, udp[3] = FUZZ_UDP_PORT6 & 0xff;
    udp[4] = sizeof(udp) >> 8, udp[5] = sizeof(udp) & 0xff;
    udp[6] = udp[7] = 0;                /* checksum: lwIP takes what it reassembled */
    for (size_t off = 0; off < sizeof(udp); off += 1000) {
        size_t part = sizeof(udp) - off < 1000 ? sizeof(udp) - off : 1000;
        put_frame(f, frame_ipv6_fragment(f, &shunt_mac, &peer_mac, peer_ip6, shunt_ip6,
                                         IPPROTO_UDP, 9, (uint16_t)off, off + part < sizeof(udp),
                                         udp + off, part));
    }
    finish(out, "fragments6");
}

/* ---- configurations ---------------------------------------------------------------- */

static const char *const configs[] = {
    "eal = -l 0 --no-huge -m 256 --no-pci\nip = 10.0.0.2/24\n",
    "eal = -l 0 --file-prefix=shunt --no-pci --vdev=net_af_xdp0,iface=sh0\n"
    "port = net_af_xdp0\nqueue = 0\nmac = 02:00:00:00:00:02\nip = 10.9.0.2/24\n"
    "gateway = 10.9.0.1\nip6 = fd00:9::2/64\nmtu = 1500\nmbufs = 16383\nmbuf_cache = 256\n"
    "mbuf_size = 2048\nrx_ring = 1024\ntx_ring = 1024\nburst = 32\nstats = yes\nlog = info\n",
    "eal = -l 0\nip6 = fd00::2/64\ncapture = /tmp/x.pcap\ncapture_filter = tcp port 7\n"
    "capture_snaplen = 128\ncapture_rotate = 10\nfaults = rx:drop=0.01;tx:dup=0.01\n"
    "faults_seed = 7\ntcp_rto_min_us = 200000\ntcp_rto_max_us = 120000000\n"
    "tcp_congestion = reno\ntcp_invalid_ratelimit = 500\ntcp_challenge_ack_limit = 1000\n"
    "poll = spin-then-sleep\nspin_us = 100\nchecksum = portable\n",
    "eal = -l 0 # comment\n\nip = 10.0.0.2/24\nexception = yes\n"
    "exception_ports = 22, 53, tcp:8000-8099\nexception_iface = ksh0\nprogram = redis-server\n"
    "accelerate = tcp:6379, udp\nkernel = udp:53\nprogress_us = 500\n",
};

static void config_seeds(const char *out)
{
    for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        char name[32];
        used = 0;
        put(configs[i], strlen(configs[i]));
        snprintf(name, sizeof(name), "config-%zu", i);
        finish(out, name);
    }
}

/* ---- main -------------------------------------------------------------------------- */

static void dir(char *path, size_t len, const char *base, const char *sub)
{
    snprintf(path, len, "%s/%s", base, sub);
    if (mkdir(base, 0755) != 0 && errno != EEXIST) {
        perror(base);
        exit(1);
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    char rx[4096], config[4096], path[4096];
    unsigned n = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: fuzz-seeds SCENARIO_DIR OUT_DIR\n");
        return 2;
    }
    dir(rx, sizeof(rx), argv[2], "rx");
    dir(config, sizeof(config), argv[2], "config");
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        perror(argv[1]);
        return 1;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".pkt") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        scenario(path, rx, e->d_name);
        n++;
    }
    closedir(d);
    frames(rx);
    unsigned rx_inputs = written;
    config_seeds(config);
    printf("fuzz-seeds: %u inputs (%u scenarios) into %s, %u configurations into %s\n",
           rx_inputs, n, rx, written - rx_inputs, config);
    return 0;
}
