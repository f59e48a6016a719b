/*
 * timestamps.h - a socket's timestamps and latency (api/timestamps.c): what
 * SO_TIMESTAMP, SO_TIMESTAMPNS and SO_TIMESTAMPING asked for, the control
 * messages recvmsg() gets, the error queue of transmit stamps that
 * recvmsg(MSG_ERRQUEUE) reads, and the socket's two latency histograms.
 *
 * As Linux (net/core/sock.c, net/socket.c __sock_recv_timestamp,
 * net/ipv4/tcp.c tcp_recv_timestamp, net/core/skbuff.c __skb_tstamp_tx):
 *
 *   - SO_TIMESTAMP{,NS}_{OLD,NEW} and SO_TIMESTAMPING_{OLD,NEW} set the
 *     socket's flags; _NEW makes every stamp the 64-bit layout (glibc on
 *     64-bit names _OLD; the layouts are the same size there, the cmsg
 *     types differ).  Received data carries SCM_TIMESTAMP{,NS} and, with
 *     SOF_TIMESTAMPING_SOFTWARE, SCM_TIMESTAMPING (ts[0] software, ts[2]
 *     the port's stamp with SOF_TIMESTAMPING_RAW_HARDWARE).
 *   - SOF_TIMESTAMPING_TX_SOFTWARE queues, for each datagram sent and for
 *     each TCP write (when the segment with its last byte leaves), an error
 *     queue entry: sock_extended_err (ENOMSG, SO_EE_ORIGIN_TIMESTAMPING,
 *     ee_info SCM_TSTAMP_SND, ee_data the OPT_ID counter) after
 *     SCM_TIMESTAMPING; POLLERR while one waits.
 *
 * The histograms (log-linear: 8 buckets a power of two, to 2^36 ns) count
 * how long received data waited in the socket before the application read
 * it, and how long written data waited before its frame went to the port.
 * Recording is a few instructions; nothing allocates on the data path.
 */
#ifndef SHUNT_API_TSTAMP_H
#define SHUNT_API_TSTAMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tstamp.h"             /* port/: struct shunt_stamp */

struct shunt_sock;

#define SHUNT_LAT_SUB_BITS 3
#define SHUNT_LAT_SUB (1u << SHUNT_LAT_SUB_BITS)
#define SHUNT_LAT_POWERS 37
#define SHUNT_LAT_SLOTS (SHUNT_LAT_SUB * SHUNT_LAT_POWERS)

struct shunt_lat {
    uint32_t counts[SHUNT_LAT_SLOTS];
    uint64_t n;
    uint64_t max;
};

/* Up to this many transmit stamps wait in a socket's error queue (Linux
 * bounds it by SO_RCVBUF); more are dropped, as Linux drops them. */
#define SHUNT_ERRQUEUE 64
/* TCP writes whose last byte has not left yet, followed for their stamp
 * and latency; a write past these goes unfollowed. */
#define SHUNT_TX_PENDING 32
/* TCP: received segments not read yet, for their stamps; past these, the
 * last one's covers the rest. */
#define SHUNT_RX_STAMPS 32

struct shunt_errq_entry {
    uint32_t id;                /* ee_data */
    struct shunt_stamp sent;
};

struct shunt_tx_pending {
    uint32_t end;               /* seq after the write's last byte */
    bool report;                /* an error queue entry wanted */
    uint64_t write_ns;
};

struct shunt_rx_stamp {
    uint32_t end;               /* the stream offset after the segment */
    struct shunt_stamp at;
};

struct shunt_tsock {
    /* The options (an accepted socket inherits them). */
    bool rcv;                   /* SOCK_RCVTSTAMP */
    bool rcv_ns;                /* SOCK_RCVTSTAMPNS */
    bool new_layout;            /* SOCK_TSTAMP_NEW */
    uint32_t flags;             /* SO_TIMESTAMPING's */
    uint32_t key;               /* OPT_ID: UDP's next id; TCP's base sequence */

    /* What the last receive returned (for its control messages). */
    struct shunt_stamp last_rx;
    bool have_rx;

    /* Transmit stamps waiting to be read (MSG_ERRQUEUE): SHUNT_ERRQUEUE,
     * allocated when transmit stamps are first asked for. */
    struct shunt_errq_entry *errq;
    unsigned errq_head, errq_count;
    /* TCP writes not out yet. */
    struct shunt_tx_pending pend[SHUNT_TX_PENDING];
    unsigned pend_head, pend_count;
    /* TCP segments not read yet. */
    struct shunt_rx_stamp rxs[SHUNT_RX_STAMPS];
    unsigned rxs_head, rxs_count;
    uint32_t rx_read;           /* TCP: stream offset read so far */
    uint32_t rx_got;            /* and received so far */

    struct shunt_lat queued;    /* RX stamp -> the application's read */
    struct shunt_lat tx_wait;   /* the application's write -> the port */
};

/* Free what the socket's stamps hold (with the socket). */
void shunt_tstamp_free(struct shunt_sock *s);

/* An accepted socket's options, from its listener. */
void shunt_tstamp_inherit(struct shunt_sock *child, const struct shunt_sock *listener);

/* setsockopt()/getsockopt() of SO_TIMESTAMP* and SO_TIMESTAMPING* (SOL_SOCKET). */
int shunt_tstamp_setopt(struct shunt_sock *s, int name, const void *val, socklen_t len);
int shunt_tstamp_getopt(struct shunt_sock *s, int name, void *val, socklen_t *len);

/* ---- receiving ------------------------------------------------------------ */

/* UDP: the datagram being read arrived at *at; it is consumed unless peek. */
void shunt_tstamp_read_dgram(struct shunt_sock *s, const struct shunt_stamp *at, bool peek);

/* TCP: len bytes arrived now (the frame lwIP is handling). */
void shunt_tstamp_tcp_arrived(struct shunt_sock *s, uint32_t len);
/* TCP: n bytes read (peek: looked at); the stamp is the last segment's. */
void shunt_tstamp_tcp_read(struct shunt_sock *s, uint32_t n, bool peek);

/* The control messages a receive that returned data writes into msg
 * (msg_controllen becomes what they take; MSG_CTRUNC when short). */
void shunt_tstamp_cmsgs(struct shunt_sock *s, struct msghdr *msg);

/* recvmsg(MSG_ERRQUEUE): the oldest transmit stamp, or -EAGAIN. */
ssize_t shunt_tstamp_errqueue(struct shunt_sock *s, struct msghdr *msg, int flags);

/* Whether a stamp waits in the error queue (EPOLLERR). */
static inline bool shunt_tstamp_pending(const struct shunt_tsock *t)
{
    return t->errq_count > 0;
}

/* ---- sending --------------------------------------------------------------- */

/* UDP: a datagram went to the port; write_ns when the call began. */
void shunt_tstamp_dgram_sent(struct shunt_sock *s, uint64_t write_ns);

/* TCP: a write's bytes end before seq end (snd_lbb plus what the cork
 * holds), written at write_ns. */
void shunt_tstamp_tcp_written(struct shunt_sock *s, uint32_t end, uint64_t write_ns);
/* TCP: the segment [seq, seq + len) leaves for the first time. */
void shunt_tstamp_tcp_segment(struct shunt_sock *s, uint32_t seq, uint32_t len);
/* TCP: OPT_ID set on a connection: its base is snd_una (OPT_ID_TCP:
 * write_seq), as Linux; -EINVAL when the socket has no connection. */
int shunt_tstamp_tcp_base(struct shunt_sock *s, uint32_t *base, bool write_seq);

/* ---- latency --------------------------------------------------------------- */

static inline void shunt_lat_record(struct shunt_lat *h, uint64_t v)
{
    unsigned slot;

    if (v < SHUNT_LAT_SUB) {
        slot = (unsigned)v;
    } else {
        unsigned msb = 63u - (unsigned)__builtin_clzll(v);
        unsigned shift = msb - SHUNT_LAT_SUB_BITS;
        slot = (msb - SHUNT_LAT_SUB_BITS + 1) * SHUNT_LAT_SUB + (unsigned)((v >> shift) - SHUNT_LAT_SUB);
        if (slot >= SHUNT_LAT_SLOTS)
            slot = SHUNT_LAT_SLOTS - 1;
    }
    if (h->counts[slot] != UINT32_MAX)
        h->counts[slot]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

/* The value at percentile p (0..100): the top of its bucket (never below
 * the true value, within 12.5% above it); max exactly. */
uint64_t shunt_lat_percentile(const struct shunt_lat *h, double p);

#endif /* SHUNT_API_TSTAMP_H */
