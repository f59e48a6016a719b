/*
 * fuzz-rx.c - libFuzzer target on Shunt's receive path: one stack instance
 * on net_ring (tests/pkt/ring.h), its clock driven by the input.
 *
 * The input's format is fuzz-rx.h's.  Once the input is spent and the stack
 * quiet, the frame balance must hold (stack/stats.h): if it does not,
 * ring_assert_balance aborts (tests/fuzz/nocheck.c), a crash to libFuzzer.
 * Then every connection is reset, the listeners and UDP sockets stay, and
 * the next input starts from a fresh handshake (the EAL starts once per
 * process).
 *
 * tests/fuzz/replay.c runs it without libFuzzer, over committed inputs.
 */
#include <netinet/tcp.h>
#undef TCP_MSS           /* glibc's historical one; lwIP's own follows */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "shunt/socket.h"

#include "frames.h"
#include "fuzz.h"
#include "fuzz-rx.h"
#include "pcb.h"
#include "ring.h"

enum { MAX_FDS = 16 };

static uint8_t frame[FRAME_MAX], out[FRAME_MAX], data[65536];
static int conn = -1, fds[MAX_FDS], nfds;
static int listener, udp4, udp6;

/* ---- the input, read front to back ---------------------------------------------- */

struct input {
    const uint8_t *p;
    size_t left;
};

static bool take(struct input *in, void *dst, size_t n)
{
    if (in->left < n)
        return false;
    if (n > 0)
        memcpy(dst, in->p, n);
    in->p += n;
    in->left -= n;
    return true;
}

static bool take8(struct input *in, uint8_t *v)
{
    return take(in, v, 1);
}

static bool take16(struct input *in, uint16_t *v)
{
    uint8_t b[2];

    if (!take(in, b, 2))
        return false;
    *v = (uint16_t)(b[0] | b[1] << 8);
    return true;
}

static bool take32(struct input *in, uint32_t *v)
{
    uint16_t lo, hi;

    if (!take16(in, &lo) || !take16(in, &hi))
        return false;
    *v = (uint32_t)lo | (uint32_t)hi << 16;
    return true;
}

/* ---- failures ------------------------------------------------------------------- */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz-rx: %s\n", what);
    abort();
}

static void drain_sent(void)
{
    while (ring_recv(out, sizeof(out)) > 0)
        ;
}

/* ---- frames the harness builds --------------------------------------------------- */

static size_t tcp_frame(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                        uint16_t win, const uint8_t *opt, size_t optlen, size_t len)
{
    memset(data, 'x', len);
    return frame_tcp4_opts(frame, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, sport, dport, flags,
                           seq, ack, win, opt, optlen, data, len);
}

/* The checksum field of an L4 header of protocol proto, or NULL. */
static uint16_t *l4_checksum(uint8_t proto, uint8_t *l4, size_t len)
{
    size_t at = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6
              : proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? 2 : 0;

    return at != 0 && len >= at + 2 ? (uint16_t *)(l4 + at) : NULL;
}

/* FIXED: the lengths the headers give made the frame's, and the checksums
 * right, so a mutation gets past the checks a wire's frame would pass. */
static void fix_frame(uint8_t *f, size_t n)
{
    if (n < sizeof(struct rte_ether_hdr))
        return;
    uint16_t type = rte_be_to_cpu_16(((struct rte_ether_hdr *)f)->ether_type);
    uint8_t *l3 = f + sizeof(struct rte_ether_hdr);
    size_t l3len = n - sizeof(struct rte_ether_hdr);

    if (type == RTE_ETHER_TYPE_IPV4 && l3len >= sizeof(struct rte_ipv4_hdr)) {
        struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
        size_t ihl = (ip->version_ihl & 0xf) * 4u;
        if (ihl < sizeof(*ip) || ihl > l3len)
            return;
        ip->total_length = rte_cpu_to_be_16((uint16_t)l3len);
        ip->hdr_checksum = 0;
        ip->hdr_checksum = rte_raw_cksum(ip, ihl) == 0xffff ? 0xffff : ~rte_raw_cksum(ip, ihl);
        bool fragment = (rte_be_to_cpu_16(ip->fragment_offset) &
                         (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
        uint8_t *l4 = l3 + ihl;
        size_t l4len = l3len - ihl;
        uint16_t *sum = l4_checksum(ip->next_proto_id, l4, l4len);
        if (fragment || sum == NULL)
            return;
        if (ip->next_proto_id == IPPROTO_UDP)
            ((struct rte_udp_hdr *)l4)->dgram_len = rte_cpu_to_be_16((uint16_t)l4len);
        *sum = 0;
        if (ip->next_proto_id == IPPROTO_ICMP) {
            *sum = (uint16_t)~rte_raw_cksum(l4, l4len);
        } else {
            /* rte_ipv4_udptcp_cksum reads the header's options as L4 bytes. */
            struct rte_ipv4_hdr plain = *ip;
            plain.version_ihl = RTE_IPV4_VHL_DEF;
            plain.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(plain) + l4len));
            uint32_t s = rte_ipv4_phdr_cksum(&plain, 0) + rte_raw_cksum(l4, l4len);
            s = (s & 0xffff) + (s >> 16);
            s = (s & 0xffff) + (s >> 16);
            *sum = (uint16_t)~s;
            if (*sum == 0 && ip->next_proto_id == IPPROTO_UDP)
                *sum = 0xffff;
        }
    } else if (type == RTE_ETHER_TYPE_IPV6 && l3len >= sizeof(struct rte_ipv6_hdr)) {
        struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
        uint8_t *l4 = l3 + sizeof(*ip);
        size_t l4len = l3len - sizeof(*ip);
        ip->payload_len = rte_cpu_to_be_16((uint16_t)l4len);
        uint16_t *sum = l4_checksum(ip->proto, l4, l4len);
        if (sum == NULL || ip->proto == IPPROTO_ICMP)
            return;
        if (ip->proto == IPPROTO_UDP)
            ((struct rte_udp_hdr *)l4)->dgram_len = rte_cpu_to_be_16((uint16_t)l4len);
        *sum = 0;
        *sum = rte_ipv6_udptcp_cksum(ip, l4);
    }
}

/* ---- the connection every input starts on ----------------------------------------- */

/* The first byte's bits: which options the peer's SYN offers (mss, wscale
 * of bits 4-7, sackOK, timestamps). */
static void open_connection(uint8_t offer)
{
    uint8_t opt[40];
    size_t n = 0;

    if (offer & FUZZ_OFFER_MSS) {
        opt[n++] = 2, opt[n++] = 4, opt[n++] = 0x05, opt[n++] = 0xb4;    /* mss 1460 */
    }
    if (offer & FUZZ_OFFER_WSCALE) {
        opt[n++] = 1, opt[n++] = 3, opt[n++] = 3, opt[n++] = (uint8_t)(offer >> 4);
    }
    if (offer & FUZZ_OFFER_SACK) {
        opt[n++] = 1, opt[n++] = 1, opt[n++] = 4, opt[n++] = 2;          /* sackOK */
    }
    if (offer & FUZZ_OFFER_TS) {
        opt[n++] = 1, opt[n++] = 1, opt[n++] = 8, opt[n++] = 10;         /* TS 1 0 */
        memset(opt + n, 0, 8);
        opt[n + 3] = 1;
        n += 8;
    }
    /* The peer's address, learned afresh: the clock may have aged it out. */
    ring_send(frame, frame_arp(frame, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                               &(struct rte_ether_addr){ { 0 } }, SHUNT_IP4));
    drain_sent();
    ring_send(frame, tcp_frame(FUZZ_PEER_PORT, FUZZ_PORT, RTE_TCP_SYN_FLAG, FUZZ_PEER_ISN, 0,
                               65535, opt, n, 0));
    struct frame_seg s;
    size_t len = ring_recv(out, sizeof(out));
    if (len == 0 || !frame_tcp4_parse(out, len, &s) ||
        s.flags != (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
        fail("the handshake: no SYN-ACK");
    drain_sent();
    uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 2 };
    for (size_t i = 0; i + 10 <= s.optlen; i++)
        if (s.opt[i] == 8 && s.opt[i + 1] == 10)
            memcpy(ts + 8, s.opt + i + 2, 4);                       /* ecr: its val */
    ring_send(frame, tcp_frame(FUZZ_PEER_PORT, FUZZ_PORT, RTE_TCP_ACK_FLAG, FUZZ_PEER_ISN + 1,
                               s.seq + 1, 65535, ts, offer & FUZZ_OFFER_TS ? sizeof(ts) : 0, 0));
    conn = shunt_accept(listener, NULL, NULL);
    if (conn < 0)
        fail("the handshake: accept failed");
}

/* ---- records ----------------------------------------------------------------------- */

static void track(int fd)
{
    if (fd < 0)
        return;
    if (nfds == MAX_FDS)
        shunt_close(fd);
    else
        fds[nfds++] = fd;
}

static void call(uint8_t op, uint16_t arg)
{
    int one = 1, v = arg;

    switch (op % FUZZ_CALLS) {
    case FUZZ_WRITE:
        memset(data, 'w', arg);
        shunt_send(conn, data, arg, MSG_DONTWAIT | MSG_NOSIGNAL);
        break;
    case FUZZ_READ:
        shunt_recv(conn, data, arg, MSG_DONTWAIT);
        break;
    case FUZZ_SHUTDOWN:
        shunt_shutdown(conn, arg % 3);
        break;
    case FUZZ_CLOSE:
        if (conn >= 0)
            shunt_close(conn);
        conn = -1;
        break;
    case FUZZ_ACCEPT:
        track(shunt_accept(listener, NULL, NULL));
        break;
    case FUZZ_CONNECT: {
        int fd = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in to = { .sin_family = AF_INET,
                                  .sin_port = rte_cpu_to_be_16(40100 + arg % 8),
                                  .sin_addr.s_addr = rte_cpu_to_be_32(PEER_IP4) };
        shunt_connect(fd, (struct sockaddr *)&to, sizeof(to));
        track(fd);
        break;
    }
    case FUZZ_SETSOCKOPT:
        switch (arg % 4) {
        case 0:
            shunt_setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            break;
        case 1:
            shunt_setsockopt(conn, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
            break;
        case 2:
            shunt_setsockopt(conn, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
            shunt_setsockopt(conn, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof(one));
            shunt_setsockopt(conn, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof(one));
            break;
        default:
            shunt_setsockopt(conn, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
                             sizeof(struct linger));
            break;
        }
        break;
    case FUZZ_UDP: {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        int fd = arg & 1 ? udp6 : udp4;
        ssize_t n = shunt_recvfrom(fd, data, sizeof(data), MSG_DONTWAIT,
                                   (struct sockaddr *)&from, &fromlen);
        if (n >= 0)
            shunt_sendto(fd, data, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&from, fromlen);
        break;
    }
    }
}

/* One record; false when the input ended inside it. */
static bool record(struct input *in)
{
    uint8_t kind, to, flags, optlen, opt[40], op;
    uint16_t len, win, ms, arg;
    uint32_t dseq, dack;

    if (!take8(in, &kind))
        return false;
    switch (kind % FUZZ_RECORDS) {
    case FUZZ_FRAME:
    case FUZZ_FIXED:
        if (!take16(in, &len) || len > 1514 || !take(in, frame, len))
            return false;
        if (kind % FUZZ_RECORDS == FUZZ_FIXED)
            fix_frame(frame, len);
        ring_send(frame, len);
        return true;
    case FUZZ_SEG: {
        if (!take8(in, &to) || !take8(in, &flags) || !take32(in, &dseq) || !take32(in, &dack) ||
            !take16(in, &win) || !take8(in, &optlen))
            return false;
        optlen = optlen > 40 ? 40 : optlen & ~3;
        if (!take(in, opt, optlen) || !take16(in, &len))
            return false;
        uint16_t sport = FUZZ_PEER_PORT + (to >> 2) % 8;
        uint16_t dport = (to & 3) == 3 ? FUZZ_CLOSED_PORT : FUZZ_PORT;
        uint32_t seq = FUZZ_PEER_ISN, ack = 0;
        pcb_seqs(dport, sport, &seq, &ack);
        ring_send(frame, tcp_frame(sport, dport, flags, seq + dseq, ack + dack, win, opt, optlen,
                                   len % (FUZZ_MAX_DATA + 1)));
        return true;
    }
    case FUZZ_TIME:
        if (!take16(in, &ms))
            return false;
        ring_advance_ms(ms % (FUZZ_MAX_ADVANCE_MS + 1));
        return true;
    default:
        if (!take8(in, &op) || !take16(in, &arg))
            return false;
        call(op, arg);
        return true;
    }
}

/* ---- set up once, reset between inputs ---------------------------------------------- */

static int bound(int domain, int type, uint16_t port)
{
    struct sockaddr_storage a = { 0 };
    socklen_t len;
    int fd = shunt_socket(domain, type | SOCK_NONBLOCK, 0);

    if (domain == AF_INET) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
        a4->sin_family = AF_INET;
        a4->sin_port = rte_cpu_to_be_16(port);
        len = sizeof(*a4);
    } else {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = rte_cpu_to_be_16(port);
        len = sizeof(*a6);
    }
    if (fd < 0 || shunt_bind(fd, (struct sockaddr *)&a, len) != 0 ||
        (type == SOCK_STREAM && shunt_listen(fd, 8) != 0))
        fail("a socket of the fixture");
    return fd;
}

static void set_up(void)
{
    ring_stack_up();
    listener = bound(AF_INET, SOCK_STREAM, FUZZ_PORT);
    bound(AF_INET6, SOCK_STREAM, FUZZ_PORT6);
    udp4 = bound(AF_INET, SOCK_DGRAM, FUZZ_UDP_PORT);
    udp6 = bound(AF_INET6, SOCK_DGRAM, FUZZ_UDP_PORT6);
    drain_sent();
}

/* Sockets closed, what they still hold read, every connection reset. */
static void reset(void)
{
    int fd;

    if (conn >= 0)
        shunt_close(conn);
    conn = -1;
    while (nfds > 0)
        shunt_close(fds[--nfds]);
    while ((fd = shunt_accept(listener, NULL, NULL)) >= 0)
        shunt_close(fd);
    while (shunt_recv(udp4, data, sizeof(data), MSG_DONTWAIT) >= 0 ||
           shunt_recv(udp6, data, sizeof(data), MSG_DONTWAIT) >= 0)
        ;
    pcb_abort_all();
    drain_sent();
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    static bool up;
    struct input in = { bytes, size };
    uint8_t offer = 0;

    if (!up) {
        set_up();
        up = true;
    }
    take8(&in, &offer);
    open_connection(offer);
    while (record(&in))
        ;
    drain_sent();
    ring_assert_balance();              /* after the input */
    reset();
    ring_assert_balance();              /* and after the reset */
    return 0;
}
