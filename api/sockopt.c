/*
 * sockopt.c - setsockopt() and getsockopt(): Linux's options, their
 * defaults, limits and errors, carried by the socket and applied to its
 * lwIP pcb.
 *
 * One table, options[], says for each (level, name) which sockets have it,
 * what kind of value it takes and where the socket keeps it, its limits,
 * and Linux's error for each misuse.  The code below reads, checks, keeps
 * and reports a value by its kind alone; an entry names a handler only for
 * what is special about it.  What the table lacks is ENOPROTOOPT, as on
 * Linux.
 */
#include <errno.h>
#include <limits.h>
#include <linux/tcp.h>          /* the kernel's struct tcp_info, longer than glibc's */
#include <netinet/in.h>
#include <string.h>

#include "lwip/opt.h"

#include "addr.h"
#include "cc.h"
#include "membership.h"
#include "sock.h"
#include "sockopt.h"
#include "tcp.h"
#include "udp.h"

/* Linux's defaults: net.core.rmem_default/wmem_default for UDP; for TCP what
 * lwIP's buffers give, counted as Linux counts (twice the payload). */
#define UDP_DEFAULT_BUF 212992
#define SOCK_MIN_RCVBUF 2304
#define SOCK_MIN_SNDBUF 4608

/* Linux's bounds (include/net/tcp.h: MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL,
 * MAX_TCP_KEEPCNT, TCP_MIN_MSS, MAX_TCP_WINDOW). */
#define KEEPIDLE_MAX 32767
#define KEEPINTVL_MAX 32767
#define KEEPCNT_MAX 127
#define MAXSEG_MIN 88
#define MAXSEG_MAX 32767

void shunt_sockopt_defaults(struct shunt_sock *s)
{
    struct shunt_sockopts *o = &s->opt;

    memset(o, 0, sizeof(*o));
    o->rcvbuf.bytes = s->type == SOCK_STREAM ? 2 * TCP_WND : UDP_DEFAULT_BUF;
    o->sndbuf.bytes = s->type == SOCK_STREAM ? 2 * TCP_SND_BUF : UDP_DEFAULT_BUF;
    o->ttl = IP_DEFAULT_TTL;
    o->keepidle = 7200;
    o->keepintvl = 75;
    o->keepcnt = 9;
    o->mcast_ttl = 1;
    o->mcast_loop = true;
    o->cc = shunt_cc_default();
}

/* ---- what the table says of an option ------------------------------------ */

/* Which sockets have an option: one with its protocol and its family. */
#define ON_TCP   0x1u
#define ON_UDP   0x2u
#define ON_INET  0x4u
#define ON_INET6 0x8u
#define ON_PROTOCOLS (ON_TCP | ON_UDP)
#define ON_FAMILIES (ON_INET | ON_INET6)

enum kind {
    KIND_BOOL,          /* an int, kept as a bool */
    KIND_INT,           /* an int within [min, max] */
    KIND_BUFSIZE,       /* an int, kept doubled (at least min) as Linux keeps
                         * SO_RCVBUF and SO_SNDBUF, in a struct shunt_bufsize */
    KIND_TIMEVAL,       /* a struct timeval */
    KIND_LINGER,        /* a struct linger */
    KIND_STATE,         /* an int the socket reports, which none can set */
    KIND_CUSTOM,        /* the entry's set and get do it all */
};

/* How an int may come. */
#define BYTE_OK 0x1u    /* as one byte too (IPv4's options, as Linux) */
#define RESETS  0x2u    /* -1 sets the entry's reset value: Linux's default */

struct sockopt {
    int level;
    int name;
    unsigned on;        /* ON_*: the sockets that have it */
    int refused_on_tcp; /* setsockopt()'s error on a TCP socket, where Linux
                         * refuses one (multicast is for datagrams); or 0 */
    enum kind kind;
    unsigned flags;     /* BYTE_OK, RESETS */
    size_t at;          /* where struct shunt_sockopts keeps the value */
    int min, max;       /* KIND_INT: its range; KIND_BUFSIZE: min is the floor */
    int reset;          /* RESETS: what -1 stands for */
    /* An int (KIND_BOOL, _INT, _BUFSIZE) that setting does more with than
     * keep it: keep the value, valid already, and do the rest. */
    int (*store)(struct shunt_sock *s, const struct sockopt *o, int v);
    /* The int getsockopt() reports where it is not the one kept
     * (KIND_INT), or for KIND_STATE. */
    int (*report)(struct shunt_sock *s);
    /* KIND_CUSTOM; NULL: not in that direction (ENOPROTOOPT). */
    int (*set)(struct shunt_sock *s, const struct sockopt *o, const void *val, socklen_t len);
    int (*get)(struct shunt_sock *s, const struct sockopt *o, void *val, socklen_t *len);
};

/* ---- reading, keeping and reporting a value ------------------------------- */

/* An int: Linux checks the length first, then reads (EFAULT); with
 * BYTE_OK, a shorter value is its first byte. */
static int read_int(const struct sockopt *o, const void *val, socklen_t len, int *out)
{
    if ((o->flags & BYTE_OK) && val != NULL && len >= 1 && len < sizeof(int)) {
        *out = *(const unsigned char *)val;
        return 0;
    }
    if (len < sizeof(int))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(out, val, sizeof(int));
    return 0;
}

/* A timeout: unlike an int, a NULL one is EFAULT before a short one is
 * EINVAL. */
static int read_timeval(const void *val, socklen_t len, struct timeval *out)
{
    struct timeval tv;

    if (val == NULL)
        return -EFAULT;
    if (len < sizeof(tv))
        return -EINVAL;
    memcpy(&tv, val, sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    if (tv.tv_sec < 0) {                /* Linux: a negative timeout ends at once */
        tv.tv_sec = 0;
        tv.tv_usec = 1;
    }
    *out = tv;
    return 0;
}

/* SO_LINGER's value; l_onoff kept as 0 or 1, as getsockopt() reports it. */
static int read_linger(const void *val, socklen_t len, struct linger *out)
{
    if (val == NULL)
        return -EFAULT;
    if (len < sizeof(*out))
        return -EINVAL;
    memcpy(out, val, sizeof(*out));
    out->l_onoff = out->l_onoff != 0;
    return 0;
}

/* A buffer size as Linux stores it: doubled, with a floor (which is what
 * any negative size gets). */
static int buffer_size(int val, int floor)
{
    if (val > INT_MAX / 2)
        return INT_MAX;
    if (val < 0)
        return floor;
    return val * 2 < floor ? floor : val * 2;
}

/* Keep the int v, valid already, as o's kind keeps it. */
static int store_value(struct shunt_sock *s, const struct sockopt *o, int v)
{
    void *field = (char *)&s->opt + o->at;

    switch (o->kind) {
    case KIND_BOOL:
        *(bool *)field = v != 0;
        break;
    case KIND_BUFSIZE: {
        struct shunt_bufsize *b = field;
        b->bytes = buffer_size(v, o->min);
        b->set = true;
        break;
    }
    default:
        *(int *)field = v;
        break;
    }
    return 0;
}

/* Copy size bytes of value out, truncated to *len; *len becomes the size. */
static int put(const void *value, size_t size, void *val, socklen_t *len)
{
    if (len == NULL || (val == NULL && *len > 0))
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    socklen_t n = *len < size ? *len : (socklen_t)size;
    if (n > 0)                          /* val may be NULL for none */
        memcpy(val, value, n);
    *len = n;
    return 0;
}

static int put_int(int v, void *val, socklen_t *len)
{
    return put(&v, sizeof(v), val, len);
}

/* ---- what is special about some options ----------------------------------- */

/* SO_RCVBUF also bounds a UDP socket's ring of datagrams: grow it. */
static int store_rcvbuf(struct shunt_sock *s, const struct sockopt *o, int v)
{
    store_value(s, o, v);
    return s->type == SOCK_DGRAM ? shunt_udp_resize(s) : 0;
}

/* TCP_NODELAY on, or TCP_CORK off: what is held back leaves now, as on
 * Linux. */
static int store_nodelay(struct shunt_sock *s, const struct sockopt *o, int v)
{
    store_value(s, o, v);
    if (s->opt.nodelay)
        shunt_tcp_push(s);
    return 0;
}

static int store_cork(struct shunt_sock *s, const struct sockopt *o, int v)
{
    store_value(s, o, v);
    if (!s->opt.cork)
        shunt_tcp_push(s);
    return 0;
}

/*
 * TCP_DEFER_ACCEPT: Linux keeps seconds as the number of SYN-ACK
 * retransmissions that last as long (the first after 1 s, each wait twice
 * the last, at most 120 s) and reports that back in seconds, rounded up
 * (secs_to_retrans, retrans_to_secs in net/ipv4/tcp.c).
 */
#define DEFER_FIRST_S 1                 /* TCP_TIMEOUT_INIT */
#define DEFER_MAX_S 120                 /* TCP_RTO_MAX */
#define DEFER_MAX_RETRANS 255

static int store_defer_accept(struct shunt_sock *s, const struct sockopt *o, int v)
{
    int retrans = 0;

    (void)o;
    for (int wait = DEFER_FIRST_S, period = 0; v > period && retrans < DEFER_MAX_RETRANS;
         retrans++) {
        period += wait;
        wait = wait * 2 > DEFER_MAX_S ? DEFER_MAX_S : wait * 2;
    }
    s->opt.defer_accept = retrans;
    return 0;
}

static int report_defer_accept(struct shunt_sock *s)
{
    int period = 0;

    for (int n = 0, wait = DEFER_FIRST_S; n < s->opt.defer_accept; n++) {
        period += wait;
        wait = wait * 2 > DEFER_MAX_S ? DEFER_MAX_S : wait * 2;
    }
    return period;
}

/* TCP_CONGESTION: an algorithm of the registry (port/cc.h) by name; the
 * protocol puts it on the connection. */
static int set_congestion(struct shunt_sock *s, const struct sockopt *o, const void *val,
                          socklen_t len)
{
    char name[SHUNT_CC_NAME_MAX];

    (void)o;
    if ((int)len < 1)
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    /* Linux reads at most TCP_CA_NAME_MAX - 1 bytes, up to a NUL. */
    size_t n = len < SHUNT_CC_NAME_MAX - 1 ? len : SHUNT_CC_NAME_MAX - 1;
    memcpy(name, val, n);
    name[n] = '\0';
    const struct shunt_cc_ops *cc = shunt_cc_find(name);
    if (cc == NULL)
        return -ENOENT;
    s->opt.cc = cc;
    return 0;
}

/* The name in a buffer of TCP_CA_NAME_MAX bytes, NUL-padded, as Linux's. */
static int get_congestion(struct shunt_sock *s, const struct sockopt *o, void *val,
                          socklen_t *len)
{
    char name[SHUNT_CC_NAME_MAX] = { 0 };

    (void)o;
    strcpy(name, s->opt.cc->name);
    return put(name, sizeof(name), val, len);
}

static int store_maxseg(struct shunt_sock *s, const struct sockopt *o, int v)
{
    store_value(s, o, v);
    shunt_tcp_maxseg_set(s);
    return 0;
}

/* TCP keeps IP_TOS's ECN bits for itself (Linux). */
static int store_tos(struct shunt_sock *s, const struct sockopt *o, int v)
{
    return store_value(s, o, s->type == SOCK_STREAM ? v & 0xfc : v & 0xff);
}

/* IPV6_V6ONLY chooses the pcb's address type: too late once bound (Linux). */
static int store_v6only(struct shunt_sock *s, const struct sockopt *o, int v)
{
    if (s->bound)
        return -EINVAL;
    return store_value(s, o, v);
}

static int report_type(struct shunt_sock *s)
{
    return s->type;
}

static int report_domain(struct shunt_sock *s)
{
    return s->family;
}

static int report_protocol(struct shunt_sock *s)
{
    return s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
}

static int report_acceptconn(struct shunt_sock *s)
{
    return shunt_tcp_listening(s);
}

static int report_maxseg(struct shunt_sock *s)
{
    return shunt_tcp_maxseg(s);
}

/* The membership options (api/membership.h). */
static int set_membership(struct shunt_sock *s, const struct sockopt *o, const void *val,
                          socklen_t len)
{
    return shunt_membership_set(s, o->level, o->name, val, len);
}

/* IP_MULTICAST_IF: an in_addr, or the interface address of an ip_mreq or
 * ip_mreqn (both have it second); INADDR_ANY lets the route choose. */
static int set_multicast_if(struct shunt_sock *s, const struct sockopt *o, const void *val,
                            socklen_t len)
{
    struct in_addr a;
    ip_addr_t ip;

    (void)o;
    if (len < sizeof(a))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(&a, len >= sizeof(struct ip_mreq) ?
               (const void *)&((const struct ip_mreq *)val)->imr_interface : val, sizeof(a));
    ip_addr_set_ip4_u32_val(ip, a.s_addr);
    if (a.s_addr != INADDR_ANY && !shunt_addr_is_local(&ip))
        return -EADDRNOTAVAIL;
    ip4_addr_set_u32(&s->opt.mcast_if, a.s_addr);
    return 0;
}

static int get_multicast_if(struct shunt_sock *s, const struct sockopt *o, void *val,
                            socklen_t *len)
{
    struct in_addr a = { ip4_addr_get_u32(&s->opt.mcast_if) };

    (void)o;
    return put(&a, sizeof(a), val, len);
}

static int get_tcp_info(struct shunt_sock *s, const struct sockopt *o, void *val,
                        socklen_t *len)
{
    struct tcp_info ti;

    (void)o;
    shunt_tcp_info(s, &ti);
    return put(&ti, sizeof(ti), val, len);
}

/* SO_TIMESTAMP* and SO_TIMESTAMPING*: api/timestamps.c's. */
static int set_timestamp(struct shunt_sock *s, const struct sockopt *o, const void *val,
                         socklen_t len)
{
    return shunt_tstamp_setopt(s, o->name, val, len);
}

static int get_timestamp(struct shunt_sock *s, const struct sockopt *o, void *val, socklen_t *len)
{
    return shunt_tstamp_getopt(s, o->name, val, len);
}

/* ---- the table ------------------------------------------------------------ */

/* Every socket has SOL_SOCKET and IPPROTO_IP (an IPv6 socket talks IPv4 to
 * v4-mapped peers), TCP sockets IPPROTO_TCP, IPv6 sockets IPPROTO_IPV6. */
#define LEVEL_SOCKET(n) .level = SOL_SOCKET, .name = (n), .on = ON_PROTOCOLS | ON_FAMILIES
#define LEVEL_IP(n)     .level = IPPROTO_IP, .name = (n), .on = ON_PROTOCOLS | ON_FAMILIES
#define LEVEL_TCP(n)    .level = IPPROTO_TCP, .name = (n), .on = ON_TCP | ON_FAMILIES
#define LEVEL_IPV6(n)   .level = IPPROTO_IPV6, .name = (n), .on = ON_PROTOCOLS | ON_INET6

#define AT(field)           offsetof(struct shunt_sockopts, field)
#define BOOL(f)             .kind = KIND_BOOL, .at = AT(f)
#define INT(f, lo, hi)      .kind = KIND_INT, .at = AT(f), .min = (lo), .max = (hi)
#define BUFSIZE(f, floor)   .kind = KIND_BUFSIZE, .at = AT(f), .min = (floor)
#define TIMEVAL(f)          .kind = KIND_TIMEVAL, .at = AT(f)
#define LINGER(f)           .kind = KIND_LINGER, .at = AT(f)
#define STATE(fn)           .kind = KIND_STATE, .report = (fn)
#define CUSTOM(setter, getter) .kind = KIND_CUSTOM, .set = (setter), .get = (getter)

static const struct sockopt options[] = {
    { LEVEL_SOCKET(SO_TYPE), STATE(report_type) },
    { LEVEL_SOCKET(SO_DOMAIN), STATE(report_domain) },
    { LEVEL_SOCKET(SO_PROTOCOL), STATE(report_protocol) },
    { LEVEL_SOCKET(SO_ACCEPTCONN), STATE(report_acceptconn) },
    { LEVEL_SOCKET(SO_ERROR), STATE(shunt_sock_take_error) },  /* reading clears it */
    { LEVEL_SOCKET(SO_REUSEADDR), BOOL(reuseaddr) },
    { LEVEL_SOCKET(SO_REUSEPORT), BOOL(reuseport) },
    { LEVEL_SOCKET(SO_KEEPALIVE), BOOL(keepalive) },
    { LEVEL_SOCKET(SO_BROADCAST), BOOL(broadcast) },
    { LEVEL_SOCKET(SO_RCVBUF), BUFSIZE(rcvbuf, SOCK_MIN_RCVBUF), .store = store_rcvbuf },
    { LEVEL_SOCKET(SO_SNDBUF), BUFSIZE(sndbuf, SOCK_MIN_SNDBUF) },
    { LEVEL_SOCKET(SO_RCVTIMEO), TIMEVAL(rcvtimeo) },
    { LEVEL_SOCKET(SO_SNDTIMEO), TIMEVAL(sndtimeo) },
    { LEVEL_SOCKET(SO_LINGER), LINGER(linger) },
    { LEVEL_SOCKET(SO_TIMESTAMP_OLD), CUSTOM(set_timestamp, get_timestamp) },
    { LEVEL_SOCKET(SO_TIMESTAMPNS_OLD), CUSTOM(set_timestamp, get_timestamp) },
    { LEVEL_SOCKET(SO_TIMESTAMPING_OLD), CUSTOM(set_timestamp, get_timestamp) },
    { LEVEL_SOCKET(SO_TIMESTAMP_NEW), CUSTOM(set_timestamp, get_timestamp) },
    { LEVEL_SOCKET(SO_TIMESTAMPNS_NEW), CUSTOM(set_timestamp, get_timestamp) },
    { LEVEL_SOCKET(SO_TIMESTAMPING_NEW), CUSTOM(set_timestamp, get_timestamp) },

    { LEVEL_TCP(TCP_NODELAY), BOOL(nodelay), .store = store_nodelay },
    { LEVEL_TCP(TCP_KEEPIDLE), INT(keepidle, 1, KEEPIDLE_MAX) },
    { LEVEL_TCP(TCP_KEEPINTVL), INT(keepintvl, 1, KEEPINTVL_MAX) },
    { LEVEL_TCP(TCP_KEEPCNT), INT(keepcnt, 1, KEEPCNT_MAX) },
    { LEVEL_TCP(TCP_MAXSEG), INT(maxseg, MAXSEG_MIN, MAXSEG_MAX), .store = store_maxseg,
      .report = report_maxseg },
    { LEVEL_TCP(TCP_INFO), CUSTOM(NULL, get_tcp_info) },
    { LEVEL_TCP(TCP_CORK), BOOL(cork), .store = store_cork },
    { LEVEL_TCP(TCP_DEFER_ACCEPT), INT(defer_accept, INT_MIN, INT_MAX),
      .store = store_defer_accept, .report = report_defer_accept },
    { LEVEL_TCP(TCP_CONGESTION), CUSTOM(set_congestion, get_congestion) },

    { LEVEL_IP(IP_TTL), INT(ttl, 1, 255), .flags = BYTE_OK | RESETS, .reset = IP_DEFAULT_TTL },
    { LEVEL_IP(IP_TOS), INT(tos, INT_MIN, INT_MAX), .flags = BYTE_OK, .store = store_tos },
    { LEVEL_IP(IP_MULTICAST_TTL), INT(mcast_ttl, 0, 255), .flags = BYTE_OK | RESETS, .reset = 1,
      .refused_on_tcp = EINVAL },
    { LEVEL_IP(IP_MULTICAST_LOOP), BOOL(mcast_loop), .flags = BYTE_OK },
    { LEVEL_IP(IP_MULTICAST_IF), CUSTOM(set_multicast_if, get_multicast_if),
      .refused_on_tcp = EINVAL },
    { LEVEL_IP(IP_ADD_MEMBERSHIP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(IP_DROP_MEMBERSHIP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(IP_ADD_SOURCE_MEMBERSHIP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(IP_DROP_SOURCE_MEMBERSHIP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(IP_BLOCK_SOURCE), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(IP_UNBLOCK_SOURCE), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(MCAST_JOIN_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(MCAST_LEAVE_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(MCAST_JOIN_SOURCE_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(MCAST_LEAVE_SOURCE_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(MCAST_BLOCK_SOURCE), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IP(MCAST_UNBLOCK_SOURCE), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },

    { LEVEL_IPV6(IPV6_V6ONLY), BOOL(v6only), .store = store_v6only },
    { LEVEL_IPV6(IPV6_JOIN_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IPV6(IPV6_LEAVE_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IPV6(MCAST_JOIN_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IPV6(MCAST_LEAVE_GROUP), CUSTOM(set_membership, NULL), .refused_on_tcp = EPROTO },
    { LEVEL_IPV6(IPV6_UNICAST_HOPS), INT(ttl, 0, 255), .flags = RESETS, .reset = IP_DEFAULT_TTL },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* ---- finding an option ---------------------------------------------------- */

static bool has(const struct sockopt *o, const struct shunt_sock *s)
{
    unsigned protocol = s->type == SOCK_STREAM ? ON_TCP : ON_UDP;
    unsigned family = s->family == AF_INET ? ON_INET : ON_INET6;

    return (o->on & protocol) && (o->on & family);
}

/* The entry for level and name if s has that option, else NULL. */
static const struct sockopt *find(const struct shunt_sock *s, int level, int name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].level == level && options[i].name == name)
            return has(&options[i], s) ? &options[i] : NULL;
    return NULL;
}

/* Whether s has any option at level (getsockopt() tells the two apart). */
static bool has_level(const struct shunt_sock *s, int level)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].level == level && has(&options[i], s))
            return true;
    return false;
}

/* ---- setsockopt and getsockopt -------------------------------------------- */

static int set_value(struct shunt_sock *s, const struct sockopt *o, const void *val,
                     socklen_t len)
{
    void *field = (char *)&s->opt + o->at;
    int v, rc;

    switch (o->kind) {
    case KIND_BOOL:
    case KIND_INT:
    case KIND_BUFSIZE:
        if ((rc = read_int(o, val, len, &v)) != 0)
            return rc;
        if ((o->flags & RESETS) && v == -1)
            v = o->reset;
        if (o->kind == KIND_INT && (v < o->min || v > o->max))
            return -EINVAL;
        return o->store != NULL ? o->store(s, o, v) : store_value(s, o, v);
    case KIND_TIMEVAL:
        return read_timeval(val, len, field);
    case KIND_LINGER:
        return read_linger(val, len, field);
    case KIND_CUSTOM:
        return o->set != NULL ? o->set(s, o, val, len) : -ENOPROTOOPT;
    case KIND_STATE:
        break;
    }
    return -ENOPROTOOPT;
}

int shunt_sockopt_set(struct shunt_sock *s, int level, int name, const void *val,
                      socklen_t len)
{
    const struct sockopt *o = find(s, level, name);

    if (o == NULL)
        return -ENOPROTOOPT;
    if (o->refused_on_tcp != 0 && s->type == SOCK_STREAM)
        return -o->refused_on_tcp;
    int rc = set_value(s, o, val, len);
    if (rc == 0)
        s->proto->apply_options(s);
    return rc;
}

static int get_value(struct shunt_sock *s, const struct sockopt *o, void *val, socklen_t *len)
{
    const void *field = (const char *)&s->opt + o->at;

    switch (o->kind) {
    case KIND_BOOL:
        return put_int(*(const bool *)field, val, len);
    case KIND_INT:
        return put_int(o->report != NULL ? o->report(s) : *(const int *)field, val, len);
    case KIND_BUFSIZE:
        return put_int(((const struct shunt_bufsize *)field)->bytes, val, len);
    case KIND_TIMEVAL:
        return put(field, sizeof(struct timeval), val, len);
    case KIND_LINGER:
        return put(field, sizeof(struct linger), val, len);
    case KIND_STATE:
        return put_int(o->report(s), val, len);
    case KIND_CUSTOM:
        break;
    }
    return o->get != NULL ? o->get(s, o, val, len) : -ENOPROTOOPT;
}

/* getsockopt() at a level the socket lacks: IPv4 sockets say EOPNOTSUPP,
 * IPv6 ones ENOPROTOOPT (Linux's ip_getsockopt and ipv6_getsockopt). */
static int no_such_level(const struct shunt_sock *s)
{
    return s->family == AF_INET ? -EOPNOTSUPP : -ENOPROTOOPT;
}

int shunt_sockopt_get(struct shunt_sock *s, int level, int name, void *val, socklen_t *len)
{
    if (len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    if (!has_level(s, level))
        return no_such_level(s);
    const struct sockopt *o = find(s, level, name);
    return o != NULL ? get_value(s, o, val, len) : -ENOPROTOOPT;
}

