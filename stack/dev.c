/*
 * dev.c - choose, configure and start the instance's DPDK port.
 */
#define ALLOW_EXPERIMENTAL_API          /* rte_eth_dev_conf_get, in DPDK 22.11 */
#include "dev.h"

#include <dirent.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "eal.h"
#include "kernelif.h"
#include "log.h"
#include "mbuf.h"

/* Checksum offloads Shunt uses when a port has them. */
#define RX_CKSUM_OFFLOADS (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM | \
                           RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
/*
 * Not UDP: a datagram longer than the MTU is fragmented after lwIP would have
 * summed it, and no NIC can sum a datagram spread over several fragments.
 */
#define TX_CKSUM_OFFLOADS (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)

/* Mbufs that must stay free once the port has filled its RX queue. */
#define MIN_SPARE_MBUFS 1024

struct why {
    char text[384];
    int err;                    /* errno to report */
    bool config;                /* the configuration's fault: no other PMD would help */
};

static int fail(struct why *why, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct why *why, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why->text, sizeof(why->text), fmt, ap);
    va_end(ap);
    why->err = err;
    why->config = false;
    return -1;
}

/* A failure the configuration must fix, whatever the port. */
static int config_error(struct why *why)
{
    why->config = true;
    return -1;
}

/* Ports the instance may run on: all but the exception path's own. */
static bool candidate(uint16_t id, const struct shunt_config *c)
{
    char name[RTE_ETH_NAME_MAX_LEN], kernel[RTE_ETH_NAME_MAX_LEN];

    if (!c->exception)
        return true;
    shunt_kernelif_port(c, kernel, sizeof(kernel));
    return rte_eth_dev_get_name_by_port(id, name) != 0 || strcmp(name, kernel) != 0;
}

/* The port named in the configuration, or the only one there is. */
static int find_port(const struct shunt_config *c, struct why *why)
{
    uint16_t id, found = 0, n = 0;

    if (c->port[0] != '\0') {
        if (rte_eth_dev_get_port_by_name(c->port, &id) != 0)
            return fail(why, ENODEV, "no DPDK port named %s: the eal line in %s must "
                        "create it, e.g. --vdev=%s,iface=sh0", c->port, c->source, c->port);
        return id;
    }

    RTE_ETH_FOREACH_DEV(id) {
        if (candidate(id, c) && n++ == 0)
            found = id;
    }
    if (n == 0)
        return fail(why, ENODEV, "no DPDK port: the eal line in %s creates none (does the "
                    "interface exist?); add one, e.g. --vdev=net_af_xdp0,iface=sh0", c->source);
    if (n > 1)
        return fail(why, EINVAL, "%u DPDK ports: say which to use with port = NAME in %s",
                    n, c->source);
    return found;
}

/* Frame size a port must take in for an IP MTU. */
static uint32_t frame_size(uint32_t mtu)
{
    return mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
}

/*
 * net_memif in DPDK 22.11 (drivers/net/memif/rte_eth_memif.c) says its
 * longest frame is RTE_ETHER_MAX_LEN (memif_dev_info) and has no mtu_set,
 * so ethdev refuses it any MTU above 1500.  Yet nothing on its path looks
 * at a frame's length: eth_memif_tx copies a chained mbuf over as many
 * descriptors as it needs, and eth_memif_rx copies into a chain of mbufs of
 * the pool's data room (without saying RX_OFFLOAD_SCATTER).  The MTU of a
 * memif link is what its two ends agree on, as on a veth: Shunt gives it to
 * lwIP and leaves ethdev's at 1500.
 *
 * A frame must fit one descriptor (bsize in the vdev's arguments, 2048 by
 * default), though: eth_memif_tx never clears the chain flag of a frame's
 * first descriptor, set there on an earlier lap of the ring, and the
 * receiver then takes a one-descriptor frame and the next for one frame.
 */
static bool driver_is(const struct rte_eth_dev_info *info, const char *name)
{
    return strcmp(info->driver_name, name) == 0;
}

/* ETH_MEMIF_DEFAULT_PKT_BUFFER_SIZE, not exported by the driver. */
#define MEMIF_DEFAULT_BSIZE 2048

/* The longest frame a memif port carries in one descriptor: its bsize. */
static uint32_t memif_bsize(const struct rte_eth_dev_info *info)
{
    const struct rte_devargs *da = rte_dev_devargs(info->device);
    struct rte_kvargs *kv = da != NULL && da->args != NULL ? rte_kvargs_parse(da->args, NULL)
                                                            : NULL;
    const char *v = kv != NULL ? rte_kvargs_get(kv, "bsize") : NULL;
    /* The driver has parsed the same string already: a number. */
    uint32_t bsize = v != NULL ? (uint32_t)strtoul(v, NULL, 10) : MEMIF_DEFAULT_BSIZE;

    rte_kvargs_free(kv);
    return bsize;
}

/* The MTU c asks of the port, checked against what it takes. */
static int check_mtu(const struct shunt_config *c, const char *name,
                     const struct rte_eth_dev_info *info, struct why *why)
{
    if (driver_is(info, "net_memif")) {
        uint32_t bsize = memif_bsize(info);
        if (c->mtu < info->min_mtu || c->mtu + RTE_ETHER_HDR_LEN > bsize)
            return fail(why, EINVAL, "mtu = %u in %s: port %s takes %u to %u with bsize=%u: "
                        "give its vdev bsize=%u or more", c->mtu, c->source, name,
                        info->min_mtu, bsize - RTE_ETHER_HDR_LEN, bsize,
                        c->mtu + RTE_ETHER_HDR_LEN), config_error(why);
        return 0;
    }
    /* Some PMDs say it only as their longest frame. */
    uint32_t max_mtu = RTE_MIN((uint32_t)info->max_mtu,
                               info->max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN);
    if (c->mtu < info->min_mtu || c->mtu > max_mtu)
        return fail(why, EINVAL, "mtu = %u in %s: port %s takes %u to %u",
                    c->mtu, c->source, name, info->min_mtu, max_mtu), config_error(why);
    return 0;
}

/* The queues the port is set up with: up to the instance's own (those
 * below are other instances' or idle), or a shared group's primary's:
 * every instance's. */
static uint16_t port_queues(const struct shunt_config *c)
{
    return (uint16_t)(c->shared ? c->instances : c->queue + 1);
}

static int configure(uint16_t port, const struct shunt_config *c, struct shunt_dev *d,
                     struct why *why)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    char name[RTE_ETH_NAME_MAX_LEN];
    int rc;

    rte_eth_dev_get_name_by_port(port, name);
    if ((rc = rte_eth_dev_info_get(port, &info)) != 0)
        return fail(why, -rc, "cannot query port %s: %s", name, rte_strerror(-rc));

    memset(&conf, 0, sizeof(conf));
    d->rx_offloads = info.rx_offload_capa & RX_CKSUM_OFFLOADS;
    d->tx_offloads = info.tx_offload_capa & TX_CKSUM_OFFLOADS;
    conf.rxmode.offloads = d->rx_offloads;
    conf.txmode.offloads = d->tx_offloads;
    /* The port's own receive stamps where it has them (mlx5, ice, idpf,
     * cnxk): SO_TIMESTAMPING's hardware stamp (port/tstamp.h). */
    d->hw_timestamps = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) != 0;
    if (d->hw_timestamps)
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
    /* A loop that sleeps wakes on the port's RX interrupt, if it has one. */
    conf.intr_conf.rxq = shunt_idle_wants_intr(c->poll, info.driver_name);
    if (c->mtu != 0) {
        if (check_mtu(c, name, &info, why) != 0)
            return -1;
        if (driver_is(&info, "net_memif"))
            d->mtu = (uint16_t)c->mtu;
        else
            conf.rxmode.mtu = c->mtu;
    }

    /* A frame bigger than one mbuf is received and sent as a chain
     * (memif receives so whatever it is told). */
    uint32_t frame = frame_size(c->mtu != 0 ? c->mtu : RTE_ETHER_MTU);
    if (frame > c->mbuf_size) {
        bool scatter = driver_is(&info, "net_memif") || (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER);
        if (!scatter || !(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
            return fail(why, EINVAL, "mtu = %u in %s needs frames of several mbufs, which "
                        "port %s cannot take: lower mtu to %u or raise mbuf_size to %u",
                        c->mtu, c->source, name,
                        c->mbuf_size - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN, frame);
        if (!driver_is(&info, "net_memif"))
            conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    }

    uint16_t queues = port_queues(c);
    if (queues > info.max_rx_queues || queues > info.max_tx_queues)
        return fail(why, EINVAL, "%s in %s: port %s has queues 0 to %u",
                    c->shared ? "instances" : "queue", c->source, name,
                    RTE_MIN(info.max_rx_queues, info.max_tx_queues) - 1), config_error(why);
    if ((rc = rte_eth_dev_configure(port, queues, queues, &conf)) != 0)
        return fail(why, -rc, "cannot configure port %s: %s", name, rte_strerror(-rc));
    return 0;
}

/*
 * The MAC the configuration asks for, else the port's own, else (a port
 * without one, like net_ring) a random locally administered address.  A
 * port that cannot take a new address is made promiscuous, so frames to it
 * still arrive; the netif drops other unicast.
 */
static int set_mac(uint16_t port, const char *name, const struct shunt_config *c,
                   struct shunt_dev *d, struct why *why)
{
    rte_eth_macaddr_get(port, &d->mac);
    if (c->has_mac)
        memcpy(d->mac.addr_bytes, c->mac, RTE_ETHER_ADDR_LEN);
    else if (rte_is_zero_ether_addr(&d->mac))
        rte_eth_random_addr(d->mac.addr_bytes);
    else
        return 0;

    if (rte_eth_dev_default_mac_addr_set(port, &d->mac) == 0)
        return 0;
    int rc = rte_eth_promiscuous_enable(port);
    if (rc != 0 && rc != -ENOTSUP)
        return fail(why, -rc, "port %s takes neither a new MAC address nor promiscuous mode: "
                    "remove mac from %s", name, c->source);
    return 0;
}

/* ---- the kernel's ring drops -------------------------------------------------- */

/*
 * What the kernel dropped at the ring of fd, a socket of the port's kind:
 * an AF_XDP socket's count so far, or an AF_PACKET socket's since it was
 * last asked.  False if fd is no such socket.
 */
static bool ring_socket_drops(int fd, int kind, uint64_t *drops)
{
    if (kind == RING_XDP) {
        struct xdp_statistics x;
        socklen_t len = sizeof(x);
        if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, &x, &len) != 0 || len != sizeof(x))
            return false;
        *drops = x.rx_ring_full;
        return true;
    }
    struct tpacket_stats p;
    socklen_t len = sizeof(p);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &p, &len) != 0)
        return false;
    *drops = p.tp_drops;
    return true;
}

/*
 * The driver keeps its sockets to itself, so look for them among the
 * process's descriptors once, now: all but the right sockets refuse the
 * question.  A process has one port, so such sockets are that port's.
 * (Before, every snapshot walked every descriptor: with 10,000 connections
 * open, 10,000 system calls on the instance's thread per shunt-stat refresh.)
 */
static void find_ring_sockets(struct shunt_dev *d)
{
    struct rte_eth_dev_info info;
    uint64_t drops;

    if (rte_eth_dev_info_get(d->port_id, &info) != 0)
        return;
    d->ring_kind = driver_is(&info, "net_af_xdp") ? RING_XDP
                 : driver_is(&info, "net_af_packet") ? RING_PACKET : RING_NONE;
    if (d->ring_kind == RING_NONE)
        return;
    DIR *fds = opendir("/proc/self/fd");
    if (fds == NULL)
        return;
    for (struct dirent *e; (e = readdir(fds)) != NULL && d->nring_fds < SHUNT_DEV_MAX_SOCKETS;) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == dirfd(fds) || !ring_socket_drops(fd, d->ring_kind, &drops))
            continue;
        d->ring_fds[d->nring_fds++] = fd;
        if (d->ring_kind == RING_PACKET)
            d->packet_drops += drops;
    }
    closedir(fds);
}

uint64_t shunt_dev_ring_drops(struct shunt_dev *d)
{
    uint64_t xdp_drops = 0, drops;

    for (unsigned i = 0; i < d->nring_fds; i++) {
        if (!ring_socket_drops(d->ring_fds[i], d->ring_kind, &drops))
            continue;
        if (d->ring_kind == RING_XDP)
            xdp_drops += drops;
        else
            d->packet_drops += drops;
    }
    return d->ring_kind == RING_XDP ? xdp_drops : d->packet_drops;
}

/* ---- the port ----------------------------------------------------------------- */

/*
 * The pool of mbufs.  DPDK 22.11's AF_XDP driver registers the pool with
 * the kernel as one UMEM of size mbufs x object size, from the pool's
 * first object on - as if the objects lay back to back.  A default pool
 * (rte_pktmbuf_pool_create) keeps each object within a hugepage, so each
 * 2 MiB page ends in a gap, and the last objects of a pool that spans
 * several pages lie past the UMEM's end: the kernel refuses them as TX
 * descriptors (invalid, silently), and a TCP segment lwIP built in one
 * (port/heap.h) is lost every time it is sent - the connection stalls for
 * good.  So for AF_XDP the pool is packed (RTE_MEMPOOL_F_NO_IOVA_CONTIG:
 * objects may cross pages, which no device DMAs here), in one piece, and
 * checked to be so.
 */
static struct rte_mempool *packed_pool(const char *name, unsigned n, unsigned cache,
                                       uint16_t priv, uint16_t room, int socket)
{
    struct rte_pktmbuf_pool_private pp = { .mbuf_data_room_size = room, .mbuf_priv_size = priv };
    struct rte_mempool *mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + priv + room,
                                                      cache, sizeof(pp), socket,
                                                      RTE_MEMPOOL_F_NO_IOVA_CONTIG);
    if (mp == NULL)
        return NULL;
    if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL) != 0)
        goto fail;
    rte_pktmbuf_pool_init(mp, &pp);
    if (rte_mempool_populate_default(mp) < 0)
        goto fail;
    if (mp->nb_mem_chunks != 1) {
        rte_errno = EFBIG;      /* cannot be one UMEM */
        goto fail;
    }
    rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
    return mp;
fail:
    rte_mempool_free(mp);
    return NULL;
}

static struct rte_mempool *make_pool(uint16_t port, const struct shunt_config *c,
                                     const char *name, int socket)
{
    struct rte_eth_dev_info info;
    uint16_t room = (uint16_t)(c->mbuf_size + RTE_PKTMBUF_HEADROOM);

    if (rte_eth_dev_info_get(port, &info) == 0 && driver_is(&info, "net_af_xdp"))
        return packed_pool(name, c->mbufs, c->mbuf_cache, SHUNT_MBUF_PRIV_SIZE, room, socket);
    return rte_pktmbuf_pool_create(name, c->mbufs, c->mbuf_cache, SHUNT_MBUF_PRIV_SIZE, room,
                                   socket);
}

void shunt_dev_pool_name(unsigned id, char *name, size_t len)
{
    snprintf(name, len, "shunt%u_mbufs", id);
}

/* The pool queue q fills from: the instance's own, or (a shared group's
 * primary) another instance's, made here for it. */
static struct rte_mempool *queue_pool(uint16_t port, const struct shunt_config *c,
                                      const struct shunt_dev *d, uint16_t q, int socket)
{
    char name[RTE_MEMPOOL_NAMESIZE];

    if (q == c->queue || !c->shared)
        return d->pool;
    shunt_dev_pool_name(q, name, sizeof(name));
    return make_pool(port, c, name, socket);
}

/* A shared group's secondary: the primary configured and started the
 * port and made the pool; take what it made. */
static int attach(uint16_t port, const struct shunt_config *c, const char *pool_name,
                  struct shunt_dev *d, struct why *why)
{
    char name[RTE_ETH_NAME_MAX_LEN];
    struct rte_eth_conf conf;
    int rc;

    rte_eth_dev_get_name_by_port(port, name);
    d->pool = rte_mempool_lookup(pool_name);
    if (d->pool == NULL)
        return fail(why, ENOENT, "the primary (instance 0) made no pool %s for port %s",
                    pool_name, name);
    d->owns_pool = false;
    if ((rc = rte_eth_dev_conf_get(port, &conf)) != 0)
        return fail(why, -rc, "port %s: cannot read the primary's configuration: %s", name,
                    rte_strerror(-rc));
    struct rte_eth_dev_info info;
    if ((rc = rte_eth_dev_info_get(port, &info)) != 0)
        return fail(why, -rc, "cannot query port %s: %s", name, rte_strerror(-rc));
    if (c->queue >= info.nb_rx_queues)
        return fail(why, EINVAL, "port %s: the primary made %u queues, instance %u needs "
                    "queue %u: restart the group", name, info.nb_rx_queues, c->instance,
                    c->queue);
    d->rx_offloads = conf.rxmode.offloads & RX_CKSUM_OFFLOADS;
    d->tx_offloads = conf.txmode.offloads & TX_CKSUM_OFFLOADS;
    d->hw_timestamps = (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) != 0;
    rte_eth_macaddr_get(port, &d->mac);
    rte_eth_dev_get_mtu(port, &d->mtu);
    d->port_id = port;
    d->queue_id = (uint16_t)c->queue;
    d->secondary = true;
    snprintf(d->name, sizeof(d->name), "%s", name);
    return 0;
}

static int start(uint16_t port, const struct shunt_config *c, const char *pool_name,
                 struct shunt_dev *d, struct why *why)
{
    if (rte_eal_process_type() == RTE_PROC_SECONDARY)
        return attach(port, c, pool_name, d, why);

    char name[RTE_ETH_NAME_MAX_LEN];
    int socket = rte_eth_dev_socket_id(port);
    uint16_t rxd = (uint16_t)c->rx_ring, txd = (uint16_t)c->tx_ring;
    int rc;

    rte_eth_dev_get_name_by_port(port, name);
    if (socket < 0)
        socket = (int)rte_socket_id();
    if (configure(port, c, d, why) != 0)
        return -1;
    if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd)) != 0)
        return fail(why, -rc, "port %s: rx_ring/tx_ring: %s", name, rte_strerror(-rc));

    if (d->pool == NULL) {
        d->pool = make_pool(port, c, pool_name, socket);
        if (d->pool == NULL)
            return fail(why, ENOMEM, "cannot make a pool of %u mbufs (%s): reserve more "
                        "hugepages or lower mbufs in %s", c->mbufs, rte_strerror(rte_errno),
                        c->source), config_error(why);
    }
    for (uint16_t q = 0; q < port_queues(c); q++) {
        struct rte_mempool *mp = queue_pool(port, c, d, q, socket);
        if (mp == NULL)
            return fail(why, ENOMEM, "cannot make a pool of %u mbufs for queue %u (%s): "
                        "reserve more hugepages or lower mbufs in %s", c->mbufs, q,
                        rte_strerror(rte_errno), c->source), config_error(why);
        if ((rc = rte_eth_rx_queue_setup(port, q, rxd, socket, NULL, mp)) != 0)
            return fail(why, -rc, "port %s: cannot set up RX queue %u: %s", name, q,
                        rte_strerror(-rc));
        if ((rc = rte_eth_tx_queue_setup(port, q, txd, socket, NULL)) != 0)
            return fail(why, -rc, "port %s: cannot set up TX queue %u: %s", name, q,
                        rte_strerror(-rc));
    }
    if ((rc = rte_eth_dev_start(port)) != 0)
        return fail(why, -rc, "port %s does not start: %s", name, rte_strerror(-rc));

    /* The port fills its RX queue from the pool (AF_XDP takes 2,048 whatever
     * rx_ring says); what is left must carry TX and the data sockets hold. */
    unsigned left = rte_mempool_avail_count(d->pool);
    if (left < MIN_SPARE_MBUFS) {
        rte_eth_dev_stop(port);
        return fail(why, ENOBUFS, "port %s keeps %u of the %u mbufs for itself: raise mbufs in "
                    "%s to at least %u", name, c->mbufs - left, c->mbufs, c->source,
                    c->mbufs - left + MIN_SPARE_MBUFS), config_error(why);
    }

    /* Multicast: the port's filter follows the groups joined (port/mcast.h). */
    if (set_mac(port, name, c, d, why) != 0)
        return -1;
    if (d->mtu == 0)                    /* not memif's own (configure) */
        rte_eth_dev_get_mtu(port, &d->mtu);
    d->port_id = port;
    d->queue_id = (uint16_t)c->queue;
    snprintf(d->name, sizeof(d->name), "%s", name);
    find_ring_sockets(d);
    return 0;
}

/* Open iface with net_af_packet; the port id, or -1. */
static int probe_af_packet(const char *iface, struct why *why)
{
    char name[RTE_ETH_NAME_MAX_LEN], devargs[RTE_ETH_NAME_MAX_LEN + 32];
    uint16_t port;

    snprintf(name, sizeof(name), "net_af_packet_%s", iface);
    snprintf(devargs, sizeof(devargs), "%s,iface=%s", name, iface);
    if (rte_dev_probe(devargs) != 0)
        return fail(why, ENODEV, "net_af_packet cannot open %s either: does the interface "
                    "exist, and is it up?", iface);
    if (rte_eth_dev_get_port_by_name(name, &port) != 0)
        return fail(why, ENODEV, "net_af_packet made no port for %s", iface);
    return port;
}

/* ---- open and close ------------------------------------------------------------ */

/*
 * Open the port c names and start it.  pool: the mbuf pool to share, or
 * NULL for one of its own called pool_name.  fallback: if AF_XDP cannot
 * start, try the interface with net_af_packet.
 */
static int open_port(struct shunt_dev *d, const struct shunt_config *c, const char *pool_name,
                     struct rte_mempool *pool, bool fallback)
{
    struct why why = { "", 0, false };
    char iface[IF_NAMESIZE];

    memset(d, 0, sizeof(*d));
    d->pool = pool;
    d->owns_pool = pool == NULL;
    int port = find_port(c, &why);
    if (port >= 0 && start((uint16_t)port, c, pool_name, d, &why) == 0)
        return 0;

    if (fallback && !why.config && shunt_eal_iface(c->eal, "net_af_xdp", iface, sizeof(iface))) {
        SHUNT_LOG(WARNING, "AF_XDP cannot start on %s (%s): falling back to net_af_packet, "
                  "which copies every frame through the kernel", iface, why.text);
        if (port >= 0)
            rte_eth_dev_close((uint16_t)port);
        port = probe_af_packet(iface, &why);
        if (port >= 0 && start((uint16_t)port, c, pool_name, d, &why) == 0)
            return 0;
    }
    SHUNT_LOG(ERR, "%s", why.text);
    shunt_dev_close(d);
    errno = why.err;
    return -1;
}

int shunt_dev_open(struct shunt_dev *d, const struct shunt_config *c, const char *pool_name)
{
    /* A group's instance on net_af_packet would receive every queue's
     * frames, not its own: no fallback. */
    return open_port(d, c, pool_name, NULL, c->instances == 1);
}

/* net_tap's RX descriptors are the segments of one frame, each an mbuf it
 * holds from the pool: enough for the largest frame, no more. */
#define KERNEL_DESCRIPTORS 64

int shunt_dev_open_kernel(struct shunt_dev *k, const struct shunt_dev *port,
                          const struct shunt_config *c)
{
    struct shunt_config kc = *c;
    char name[IF_NAMESIZE], err[384];
    int rc;

    /* The same path as the port's, for the tap the EAL made: one queue,
     * the port's MAC and MTU, the port's pool. */
    shunt_kernelif_port(c, kc.port, sizeof(kc.port));
    kc.queue = 0;
    kc.has_mac = true;
    memcpy(kc.mac, port->mac.addr_bytes, sizeof(kc.mac));
    kc.mtu = port->mtu;
    kc.rx_ring = kc.tx_ring = KERNEL_DESCRIPTORS;
    if (open_port(k, &kc, NULL, port->pool, false) != 0)
        return -1;
    shunt_kernelif_name(c, name);
    if ((rc = rte_eth_dev_set_mtu(k->port_id, port->mtu)) != 0) {
        SHUNT_LOG(ERR, "the kernel's interface %s does not take mtu %u: %s", name, port->mtu,
                  rte_strerror(-rc));
        shunt_dev_close(k);
        errno = -rc;
        return -1;
    }
    if (shunt_kernelif_setup(name, c, err, sizeof(err)) != 0) {
        SHUNT_LOG(ERR, "%s", err);
        shunt_dev_close(k);
        errno = EPERM;
        return -1;
    }
    return 0;
}

void shunt_dev_close(struct shunt_dev *d)
{
    if (d->name[0] != '\0') {
        if (!d->secondary)                  /* the port is the primary's to stop */
            rte_eth_dev_stop(d->port_id);
        rte_eth_dev_close(d->port_id);      /* a secondary's: what it holds itself */
    }
    if (d->owns_pool)
        rte_mempool_free(d->pool);
    memset(d, 0, sizeof(*d));
}
