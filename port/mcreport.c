/*
 * mcreport.c - IGMP and MLD reports for the host (RFC 3376, RFC 3810,
 * RFC 2236, RFC 2710): what changed, what queriers ask, which version.
 */
#include "mcreport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/ip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/mld6.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"

/* The defaults a querier overrides (RFC 3376 8, RFC 3810 9). */
#define ROBUSTNESS 2
#define QUERY_INTERVAL_MS 125000u
#define QUERY_RESPONSE_MS 10000u
/* Unsolicited Report Interval: 1 s for IGMPv3 and MLDv2, 10 s before. */
#define UNSOLICITED_MS 1000u
#define UNSOLICITED_OLD_MS 10000u

/* Sources a pending change or answer names; more makes the change a full
 * record (TO_EX/TO_IN), and the answer the group's whole state. */
#define CHANGE_SOURCES 16
#define ANSWER_SOURCES 16

/* The longest report sent: fits the IPv6 minimum MTU (1280) with its
 * headers, and any sane IPv4 one. */
#define REPORT_MAX 1200

/* Messages (RFC 3376 4, RFC 3810 5, RFC 2236 2, RFC 2710 3). */
#define IGMP_QUERY 0x11
#define IGMP_V1_REPORT 0x12
#define IGMP_V2_REPORT 0x16
#define IGMP_V2_LEAVE 0x17
#define IGMP_V3_REPORT 0x22
#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143

/* Group record types (the same numbers in both). */
enum record_type {
    MODE_IS_INCLUDE = 1,
    MODE_IS_EXCLUDE = 2,
    CHANGE_TO_INCLUDE = 3,
    CHANGE_TO_EXCLUDE = 4,
    ALLOW_NEW_SOURCES = 5,
    BLOCK_OLD_SOURCES = 6,
};

struct shunt_mcreport_change {
    ip_addr_t group;
    uint32_t due;               /* when to send again */
    uint8_t full_left;          /* full records (v1/v2: report or leave) still to send */
    unsigned nsources;
    struct {
        ip_addr_t addr;
        bool allow;             /* ALLOW, else BLOCK */
        uint8_t left;           /* times still to send */
    } sources[CHANGE_SOURCES];
};

struct shunt_mcreport_answer {
    ip_addr_t group;
    uint32_t due;
    bool all;                   /* the group's whole state, not only sources[] */
    unsigned nsources;
    ip_addr_t sources[ANSWER_SOURCES];
};

/* ---- time and versions ------------------------------------------------------- */

static bool reached(uint32_t now, uint32_t t)
{
    return (int32_t)(now - t) >= 0;
}

static uint32_t random_within(uint32_t max_ms)
{
    return LWIP_RAND() % (max_ms + 1);
}

static int family_of(const ip_addr_t *group)
{
    return IP_IS_V6(group) ? SHUNT_MCREPORT_MLD : SHUNT_MCREPORT_IGMP;
}

static unsigned newest(int fam)
{
    return fam == SHUNT_MCREPORT_MLD ? 2 : 3;
}

unsigned shunt_mcreport_version(const struct shunt_mcreport *r, int fam)
{
    const struct shunt_mcreport_family *f = &r->family[fam];

    if (f->forced != 0)
        return f->forced;
    for (unsigned v = 1; v < newest(fam); v++)
        if (f->older_until[v] != 0)
            return v;
    return newest(fam);
}

/* Speaking IGMPv1/v2 or MLDv1: no sources, one group a message. */
static bool speaks_old(const struct shunt_mcreport *r, int fam)
{
    return shunt_mcreport_version(r, fam) < newest(fam);
}

static uint32_t unsolicited_ms(const struct shunt_mcreport *r, int fam)
{
    return speaks_old(r, fam) ? UNSOLICITED_OLD_MS : UNSOLICITED_MS;
}

/* A group no report names: all-systems (RFC 3376 5), all-nodes and
 * interface-local scope (RFC 3810 6). */
static bool reportable(const ip_addr_t *group)
{
    if (!IP_IS_V6(group))
        return ip4_addr_get_u32(ip_2_ip4(group)) != PP_HTONL(0xe0000001u);
    const ip6_addr_t *g = ip_2_ip6(group);
    return !ip6_addr_isallnodes_linklocal(g) && !ip6_addr_ismulticast_iflocal(g);
}

/* ---- sending ------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t addr_len(int fam)
{
    return fam == SHUNT_MCREPORT_MLD ? 16 : 4;
}

static void put_addr(uint8_t *p, const ip_addr_t *a)
{
    if (IP_IS_V6(a))
        memcpy(p, ip_2_ip6(a)->addr, 16);               /* network order */
    else
        memcpy(p, &ip_2_ip4(a)->addr, 4);
}

static void get_addr(int fam, const uint8_t *p, ip_addr_t *a)
{
    if (fam == SHUNT_MCREPORT_MLD) {
        ip_addr_set_zero_ip6(a);
        memcpy(ip_2_ip6(a)->addr, p, 16);
    } else {
        uint32_t v;
        memcpy(&v, p, 4);
        ip_addr_set_ip4_u32_val(*a, v);
    }
}

/* One IGMP or MLD message out, to dst: IPv4 with TTL 1 and Router Alert
 * (RFC 2113), or IPv6 with hop limit 1, a hop-by-hop Router Alert
 * (RFC 2711) and the link-local source (RFC 3810 5). */
static void transmit(struct shunt_mcreport *r, int fam, const uint8_t *msg, size_t len,
                     const ip_addr_t *dst)
{
    struct shunt_mcreport_family *f = &r->family[fam];
    bool v6 = fam == SHUNT_MCREPORT_MLD;
    struct pbuf *p = pbuf_alloc(PBUF_IP, (u16_t)(len + (v6 ? MLD6_HBH_HLEN : 0)), PBUF_RAM);

    if (p == NULL) {
        f->stats.no_memory++;
        return;
    }
    if (v6)
        pbuf_remove_header(p, MLD6_HBH_HLEN);
    memcpy(p->payload, msg, len);       /* its checksum field 0, to be filled in */
    if (!v6) {
        static const uint8_t router_alert[4] = { 0x94, 0x04, 0, 0 };
        put16((uint8_t *)p->payload + 2, lwip_ntohs(inet_chksum(p->payload, (u16_t)len)));
        ip4_output_if_opt(p, netif_ip4_addr(r->netif), ip_2_ip4(dst), 1, 0xc0, IP_PROTO_IGMP,
                          r->netif, (void *)router_alert, sizeof(router_alert));
    } else {
        ip6_addr_t to = *ip_2_ip6(dst);
        const ip6_addr_t *src = ip6_addr_isvalid(netif_ip6_addr_state(r->netif, 0))
                                    ? netif_ip6_addr(r->netif, 0) : IP6_ADDR_ANY6;
        ip6_addr_assign_zone(&to, IP6_MULTICAST, r->netif);
        put16((uint8_t *)p->payload + 2,
              lwip_ntohs(ip6_chksum_pseudo(p, IP6_NEXTH_ICMP6, p->len, src, &to)));
        ip6_options_add_hbh_ra(p, IP6_NEXTH_ICMP6, IP6_ROUTER_ALERT_VALUE_MLD);
        ip6_output_if(p, ip6_addr_isany(src) ? NULL : src, &to, 1, 0, IP6_NEXTH_HOPBYHOP,
                      r->netif);
    }
    pbuf_free(p);
    f->stats.reports++;
}

/* An IGMPv1/v2 report or leave, an MLDv1 report or done, for group. */
static void send_old(struct shunt_mcreport *r, const ip_addr_t *group, bool leave)
{
    int fam = family_of(group);
    unsigned v = shunt_mcreport_version(r, fam);
    uint8_t msg[24] = { 0 };
    ip_addr_t dst = *group;

    if (fam == SHUNT_MCREPORT_IGMP) {
        if (leave && v == 1)
            return;                     /* IGMPv1 has no leave */
        msg[0] = leave ? IGMP_V2_LEAVE : v == 1 ? IGMP_V1_REPORT : IGMP_V2_REPORT;
        put_addr(msg + 4, group);
        if (leave)
            ip_addr_set_ip4_u32_val(dst, PP_HTONL(0xe0000002u));        /* all routers */
        transmit(r, fam, msg, 8, &dst);
        return;
    }
    msg[0] = leave ? MLD_V1_DONE : MLD_V1_REPORT;
    put_addr(msg + 8, group);
    if (leave) {
        ip_addr_set_zero_ip6(&dst);
        ip6_addr_set_allrouters_linklocal(ip_2_ip6(&dst));
    }
    transmit(r, fam, msg, 24, &dst);
}

/* An IGMPv3 or MLDv2 report being filled: both an 8-byte header and
 * records of type, aux length, count, group, sources. */
struct report {
    struct shunt_mcreport *r;
    int fam;
    size_t len;
    unsigned records;
    uint8_t buf[REPORT_MAX];
};

static void report_start(struct report *rep, struct shunt_mcreport *r, int fam)
{
    rep->r = r;
    rep->fam = fam;
    rep->len = 8;
    rep->records = 0;
    memset(rep->buf, 0, 8);
    rep->buf[0] = fam == SHUNT_MCREPORT_MLD ? MLD_V2_REPORT : IGMP_V3_REPORT;
}

/* To 224.0.0.22 or ff02::16, the routers that speak v3 / v2. */
static void report_flush(struct report *rep)
{
    ip_addr_t dst;

    if (rep->records == 0)
        return;
    put16(rep->buf + 6, (uint16_t)rep->records);
    if (rep->fam == SHUNT_MCREPORT_MLD) {
        ip_addr_set_zero_ip6(&dst);
        IP6_ADDR(ip_2_ip6(&dst), PP_HTONL(0xff020000u), 0, 0, PP_HTONL(0x16u));
    } else {
        ip_addr_set_ip4_u32_val(dst, PP_HTONL(0xe0000016u));
    }
    transmit(rep->r, rep->fam, rep->buf, rep->len, &dst);
    rep->r->family[rep->fam].stats.records += rep->records;
    report_start(rep, rep->r, rep->fam);
}

static void add_record(struct report *rep, enum record_type type, const ip_addr_t *group,
                       const ip_addr_t *sources, unsigned n)
{
    size_t al = addr_len(rep->fam), need = 4 + al * (1 + n);

    if (rep->len + need > REPORT_MAX)
        report_flush(rep);
    uint8_t *rec = rep->buf + rep->len;
    rec[0] = (uint8_t)type;
    rec[1] = 0;
    put16(rec + 2, (uint16_t)n);
    put_addr(rec + 4, group);
    for (unsigned i = 0; i < n; i++)
        put_addr(rec + 4 + al * (1 + i), &sources[i]);
    rep->len += need;
    rep->records++;
}

/* group's state now: IS_EX/IS_IN (current) or TO_EX/TO_IN (a change). */
static void add_state(struct report *rep, const ip_addr_t *group, bool current)
{
    struct shunt_mcast_state st;

    shunt_mcast_state(rep->r->groups, group, &st);
    if (current && !shunt_mcast_state_joined(&st))
        return;
    bool ex = st.mode == SHUNT_MCAST_EXCLUDE;
    add_record(rep, current ? (ex ? MODE_IS_EXCLUDE : MODE_IS_INCLUDE)
                            : (ex ? CHANGE_TO_EXCLUDE : CHANGE_TO_INCLUDE),
               group, st.sources, st.nsources);
}

/* ---- state changes (RFC 3376 5.1, RFC 3810 6.1) ----------------------------- */

static struct shunt_mcreport_change *change_of(struct shunt_mcreport *r, const ip_addr_t *group,
                                               bool add)
{
    for (unsigned i = 0; i < r->nchanges; i++)
        if (ip_addr_cmp(&r->changes[i].group, group))
            return &r->changes[i];
    if (!add || r->nchanges == r->changes_room)
        return NULL;
    struct shunt_mcreport_change *ch = &r->changes[r->nchanges++];
    memset(ch, 0, sizeof(*ch));
    ip_addr_copy(ch->group, *group);
    return ch;
}

static void change_done(struct shunt_mcreport *r, struct shunt_mcreport_change *ch)
{
    *ch = r->changes[--r->nchanges];
}

/* One transmission of what ch still has to say: into rep (v3/v2), or as
 * a message of its own (v1/v2).  Counts it off. */
static void say_change(struct shunt_mcreport *r, struct shunt_mcreport_change *ch,
                       struct report *rep)
{
    if (speaks_old(r, family_of(&ch->group))) {
        if (ch->full_left > 0) {
            struct shunt_mcast_state st;
            shunt_mcast_state(r->groups, &ch->group, &st);
            send_old(r, &ch->group, !shunt_mcast_state_joined(&st));
            ch->full_left--;
        }
        ch->nsources = 0;               /* they cannot say sources */
        return;
    }
    if (ch->full_left > 0) {
        add_state(rep, &ch->group, false);
        ch->full_left--;
        return;
    }
    for (int allow = 1; allow >= 0; allow--) {
        ip_addr_t list[CHANGE_SOURCES];
        unsigned n = 0;
        for (unsigned i = 0; i < ch->nsources; i++)
            if (ch->sources[i].allow == allow && ch->sources[i].left > 0) {
                list[n++] = ch->sources[i].addr;
                ch->sources[i].left--;
            }
        if (n > 0)
            add_record(rep, allow ? ALLOW_NEW_SOURCES : BLOCK_OLD_SOURCES, &ch->group, list, n);
    }
    unsigned kept = 0;
    for (unsigned i = 0; i < ch->nsources; i++)
        if (ch->sources[i].left > 0)
            ch->sources[kept++] = ch->sources[i];
    ch->nsources = kept;
}

static bool same_state(const struct shunt_mcast_state *a, const struct shunt_mcast_state *b)
{
    if (a->mode != b->mode || a->nsources != b->nsources)
        return false;
    for (unsigned i = 0; i < a->nsources; i++)
        if (!shunt_mcast_listed(b->sources, b->nsources, &a->sources[i]))
            return false;
    return true;
}

static bool change_left(const struct shunt_mcreport_change *ch)
{
    return ch->full_left > 0 || ch->nsources > 0;
}

/* Source src is to be allowed (or blocked) from now: noted, replacing
 * what was pending for it.  false if there is no room: send the state. */
static bool note_source(struct shunt_mcreport_change *ch, const ip_addr_t *src, bool allow,
                        uint8_t times)
{
    unsigned i = 0;

    while (i < ch->nsources && !ip_addr_cmp(&ch->sources[i].addr, src))
        i++;
    if (i == ch->nsources) {
        if (i == CHANGE_SOURCES)
            return false;
        ch->nsources++;
        ip_addr_copy(ch->sources[i].addr, *src);
    }
    ch->sources[i].allow = allow;
    ch->sources[i].left = times;
    return true;
}

/* Sources of a that b lacks, noted as allow (or block). */
static bool note_difference(struct shunt_mcreport_change *ch, const struct shunt_mcast_state *a,
                            const struct shunt_mcast_state *b, bool allow, uint8_t times)
{
    for (unsigned i = 0; i < a->nsources; i++)
        if (!shunt_mcast_listed(b->sources, b->nsources, &a->sources[i]) &&
            !note_source(ch, &a->sources[i], allow, times))
            return false;
    return true;
}

/* What changed, noted in ch: a new filter mode (or too much to list) is
 * a full record; otherwise INCLUDE gains are ALLOW and losses BLOCK, and
 * EXCLUDE the other way round. */
static void note_change(struct shunt_mcreport_change *ch, const struct shunt_mcast_state *before,
                        const struct shunt_mcast_state *after, uint8_t times)
{
    bool include = after->mode == SHUNT_MCAST_INCLUDE;

    if (before->mode != after->mode || ch->full_left > 0 ||
        !note_difference(ch, after, before, include, times) ||
        !note_difference(ch, before, after, !include, times)) {
        ch->full_left = times;
        ch->nsources = 0;
    }
}

void shunt_mcreport_changed(struct shunt_mcreport *r, const ip_addr_t *group,
                            const struct shunt_mcast_state *before,
                            const struct shunt_mcast_state *after)
{
    int fam = family_of(group);
    struct shunt_mcreport_family *f = &r->family[fam];

    if (r->netif == NULL || !reportable(group) || same_state(before, after))
        return;
    bool old = speaks_old(r, fam);
    if (old && shunt_mcast_state_joined(before) == shunt_mcast_state_joined(after))
        return;                         /* v1/v2 cannot say more */
    struct shunt_mcreport_change *ch = change_of(r, group, true), spare;
    if (ch == NULL) {                   /* said once, not again */
        f->stats.no_memory++;
        memset(&spare, 0, sizeof(spare));
        ip_addr_copy(spare.group, *group);
        ch = &spare;
    }
    if (old) {
        ch->full_left = f->robustness;
        ch->nsources = 0;
    } else {
        note_change(ch, before, after, f->robustness);
    }
    if (!change_left(ch)) {             /* nothing a router would see */
        if (ch != &spare)
            change_done(r, ch);
        return;
    }
    struct report rep;
    report_start(&rep, r, fam);
    say_change(r, ch, &rep);
    report_flush(&rep);
    ch->due = sys_now() + random_within(unsolicited_ms(r, fam));
    if (ch != &spare && !change_left(ch))
        change_done(r, ch);
}

/* ---- answers to queries (RFC 3376 5.2, RFC 3810 6.2) ------------------------ */

static struct shunt_mcreport_answer *answer_of(struct shunt_mcreport *r, const ip_addr_t *group)
{
    for (unsigned i = 0; i < r->nanswers; i++)
        if (ip_addr_cmp(&r->answers[i].group, group))
            return &r->answers[i];
    return NULL;
}

/* An answer for group due within delay ms: of its whole state (all), or of
 * the n sources asked about, merged with what is pending. */
static void schedule_answer(struct shunt_mcreport *r, const ip_addr_t *group, uint32_t delay,
                            const ip_addr_t *sources, unsigned n)
{
    int fam = family_of(group);
    struct shunt_mcreport_family *f = &r->family[fam];
    uint32_t due = sys_now() + delay;

    /* Rule 1: a general answer sooner covers it. */
    if (f->general_pending && !reached(due, f->general_due))
        return;
    struct shunt_mcreport_answer *a = answer_of(r, group);
    bool all = n == 0 || n > ANSWER_SOURCES;
    if (a == NULL) {
        if (r->nanswers == r->answers_room) {
            f->stats.no_memory++;
            return;
        }
        a = &r->answers[r->nanswers++];
        ip_addr_copy(a->group, *group);
        a->due = due;
        a->all = all;
        a->nsources = 0;
    } else {
        if (reached(a->due, due))
            a->due = due;
        a->all = a->all || all;
    }
    for (unsigned i = 0; !a->all && i < n; i++) {
        if (shunt_mcast_listed(a->sources, a->nsources, &sources[i]))
            continue;
        if (a->nsources == ANSWER_SOURCES)
            a->all = true;
        else
            a->sources[a->nsources++] = sources[i];
    }
}

struct every {
    struct shunt_mcreport *r;
    int fam;
    uint32_t max_ms;
    struct report *rep;         /* NULL: schedule an answer for each (v1/v2) */
};

static void each_group(void *arg, const ip_addr_t *group)
{
    struct every *e = arg;

    if (family_of(group) != e->fam || !reportable(group))
        return;
    if (e->rep != NULL)
        add_state(e->rep, group, true);
    else
        schedule_answer(e->r, group, random_within(e->max_ms), NULL, 0);
}

/* The sources asked about that the group's state lets in: IS_IN of them. */
static void add_sources_answer(struct report *rep, const struct shunt_mcreport_answer *a)
{
    struct shunt_mcast_state st;
    ip_addr_t list[ANSWER_SOURCES];
    unsigned n = 0;

    shunt_mcast_state(rep->r->groups, &a->group, &st);
    for (unsigned i = 0; i < a->nsources; i++)
        if (shunt_mcast_listed(st.sources, st.nsources, &a->sources[i]) ==
            (st.mode == SHUNT_MCAST_INCLUDE))
            list[n++] = a->sources[i];
    if (n > 0)
        add_record(rep, MODE_IS_INCLUDE, &a->group, list, n);
}

static void say_answer(struct shunt_mcreport *r, const struct shunt_mcreport_answer *a,
                       struct report *rep)
{
    if (speaks_old(r, family_of(&a->group))) {
        if (shunt_mcast_members(r->groups, &a->group) > 0)
            send_old(r, &a->group, false);
    } else if (a->all) {
        add_state(rep, &a->group, true);
    } else {
        add_sources_answer(rep, a);
    }
}

/* A query: of version v, max_ms to answer in, for group (any: general),
 * asking about n sources at srcs. */
static void answer_query(struct shunt_mcreport *r, int fam, uint32_t max_ms,
                         const ip_addr_t *group, const uint8_t *srcs, unsigned n)
{
    struct shunt_mcreport_family *f = &r->family[fam];
    bool general = ip_addr_isany(group);
    uint32_t delay = random_within(max_ms);

    if (general) {
        if (speaks_old(r, fam)) {       /* a timer for each group (RFC 2236 3) */
            struct every e = { r, fam, max_ms, NULL };
            shunt_mcast_each(r->groups, NULL, each_group, &e);
        } else if (!f->general_pending || !reached(sys_now() + delay, f->general_due)) {
            f->general_pending = true;
            f->general_due = sys_now() + delay;
        }
        return;
    }
    if (shunt_mcast_members(r->groups, group) == 0 || !reportable(group))
        return;
    ip_addr_t sources[ANSWER_SOURCES + 1];
    unsigned take = speaks_old(r, fam) ? 0 : n <= ANSWER_SOURCES ? n : ANSWER_SOURCES + 1;
    for (unsigned i = 0; i < take; i++)
        get_addr(fam, srcs + addr_len(fam) * i, &sources[i]);
    schedule_answer(r, group, delay, sources, take);
}

/* Another host reported group (v1/v2): this host's answer is not needed. */
static void suppress(struct shunt_mcreport *r, int fam, const ip_addr_t *group)
{
    struct shunt_mcreport_answer *a = answer_of(r, group);

    if (a == NULL || !speaks_old(r, fam))
        return;
    *a = r->answers[--r->nanswers];
    r->family[fam].stats.suppressed++;
}

/* ---- the tick ---------------------------------------------------------------- */

static void tick(void *arg)
{
    struct shunt_mcreport *r = arg;
    uint32_t now = sys_now();
    struct report rep[2];

    for (int fam = 0; fam < 2; fam++) {
        struct shunt_mcreport_family *f = &r->family[fam];
        for (unsigned v = 1; v < 3; v++)
            if (f->older_until[v] != 0 && reached(now, f->older_until[v]))
                f->older_until[v] = 0;
        report_start(&rep[fam], r, fam);
        if (f->general_pending && reached(now, f->general_due)) {
            f->general_pending = false;
            struct every e = { r, fam, 0, &rep[fam] };
            shunt_mcast_each(r->groups, NULL, each_group, &e);
        }
    }
    for (unsigned i = 0; i < r->nanswers;) {
        struct shunt_mcreport_answer *a = &r->answers[i];
        if (!reached(now, a->due)) {
            i++;
            continue;
        }
        say_answer(r, a, &rep[family_of(&a->group)]);
        *a = r->answers[--r->nanswers];
    }
    for (unsigned i = 0; i < r->nchanges;) {
        struct shunt_mcreport_change *ch = &r->changes[i];
        int fam = family_of(&ch->group);
        if (!reached(now, ch->due)) {
            i++;
            continue;
        }
        say_change(r, ch, &rep[fam]);
        ch->due = now + random_within(unsolicited_ms(r, fam));
        if (change_left(ch))
            i++;
        else
            change_done(r, ch);
    }
    report_flush(&rep[0]);
    report_flush(&rep[1]);
    sys_timeout(SHUNT_MCREPORT_TICK_MS, tick, r);
}

/* ---- queries in ----------------------------------------------------------------- */

/* RFC 3376 4.1.1 and 4.1.7 (IGMPv3 codes: tenths or seconds), RFC 3810
 * 5.1.3 and 5.1.9 (MLDv2: milliseconds or seconds): a code at or above
 * the limit is a floating-point number, mantissa and exponent. */
static uint32_t decode_float(uint32_t code, uint32_t limit, unsigned mant_bits)
{
    if (code < limit)
        return code;
    uint32_t mant = code & ((1u << mant_bits) - 1), exp = (code >> mant_bits) & 7;
    return (mant | (1u << mant_bits)) << (exp + 3);
}

/* A querier of version v is on the link: speak v until it has been quiet
 * for the Older Version Querier Present Timeout; take its robustness and
 * query interval (v3/v2 queries only). */
static void heard_querier(struct shunt_mcreport *r, int fam, unsigned v, uint32_t max_ms,
                          uint8_t qrv, uint32_t qqi_s)
{
    struct shunt_mcreport_family *f = &r->family[fam];

    f->stats.queries[v]++;
    if (v == newest(fam)) {
        if (qrv != 0)
            f->robustness = qrv;
        if (qqi_s != 0)
            f->query_interval_ms = qqi_s * 1000;
        return;
    }
    uint32_t until = sys_now() + f->robustness * f->query_interval_ms + max_ms;
    f->older_until[v] = until != 0 ? until : 1;
}

static enum shunt_mcreport_verdict igmp_input(struct shunt_mcreport *r, const uint8_t *msg,
                                              size_t len)
{
    ip_addr_t group;

    if (len < 8)
        return SHUNT_MCREPORT_MALFORMED;
    if (inet_chksum(msg, (u16_t)len) != 0)
        return SHUNT_MCREPORT_BAD_CHECKSUM;
    get_addr(SHUNT_MCREPORT_IGMP, msg + 4, &group);
    if (msg[0] == IGMP_V1_REPORT || msg[0] == IGMP_V2_REPORT) {
        suppress(r, SHUNT_MCREPORT_IGMP, &group);
        return SHUNT_MCREPORT_READ;
    }
    if (msg[0] != IGMP_QUERY)
        return SHUNT_MCREPORT_READ;                    /* leaves, v3 reports: the routers' */
    if (!ip_addr_isany(&group) && !ip_addr_ismulticast(&group))
        return SHUNT_MCREPORT_MALFORMED;
    if (len == 8) {                     /* v1 (no response time) or v2 (RFC 3376 7.1) */
        unsigned v = msg[1] == 0 ? 1 : 2;
        uint32_t max_ms = v == 1 ? QUERY_RESPONSE_MS : msg[1] * 100u;
        heard_querier(r, SHUNT_MCREPORT_IGMP, v, max_ms, 0, 0);
        answer_query(r, SHUNT_MCREPORT_IGMP, max_ms, &group, NULL, 0);
        return SHUNT_MCREPORT_READ;
    }
    unsigned n = len >= 12 ? get16(msg + 10) : 0;
    if (len < 12 || len < 12 + 4 * (size_t)n)
        return SHUNT_MCREPORT_MALFORMED;
    uint32_t max_ms = decode_float(msg[1], 128, 4) * 100;
    heard_querier(r, SHUNT_MCREPORT_IGMP, 3, max_ms, msg[8] & 7, decode_float(msg[9], 128, 4));
    answer_query(r, SHUNT_MCREPORT_IGMP, max_ms, &group, msg + 12, n);
    return SHUNT_MCREPORT_READ;
}

/* RFC 3810 5.1.14 and RFC 2710 5: a query from elsewhere than a router on
 * the link (a link-local source) is ignored - and counted, as malformed. */
static enum shunt_mcreport_verdict mld_input(struct shunt_mcreport *r, const uint8_t *ip,
                                             const uint8_t *msg, size_t len)
{
    ip6_addr_t src, dst;
    ip_addr_t group;

    if (len < 24)
        return SHUNT_MCREPORT_MALFORMED;
    memcpy(src.addr, ip + 8, 16);
    memcpy(dst.addr, ip + 24, 16);
    ip6_addr_clear_zone(&src);
    ip6_addr_clear_zone(&dst);
    struct pbuf *p = pbuf_alloc_reference((void *)(uintptr_t)msg, (u16_t)len, PBUF_REF);
    if (p == NULL) {
        r->family[SHUNT_MCREPORT_MLD].stats.no_memory++;
        return SHUNT_MCREPORT_READ;
    }
    u16_t sum = ip6_chksum_pseudo(p, IP6_NEXTH_ICMP6, (u16_t)len, &src, &dst);
    pbuf_free(p);
    if (sum != 0)
        return SHUNT_MCREPORT_BAD_CHECKSUM;
    get_addr(SHUNT_MCREPORT_MLD, msg + 8, &group);
    if (msg[0] == MLD_V1_REPORT) {
        suppress(r, SHUNT_MCREPORT_MLD, &group);
        return SHUNT_MCREPORT_READ;
    }
    if (msg[0] != MLD_QUERY)
        return SHUNT_MCREPORT_READ;
    if (!ip6_addr_islinklocal(&src) || (!ip_addr_isany(&group) && !ip_addr_ismulticast(&group)))
        return SHUNT_MCREPORT_MALFORMED;
    if (len == 24) {
        uint32_t max_ms = get16(msg + 4);
        heard_querier(r, SHUNT_MCREPORT_MLD, 1, max_ms, 0, 0);
        answer_query(r, SHUNT_MCREPORT_MLD, max_ms, &group, NULL, 0);
        return SHUNT_MCREPORT_READ;
    }
    unsigned n = len >= 28 ? get16(msg + 26) : 0;
    if (len < 28 || len < 28 + 16 * (size_t)n)
        return SHUNT_MCREPORT_MALFORMED;
    uint32_t max_ms = decode_float(get16(msg + 4), 32768, 12);
    heard_querier(r, SHUNT_MCREPORT_MLD, 2, max_ms, msg[24] & 7, decode_float(msg[25], 128, 4));
    answer_query(r, SHUNT_MCREPORT_MLD, max_ms, &group, msg + 28, n);
    return SHUNT_MCREPORT_READ;
}

bool shunt_mcreport_takes(uint8_t proto, uint8_t icmp_type)
{
    if (proto == IP_PROTO_IGMP)
        return true;
    return proto == IP6_NEXTH_ICMP6 &&
           (icmp_type == MLD_QUERY || icmp_type == MLD_V1_REPORT || icmp_type == MLD_V1_DONE ||
            icmp_type == MLD_V2_REPORT);
}

enum shunt_mcreport_verdict shunt_mcreport_input(struct shunt_mcreport *r, const uint8_t *ip,
                                                 size_t len)
{
    enum shunt_mcreport_verdict v = SHUNT_MCREPORT_MALFORMED;
    int fam = len > 0 && ip[0] >> 4 == 6 ? SHUNT_MCREPORT_MLD : SHUNT_MCREPORT_IGMP;

    if (fam == SHUNT_MCREPORT_IGMP) {
        size_t hl = len > 0 ? (size_t)(ip[0] & 0x0f) * 4 : 0, total = len >= 4 ? get16(ip + 2) : 0;
        if (hl >= 20 && total >= hl && total <= len && ip[9] == IP_PROTO_IGMP)
            v = igmp_input(r, ip + hl, total - hl);
    } else {
        size_t off = 40, total = len >= 6 ? 40u + get16(ip + 4) : 0;
        uint8_t next = len >= 40 ? ip[6] : 0;
        if (next == IP6_NEXTH_HOPBYHOP && len >= 48) {
            next = ip[40];
            off += (ip[41] + 1u) * 8;
        }
        if (len >= 40 && total <= len && off <= total && next == IP6_NEXTH_ICMP6)
            v = mld_input(r, ip, ip + off, total - off);
    }
    if (v != SHUNT_MCREPORT_READ)
        r->family[fam].stats.bad++;
    return v;
}

/* ---- set-up ------------------------------------------------------------------ */

int shunt_mcreport_init(struct shunt_mcreport *r, struct netif *netif, struct shunt_mcast *table,
                        unsigned force_igmp, unsigned force_mld, unsigned room)
{
    memset(r, 0, sizeof(*r));
    r->changes = calloc(room, sizeof(*r->changes));
    r->answers = calloc(room, sizeof(*r->answers));
    if (r->changes == NULL || r->answers == NULL) {
        shunt_mcreport_free(r);
        return -ENOMEM;
    }
    r->changes_room = r->answers_room = room;
    r->netif = netif;
    r->groups = table;
    for (int fam = 0; fam < 2; fam++) {
        r->family[fam].robustness = ROBUSTNESS;
        r->family[fam].query_interval_ms = QUERY_INTERVAL_MS;
    }
    r->family[SHUNT_MCREPORT_IGMP].forced = (uint8_t)force_igmp;
    r->family[SHUNT_MCREPORT_MLD].forced = (uint8_t)force_mld;
    sys_timeout(SHUNT_MCREPORT_TICK_MS, tick, r);
    return 0;
}

void shunt_mcreport_free(struct shunt_mcreport *r)
{
    if (r->netif != NULL)               /* set up: the tick runs */
        sys_untimeout(tick, r);
    free(r->changes);
    free(r->answers);
    memset(r, 0, sizeof(*r));
}
