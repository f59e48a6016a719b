/*
 * steer.c - the group's shared file (records, the ownership table, the COPY
 * transport's rings), the steering stage, and the owner hooks.
 */
#define ALLOW_EXPERIMENTAL_API          /* rte_ring_peek_zc, in DPDK 22.11 */
#include "steer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include "lwip/ip_addr.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#define STEER_MAGIC     0x72656574u     /* "teer" */
#define STEER_VERSION   1
#define PROBE           64              /* entries a key may sit from its home */
#define ETH_LEN         14
#define SLOT_HEAD       8               /* a COPY slot: length, RX flags, then the frame */

/* An instance's record, written by that instance (and by a peer that finds
 * it dead: state only). */
enum { REC_GONE, REC_JOINING, REC_ALIVE };

struct steer_record {
    int32_t pid;
    uint32_t epoch;
    uint64_t started;                   /* the pid's start time: a reused pid is not it */
    uint32_t state;
    uint32_t unclean;                   /* 1 from join to a clean detach */
    uint64_t heartbeat_ns;
} __rte_cache_aligned;

struct steer_key {
    uint8_t proto;
    uint8_t v6;
    uint16_t lport;
    uint16_t rport;
    uint8_t laddr[16];
    uint8_t raddr[16];
    uint8_t pad[2];
};

/* A table entry: state word version:24 | kind:2 | owner:6 (see steer.h). */
enum { KIND_EMPTY, KIND_BUSY, KIND_VALID, KIND_FREE };

struct steer_entry {
    uint32_t state;
    uint32_t epoch;
    struct steer_key key;
    uint8_t pad[64 - 8 - sizeof(struct steer_key)];
};

struct steer_file {
    uint32_t magic, version;
    uint32_t instances, transport, ring_size, slot_size, table_size;
    uint16_t port_lo, port_hi;
    uint64_t table_off, rings_off, ring_bytes;
    struct steer_record rec[SHUNT_STEER_MAX] __rte_cache_aligned;
};

static inline uint32_t word(uint32_t version, unsigned kind, unsigned owner)
{
    return version << 8 | kind << 6 | owner;
}
static inline unsigned kind_of(uint32_t w) { return (w >> 6) & 3; }
static inline unsigned owner_of(uint32_t w) { return w & 63; }
static inline uint32_t version_of(uint32_t w) { return w >> 8; }

static inline uint32_t load(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct steer_entry *table(const struct shunt_steer *s)
{
    return (struct steer_entry *)(void *)((char *)s->file + s->file->table_off);
}

/* ---- liveness ---------------------------------------------------------------- */

static bool alive(const struct shunt_steer *s, unsigned i)
{
    return load(&s->file->rec[i].state) == REC_ALIVE;
}

/* An entry counts while its owner lives the life that wrote it. */
static bool entry_live(const struct shunt_steer *s, uint32_t w, uint32_t epoch)
{
    const struct steer_record *r = &s->file->rec[owner_of(w)];

    return load(&r->state) == REC_ALIVE && load(&r->epoch) == epoch;
}

/* When process pid started (clock ticks since boot, /proc/PID/stat's 22nd
 * field), or 0 if it does not exist. */
static uint64_t started(int32_t pid)
{
    char name[64], line[1024];
    unsigned long long t = 0;

    snprintf(name, sizeof(name), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(name, "re");
    if (f == NULL)
        return 0;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')');         /* the name may hold spaces */
    if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                                   "%*d %*d %*d %*d %llu", &t) != 1)
        return 0;
    return t;
}

/* Whether the process a record names still runs (the same one: pids are
 * reused). */
static bool pid_lives(const struct steer_record *r)
{
    return r->pid > 0 && started(r->pid) == r->started;
}

bool shunt_steer_peer_alive(const struct shunt_steer *s, unsigned i)
{
    return i < s->n && alive(s, i);
}

void shunt_steer_check_peers(struct shunt_steer *s)
{
    uint64_t now = now_ns();

    __atomic_store_n(&s->file->rec[s->self].heartbeat_ns, now, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < s->n; i++) {
        struct steer_record *r = &s->file->rec[i];
        uint32_t state = load(&r->state);
        if (i == s->self || state == REC_GONE)
            continue;
        uint64_t beat = __atomic_load_n(&r->heartbeat_ns, __ATOMIC_RELAXED);
        if (now - beat < SHUNT_STEER_STALE_MS * 1000000ull || pid_lives(r))
            continue;
        /* Dead: whoever sees it first says so; a new life (JOINING) wins. */
        if (__atomic_compare_exchange_n(&r->state, &state, REC_GONE, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            s->stats.peers_gone++;
    }
}

static void tick(struct shunt_steer *s)
{
    uint64_t t = rte_rdtsc();

    if (t < s->check_at)
        return;
    s->check_at = t + s->check_every;
    shunt_steer_check_peers(s);
}

/* ---- the table ----------------------------------------------------------------- */

/* CRC32C: with SSE4.2 one instruction per 8 bytes (28 cycles a frame
 * fewer than rte_jhash, bench-steer), and the same value computed in
 * software - every process of the group must find the same home. */
static uint32_t home(const struct shunt_steer *s, const struct steer_key *k)
{
    return rte_hash_crc(k, sizeof(*k), 0) & (s->file->table_size - 1);
}

/* Entry e's key and epoch as they stood while its state was w (the seqlock):
 * false if the entry changed meanwhile. */
static bool read_entry(struct steer_entry *e, uint32_t w, struct steer_key *k, uint32_t *epoch)
{
    memcpy(k, &e->key, sizeof(*k));
    *epoch = e->epoch;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&e->state, __ATOMIC_RELAXED) == w;
}

/* The live entry for k, or NULL; its word in *w. */
static struct steer_entry *find(const struct shunt_steer *s, const struct steer_key *k,
                                uint32_t *w_out)
{
    struct steer_entry *t = table(s);
    uint32_t mask = s->file->table_size - 1, h = home(s, k);

    for (uint32_t i = 0; i < PROBE; i++) {
        struct steer_entry *e = &t[(h + i) & mask];
        for (int tries = 0; tries < 4; tries++) {
            uint32_t w = load(&e->state), epoch;
            struct steer_key got;
            if (kind_of(w) == KIND_EMPTY)
                return NULL;
            if (kind_of(w) != KIND_VALID)
                break;
            if (!read_entry(e, w, &got, &epoch))
                continue;               /* written meanwhile: read it again */
            if (memcmp(&got, k, sizeof(got)) == 0 && entry_live(s, w, epoch)) {
                *w_out = w;
                return e;
            }
            break;
        }
    }
    return NULL;
}

/* Whether an entry may be taken for a new key: never used, freed, or left by
 * a life that is over. */
static bool takeable(const struct shunt_steer *s, struct steer_entry *e, uint32_t w)
{
    struct steer_key k;
    uint32_t epoch;

    if (kind_of(w) == KIND_EMPTY || kind_of(w) == KIND_FREE)
        return true;
    return kind_of(w) == KIND_VALID && read_entry(e, w, &k, &epoch) && !entry_live(s, w, epoch);
}

/* Own k: the entry, or NULL with errno EADDRINUSE or ENOSPC.  A claim
 * another writer won is looked at again (a few times: writers are few). */
static struct steer_entry *own(struct shunt_steer *s, const struct steer_key *k)
{
    struct steer_entry *t = table(s);
    uint32_t mask = s->file->table_size - 1, h = home(s, k), w;

    for (int attempt = 0; attempt < 8; attempt++) {
        struct steer_entry *have = find(s, k, &w);
        if (have != NULL) {
            if (owner_of(w) == s->self)
                return have;
            errno = EADDRINUSE;
            return NULL;
        }
        struct steer_entry *e = NULL;
        for (uint32_t i = 0; i < PROBE && e == NULL; i++) {
            e = &t[(h + i) & mask];
            w = load(&e->state);
            if (!takeable(s, e, w))
                e = NULL;
        }
        if (e == NULL)
            break;                      /* nothing free within reach: full */
        uint32_t busy = word(version_of(w) + 1, KIND_BUSY, s->self);
        if (!__atomic_compare_exchange_n(&e->state, &w, busy, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED))
            continue;
        memcpy(&e->key, k, sizeof(*k));
        e->epoch = s->epoch;
        store(&e->state, word(version_of(busy) + 1, KIND_VALID, s->self));
        return e;
    }
    s->stats.table_full++;
    errno = ENOSPC;
    return NULL;
}

/* Let e go, if it is still this instance's. */
static void disown(struct shunt_steer *s, struct steer_entry *e)
{
    uint32_t w = load(&e->state);

    if ((kind_of(w) != KIND_VALID && kind_of(w) != KIND_BUSY) || owner_of(w) != s->self)
        return;
    __atomic_compare_exchange_n(&e->state, &w, word(version_of(w) + 1, KIND_FREE, s->self),
                                false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Every entry of this instance's, of any life (a join, a detach). */
static void sweep(struct shunt_steer *s)
{
    struct steer_entry *t = table(s);

    for (uint32_t i = 0; i < s->file->table_size; i++)
        disown(s, &t[i]);
}

unsigned shunt_steer_table_count(const struct shunt_steer *s)
{
    struct steer_entry *t = table(s);
    unsigned count = 0;

    for (uint32_t i = 0; i < s->file->table_size; i++) {
        uint32_t w = load(&t[i].state), epoch;
        struct steer_key k;
        if (kind_of(w) == KIND_VALID && read_entry(&t[i], w, &k, &epoch) &&
            entry_live(s, w, epoch))
            count++;
    }
    return count;
}

/* ---- ownership by the socket layer ------------------------------------------- */

int shunt_steer_port_owner(const struct shunt_steer *s, uint16_t port)
{
    if (port < s->port_lo || port > s->port_hi)
        return -1;
    return (int)(port % s->n);
}

uint16_t shunt_steer_pick_port(struct shunt_steer *s)
{
    uint16_t p = s->port_cursor;

    do {
        p = p >= s->port_hi || p < s->port_lo ? s->port_lo : (uint16_t)(p + 1);
    } while (p % s->n != s->self);
    s->port_cursor = p;
    return p;
}

static void key_addr(uint8_t *to, const ip_addr_t *ip)
{
    if (IP_IS_V6(ip))
        memcpy(to, ip_2_ip6(ip)->addr, 16);
    else
        memcpy(to, &ip_2_ip4(ip)->addr, 4);
}

/* The process's lwIP is steered by one stage: its pcbs' entries go through it. */
static struct shunt_steer *lwip_steer;
static int ext_id = -1;

static void pcb_freed(u8_t id, void *data)
{
    (void)id;
    if (lwip_steer != NULL && data != NULL)
        disown(lwip_steer, &table(lwip_steer)[(uintptr_t)data - 1]);
}

static err_t pcb_accepted(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *pcb)
{
    (void)id;
    (void)lpcb;
    if (lwip_steer != NULL)
        shunt_steer_own_pcb(lwip_steer, pcb);
    return ERR_OK;              /* unsteered, the connection still works where it lands */
}

static const struct tcp_ext_arg_callbacks on_pcb = { pcb_freed, NULL };
static const struct tcp_ext_arg_callbacks on_listener = { NULL, pcb_accepted };

static void use_with_lwip(struct shunt_steer *s)
{
    lwip_steer = s;
    if (ext_id < 0)
        ext_id = tcp_ext_arg_alloc_id();
}

int shunt_steer_own_pcb(struct shunt_steer *s, struct tcp_pcb *pcb)
{
    struct steer_key k;

    use_with_lwip(s);
    memset(&k, 0, sizeof(k));
    k.proto = 6;
    k.v6 = IP_IS_V6(&pcb->local_ip);
    k.lport = pcb->local_port;
    k.rport = pcb->remote_port;
    key_addr(k.laddr, &pcb->local_ip);
    key_addr(k.raddr, &pcb->remote_ip);
    struct steer_entry *e = own(s, &k);
    if (e == NULL)
        return -1;
    tcp_ext_arg_set_callbacks(pcb, (u8_t)ext_id, &on_pcb);
    tcp_ext_arg_set(pcb, (u8_t)ext_id, (void *)(uintptr_t)(e - table(s) + 1));
    return 0;
}

void shunt_steer_listen(struct shunt_steer *s, struct tcp_pcb *lpcb)
{
    use_with_lwip(s);
    tcp_ext_arg_set_callbacks(lpcb, (u8_t)ext_id, &on_listener);
}

static void udp_key(struct steer_key *k, uint16_t port)
{
    memset(k, 0, sizeof(*k));
    k->proto = 17;
    k->lport = port;
}

int shunt_steer_own_udp(struct shunt_steer *s, uint16_t port)
{
    struct steer_key k;

    udp_key(&k, port);
    return own(s, &k) != NULL ? 0 : -1;
}

void shunt_steer_disown_udp(struct shunt_steer *s, uint16_t port)
{
    struct steer_key k;
    uint32_t w;

    udp_key(&k, port);
    struct steer_entry *e = find(s, &k, &w);
    if (e != NULL)
        disown(s, e);
}

/* ---- whose frame ------------------------------------------------------------------ */

static inline uint16_t be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* The owner by table, then by the range rule; a SYN (tcp_syn) by table only. */
static int owner_by_port(struct shunt_steer *s, const struct steer_key *k, bool tcp_syn)
{
    uint32_t w;

    if (find(s, k, &w) != NULL)
        return owner_of(w) == s->self ? SHUNT_STEER_HERE : (int)owner_of(w);
    if (tcp_syn)
        return SHUNT_STEER_HERE;
    int o = shunt_steer_port_owner(s, k->lport);
    if (o < 0 || (unsigned)o == s->self)
        return SHUNT_STEER_HERE;
    if (!alive(s, (unsigned)o)) {
        s->stats.orphans++;
        return SHUNT_STEER_HERE;
    }
    return o;
}

int shunt_steer_owner(struct shunt_steer *s, const struct rte_mbuf *m)
{
    const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *), *ip = b + ETH_LEN, *l4;
    uint32_t room = m->data_len;
    struct steer_key k;
    uint8_t proto;

    if (room < ETH_LEN)
        return SHUNT_STEER_HERE;
    switch (be16(b + 12)) {
    case RTE_ETHER_TYPE_ARP:
        return SHUNT_STEER_ALL;
    case RTE_ETHER_TYPE_IPV4: {
        if (room < ETH_LEN + 20)
            return SHUNT_STEER_HERE;
        uint32_t hl = (ip[0] & 0x0fu) * 4;
        if ((be16(ip + 6) & 0x3fff) != 0)       /* MF or an offset: a fragment */
            return SHUNT_STEER_HERE;
        proto = ip[9];
        l4 = ip + hl;
        memset(&k, 0, sizeof(k));
        memcpy(k.laddr, ip + 16, 4);
        memcpy(k.raddr, ip + 12, 4);
        break;
    }
    case RTE_ETHER_TYPE_IPV6:
        if (room < ETH_LEN + 40)
            return SHUNT_STEER_HERE;
        proto = ip[6];
        l4 = ip + 40;
        if (proto == 58)        /* ICMPv6: a neighbour advertisement to all */
            return room > ETH_LEN + 40 && l4[0] == 136 ? SHUNT_STEER_ALL : SHUNT_STEER_HERE;
        memset(&k, 0, sizeof(k));
        k.v6 = 1;
        memcpy(k.laddr, ip + 24, 16);
        memcpy(k.raddr, ip + 8, 16);
        break;
    default:
        return SHUNT_STEER_HERE;
    }
    if (proto == 6) {
        if (l4 + 14 > b + room)
            return SHUNT_STEER_HERE;
        k.proto = 6;
        k.lport = be16(l4 + 2);
        k.rport = be16(l4);
        bool syn = (l4[13] & 0x12) == 0x02;     /* SYN without ACK */
        return owner_by_port(s, &k, syn);
    }
    if (proto == 17) {
        if (l4 + 8 > b + room)
            return SHUNT_STEER_HERE;
        udp_key(&k, be16(l4 + 2));
        return owner_by_port(s, &k, false);
    }
    return SHUNT_STEER_HERE;
}

/* ---- the transports ------------------------------------------------------------- */

/* A copy of an ARP request is a reply: the receiver learns, and does not
 * answer again. */
static void learn_only(uint8_t *frame, uint32_t len)
{
    if (len >= ETH_LEN + 8 && be16(frame + 12) == RTE_ETHER_TYPE_ARP &&
        be16(frame + ETH_LEN + 6) == RTE_ARP_OP_REQUEST)
        frame[ETH_LEN + 7] = RTE_ARP_OP_REPLY;
}

/* The RX flags a copy keeps: what the NIC found of the checksums. */
#define KEPT_FLAGS  (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)

/* COPY: up to n frames (each fits a slot) into ring r's slots; returns
 * how many the ring had room for. */
static unsigned copy_send(struct shunt_steer *s, struct rte_ring *r, struct rte_mbuf **pkts,
                          unsigned n, bool neigh)
{
    struct rte_ring_zc_data zc;
    unsigned got = rte_ring_enqueue_zc_burst_elem_start(r, s->slot_size, n, &zc, NULL);

    for (unsigned i = 0; i < got; i++) {
        uint8_t *slot = i < zc.n1 ? (uint8_t *)zc.ptr1 + (size_t)i * s->slot_size
                                  : (uint8_t *)zc.ptr2 + (size_t)(i - zc.n1) * s->slot_size;
        struct rte_mbuf *m = pkts[i];
        uint32_t len = m->pkt_len, flags = (uint32_t)(m->ol_flags & KEPT_FLAGS);
        /* Read where it lies in one segment, gathered into the slot if not. */
        const void *at = rte_pktmbuf_read(m, 0, len, slot + SLOT_HEAD);
        if (at != slot + SLOT_HEAD)
            memcpy(slot + SLOT_HEAD, at, len);
        if (neigh)
            learn_only(slot + SLOT_HEAD, len);
        memcpy(slot, &len, 4);
        memcpy(slot + 4, &flags, 4);
    }
    rte_ring_enqueue_zc_elem_finish(r, got);
    return got;
}

static bool fits_slot(const struct shunt_steer *s, const struct rte_mbuf *m)
{
    return m->pkt_len <= s->slot_size - SLOT_HEAD;
}

/* A frame of len bytes at data into an mbuf (a chain if it needs one) of
 * the pool; NULL when the pool is empty. */
static struct rte_mbuf *copy_in(struct rte_mempool *pool, const uint8_t *data, uint32_t len)
{
    struct rte_mbuf *head = NULL, *last = NULL;

    do {
        struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
        if (m == NULL) {
            rte_pktmbuf_free(head);
            return NULL;
        }
        uint32_t part = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m));
        memcpy(rte_pktmbuf_append(m, (uint16_t)part), data, part);
        data += part;
        len -= part;
        if (head == NULL) {
            head = m;
        } else {
            last->next = m;
            head->nb_segs++;
            head->pkt_len += part;
        }
        last = m;
    } while (len > 0);
    return head;
}

/* COPY: up to n (at most SHUNT_MAX_BURST) frames out of ring r into pkts:
 * into mbufs taken from the pool in one go, a chain for a frame longer than
 * one holds. */
static unsigned copy_recv(struct shunt_steer *s, struct rte_ring *r, struct rte_mbuf **pkts,
                          unsigned n)
{
    struct rte_ring_zc_data zc;
    struct rte_mbuf *fresh[SHUNT_MAX_BURST];
    unsigned got = rte_ring_dequeue_zc_burst_elem_start(r, s->slot_size, RTE_MIN(n, RTE_DIM(fresh)),
                                                        &zc, NULL), out = 0;
    bool bulk = got > 0 && rte_pktmbuf_alloc_bulk(s->pool, fresh, got) == 0;
    uint32_t room = rte_pktmbuf_data_room_size(s->pool) - RTE_PKTMBUF_HEADROOM;

    for (unsigned i = 0; i < got; i++) {
        const uint8_t *slot = i < zc.n1
                                  ? (const uint8_t *)zc.ptr1 + (size_t)i * s->slot_size
                                  : (const uint8_t *)zc.ptr2 + (size_t)(i - zc.n1) * s->slot_size;
        uint32_t len, flags;
        struct rte_mbuf *m = NULL;
        memcpy(&len, slot, 4);
        memcpy(&flags, slot + 4, 4);
        if (bulk && len > 0 && len <= room) {
            m = fresh[i];
            memcpy(rte_pktmbuf_append(m, (uint16_t)len), slot + SLOT_HEAD, len);
        } else {
            if (bulk)
                rte_pktmbuf_free(fresh[i]);
            if (len == 0)
                continue;               /* too big for a slot: counted by its sender */
            m = copy_in(s->pool, slot + SLOT_HEAD, len);
        }
        if (m == NULL) {
            s->stats.nombuf++;
            continue;
        }
        m->ol_flags |= flags;
        pkts[out++] = m;
    }
    rte_ring_dequeue_zc_elem_finish(r, got);
    return out;
}

/* Frames to instance o, all n of them: sent, or freed and counted, so
 * steered_out + ring_full + too_big are the frames that left. */
static void send_to(struct shunt_steer *s, unsigned o, struct rte_mbuf **pkts, unsigned n)
{
    unsigned sent;

    if (s->transport == SHUNT_STEER_COPY) {
        unsigned fit = 0;
        for (unsigned i = 0; i < n; i++) {
            if (fits_slot(s, pkts[i])) {
                pkts[fit++] = pkts[i];
                continue;
            }
            s->stats.too_big++;         /* cannot cross: a slot is the largest frame */
            rte_pktmbuf_free(pkts[i]);
        }
        n = fit;
        sent = copy_send(s, s->out[o], pkts, n, false);
        rte_pktmbuf_free_bulk(pkts, sent);
    } else {
        sent = rte_ring_enqueue_burst(s->out[o], (void **)pkts, n, NULL);
    }
    s->stats.steered_out += sent;
    s->stats.ring_full += n - sent;
    rte_pktmbuf_free_bulk(pkts + sent, n - sent);
}

/* A copy of the neighbour frame m (which stays here) to every other live
 * instance; a copy that cannot go is counted apart from the frames that left. */
static void send_to_all(struct shunt_steer *s, struct rte_mbuf *m)
{
    for (unsigned o = 0; o < s->n; o++) {
        if (o == s->self || !alive(s, o))
            continue;
        unsigned sent = 0;
        if (s->transport == SHUNT_STEER_COPY) {
            if (fits_slot(s, m))
                sent = copy_send(s, s->out[o], &m, 1, true);
        } else {
            struct rte_mbuf *c = rte_pktmbuf_copy(m, s->pool, 0, UINT32_MAX);
            if (c != NULL) {
                learn_only(rte_pktmbuf_mtod(c, uint8_t *), c->data_len);
                sent = rte_ring_enqueue_burst(s->out[o], (void **)&c, 1, NULL);
                if (sent == 0)
                    rte_pktmbuf_free(c);
            }
        }
        s->stats.neigh_out += sent;
        s->stats.neigh_dropped += 1 - sent;
    }
}

static unsigned recv_from(struct shunt_steer *s, unsigned from, struct rte_mbuf **pkts,
                          unsigned n)
{
    if (s->transport == SHUNT_STEER_COPY)
        return copy_recv(s, s->in[from], pkts, n);
    return rte_ring_dequeue_burst(s->in[from], (void **)pkts, n, NULL);
}

/* ---- the stage ---------------------------------------------------------------------- */

static uint16_t steer_rx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    struct shunt_steer *s = (struct shunt_steer *)phy;
    struct rte_mbuf *away[SHUNT_MAX_BURST];
    uint8_t to[SHUNT_MAX_BURST];
    unsigned naway = 0;
    uint16_t kept = 0;

    tick(s);
    n = RTE_MIN(n, (uint16_t)SHUNT_MAX_BURST);
    uint16_t got = shunt_phy_rx(phy->inner, pkts, n);
    for (uint16_t i = 0; i < got; i++) {
        int o = shunt_steer_owner(s, pkts[i]);
        if (o >= 0) {
            away[naway] = pkts[i];
            to[naway++] = (uint8_t)o;
            continue;
        }
        if (o == SHUNT_STEER_ALL)
            send_to_all(s, pkts[i]);
        pkts[kept++] = pkts[i];
    }
    /* Each owner's frames in one burst, in the order they came. */
    for (unsigned i = 0; i < naway; i++) {
        if (away[i] == NULL)
            continue;
        struct rte_mbuf *batch[SHUNT_MAX_BURST];
        unsigned o = to[i], nb = 0;
        for (unsigned j = i; j < naway; j++) {
            if (away[j] != NULL && to[j] == o) {
                batch[nb++] = away[j];
                away[j] = NULL;
            }
        }
        send_to(s, o, batch, nb);
    }
    /* Then what the others steered here, in the room left, ring by ring. */
    for (unsigned k = 0; k < s->n && kept < n; k++) {
        unsigned from = (s->next_in + k) % s->n;
        if (from == s->self || !alive(s, from))
            continue;
        unsigned in = recv_from(s, from, pkts + kept, (unsigned)(n - kept));
        kept = (uint16_t)(kept + in);
        s->stats.steered_in += in;
    }
    s->next_in = (s->next_in + 1) % s->n;
    return kept;
}

/* Frames sent go straight down: steering is for what is received. */
static uint16_t steer_tx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    return shunt_phy_tx(phy->inner, pkts, n);
}

static const struct shunt_phy_ops steer_ops = { steer_rx, steer_tx };

struct shunt_phy *shunt_steer_stage(struct shunt_steer *s)
{
    return &s->phy;
}

/* ---- joining and leaving ------------------------------------------------------------ */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static unsigned slot_bytes(const struct shunt_steer_conf *c)
{
    return RTE_ALIGN_CEIL(SLOT_HEAD + c->slot_size, 8);
}

static struct rte_ring *file_ring(struct steer_file *f, unsigned from, unsigned to)
{
    return (struct rte_ring *)(void *)((char *)f + f->rings_off +
                                       (from * f->instances + to) * f->ring_bytes);
}

/* Empty ring r (no one else uses it now), counting what was left. */
static void empty_ring(struct shunt_steer *s, struct rte_ring *r, unsigned from, unsigned to)
{
    if (s->transport == SHUNT_STEER_COPY) {
        char name[RTE_RING_NAMESIZE];
        s->stats.lost_gone += rte_ring_count(r);
        snprintf(name, sizeof(name), "steer-%u-%u", from, to);
        rte_ring_init(r, name, s->file->ring_size, RING_F_SP_ENQ | RING_F_SC_DEQ);
        return;
    }
    struct rte_mbuf *m[SHUNT_MAX_BURST];
    unsigned got;
    while ((got = rte_ring_dequeue_burst(r, (void **)m, RTE_DIM(m), NULL)) > 0) {
        s->stats.lost_gone += got;
        rte_pktmbuf_free_bulk(m, got);
    }
}

static struct rte_ring *mbuf_ring(const char *group, unsigned from, unsigned to, unsigned size)
{
    char name[RTE_RING_NAMESIZE];
    struct rte_ring *r;

    snprintf(name, sizeof(name), "%s-%u-%u", group, from, to);
    for (int tries = 0; tries < 2; tries++) {
        if ((r = rte_ring_lookup(name)) != NULL)
            return r;
        if ((r = rte_ring_create(name, size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ)) != NULL)
            return r;                   /* else made meanwhile by a peer: look again */
    }
    return NULL;
}

/* The file's geometry for conf, and whether f (already made) has it. */
static void geometry(struct steer_file *f, const struct shunt_steer_conf *c)
{
    f->instances = c->instances;
    f->transport = c->transport;
    f->ring_size = c->ring_size;
    f->slot_size = slot_bytes(c);
    f->table_size = c->table_size;
    f->port_lo = c->port_lo;
    f->port_hi = c->port_hi;
    f->table_off = RTE_ALIGN_CEIL(sizeof(*f), RTE_CACHE_LINE_SIZE);
    f->rings_off = f->table_off + (uint64_t)c->table_size * sizeof(struct steer_entry);
    f->ring_bytes = c->transport == SHUNT_STEER_COPY
                        ? RTE_ALIGN_CEIL((uint64_t)rte_ring_get_memsize_elem(f->slot_size,
                                                                              c->ring_size),
                                         RTE_CACHE_LINE_SIZE)
                        : 0;
}

static bool same_geometry(const struct steer_file *a, const struct steer_file *b)
{
    return a->instances == b->instances && a->transport == b->transport &&
           a->ring_size == b->ring_size && a->slot_size == b->slot_size &&
           a->table_size == b->table_size && a->port_lo == b->port_lo &&
           a->port_hi == b->port_hi;
}

static int check_conf(const struct shunt_steer_conf *c, char *err, size_t errlen)
{
    if (c->instances < 2 || c->instances > SHUNT_STEER_MAX || c->index >= c->instances)
        return fail(err, errlen, "steer: instance %u of %u: need 2 to %d instances, index below them",
                    c->index, c->instances, SHUNT_STEER_MAX);
    if (!rte_is_power_of_2(c->ring_size) || c->ring_size < 2 ||
        !rte_is_power_of_2(c->table_size) || c->table_size < PROBE)
        return fail(err, errlen, "steer: ring_size %u and table_size %u must be powers of two (table >= %d)",
                    c->ring_size, c->table_size, PROBE);
    if (c->port_lo == 0 || c->port_hi < c->port_lo || c->port_hi - c->port_lo + 1u < c->instances)
        return fail(err, errlen, "steer: active-open range %u-%u must hold a port for each instance",
                    c->port_lo, c->port_hi);
    if (c->pool == NULL || (c->transport == SHUNT_STEER_COPY && c->slot_size < 64) ||
        (c->transport == SHUNT_STEER_MBUF && (c->name == NULL || strlen(c->name) > 15)))
        return fail(err, errlen, "steer: needs a pool, a slot of 64 bytes or more (COPY), a name of 1-15 characters (MBUF)");
    return 0;
}

/* Map the file, making it if it is new; the caller holds its lock. */
static struct steer_file *map_file(int fd, const struct shunt_steer_conf *c, size_t *len,
                                   char *err, size_t errlen)
{
    struct steer_file want;
    struct stat st;

    memset(&want, 0, sizeof(want));
    geometry(&want, c);
    *len = want.rings_off + (uint64_t)c->instances * c->instances * want.ring_bytes;
    if (fstat(fd, &st) != 0 || (st.st_size == 0 && ftruncate(fd, (off_t)*len) != 0)) {
        fail(err, errlen, "steer: %s: %s", c->path, strerror(errno));
        return NULL;
    }
    bool fresh = st.st_size == 0;
    if (!fresh && (size_t)st.st_size != *len) {
        fail(err, errlen, "steer: %s was made for another group (its size differs): remove it, or give every instance the same configuration", c->path);
        return NULL;
    }
    struct steer_file *f = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (f == MAP_FAILED) {
        fail(err, errlen, "steer: mmap %s: %s", c->path, strerror(errno));
        return NULL;
    }
    if (fresh) {
        memcpy(f, &want, sizeof(want));
        for (unsigned i = 0; i < c->instances; i++)
            for (unsigned j = 0; j < c->instances && c->transport == SHUNT_STEER_COPY; j++)
                rte_ring_init(file_ring(f, i, j), "steer", c->ring_size,
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
        f->version = STEER_VERSION;
        store(&f->magic, STEER_MAGIC);
    } else if (load(&f->magic) != STEER_MAGIC || f->version != STEER_VERSION ||
               !same_geometry(f, &want)) {
        munmap(f, *len);
        fail(err, errlen, "steer: %s was made for another group (instances, transport, rings or table differ): remove it, or give every instance the same configuration", c->path);
        return NULL;
    }
    return f;
}

int shunt_steer_attach(struct shunt_steer *s, const struct shunt_steer_conf *c, char *err,
                       size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (check_conf(c, err, errlen) != 0)
        return -1;
    int fd = open(c->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, errlen, "steer: %s: %s", c->path, strerror(errno));
    flock(fd, LOCK_EX);                 /* joins one at a time; never on the fast path */
    s->file = map_file(fd, c, &s->file_len, err, errlen);
    if (s->file == NULL) {
        close(fd);
        return -1;
    }
    struct steer_record *me = &s->file->rec[c->index];
    if (load(&me->state) != REC_GONE && me->pid != getpid() && pid_lives(me)) {
        fail(err, errlen, "steer: instance %u of %s already runs (pid %d): stop it first, or give this one another index",
             c->index, c->path, me->pid);
        munmap(s->file, s->file_len);
        close(fd);
        return -1;
    }
    s->phy.ops = &steer_ops;
    s->self = c->index;
    s->n = c->instances;
    s->transport = c->transport;
    s->slot_size = s->file->slot_size;
    s->port_lo = c->port_lo;
    s->port_hi = c->port_hi;
    s->port_cursor = c->port_lo;
    s->pool = c->pool;
    s->check_every = rte_get_tsc_hz() / 1000;

    /* A new life: peers stop using this instance's rings at once. */
    bool unclean = me->unclean != 0;
    s->epoch = me->epoch + 1;
    store(&me->state, REC_JOINING);
    store(&me->epoch, s->epoch);
    me->pid = getpid();
    me->started = started(me->pid);
    me->unclean = 1;
    __atomic_store_n(&me->heartbeat_ns, now_ns(), __ATOMIC_RELAXED);
    if (unclean)
        usleep(SHUNT_STEER_GRACE_MS * 1000);
    for (unsigned j = 0; j < s->n; j++) {
        if (j == s->self)
            continue;
        if (s->transport == SHUNT_STEER_COPY) {
            s->out[j] = file_ring(s->file, s->self, j);
            s->in[j] = file_ring(s->file, j, s->self);
        } else {
            s->out[j] = mbuf_ring(c->name, s->self, j, c->ring_size);
            s->in[j] = mbuf_ring(c->name, j, s->self, c->ring_size);
        }
        if (s->out[j] == NULL || s->in[j] == NULL) {
            fail(err, errlen, "steer: no memory for the rings of %s (%s)", c->name,
                 rte_strerror(rte_errno));
            store(&me->state, REC_GONE);
            munmap(s->file, s->file_len);
            close(fd);
            return -1;
        }
        empty_ring(s, s->out[j], s->self, j);
        empty_ring(s, s->in[j], j, s->self);
    }
    sweep(s);
    store(&me->state, REC_ALIVE);
    flock(fd, LOCK_UN);
    close(fd);                          /* the mapping stays */
    return 0;
}

void shunt_steer_detach(struct shunt_steer *s)
{
    if (s->file == NULL)
        return;
    struct steer_record *me = &s->file->rec[s->self];
    /* Gone first: peers stop; then a moment for a burst in flight. */
    store(&me->state, REC_GONE);
    usleep(10 * 1000);
    for (unsigned j = 0; j < s->n; j++)
        if (j != s->self && s->in[j] != NULL)
            empty_ring(s, s->in[j], j, s->self);
    sweep(s);
    me->pid = 0;
    store(&me->unclean, 0);
    if (lwip_steer == s)
        lwip_steer = NULL;
    munmap(s->file, s->file_len);
    s->file = NULL;
}
