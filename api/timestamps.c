/*
 * timestamps.c - a socket's receive and transmit stamps as Linux delivers them,
 * and its latency histograms.
 */
#include "timestamps.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "epoll.h"
#include "sock.h"
#include "tcp.h"

/* Newer than some headers: the kernel's bits (include/uapi/linux/net_tstamp.h). */
#define TS_OPT_ID_TCP (1u << 16)
#define TS_OPT_RX_FILTER (1u << 17)
#define TS_KNOWN ((1u << 18) - 1)       /* up to OPT_RX_FILTER */
#define TS_TX_RECORD (SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_TX_SOFTWARE | \
                      SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_TX_ACK)

/* The stamps' layouts by cmsg type (the kernel's uapi time types). */
struct ts_old_timeval { long tv_sec; long tv_usec; };
struct ts_sock_timeval { int64_t tv_sec; int64_t tv_usec; };
struct ts_old_timespec { long tv_sec; long tv_nsec; };
struct ts_timespec64 { int64_t tv_sec; long long tv_nsec; };

/* Linux's IP_RECVERR / IPV6_RECVERR payload. */
struct errhdr4 { struct sock_extended_err ee; struct sockaddr_in offender; };
struct errhdr6 { struct sock_extended_err ee; struct sockaddr_in6 offender; };

void shunt_tstamp_inherit(struct shunt_sock *child, const struct shunt_sock *listener)
{
    const struct shunt_tsock *l = &listener->ts;
    struct shunt_tsock *t = &child->ts;

    t->rcv = l->rcv;
    t->rcv_ns = l->rcv_ns;
    t->new_layout = l->new_layout;
    t->flags = l->flags;
    if ((t->flags & SOF_TIMESTAMPING_TX_SOFTWARE) && t->errq == NULL)
        t->errq = calloc(SHUNT_ERRQUEUE, sizeof(*t->errq));
}

void shunt_tstamp_free(struct shunt_sock *s)
{
    free(s->ts.errq);
    s->ts.errq = NULL;
}

/* ---- the options ------------------------------------------------------------ */

static int set_timestamping(struct shunt_sock *s, int name, uint32_t flags, int bind_phc)
{
    struct shunt_tsock *t = &s->ts;

    (void)bind_phc;
    if (flags & ~TS_KNOWN)
        return -EINVAL;
    if ((flags & TS_OPT_ID_TCP) && !(flags & SOF_TIMESTAMPING_OPT_ID))
        return -EINVAL;
    uint32_t key = t->key;
    if ((flags & SOF_TIMESTAMPING_OPT_ID) && !(t->flags & SOF_TIMESTAMPING_OPT_ID)) {
        if (s->type == SOCK_STREAM) {
            int rc = shunt_tcp_tskey_base(s, (flags & TS_OPT_ID_TCP) != 0, &key);
            if (rc != 0)
                return rc;
        } else {
            key = 0;
        }
    }
    if ((flags & SOF_TIMESTAMPING_OPT_STATS) && !(flags & SOF_TIMESTAMPING_OPT_TSONLY))
        return -EINVAL;
    /* Binding a PHC needs a bound device, which Shunt's sockets have not. */
    if (flags & SOF_TIMESTAMPING_BIND_PHC)
        return -EOPNOTSUPP;
    if ((flags & SOF_TIMESTAMPING_TX_SOFTWARE) && t->errq == NULL &&
        (t->errq = calloc(SHUNT_ERRQUEUE, sizeof(*t->errq))) == NULL)
        return -ENOMEM;
    t->key = key;
    t->flags = flags;
    t->new_layout = name == SO_TIMESTAMPING_NEW;
    return 0;
}

int shunt_tstamp_setopt(struct shunt_sock *s, int name, const void *val, socklen_t len)
{
    struct shunt_tsock *t = &s->ts;
    int v;

    if (len < sizeof(int))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(&v, val, sizeof(v));
    switch (name) {
    case SO_TIMESTAMPING_OLD:
    case SO_TIMESTAMPING_NEW: {
        struct so_timestamping st = { v, 0 };
        if (len == sizeof(st))
            memcpy(&st, val, sizeof(st));
        return set_timestamping(s, name, (uint32_t)st.flags, st.bind_phc);
    }
    default:                            /* SO_TIMESTAMP{,NS}_{OLD,NEW} */
        t->new_layout = name == SO_TIMESTAMP_NEW || name == SO_TIMESTAMPNS_NEW;
        t->rcv = v != 0;
        t->rcv_ns = v != 0 && (name == SO_TIMESTAMPNS_OLD || name == SO_TIMESTAMPNS_NEW);
        return 0;
    }
}

int shunt_tstamp_getopt(struct shunt_sock *s, int name, void *val, socklen_t *len)
{
    const struct shunt_tsock *t = &s->ts;
    int v = 0;
    size_t size = sizeof(v);
    struct so_timestamping st = { 0, 0 };
    const void *out = &v;

    switch (name) {
    case SO_TIMESTAMP_OLD:
        v = t->rcv && !t->new_layout && !t->rcv_ns;
        break;
    case SO_TIMESTAMPNS_OLD:
        v = t->rcv_ns && !t->new_layout;
        break;
    case SO_TIMESTAMP_NEW:             /* (Linux's test leaves out _NS here) */
        v = t->rcv && t->new_layout;
        break;
    case SO_TIMESTAMPNS_NEW:
        v = t->rcv_ns && t->new_layout;
        break;
    default:                            /* SO_TIMESTAMPING_{OLD,NEW} */
        /* _NEW reports the flags only when they were set through it. */
        if (name == SO_TIMESTAMPING_OLD || t->new_layout)
            st.flags = (int)t->flags;
        out = &st;
        size = sizeof(st);
        break;
    }
    if ((int)*len < 0)
        return -EINVAL;
    socklen_t n = *len < size ? *len : (socklen_t)size;
    if (n > 0 && val == NULL)
        return -EFAULT;
    memcpy(val, out, n);
    *len = n;
    return 0;
}

/* ---- control messages -------------------------------------------------------- */

/* Where the next control message goes, as the kernel's put_cmsg() moves. */
struct cbuf {
    char *at;
    size_t left;
    int *msg_flags;
};

/* put_cmsg(): a header and the data, cut short (MSG_CTRUNC) to the room. */
static void put_cmsg(struct cbuf *b, int level, int type, const void *data, size_t len)
{
    struct cmsghdr h;
    size_t want = CMSG_LEN(len);

    if (b->at == NULL || b->left < sizeof(h)) {
        *b->msg_flags |= MSG_CTRUNC;
        return;
    }
    if (b->left < want) {
        *b->msg_flags |= MSG_CTRUNC;
        want = b->left;
    }
    h.cmsg_len = want;
    h.cmsg_level = level;
    h.cmsg_type = type;
    memcpy(b->at, &h, sizeof(h));
    memcpy(b->at + CMSG_LEN(0), data, want - CMSG_LEN(0));
    size_t used = CMSG_SPACE(len) < b->left ? CMSG_SPACE(len) : b->left;
    b->at += used;
    b->left -= used;
}

static void put_stamp(struct cbuf *b, const struct shunt_tsock *t, uint64_t real)
{
    int64_t sec = (int64_t)(real / 1000000000u), nsec = (int64_t)(real % 1000000000u);

    if (!t->rcv_ns && t->new_layout) {
        struct ts_sock_timeval tv = { sec, nsec / 1000 };
        put_cmsg(b, SOL_SOCKET, SO_TIMESTAMP_NEW, &tv, sizeof(tv));
    } else if (!t->rcv_ns) {
        struct ts_old_timeval tv = { (long)sec, (long)(nsec / 1000) };
        put_cmsg(b, SOL_SOCKET, SO_TIMESTAMP_OLD, &tv, sizeof(tv));
    } else if (t->new_layout) {
        struct ts_timespec64 ts = { sec, nsec };
        put_cmsg(b, SOL_SOCKET, SO_TIMESTAMPNS_NEW, &ts, sizeof(ts));
    } else {
        struct ts_old_timespec ts = { (long)sec, (long)nsec };
        put_cmsg(b, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &ts, sizeof(ts));
    }
}

/* SCM_TIMESTAMPING with ts[0] the software stamp and ts[2] the port's
 * (either may be 0: absent). */
static void put_timestamping(struct cbuf *b, const struct shunt_tsock *t, uint64_t sw, uint64_t hw)
{
    struct ts_timespec64 ts[3];

    memset(ts, 0, sizeof(ts));
    ts[0] = (struct ts_timespec64){ (int64_t)(sw / 1000000000u), (long long)(sw % 1000000000u) };
    ts[2] = (struct ts_timespec64){ (int64_t)(hw / 1000000000u), (long long)(hw % 1000000000u) };
    /* On 64-bit both layouts are three pairs of 64-bit words; only the type
     * tells them apart. */
    put_cmsg(b, SOL_SOCKET, t->new_layout ? SO_TIMESTAMPING_NEW : SO_TIMESTAMPING_OLD, ts,
             sizeof(ts));
}

/* The software and hardware stamps SO_TIMESTAMPING delivers of st (0: not). */
static bool timestamping_of(const struct shunt_tsock *t, const struct shunt_stamp *st, bool errq,
                            uint64_t *sw, uint64_t *hw)
{
    bool filter = (t->flags & TS_OPT_RX_FILTER) != 0;

    *sw = (t->flags & SOF_TIMESTAMPING_SOFTWARE) &&
          ((t->flags & SOF_TIMESTAMPING_RX_SOFTWARE) || errq || !filter) ? st->real_ns : 0;
    *hw = (t->flags & SOF_TIMESTAMPING_RAW_HARDWARE) &&
          ((t->flags & SOF_TIMESTAMPING_RX_HARDWARE) || !filter) ? st->hw_real_ns : 0;
    return *sw != 0 || *hw != 0;
}

static struct cbuf cbuf_of(struct msghdr *msg)
{
    return (struct cbuf){ msg->msg_control, msg->msg_control != NULL ? msg->msg_controllen : 0,
                          &msg->msg_flags };
}

static void cbuf_done(struct cbuf *b, struct msghdr *msg)
{
    msg->msg_controllen = msg->msg_control != NULL ? (size_t)(b->at - (char *)msg->msg_control) : 0;
}

void shunt_tstamp_cmsgs(struct shunt_sock *s, struct msghdr *msg)
{
    const struct shunt_tsock *t = &s->ts;
    struct cbuf b = cbuf_of(msg);
    uint64_t sw, hw;

    if (t->have_rx) {
        if (t->rcv)
            put_stamp(&b, t, t->last_rx.real_ns);
        if (timestamping_of(t, &t->last_rx, false, &sw, &hw))
            put_timestamping(&b, t, sw, hw);
    }
    cbuf_done(&b, msg);
}

ssize_t shunt_tstamp_errqueue(struct shunt_sock *s, struct msghdr *msg, int flags)
{
    struct shunt_tsock *t = &s->ts;
    struct cbuf b = cbuf_of(msg);
    uint64_t sw, hw;

    (void)flags;                        /* MSG_PEEK too takes it, as Linux */
    if (t->errq_count == 0)
        return -EAGAIN;
    struct shunt_errq_entry e = t->errq[t->errq_head];
    t->errq_head = (t->errq_head + 1) % SHUNT_ERRQUEUE;
    t->errq_count--;

    msg->msg_namelen = 0;
    if (t->rcv)
        put_stamp(&b, t, e.sent.real_ns);
    if (timestamping_of(t, &e.sent, true, &sw, &hw))
        put_timestamping(&b, t, sw, hw);
    struct sock_extended_err ee = {
        .ee_errno = ENOMSG, .ee_origin = SO_EE_ORIGIN_TIMESTAMPING, .ee_info = SCM_TSTAMP_SND,
    };
    ee.ee_data = e.id;
    if (s->family == AF_INET) {
        struct errhdr4 h;
        memset(&h, 0, sizeof(h));
        h.ee = ee;
        put_cmsg(&b, SOL_IP, IP_RECVERR, &h, sizeof(h));
    } else {
        struct errhdr6 h;
        memset(&h, 0, sizeof(h));
        h.ee = ee;
        put_cmsg(&b, SOL_IPV6, IPV6_RECVERR, &h, sizeof(h));
    }
    cbuf_done(&b, msg);
    msg->msg_flags |= MSG_ERRQUEUE;
    return 0;                           /* OPT_TSONLY's: no copy of the packet */
}

/* ---- receiving ---------------------------------------------------------------- */

void shunt_tstamp_read_dgram(struct shunt_sock *s, const struct shunt_stamp *at, bool peek)
{
    struct shunt_tsock *t = &s->ts;

    t->last_rx = *at;
    t->have_rx = true;
    if (!peek)
        shunt_lat_record(&t->queued, shunt_sock_now_ns() - at->ns);
}

void shunt_tstamp_tcp_arrived(struct shunt_sock *s, uint32_t len)
{
    struct shunt_tsock *t = &s->ts;

    t->rx_got += len;
    if (t->rxs_count == SHUNT_RX_STAMPS) {
        /* Full: the newest covers these bytes too (its stamp is older). */
        t->rxs[(t->rxs_head + t->rxs_count - 1) % SHUNT_RX_STAMPS].end = t->rx_got;
        return;
    }
    struct shunt_rx_stamp *r = &t->rxs[(t->rxs_head + t->rxs_count) % SHUNT_RX_STAMPS];
    shunt_tstamp_rx(&r->at);
    r->end = t->rx_got;
    t->rxs_count++;
}

void shunt_tstamp_tcp_read(struct shunt_sock *s, uint32_t n, bool peek)
{
    struct shunt_tsock *t = &s->ts;
    uint32_t to = t->rx_read + n;
    uint64_t now = shunt_sock_now_ns();

    t->have_rx = false;
    if (n == 0)
        return;
    /* The stamp of the segment the last byte read came in, as Linux's
     * tcp_recvmsg reports the last skb's. */
    for (unsigned i = 0; i < t->rxs_count; i++) {
        const struct shunt_rx_stamp *r = &t->rxs[(t->rxs_head + i) % SHUNT_RX_STAMPS];
        if ((int32_t)(r->end - to) >= 0) {
            t->last_rx = r->at;
            t->have_rx = true;
            break;
        }
    }
    if (peek)
        return;
    /* Segments read to their end leave, each a sample of time queued. */
    while (t->rxs_count > 0 && (int32_t)(t->rxs[t->rxs_head].end - to) <= 0) {
        shunt_lat_record(&t->queued, now - t->rxs[t->rxs_head].at.ns);
        t->rxs_head = (t->rxs_head + 1) % SHUNT_RX_STAMPS;
        t->rxs_count--;
    }
    t->rx_read = to;
}

/* ---- sending ------------------------------------------------------------------- */

static void queue_error(struct shunt_sock *s, uint32_t id, const struct shunt_stamp *sent)
{
    struct shunt_tsock *t = &s->ts;

    if (t->errq == NULL || t->errq_count == SHUNT_ERRQUEUE)
        return;                         /* Linux drops past SO_RCVBUF too */
    t->errq[(t->errq_head + t->errq_count) % SHUNT_ERRQUEUE] = (struct shunt_errq_entry){ id, *sent };
    t->errq_count++;
    shunt_sock_wakeup(s);
}

void shunt_tstamp_dgram_sent(struct shunt_sock *s, uint64_t write_ns)
{
    struct shunt_tsock *t = &s->ts;
    struct shunt_stamp now;

    shunt_tstamp_now(&now);
    shunt_lat_record(&t->tx_wait, now.ns - write_ns);
    if (!(t->flags & TS_TX_RECORD))
        return;
    uint32_t id = (t->flags & SOF_TIMESTAMPING_OPT_ID) ? t->key++ : 0;
    if (t->flags & SOF_TIMESTAMPING_TX_SOFTWARE)
        queue_error(s, id, &now);
}

void shunt_tstamp_tcp_written(struct shunt_sock *s, uint32_t end, uint64_t write_ns)
{
    struct shunt_tsock *t = &s->ts;

    if (t->pend_count == SHUNT_TX_PENDING)
        return;
    t->pend[(t->pend_head + t->pend_count) % SHUNT_TX_PENDING] = (struct shunt_tx_pending){
        end, (t->flags & SOF_TIMESTAMPING_TX_SOFTWARE) != 0, write_ns };
    t->pend_count++;
}

void shunt_tstamp_tcp_segment(struct shunt_sock *s, uint32_t seq, uint32_t len)
{
    struct shunt_tsock *t = &s->ts;
    struct shunt_stamp now;
    bool stamped = false;

    /* Every write whose last byte is in the segment (or before it) is out. */
    while (t->pend_count > 0 && (int32_t)(t->pend[t->pend_head].end - (seq + len)) <= 0) {
        const struct shunt_tx_pending *p = &t->pend[t->pend_head];
        if (!stamped) {
            shunt_tstamp_now(&now);
            stamped = true;
        }
        shunt_lat_record(&t->tx_wait, now.ns - p->write_ns);
        if (p->report)
            queue_error(s, (t->flags & SOF_TIMESTAMPING_OPT_ID) ? p->end - 1 - t->key : 0, &now);
        t->pend_head = (t->pend_head + 1) % SHUNT_TX_PENDING;
        t->pend_count--;
    }
}

/* ---- latency -------------------------------------------------------------------- */

static uint64_t slot_top(unsigned slot)
{
    if (slot < SHUNT_LAT_SUB)
        return slot;
    unsigned k = slot / SHUNT_LAT_SUB, j = slot % SHUNT_LAT_SUB;
    return (((uint64_t)SHUNT_LAT_SUB + j + 1) << (k - 1)) - 1;
}

uint64_t shunt_lat_percentile(const struct shunt_lat *h, double p)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < SHUNT_LAT_SLOTS; i++)
        total += h->counts[i];
    if (total == 0)
        return 0;
    if (p >= 100)
        return h->max;
    uint64_t rank = (uint64_t)(p / 100 * (double)total + 0.5), seen = 0;
    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < SHUNT_LAT_SLOTS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t top = slot_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
