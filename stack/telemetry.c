/*
 * telemetry.c - Shunt's commands in DPDK telemetry, answered by the
 * instance's own thread through a one-slot mailbox.
 */
#define _GNU_SOURCE                 /* sched_getcpu */
#include "telemetry.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "lwip/memp.h"
#include "lwip/stats.h"

#include "faults.h"
#include "log.h"
#include "recovery.h"
#include "stack.h"
#include "tstamp.h"

/* ---- the mailbox ------------------------------------------------------------ */

enum { IDLE, ASKED, ANSWERING, ANSWERED };

void shunt_telemetry_set_sockets(struct shunt_telemetry *t, shunt_telemetry_sockets_fn fn)
{
    t->sockets = fn;
}

void shunt_telemetry_set_kernel_sockets(struct shunt_telemetry *t, shunt_telemetry_answer_fn fn)
{
    t->kernel_sockets = fn;
}

void shunt_telemetry_answer(struct shunt_telemetry *t)
{
    int asked = ASKED;

    atomic_store_explicit(&t->asked, 0, memory_order_relaxed);
    if (!atomic_compare_exchange_strong(&t->state, &asked, ANSWERING))
        return;                         /* the asker gave up */
    t->rc = t->fn(t->params, t->data);
    atomic_store_explicit(&t->state, ANSWERED, memory_order_release);
}

/* From a telemetry thread: have the instance's thread run fn, wait for it.
 * DPDK's commands carry no argument: the mailbox is the instance's. */
static int ask(shunt_telemetry_answer_fn fn, const char *params, struct rte_tel_data *d)
{
    struct shunt_telemetry *t = &shunt_instance()->telemetry;
    const struct timespec pause = { 0, 50000 };
    int rc = -EBUSY;

    pthread_mutex_lock(&t->askers);
    t->fn = fn;
    t->params = params;
    t->data = d;
    atomic_store_explicit(&t->state, ASKED, memory_order_release);
    atomic_store_explicit(&t->asked, 1, memory_order_release);
    for (int waited = 0; waited < 20000; waited++) {        /* one second */
        if (atomic_load_explicit(&t->state, memory_order_acquire) == ANSWERED) {
            rc = t->rc;
            break;
        }
        nanosleep(&pause, NULL);
    }
    int asked = ASKED;
    if (rc == -EBUSY && !atomic_compare_exchange_strong(&t->state, &asked, IDLE)) {
        /* Taken just now: the answer is on its way. */
        while (atomic_load_explicit(&t->state, memory_order_acquire) != ANSWERED)
            nanosleep(&pause, NULL);
        rc = t->rc;
    }
    atomic_store_explicit(&t->state, IDLE, memory_order_release);
    pthread_mutex_unlock(&t->askers);
    return rc;
}

/* ---- the answers (on the instance's thread) -------------------------------------- */

static void add_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
    rte_tel_data_add_dict_u64(d, name, v);
}

static struct rte_tel_data *dict(void)
{
    struct rte_tel_data *d = rte_tel_data_alloc();

    if (d != NULL)
        rte_tel_data_start_dict(d);
    return d;
}

static void add_dict(struct rte_tel_data *d, const char *name, struct rte_tel_data *inner)
{
    if (inner != NULL)
        rte_tel_data_add_dict_container(d, name, inner, 0);
}

static void add_drops(struct rte_tel_data *d, const struct shunt_counters *c)
{
    for (int i = 0; i < SHUNT_DROP_CAUSES; i++)
        add_u64(d, shunt_drop_name(i), c->drops[i]);
}

static struct rte_tel_data *drops_dict(const struct shunt_counters *c)
{
    struct rte_tel_data *d = dict();

    if (d != NULL)
        add_drops(d, c);
    return d;
}

static struct rte_tel_data *verdicts_dict(const struct shunt_counters *c)
{
    struct rte_tel_data *d = dict();

    for (int i = 0; d != NULL && i < SHUNT_VERDICTS; i++)
        add_u64(d, shunt_verdict_name(i), c->verdicts[i]);
    return d;
}

/* The frame balance (stack/stats.h), flat: telemetry nests containers one
 * level deep only.  "in"/"out" are 1 when the balance holds. */
static struct rte_tel_data *balance_dict(const struct shunt_balance *b)
{
    struct rte_tel_data *d = dict();

    if (d == NULL)
        return NULL;
    add_u64(d, "in", b->rx_holds);
    add_u64(d, "rx_packets", b->rx_packets);
    add_u64(d, "steered_in", b->steered_in);
    add_u64(d, "steered_away", b->steered_away);
    add_u64(d, "rx_copies", b->rx_copies);
    add_u64(d, "looped", b->looped);
    add_u64(d, "kernel_copies", b->kernel_copies);
    add_u64(d, "consumed", b->consumed);
    add_u64(d, "to_kernel", b->to_kernel);
    add_u64(d, "in_sockets", b->in_sockets);
    add_u64(d, "held_tcp", b->held_tcp);
    add_u64(d, "held_reassembly", b->held_reassembly);
    add_u64(d, "held_faults_rx", b->held_faults_rx);
    add_u64(d, "held_kernel", b->held_kernel);
    add_u64(d, "rx_drops", b->rx_drops);
    add_u64(d, "out", b->tx_holds);
    add_u64(d, "tx_produced", b->tx_produced);
    add_u64(d, "tx_copies", b->tx_copies);
    add_u64(d, "from_kernel", b->from_kernel);
    add_u64(d, "tx_packets", b->tx_packets);
    add_u64(d, "tx_drops", b->tx_drops);
    add_u64(d, "held_tx_buffer", b->held_tx_buffer);
    add_u64(d, "held_faults_tx", b->held_faults_tx);
    add_u64(d, "arp_waiting", b->arp_waiting);
    return d;
}

static struct rte_tel_data *demux_dict(const struct shunt_demux *dm)
{
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        add_u64(d, "connections", shunt_demux_count(dm));
        add_u64(d, "hits", dm->stats.hits);
        add_u64(d, "misses", dm->stats.misses);
        add_u64(d, "walks", dm->stats.walks);
    }
    return d;
}

/* TCP loss recovery: what port/recovery.c did. */
static struct rte_tel_data *recovery_dict(void)
{
    struct shunt_recovery_stats st = shunt_recovery_stats();
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        add_u64(d, "rtos", st.rtos);
        add_u64(d, "probes", st.probes);
        add_u64(d, "lost", st.lost);
        add_u64(d, "recoveries", st.recoveries);
        add_u64(d, "sack_bad", st.sack_bad);
        add_u64(d, "dsacks", st.dsacks);
        add_u64(d, "undos", st.undos);
        add_u64(d, "spurious_rtos", st.spurious_rtos);
    }
    return d;
}

/* The fault stage: on or off, what it was told, and what it did. */
static void add_faults(struct rte_tel_data *d, const struct shunt_faults *f)
{
    char spec[RTE_TEL_MAX_STRING_LEN];

    rte_tel_data_add_dict_string(d, "state", f->on ? "on" : "off");
    shunt_faults_format(&f->conf, spec, sizeof(spec));
    rte_tel_data_add_dict_string(d, "spec", spec);
    for (int w = 0; w < SHUNT_DIRS; w++) {
        struct rte_tel_data *way = dict();
        for (int k = 0; way != NULL && k < SHUNT_FAULT_KINDS; k++)
            add_u64(way, shunt_fault_name(k), f->way[w].count[k]);
        if (way != NULL)
            add_u64(way, "overflow", f->way[w].overflow);   /* delayed beyond limit: dropped */
        add_dict(d, shunt_dir_name(w), way);
    }
}

static struct rte_tel_data *faults_dict(const struct shunt_faults *f)
{
    struct rte_tel_data *d = dict();

    if (d != NULL)
        add_faults(d, f);
    return d;
}

#define PROTO_FIELDS(X) X(xmit) X(recv) X(drop) X(chkerr) X(lenerr) X(memerr) \
                        X(rterr) X(proterr) X(opterr) X(err)
#define IGMP_FIELDS(X)  X(xmit) X(recv) X(drop) X(chkerr) X(lenerr) X(memerr) \
                        X(proterr) X(rx_v1) X(rx_group) X(rx_general) X(rx_report) \
                        X(tx_join) X(tx_leave) X(tx_report)
#define ADD_FIELD(f)    add_u64(d, #f, s->f);

static struct rte_tel_data *proto_dict(const struct stats_proto *s)
{
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        PROTO_FIELDS(ADD_FIELD)
    }
    return d;
}

static struct rte_tel_data *igmp_dict(const struct stats_igmp *s)
{
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        IGMP_FIELDS(ADD_FIELD)
    }
    return d;
}

/* lwIP's pools, named as memp_std.h names them. */
static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

static struct rte_tel_data *pools_dict(void)
{
    struct rte_tel_data *d = dict();

    add_u64(d, "heap_used", lwip_stats.mem.used);
    add_u64(d, "heap_max", lwip_stats.mem.max);
    add_u64(d, "heap_size", lwip_stats.mem.avail);
    add_u64(d, "heap_err", lwip_stats.mem.err);
    for (int i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        struct rte_tel_data *p = dict();
        if (p == NULL)
            continue;
        add_u64(p, "used", m->used);
        add_u64(p, "max", m->max);
        add_u64(p, "size", m->avail);
        add_u64(p, "err", m->err);
        add_dict(d, pool_names[i], p);
    }
    return d;
}

static struct rte_tel_data *protocols_dict(void)
{
    struct rte_tel_data *d = dict();
    const struct stats_ *s = &lwip_stats;

    add_dict(d, "link", proto_dict(&s->link));
    add_dict(d, "etharp", proto_dict(&s->etharp));
    add_dict(d, "ip_frag", proto_dict(&s->ip_frag));
    add_dict(d, "ip", proto_dict(&s->ip));
    add_dict(d, "icmp", proto_dict(&s->icmp));
    add_dict(d, "igmp", igmp_dict(&s->igmp));
    add_dict(d, "udp", proto_dict(&s->udp));
    add_dict(d, "tcp", proto_dict(&s->tcp));
    add_dict(d, "ip6", proto_dict(&s->ip6));
    add_dict(d, "icmp6", proto_dict(&s->icmp6));
    add_dict(d, "ip6_frag", proto_dict(&s->ip6_frag));
    add_dict(d, "mld6", igmp_dict(&s->mld6));
    add_dict(d, "nd6", proto_dict(&s->nd6));
    return d;
}

static struct rte_tel_data *port_dict(uint16_t port)
{
    struct rte_tel_data *d = dict();
    struct rte_eth_stats st;

    if (rte_eth_stats_get(port, &st) == 0) {
        add_u64(d, "ipackets", st.ipackets);
        add_u64(d, "opackets", st.opackets);
        add_u64(d, "ibytes", st.ibytes);
        add_u64(d, "obytes", st.obytes);
        add_u64(d, "imissed", st.imissed);
        add_u64(d, "ierrors", st.ierrors);
        add_u64(d, "oerrors", st.oerrors);
        add_u64(d, "rx_nombuf", st.rx_nombuf);
    }
    int n = rte_eth_xstats_get(port, NULL, 0);
    if (n <= 0 || n > RTE_TEL_MAX_DICT_ENTRIES)
        return d;
    struct rte_eth_xstat *xs = calloc((size_t)n, sizeof(*xs));
    struct rte_eth_xstat_name *names = calloc((size_t)n, sizeof(*names));
    struct rte_tel_data *x = dict();
    if (xs != NULL && names != NULL && x != NULL &&
        rte_eth_xstats_get(port, xs, (unsigned)n) == n &&
        rte_eth_xstats_get_names(port, names, (unsigned)n) == n) {
        for (int i = 0; i < n; i++)
            add_u64(x, names[i].name, xs[i].value);
        add_dict(d, "xstats", x);
    } else {
        rte_tel_data_free(x);
    }
    free(xs);
    free(names);
    return d;
}

/* The loop: how busy it is, and where it runs (for shunt-doctor). */
static struct rte_tel_data *loop_dict(const struct shunt_loop *l)
{
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        add_u64(d, "turns", l->turns);
        add_u64(d, "busy_turns", l->busy_turns);
        add_u64(d, "work_ns", l->work_ns);
        add_u64(d, "lcore", rte_lcore_id());
        rte_tel_data_add_dict_int(d, "cpu", sched_getcpu());
        add_u64(d, "numa_node", rte_socket_id());
    }
    return d;
}

/* The steering stage's counts (port/steer.h). */
static struct rte_tel_data *steer_dict(const struct shunt_steer *s)
{
    const struct shunt_steer_stats *st = &s->stats;
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        add_u64(d, "steered_out", st->steered_out);
        add_u64(d, "steered_in", st->steered_in);
        add_u64(d, "neigh_out", st->neigh_out);
        add_u64(d, "neigh_dropped", st->neigh_dropped);
        add_u64(d, "ring_full", st->ring_full);
        add_u64(d, "too_big", st->too_big);
        add_u64(d, "nombuf", st->nombuf);
        add_u64(d, "lost_gone", st->lost_gone);
        add_u64(d, "table_full", st->table_full);
        add_u64(d, "orphans", st->orphans);
        add_u64(d, "peers_gone", st->peers_gone);
    }
    return d;
}

/* Which instance of which group this is (one of one, alone). */
static struct rte_tel_data *group_dict(const struct shunt_config *c)
{
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        add_u64(d, "instance", c->instance);
        add_u64(d, "instances", c->instances);
        add_u64(d, "core", c->instances > 1 ? c->cores[c->instance] : rte_lcore_id());
    }
    return d;
}

/* The port as the instance opened it: its driver, NUMA node, and what it
 * offers against what Shunt uses (for shunt-doctor). */
static struct rte_tel_data *device_dict(const struct shunt_dev *dev)
{
    struct rte_eth_dev_info info;
    struct rte_tel_data *d = dict();

    if (d == NULL || rte_eth_dev_info_get(dev->port_id, &info) != 0)
        return d;
    rte_tel_data_add_dict_string(d, "name", dev->name);
    rte_tel_data_add_dict_string(d, "driver", info.driver_name);
    rte_tel_data_add_dict_int(d, "numa_node", rte_eth_dev_socket_id(dev->port_id));
    add_u64(d, "queue", dev->queue_id);
    add_u64(d, "max_rx_queues", info.max_rx_queues);
    add_u64(d, "rx_offload_capa", info.rx_offload_capa);
    add_u64(d, "tx_offload_capa", info.tx_offload_capa);
    add_u64(d, "rss_offloads", info.flow_type_rss_offloads);
    add_u64(d, "rx_offloads", dev->rx_offloads);
    add_u64(d, "tx_offloads", dev->tx_offloads);
    return d;
}

/* Receive stamps: the port's, or the burst's on the TSC, and the line onto
 * CLOCK_REALTIME (port/tstamp.h). */
static struct rte_tel_data *timestamps_dict(void)
{
    struct shunt_tstamp_info ti;
    struct rte_tel_data *d = dict();

    if (d == NULL)
        return NULL;
    shunt_tstamp_get_info(&ti);
    add_u64(d, "hw_capable", ti.hw_capable);
    add_u64(d, "hw_enabled", ti.hw_enabled);
    add_u64(d, "hw_frames", ti.hw_frames);
    add_u64(d, "anchors", ti.anchors);
    add_u64(d, "steps", ti.steps);
    rte_tel_data_add_dict_int(d, "last_error_ns", (int)ti.last_error_ns);
    rte_tel_data_add_dict_int(d, "slew_ppb", (int)ti.slew_ppb);
    return d;
}

/* One family's reports (port/mcreport.h): the version it speaks now. */
static struct rte_tel_data *reports_dict(const struct shunt_mcreport *r, int fam)
{
    const struct shunt_mcreport_stats *st = &r->family[fam].stats;
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        add_u64(d, "version", shunt_mcreport_version(r, fam));
        add_u64(d, "forced", r->family[fam].forced);
        add_u64(d, "queries", st->queries[1] + st->queries[2] + st->queries[3]);
        add_u64(d, "reports", st->reports);
        add_u64(d, "records", st->records);
        add_u64(d, "suppressed", st->suppressed);
        add_u64(d, "bad_queries", st->bad);
        add_u64(d, "no_memory", st->no_memory);
    }
    return d;
}

/* The groups joined, the port's multicast filter (port/mcast.h) and the
 * reports for them. */
static struct rte_tel_data *multicast_dict(const struct shunt_mcast *m,
                                           const struct shunt_mcreport *r)
{
    struct rte_tel_data *d = dict();

    if (d != NULL) {
        add_dict(d, "igmp", reports_dict(r, SHUNT_MCREPORT_IGMP));
        add_dict(d, "mld", reports_dict(r, SHUNT_MCREPORT_MLD));
        add_u64(d, "groups", m->count);
        add_u64(d, "groups_max", m->capacity);
        add_u64(d, "lookups", m->lookups);
        rte_tel_data_add_dict_string(d, "port_filter", m->filter.has_filter ? "yes" : "no");
        add_u64(d, "filter_capacity", m->filter.capacity);
        add_u64(d, "filter_programmed", m->filter.programmed);
        add_u64(d, "filter_writes", m->filter.reprograms);
        rte_tel_data_add_dict_string(d, "allmulticast", m->filter.allmulticast ? "on" : "off");
    }
    return d;
}

static int answer_stats(const char *params, struct rte_tel_data *d)
{
    struct shunt_counters c;
    struct shunt_balance balance;
    struct shunt_instance *in = shunt_instance();
    struct shunt_netif *sn = shunt_stack_netif();

    (void)params;
    if (sn == NULL)
        return -ENODEV;
    shunt_stack_balance(&c, &balance);
    rte_tel_data_start_dict(d);
    add_u64(d, "time_ms", shunt_clock_ms(&in->clock));
    add_u64(d, "rx_packets", c.rx_packets);
    add_u64(d, "rx_bytes", c.rx_bytes);
    add_u64(d, "tx_packets", c.tx_packets);
    add_u64(d, "tx_bytes", c.tx_bytes);
    add_u64(d, "to_kernel", c.to_kernel);
    add_u64(d, "to_kernel_bytes", c.to_kernel_bytes);
    add_u64(d, "from_kernel", c.from_kernel);
    add_u64(d, "from_kernel_bytes", c.from_kernel_bytes);
    add_dict(d, "drops", drops_dict(&c));
    add_dict(d, "verdicts", verdicts_dict(&c));
    add_dict(d, "balance", balance_dict(&balance));
    add_dict(d, "demux", demux_dict(&sn->demux));
    add_dict(d, "multicast", multicast_dict(&sn->mcast, &sn->report));
    add_dict(d, "faults", faults_dict(&in->faults));
    add_dict(d, "tcp_recovery", recovery_dict());
    struct rte_tel_data *mbufs = dict();
    add_u64(mbufs, "size", sn->conf.pool->size);
    add_u64(mbufs, "free", rte_mempool_avail_count(sn->conf.pool));
    add_u64(mbufs, "in_use", rte_mempool_in_use_count(sn->conf.pool));
    add_u64(mbufs, "chunks", sn->conf.pool->nb_mem_chunks);
    add_dict(d, "mbufs", mbufs);
    add_dict(d, "pools", pools_dict());
    add_dict(d, "lwip", protocols_dict());
    add_dict(d, "port", port_dict(sn->conf.port_id));
    add_dict(d, "device", device_dict(&in->dev));
    add_dict(d, "loop", loop_dict(&in->loop));
    add_dict(d, "timestamps", timestamps_dict());
    add_dict(d, "group", group_dict(&in->config));
    if (in->steering)
        add_dict(d, "steer", steer_dict(&in->steer));
    return 0;
}

static int answer_drops(const char *params, struct rte_tel_data *d)
{
    struct shunt_counters c;

    (void)params;
    shunt_stack_counters(&c);
    rte_tel_data_start_dict(d);
    add_drops(d, &c);
    return 0;
}

static int answer_sockets(const char *params, struct rte_tel_data *d)
{
    unsigned from = params != NULL ? (unsigned)strtoul(params, NULL, 10) : 0;

    shunt_telemetry_sockets_fn fn = shunt_instance()->telemetry.sockets;

    if (fn == NULL)
        return -ENOTSUP;
    return fn(from, d);
}

static int answer_kernel_sockets(const char *params, struct rte_tel_data *d)
{
    shunt_telemetry_answer_fn fn = shunt_instance()->telemetry.kernel_sockets;

    if (fn == NULL) {                   /* no interposer: no kernel sockets of ours */
        rte_tel_data_start_dict(d);
        return 0;
    }
    return fn(params, d);
}

static void capture_state(struct rte_tel_data *d)
{
    const struct shunt_capture *c = shunt_instance()->capture;
    struct shunt_capture_stats st;

    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "state", c != NULL ? "on" : "off");
    if (c == NULL)
        return;
    shunt_capture_stats(c, &st);
    rte_tel_data_add_dict_string(d, "file", shunt_capture_conf(c)->path);
    rte_tel_data_add_dict_string(d, "filter", shunt_capture_conf(c)->filter);
    add_u64(d, "snaplen", shunt_capture_conf(c)->snaplen);
    add_u64(d, "seen", st.seen);
    add_u64(d, "written", st.written);
    add_u64(d, "files", st.files);
}

/* "", "start,FILE[,FILTER]" or "stop". */
static int answer_capture(const char *params, struct rte_tel_data *d)
{
    char err[RTE_TEL_MAX_STRING_LEN];

    if (params == NULL || *params == '\0') {
        capture_state(d);
        return 0;
    }
    if (strcmp(params, "stop") == 0) {
        shunt_stack_capture_stop();
        capture_state(d);
        return 0;
    }
    if (strncmp(params, "start,", 6) != 0)
        return -EINVAL;

    char path[PATH_MAX];
    const char *file = params + 6, *comma = strchr(file, ',');
    size_t len = comma != NULL ? (size_t)(comma - file) : strlen(file);
    if (len == 0 || len >= sizeof(path))
        return -EINVAL;
    memcpy(path, file, len);
    path[len] = '\0';
    if (shunt_stack_capture_start(path, comma != NULL ? comma + 1 : NULL, err, sizeof(err)) != 0) {
        rte_tel_data_start_dict(d);
        rte_tel_data_add_dict_string(d, "error", err);
        return 0;
    }
    capture_state(d);
    return 0;
}

/* "", "off" or a specification (port/faults.h). */
static int answer_faults(const char *params, struct rte_tel_data *d)
{
    char err[RTE_TEL_MAX_STRING_LEN];

    rte_tel_data_start_dict(d);
    if (params != NULL && *params != '\0' && shunt_stack_faults(params, err, sizeof(err)) != 0) {
        rte_tel_data_add_dict_string(d, "error", err);
        return 0;
    }
    add_faults(d, &shunt_instance()->faults);
    return 0;
}

/* ---- the commands (on telemetry's threads) -------------------------------------- */

#define COMMAND(name, fn)                                                        \
    static int name(const char *cmd, const char *params, struct rte_tel_data *d) \
    {                                                                            \
        (void)cmd;                                                               \
        return ask(fn, params, d);                                               \
    }
COMMAND(cmd_stats, answer_stats)
COMMAND(cmd_drops, answer_drops)
COMMAND(cmd_sockets, answer_sockets)
COMMAND(cmd_kernel_sockets, answer_kernel_sockets)
COMMAND(cmd_capture, answer_capture)
COMMAND(cmd_faults, answer_faults)

void shunt_telemetry_init(struct shunt_telemetry *t)
{
    pthread_mutex_init(&t->askers, NULL);
    rte_telemetry_register_cmd("/shunt/stats", cmd_stats,
        "Shunt's counters, drops by cause, lwIP's stats and pools, the port's stats");
    rte_telemetry_register_cmd("/shunt/drops", cmd_drops, "Frames dropped, by cause");
    rte_telemetry_register_cmd("/shunt/sockets", cmd_sockets,
        "Sockets, from the given index on. Parameter: index (default 0)");
    rte_telemetry_register_cmd("/shunt/kernel_sockets", cmd_kernel_sockets,
        "Sockets the LD_PRELOAD policy left on the kernel, and why");
    rte_telemetry_register_cmd("/shunt/capture", cmd_capture,
        "Capture state. Parameters: start,FILE[,FILTER] or stop");
    rte_telemetry_register_cmd("/shunt/faults", cmd_faults,
        "Fault stage state and counts. Parameter: a specification, e.g. "
        "rx:drop=0.01,reorder=0.05;tx:dup=0.01, or off");
}
