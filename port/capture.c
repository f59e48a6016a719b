/*
 * capture.c - filter frames with libpcap's BPF and write them to pcap files.
 */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FRAME 65535u
#define RECORD_HEADER 16                /* a frame's header in a pcap file */
#define FLUSH_NS 100000000ull           /* readers see the file within 0.1 s */

struct shunt_capture {
    struct shunt_phy phy;               /* the stage; must come first */
    struct shunt_capture_conf conf;
    pcap_t *dead;                       /* libpcap's handle for filters and files */
    struct bpf_program filter;
    pcap_dumper_t *out;
    struct shunt_capture_stats stats;
    uint64_t flushed_ns;
    /* Frames at the head of the next transmit call that are written
     * already: the port refused them last time, and they come again. */
    uint16_t tx_written;
    uint8_t frame[MAX_FRAME];           /* a chained mbuf made contiguous */
};

/* The name of the n-th file: path, then path.1, path.2, ... */
static void file_name(const struct shunt_capture *c, char *name, size_t len)
{
    if (c->stats.files == 0)
        snprintf(name, len, "%s", c->conf.path);
    else
        snprintf(name, len, "%s.%u", c->conf.path, c->stats.files);
}

static int open_file(struct shunt_capture *c, char *err, size_t errlen)
{
    char name[PATH_MAX + 16];

    file_name(c, name, sizeof(name));
    c->out = pcap_dump_open(c->dead, name);
    if (c->out == NULL) {
        snprintf(err, errlen, "cannot write capture file %s: %s", name, pcap_geterr(c->dead));
        return -1;
    }
    c->stats.files++;
    c->stats.bytes = 0;
    return 0;
}

/* ---- the stage --------------------------------------------------------------- */

static uint16_t capture_rx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    uint16_t got = shunt_phy_rx(phy->inner, pkts, n);

    if (got > 0)
        shunt_capture_frames((struct shunt_capture *)phy, pkts, got);
    return got;
}

static uint16_t capture_tx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    struct shunt_capture *c = (struct shunt_capture *)phy;
    uint16_t seen = RTE_MIN(c->tx_written, n);

    /* Written before the port may free them. */
    if (n > seen)
        shunt_capture_frames(c, pkts + seen, (uint16_t)(n - seen));
    uint16_t sent = shunt_phy_tx(phy->inner, pkts, n);
    c->tx_written = (uint16_t)(n - sent);
    return sent;
}

static const struct shunt_phy_ops capture_ops = { capture_rx, capture_tx };

struct shunt_phy *shunt_capture_stage(struct shunt_capture *c)
{
    return &c->phy;
}

/* ---- the file ----------------------------------------------------------------- */

struct shunt_capture *shunt_capture_open(const struct shunt_capture_conf *conf,
                                         char *err, size_t errlen)
{
    struct shunt_capture *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        snprintf(err, errlen, "no memory for a capture");
        return NULL;
    }
    c->phy.ops = &capture_ops;
    c->conf = *conf;
    if (c->conf.snaplen == 0 || c->conf.snaplen > MAX_FRAME)
        c->conf.snaplen = MAX_FRAME;
    c->dead = pcap_open_dead(DLT_EN10MB, (int)c->conf.snaplen);
    if (c->dead == NULL) {
        snprintf(err, errlen, "libpcap cannot start a capture");
        free(c);
        return NULL;
    }
    if (pcap_compile(c->dead, &c->filter, c->conf.filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "capture filter '%s': %s", c->conf.filter, pcap_geterr(c->dead));
        pcap_close(c->dead);
        free(c);
        return NULL;
    }
    if (open_file(c, err, errlen) != 0) {
        pcap_freecode(&c->filter);
        pcap_close(c->dead);
        free(c);
        return NULL;
    }
    return c;
}

void shunt_capture_close(struct shunt_capture *c)
{
    if (c == NULL)
        return;
    pcap_dump_close(c->out);
    pcap_freecode(&c->filter);
    pcap_close(c->dead);
    free(c);
}

/* Start the next file once this one is full; keep writing this one if the
 * next cannot be opened. */
static void rotate(struct shunt_capture *c)
{
    pcap_dumper_t *old = c->out;
    char err[256];

    if (open_file(c, err, sizeof(err)) == 0)
        pcap_dump_close(old);
    else
        c->out = old;
}

void shunt_capture_frames(struct shunt_capture *c, struct rte_mbuf *const *pkts, uint16_t n)
{
    struct timespec now;
    struct pcap_pkthdr hdr;

    clock_gettime(CLOCK_REALTIME, &now);
    hdr.ts.tv_sec = now.tv_sec;
    hdr.ts.tv_usec = now.tv_nsec / 1000;
    for (uint16_t i = 0; i < n; i++) {
        const struct rte_mbuf *m = pkts[i];
        /* The filter sees the whole frame, as tcpdump's does; the file
         * keeps the snap length of it. */
        uint32_t whole = RTE_MIN(m->pkt_len, MAX_FRAME);
        const uint8_t *data = rte_pktmbuf_read(m, 0, whole, c->frame);

        c->stats.seen++;
        hdr.caplen = whole;
        hdr.len = m->pkt_len;
        if (data == NULL || pcap_offline_filter(&c->filter, &hdr, data) == 0)
            continue;
        hdr.caplen = RTE_MIN(whole, c->conf.snaplen);
        pcap_dump((u_char *)c->out, &hdr, data);
        c->stats.written++;
        c->stats.bytes += RECORD_HEADER + hdr.caplen;
        if (c->conf.rotate_bytes != 0 && c->stats.bytes >= c->conf.rotate_bytes)
            rotate(c);
    }
    uint64_t ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    if (ns - c->flushed_ns >= FLUSH_NS) {
        pcap_dump_flush(c->out);
        c->flushed_ns = ns;
    }
}

void shunt_capture_stats(const struct shunt_capture *c, struct shunt_capture_stats *out)
{
    *out = c->stats;
}

const struct shunt_capture_conf *shunt_capture_conf(const struct shunt_capture *c)
{
    return &c->conf;
}
