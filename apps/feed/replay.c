/*
 * replay.c - see replay.h.
 */
#include "replay.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* Destinations seen, for their groups: a capture of a feed has a few
 * hundred; past this many, the rest share the last ones' groups by hash. */
#define REPLAY_DESTS 4096

struct dest {
    unsigned char addr[16];
    uint16_t port;
    unsigned group;
};

struct replay {
    pcap_t *pcap;
    int linktype;
    unsigned groups;
    bool started;
    uint64_t first_ns;
    uint64_t skipped;
    unsigned ndests;
    struct dest dests[REPLAY_DESTS];
};

struct replay *replay_open(const char *path, unsigned groups)
{
    char err[PCAP_ERRBUF_SIZE];
    struct replay *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        fprintf(stderr, "%s: out of memory\n", app_name);
        return NULL;
    }
    r->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (r->pcap == NULL) {
        fprintf(stderr, "%s: --pcap %s: %s\n", app_name, path, err);
        free(r);
        return NULL;
    }
    r->linktype = pcap_datalink(r->pcap);
    if (r->linktype != DLT_EN10MB && r->linktype != DLT_LINUX_SLL && r->linktype != DLT_RAW &&
        r->linktype != DLT_NULL && r->linktype != DLT_IPV4 && r->linktype != DLT_IPV6) {
        fprintf(stderr, "%s: --pcap %s: link type %s: Ethernet, Linux cooked, raw IP or loopback only\n",
                app_name, path, pcap_datalink_val_to_name(r->linktype));
        pcap_close(r->pcap);
        free(r);
        return NULL;
    }
    r->groups = groups;
    return r;
}

/* Where the IP header starts in a frame of the file's link type, or -1. */
static long ip_offset(const struct replay *r, const unsigned char *f, size_t len)
{
    size_t off;

    switch (r->linktype) {
    case DLT_EN10MB:
        off = 12;
        /* 802.1Q and 802.1ad tags before the EtherType */
        while (off + 4 <= len && (((f[off] << 8) | f[off + 1]) == 0x8100 || ((f[off] << 8) | f[off + 1]) == 0x88a8))
            off += 4;
        return off + 2 <= len ? (long)off + 2 : -1;
    case DLT_LINUX_SLL:
        return 16;
    case DLT_NULL:
        return 4;
    default:
        return 0;
    }
}

static unsigned group_of(struct replay *r, const unsigned char *addr, size_t alen, uint16_t port)
{
    struct dest key = { .port = port };

    memcpy(key.addr, addr, alen);
    for (unsigned i = 0; i < r->ndests; i++)
        if (r->dests[i].port == port && memcmp(r->dests[i].addr, key.addr, 16) == 0)
            return r->dests[i].group;
    if (r->ndests == REPLAY_DESTS) {
        uint32_t h = port;
        for (size_t i = 0; i < alen; i++)
            h = h * 31 + addr[i];
        return h % r->groups;
    }
    key.group = r->ndests % r->groups;
    r->dests[r->ndests++] = key;
    return key.group;
}

/* The UDP datagram in an IP packet: its payload length and group, or false. */
static bool udp_of(struct replay *r, const unsigned char *ip, size_t len, struct replay_packet *p)
{
    const unsigned char *udp, *dst;
    size_t alen;

    if (len < 1)
        return false;
    if ((ip[0] >> 4) == 4) {
        size_t ihl = (size_t)(ip[0] & 0xf) * 4;
        /* not UDP, or a fragment after the first */
        if (len < 20 || ihl < 20 || ip[9] != 17 || (((ip[6] & 0x1f) << 8) | ip[7]) != 0 || len < ihl + 8)
            return false;
        udp = ip + ihl;
        dst = ip + 16;
        alen = 4;
    } else if ((ip[0] >> 4) == 6) {
        if (len < 48 || ip[6] != 17)
            return false;
        udp = ip + 40;
        dst = ip + 24;
        alen = 16;
    } else {
        return false;
    }
    size_t ulen = ((size_t)udp[4] << 8) | udp[5];
    if (ulen < 8)
        return false;
    p->length = ulen - 8;
    p->group = group_of(r, dst, alen, (uint16_t)((udp[2] << 8) | udp[3]));
    return true;
}

int replay_next(struct replay *r, struct replay_packet *p)
{
    struct pcap_pkthdr *h;
    const unsigned char *f;
    int rc;

    while ((rc = pcap_next_ex(r->pcap, &h, &f)) == 1) {
        long off = ip_offset(r, f, h->caplen);
        if (off < 0 || !udp_of(r, f + off, h->caplen - (size_t)off, p)) {
            r->skipped++;
            continue;
        }
        uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;  /* nano precision */
        if (!r->started) {
            r->started = true;
            r->first_ns = ns;
        }
        p->offset_ns = ns >= r->first_ns ? ns - r->first_ns : 0;
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    fprintf(stderr, "%s: --pcap: %s\n", app_name, pcap_geterr(r->pcap));
    return -1;
}

uint64_t replay_skipped(const struct replay *r)
{
    return r->skipped;
}

void replay_close(struct replay *r)
{
    pcap_close(r->pcap);
    free(r);
}
