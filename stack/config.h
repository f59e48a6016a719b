/*
 * config.h - a stack instance's configuration file.
 *
 * One setting per line, `key = value`; `#` starts a comment; blank lines are
 * ignored.  Every key may appear once.  For example:
 *
 *     eal     = -l 0 --file-prefix=shunt --no-pci --vdev=net_af_xdp0,iface=sh0
 *     ip      = 10.9.0.2/24
 *     gateway = 10.9.0.1
 *     ip6     = fd00:9::2/64
 *
 * Keys:
 *   eal         EAL arguments, split at white space (required)
 *   port        the DPDK port to use, by name; default: the only one there is
 *   queue       the port's queue this instance owns (0); names its DPDK objects
 *   instances   how many instances, one process each, share the port (1);
 *               instance i owns queue i (see "A group" below)
 *   cores       the core each instance runs on, one per instance, e.g. 0,1
 *   mac         the port's MAC address; default: the port's own
 *   ip          IPv4 address/prefix length
 *   gateway     IPv4 default gateway, inside ip's subnet
 *   ip6         IPv6 address/64 (lwIP's on-link prefixes are always /64)
 *   mtu         IP MTU of the port; default: the port's own (usually 1500);
 *               on net_memif both ends' to agree on, up to the vdev's bsize
 *               less 14 (stack/dev.c)
 *   mbufs       mbufs in the pool shared by RX, TX and held data (16383)
 *   mbuf_cache  per-core mempool cache (256)
 *   mbuf_size   frame bytes one mbuf holds (2048); a bigger mtu on a port
 *               that cannot chain mbufs needs it raised
 *   rx_ring     RX descriptors (1024)
 *   tx_ring     TX descriptors (1024)
 *   burst       frames per RX burst, at most 64 (32)
 *   stats       print the counters when the instance exits: yes|no (yes)
 *   log         Shunt's log level: error, warning, notice, info, debug (info)
 *   capture         write every frame to this pcap file (see port/capture.h)
 *   capture_filter  only frames this tcpdump filter keeps, e.g. tcp port 7
 *   capture_snaplen bytes kept of each frame (all)
 *   capture_rotate  start a new file every this many MiB (never)
 *   faults          inject faults, e.g. rx:drop=0.01;tx:dup=0.01 (port/faults.h)
 *   faults_seed     the seed of their random choices (1)
 *   tcp_rto_min_us  the retransmission timeout's floor, in µs (200000)
 *   tcp_rto_max_us  and its ceiling, backoff included (120000000)
 *   tcp_congestion  the congestion control sockets start with: reno,
 *                   cubic, or one the program registers (cubic)
 *   tcp_invalid_ratelimit  at most one ACK a connection sends in answer to
 *                   an invalid or out-of-window segment this many ms (500)
 *   tcp_challenge_ack_limit  challenge ACKs the instance sends a second
 *                   (2147483647: no limit, Linux 6.1's; port/challenge.h)
 *   poll        what a call that waits does when there is no work: spin, or
 *               spin-then-sleep (spin; stack/idle.h)
 *   spin_us     under spin-then-sleep, how long it spins after the last
 *               work before it sleeps (100; 0: it sleeps at once)
 *   checksum    the software checksum's variant: auto, portable, sse or
 *               avx2 (auto: the widest this CPU has; port/chksum.h)
 * The exception path (port/exception.h, stack/kernelif.h):
 *   exception       frames that are not Shunt's go to the kernel, through a
 *                   tap interface it sees: yes|no (no)
 *   exception_ports TCP and UDP ports the kernel gets even when a Shunt
 *                   socket has them, e.g. 22, 53, tcp:8000-8099 (none)
 *   exception_iface the kernel's name of that interface (k + the port's
 *                   interface, e.g. ksh0; shunt-k<queue> if it has none)
 * Multicast (port/mcast.h):
 *   mcast_groups  groups the instance can be in, all sockets together (4096)
 *   igmp_max_memberships  groups one socket can join, IPv4 and IPv6 each, as
 *                 Linux's sysctl of that name (1024; Linux's default is 20)
 *   force_igmp_version  speak IGMPv1, v2 or v3 whatever the querier speaks,
 *                 as Linux's sysctl of that name (0: the querier's, v3 if none)
 *   force_mld_version   the same for MLD: 1 or 2 (0)
 * Under shunt-run (LD_PRELOAD), which sockets Shunt takes (stack/policy.h):
 *   program     only this program's, by name (any)
 *   accelerate  only those these rules match, e.g. tcp:6379, udp (all)
 *   kernel      never those these rules match, e.g. udp:53 (none)
 *   progress_us turn the loop from a thread of Shunt's when the program has
 *               not for this long: it sleeps, computes, or waits in the
 *               kernel (500; 0: never, for a thread that polls all the time)
 * At least one of ip and ip6 is required.
 *
 * A group (instances = N, cores = c0,c1,...): one file describes N
 * share-nothing instances of one port.  Each process picks its index with
 * shunt_config_select() (from --instance I, or $SHUNT_INSTANCE) and the
 * file becomes that instance's: the eal line gains -l ci, its file-prefix
 * P becomes P-i (shunt-i without one), and a net_af_xdp vdev gains
 * start_queue=i,queue_count=1 (DPDK 22.11's af_xdp refuses secondary
 * processes: each instance is a primary of its own on one queue of the
 * interface, and DPDK's queue 0 of it is the kernel's queue i).  Any
 * other port (net_tap, a PCI NIC) is shared: the file-prefix stays P,
 * instance 0 is DPDK's primary, which configures N queues, and the others
 * its secondaries (--proc-type), each polling queue i.  The instance's
 * DPDK objects and telemetry socket are named from there.
 *
 * Errors come back as one line naming the file, the line, what is wrong
 * and what a correct value looks like.
 */
#ifndef SHUNT_CONFIG_H
#define SHUNT_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chksum.h"
#include "idle.h"
#include "shunt/cc.h"

#define SHUNT_CONFIG_ENV    "SHUNT_CONFIG"
#define SHUNT_INSTANCE_ENV  "SHUNT_INSTANCE"

#define SHUNT_INSTANCES_MAX 64
#define SHUNT_INSTANCE_NONE UINT32_MAX      /* a group's file, no instance chosen */

struct shunt_config {
    char source[256];               /* file name, for messages */
    char eal[2048];
    char port[64];                  /* "" for the only port */
    uint32_t queue;
    uint32_t instances;
    uint32_t ncores;
    uint16_t cores[SHUNT_INSTANCES_MAX];
    uint32_t instance;              /* this process's index; NONE until chosen */
    char prefix[64];                /* the group's file-prefix, before -i */
    bool shared;                    /* a group of one primary and its secondaries */
    bool has_mac;
    uint8_t mac[6];
    bool has_ip4;
    struct in_addr ip4;
    uint32_t ip4_prefix;
    bool has_gateway4;
    struct in_addr gateway4;
    bool has_ip6;
    struct in6_addr ip6;
    uint32_t ip6_prefix;
    uint32_t mtu;                   /* 0: the port's */
    uint32_t mbufs;
    uint32_t mbuf_cache;
    uint32_t mbuf_size;
    uint32_t rx_ring;
    uint32_t tx_ring;
    uint32_t burst;
    bool stats;
    uint32_t log_level;             /* RTE_LOG_ERR .. RTE_LOG_DEBUG */
    char capture[256];
    char capture_filter[512];
    uint32_t capture_snaplen;
    uint32_t capture_rotate_mib;
    char faults[512];               /* "": none */
    uint32_t faults_seed;
    char program[64];               /* "": any */
    char accelerate[512];           /* "": every socket the default takes */
    char kernel[512];
    uint32_t progress_us;
    uint32_t tcp_rto_min_us;
    char tcp_congestion[SHUNT_CC_NAME_MAX];
    uint32_t tcp_rto_max_us;
    uint32_t tcp_invalid_ratelimit;         /* ms */
    uint32_t tcp_challenge_ack_limit;       /* a second */
    enum shunt_poll_mode poll;
    enum shunt_chksum_kind checksum;
    uint32_t spin_us;
    bool exception;
    char exception_ports[512];      /* "": none */
    char exception_iface[16];       /* "": the default (stack/kernelif.h) */
    uint32_t mcast_groups;
    uint32_t igmp_max_memberships;
    uint32_t force_igmp_version;
    uint32_t force_mld_version;
};

#define SHUNT_MCAST_GROUPS_DEFAULT 4096
#define SHUNT_MAX_MEMBERSHIPS_DEFAULT 1024

/*
 * Parse text (the contents of a file called name) into c.  Returns 0, or -1
 * with a one-line message in err.
 */
int shunt_config_parse(struct shunt_config *c, const char *text, const char *name,
                       char *err, size_t errlen);

/*
 * Read and parse the file at path; a NULL path means $SHUNT_CONFIG.  A
 * group's file (instances > 1) is made the instance's $SHUNT_INSTANCE
 * names, if it is set (shunt_config_select); else instance stays
 * SHUNT_INSTANCE_NONE, for a launcher to start them all.
 * Returns 0, or -1 with a one-line message in err.
 */
int shunt_config_load(struct shunt_config *c, const char *path, char *err, size_t errlen);

/*
 * Make c, a group's configuration as parsed, instance index's (a decimal
 * number, e.g. from --instance or $SHUNT_INSTANCE): its core, file-prefix,
 * queue (see "A group" above).  A file of one instance takes index 0, or
 * NULL.  Returns 0, or -1 with a one-line message in err.
 */
int shunt_config_select(struct shunt_config *c, const char *index, char *err, size_t errlen);

#endif /* SHUNT_CONFIG_H */
