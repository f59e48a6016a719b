/*
 * mcast.c - the instance's multicast groups and the port's multicast filter.
 */
#include "mcast.h"
#include "fresh_hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_jhash.h>

/* A group as the table keys it: zero-padded, so equal groups hash alike. */
struct key {
    uint8_t v6;
    uint8_t pad[3];
    uint8_t addr[16];
};

struct shunt_mcast_group {
    ip_addr_t addr;
    struct shunt_mcast_member *members;
    unsigned nmembers, room;
};

static void key_of_bytes(struct key *k, bool v6, const uint8_t *addr)
{
    memset(k, 0, sizeof(*k));
    k->v6 = v6;
    memcpy(k->addr, addr, v6 ? 16 : 4);
}

static void key_of(struct key *k, const ip_addr_t *group)
{
    if (IP_IS_V6(group)) {
        key_of_bytes(k, true, (const uint8_t *)ip_2_ip6(group)->addr);  /* network order */
    } else {
        uint32_t a = ip4_addr_get_u32(ip_2_ip4(group));
        key_of_bytes(k, false, (const uint8_t *)&a);
    }
}

static struct shunt_mcast_group *find(const struct shunt_mcast *m, const struct key *k)
{
    int32_t pos = rte_hash_lookup(m->table, k);

    return pos >= 0 ? &m->groups[pos] : NULL;
}

static int member_index(const struct shunt_mcast_group *g, const void *owner)
{
    for (unsigned i = 0; i < g->nmembers; i++)
        if (g->members[i].owner == owner)
            return (int)i;
    return -1;
}

/* ---- the port's filter ------------------------------------------------------ */

/* The Ethernet address a group's frames are sent to (RFC 1112 6.4,
 * RFC 2464 7). */
static void group_mac(const ip_addr_t *group, struct rte_ether_addr *mac)
{
    if (IP_IS_V6(group)) {
        uint32_t last = ip_2_ip6(group)->addr[3];       /* network order */
        mac->addr_bytes[0] = 0x33;
        mac->addr_bytes[1] = 0x33;
        memcpy(mac->addr_bytes + 2, &last, 4);
        return;
    }
    uint32_t a = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(group)));
    const uint8_t m[6] = { 0x01, 0x00, 0x5e, (uint8_t)(a >> 16 & 0x7f), (uint8_t)(a >> 8),
                           (uint8_t)a };
    memcpy(mac->addr_bytes, m, 6);
}

static int mac_cmp(const void *a, const void *b)
{
    return memcmp(a, b, RTE_ETHER_ADDR_LEN);
}

static void set_allmulticast(struct shunt_mcast *m, bool on)
{
    if (m->filter.allmulticast == on)
        return;
    m->filter.allmulticast = on;
    if (on)
        rte_eth_allmulticast_enable(m->port_id);     /* a port without it: nothing to do */
    else
        rte_eth_allmulticast_disable(m->port_id);
}

/* Write the filter for the groups there are now: the distinct addresses,
 * or allmulticast where they do not fit. */
static void program(struct shunt_mcast *m)
{
    if (!m->port_started)
        return;
    if (!m->filter.has_filter) {
        set_allmulticast(m, true);
        return;
    }
    struct rte_ether_addr *macs = malloc((m->count + 1) * sizeof(*macs));
    if (macs == NULL) {
        set_allmulticast(m, true);
        return;
    }
    unsigned n = 0;
    for (unsigned i = 0; i < m->slots && n < m->count; i++)
        if (m->groups[i].nmembers > 0)
            group_mac(&m->groups[i].addr, &macs[n++]);
    qsort(macs, n, sizeof(*macs), mac_cmp);
    unsigned distinct = 0;
    for (unsigned i = 0; i < n; i++)
        if (distinct == 0 || mac_cmp(&macs[distinct - 1], &macs[i]) != 0)
            macs[distinct++] = macs[i];
    bool fits = distinct <= m->filter.capacity &&
                rte_eth_dev_set_mc_addr_list(m->port_id, macs, distinct) == 0;
    if (!fits)
        rte_eth_dev_set_mc_addr_list(m->port_id, NULL, 0);
    m->filter.programmed = fits ? distinct : 0;
    m->filter.reprograms++;
    /* Allmulticast goes off only once the filter holds every group. */
    set_allmulticast(m, !fits);
    free(macs);
}

/* Whether the port takes a filter of n distinct addresses. */
static int try_filter(uint16_t port, unsigned n)
{
    struct rte_ether_addr *macs = calloc(n, sizeof(*macs));

    if (macs == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t b[6] = { 0x01, 0x00, 0x5e, 0x7f, (uint8_t)(i >> 8), (uint8_t)i };
        memcpy(macs[i].addr_bytes, b, 6);
    }
    int rc = rte_eth_dev_set_mc_addr_list(port, macs, n);
    free(macs);
    return rc;
}

/* The longest list the port takes: doubling, then halving the gap. */
static void probe(struct shunt_mcast *m)
{
    int rc = try_filter(m->port_id, 1);
    unsigned ok = 1, bad = 0;

    m->filter.has_filter = rc == 0;
    if (rc != 0)
        return;
    while (ok < SHUNT_MCAST_PROBE_MAX) {
        unsigned next = RTE_MIN(ok * 2, (unsigned)SHUNT_MCAST_PROBE_MAX);
        if (try_filter(m->port_id, next) != 0) {
            bad = next;
            break;
        }
        ok = next;
    }
    while (bad != 0 && bad - ok > 1) {
        unsigned mid = ok + (bad - ok) / 2;
        if (try_filter(m->port_id, mid) == 0)
            ok = mid;
        else
            bad = mid;
    }
    m->filter.capacity = ok;
    rte_eth_dev_set_mc_addr_list(m->port_id, NULL, 0);
}

/* ---- the table ------------------------------------------------------------- */

int shunt_mcast_init(struct shunt_mcast *m, const char *name, unsigned capacity,
                     uint16_t port_id, bool has_port)
{
    struct rte_hash_parameters params = {
        .name = name,
        .entries = capacity,
        .key_len = sizeof(struct key),
        .hash_func = rte_jhash,
        .socket_id = (int)rte_socket_id(),
    };

    memset(m, 0, sizeof(*m));
    m->table = shunt_fresh_hash(&params);
    if (m->table == NULL)
        return -ENOMEM;
    m->slots = (unsigned)rte_hash_max_key_id(m->table) + 1;
    m->groups = calloc(m->slots, sizeof(*m->groups));
    if (m->groups == NULL) {
        shunt_mcast_free(m);
        return -ENOMEM;
    }
    m->capacity = capacity;
    m->port_id = port_id;
    m->port_started = has_port;
    if (has_port) {
        probe(m);
        m->filter.allmulticast = !m->filter.has_filter;
        if (m->filter.allmulticast)
            rte_eth_allmulticast_enable(port_id);
        else
            rte_eth_allmulticast_disable(port_id);
    }
    return 0;
}

void shunt_mcast_free(struct shunt_mcast *m)
{
    if (m->groups != NULL)
        for (unsigned i = 0; i < m->slots; i++)
            free(m->groups[i].members);
    rte_hash_free(m->table);
    free(m->groups);
    memset(m, 0, sizeof(*m));
}

int shunt_mcast_join(struct shunt_mcast *m, const ip_addr_t *group, const void *owner,
                     enum shunt_mcast_mode mode)
{
    struct key k;

    key_of(&k, group);
    struct shunt_mcast_group *g = find(m, &k);
    if (g != NULL && member_index(g, owner) >= 0)
        return -EADDRINUSE;
    bool added = g == NULL;
    if (added) {
        if (m->count == m->capacity)
            return -ENOBUFS;
        int32_t pos = rte_hash_add_key(m->table, &k);
        if (pos < 0)
            return -ENOBUFS;
        g = &m->groups[pos];
        ip_addr_copy(g->addr, *group);
    }
    if (g->nmembers == g->room) {
        unsigned room = g->room != 0 ? 2 * g->room : 2;
        struct shunt_mcast_member *mb = realloc(g->members, room * sizeof(*mb));
        if (mb == NULL) {
            if (added)
                rte_hash_del_key(m->table, &k);
            return -ENOBUFS;
        }
        g->members = mb;
        g->room = room;
    }
    g->members[g->nmembers++] = (struct shunt_mcast_member){ .owner = owner, .mode = mode };
    if (added) {
        m->count++;
        program(m);
    }
    return 0;
}

int shunt_mcast_leave(struct shunt_mcast *m, const ip_addr_t *group, const void *owner)
{
    struct key k;

    key_of(&k, group);
    struct shunt_mcast_group *g = find(m, &k);
    int i = g != NULL ? member_index(g, owner) : -1;
    if (i < 0)
        return -EADDRNOTAVAIL;
    g->members[i] = g->members[--g->nmembers];
    if (g->nmembers == 0) {
        free(g->members);
        memset(g, 0, sizeof(*g));
        rte_hash_del_key(m->table, &k);
        m->count--;
        program(m);
    }
    return 0;
}

struct shunt_mcast_member *shunt_mcast_member(struct shunt_mcast *m, const ip_addr_t *group,
                                              const void *owner)
{
    struct key k;

    key_of(&k, group);
    struct shunt_mcast_group *g = find(m, &k);
    int i = g != NULL ? member_index(g, owner) : -1;
    return i >= 0 ? &g->members[i] : NULL;
}

unsigned shunt_mcast_members(struct shunt_mcast *m, const ip_addr_t *group)
{
    struct key k;

    key_of(&k, group);
    const struct shunt_mcast_group *g = find(m, &k);
    return g != NULL ? g->nmembers : 0;
}

void shunt_mcast_each(struct shunt_mcast *m, const void *owner,
                      void (*fn)(void *arg, const ip_addr_t *group), void *arg)
{
    for (unsigned i = 0; i < m->slots; i++) {
        struct shunt_mcast_group *g = &m->groups[i];
        if (g->nmembers == 0 || (owner != NULL && member_index(g, owner) < 0))
            continue;
        ip_addr_t group = g->addr;      /* a copy: the entry may go */
        fn(arg, &group);
    }
}

unsigned shunt_mcast_count_of(const struct shunt_mcast *m, const void *owner)
{
    unsigned n = 0;

    for (unsigned i = 0; i < m->slots; i++)
        if (m->groups[i].nmembers > 0 && member_index(&m->groups[i], owner) >= 0)
            n++;
    return n;
}

/* ---- the filters on the way in ---------------------------------------------- */

bool shunt_mcast_listed(const ip_addr_t *list, unsigned n, const ip_addr_t *src)
{
    for (unsigned i = 0; i < n; i++)
        if (ip_addr_cmp(&list[i], src))
            return true;
    return false;
}

bool shunt_mcast_member_allows(const struct shunt_mcast_member *mb, const ip_addr_t *src)
{
    bool listed = shunt_mcast_listed(mb->sources, mb->nsources, src);

    return mb->mode == SHUNT_MCAST_INCLUDE ? listed : !listed;
}

/* ---- the interface's state --------------------------------------------------- */

/* Keep the sources of st that keep(mb, source) says, in place. */
static void keep_sources(struct shunt_mcast_state *st, const struct shunt_mcast_member *mb,
                         bool in_member)
{
    unsigned n = 0;

    for (unsigned i = 0; i < st->nsources; i++)
        if (shunt_mcast_listed(mb->sources, mb->nsources, &st->sources[i]) == in_member)
            st->sources[n++] = st->sources[i];
    st->nsources = n;
}

/* EXCLUDE: the first excluding member's list, narrowed by every other
 * excluding member (intersection) and every including one (difference). */
static void exclude_state(const struct shunt_mcast_group *g, const struct shunt_mcast_member *first,
                          struct shunt_mcast_state *out)
{
    out->mode = SHUNT_MCAST_EXCLUDE;
    out->nsources = first->nsources;
    memcpy(out->sources, first->sources, first->nsources * sizeof(first->sources[0]));
    for (unsigned i = 0; i < g->nmembers; i++) {
        const struct shunt_mcast_member *mb = &g->members[i];
        if (mb != first)
            keep_sources(out, mb, mb->mode == SHUNT_MCAST_EXCLUDE);
    }
}

void shunt_mcast_state(struct shunt_mcast *m, const ip_addr_t *group,
                       struct shunt_mcast_state *out)
{
    struct key k;

    key_of(&k, group);
    const struct shunt_mcast_group *g = find(m, &k);
    out->mode = SHUNT_MCAST_INCLUDE;
    out->nsources = 0;
    if (g == NULL)
        return;
    for (unsigned i = 0; i < g->nmembers; i++)
        if (g->members[i].mode == SHUNT_MCAST_EXCLUDE) {
            exclude_state(g, &g->members[i], out);
            return;
        }
    for (unsigned i = 0; i < g->nmembers; i++) {
        const struct shunt_mcast_member *mb = &g->members[i];
        for (unsigned j = 0; j < mb->nsources; j++) {
            if (shunt_mcast_listed(out->sources, out->nsources, &mb->sources[j]))
                continue;
            if (out->nsources == SHUNT_MCAST_STATE_SOURCES) {
                out->mode = SHUNT_MCAST_EXCLUDE;        /* too many to list: any source */
                out->nsources = 0;
                return;
            }
            out->sources[out->nsources++] = mb->sources[j];
        }
    }
}

static void addr_of_bytes(bool v6, const uint8_t *b, ip_addr_t *ip)
{
    if (v6) {
        ip_addr_set_zero_ip6(ip);
        memcpy(ip_2_ip6(ip)->addr, b, 16);
        return;
    }
    uint32_t a;
    memcpy(&a, b, 4);
    ip_addr_set_ip4_u32_val(*ip, a);
}

bool shunt_mcast_accepts(struct shunt_mcast *m, bool v6, const uint8_t *addr,
                         const uint8_t *src, bool *joined)
{
    struct key k;
    ip_addr_t from;

    m->lookups++;
    key_of_bytes(&k, v6, addr);
    const struct shunt_mcast_group *g = find(m, &k);
    *joined = g != NULL;
    if (g == NULL)
        return false;
    addr_of_bytes(v6, src, &from);
    for (unsigned i = 0; i < g->nmembers; i++)
        if (shunt_mcast_member_allows(&g->members[i], &from))
            return true;
    return false;
}

bool shunt_mcast_owner_allows(struct shunt_mcast *m, const ip_addr_t *group, const void *owner,
                              const ip_addr_t *src)
{
    const struct shunt_mcast_member *mb = shunt_mcast_member(m, group, owner);

    return mb == NULL || shunt_mcast_member_allows(mb, src);
}
