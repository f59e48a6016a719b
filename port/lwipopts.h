/*
 * lwipopts.h - how Shunt builds lwIP 2.1.3.
 *
 * Shunt runs lwIP's raw API on one thread per stack instance, polled from a
 * run-to-completion loop over one DPDK port queue.  There is no OS underneath
 * lwIP (NO_SYS=1), no tcpip thread and no lwIP socket/netconn layer: Shunt's
 * own socket layer (api/) sits directly on the raw API.
 *
 * Every number below says why it has the value it has.  Sizes are per stack
 * instance (one per process); static pools cost address space, and only the
 * pages actually touched cost memory.
 */
#ifndef SHUNT_LWIPOPTS_H
#define SHUNT_LWIPOPTS_H

/* ---- System: no OS, no threads, no locks ------------------------------ */

#define NO_SYS                          1
/* Only the owner thread ever enters lwIP, so there is nothing to protect. */
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_TIMERS                     1
#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0
#define LWIP_NETIF_API                  0
#define LWIP_ALTCP                      0

/* ---- Memory ----------------------------------------------------------- */

/* x86-64: keep pbuf payloads and pool elements 8-byte aligned. */
#define MEM_ALIGNMENT                   8

/*
 * lwIP's heap holds PBUF_RAM buffers: data copied in by tcp_write(),
 * outgoing headers, ICMP replies and IP fragments being sent.  Each is
 * carved out of an mbuf of the port's pool (port/heap.h), so that the frame
 * lwIP builds in it goes on the wire without another copy; those too large
 * for an mbuf, and those made while the pool is low, come from malloc, at
 * most MEM_SIZE bytes of them: 64 MiB is 256 connections with full 256 KiB
 * send buffers.  (MEM_SIZE above 64,000 also makes mem_size_t 32 bits, as
 * a 65,507-byte datagram in one pbuf needs.)  lwIP's mem_trim does nothing
 * under MEM_LIBC_MALLOC: a trimmed pbuf keeps its mbuf or block whole.
 */
#define MEM_LIBC_MALLOC                 1
#define mem_clib_malloc                 shunt_heap_malloc
#define mem_clib_calloc                 shunt_heap_calloc
#define mem_clib_free                   shunt_heap_free
#define MEM_SIZE                        (64 * 1024 * 1024)
/* Bytes in use and failed allocations, for telemetry and the drop counts
 * (lwIP turns these off under MEM_LIBC_MALLOC unless asked). */
#define MEM_STATS                       1

/*
 * lwIP's PBUF_POOL would be its receive buffer pool.  Shunt does not receive
 * into it: received frames stay in their DPDK mbufs and reach lwIP as custom
 * pbufs (port/mbuf.c).  The one user is udp_input (SO_REUSE_RXTOALL), which
 * clones a multicast or broadcast datagram for every socket on its port
 * past the first: room for a burst's worth of copies to several sockets
 * (a copy that finds none is lost to that socket, as an skb clone that
 * fails is on Linux).
 */
#define PBUF_POOL_SIZE                  1024

/* PBUF_REF/ROM headers: IP fragments being sent and no-copy TCP writes.
 * The largest datagram (65,507 bytes) is 45 fragments at MTU 1500; 4096
 * leaves room for dozens of them in flight with TCP's share. */
#define MEMP_NUM_PBUF                   4096

/* ---- Link layer: Ethernet, ARP ---------------------------------------- */

#define LWIP_ETHERNET                   1
#define LWIP_ARP                        1
#define ETH_PAD_SIZE                    0
#define PBUF_LINK_HLEN                  14
/* A LAN peer set the size of a small subnet; lookups use per-pcb hints. */
#define ARP_TABLE_SIZE                  128
#define LWIP_NETIF_HWADDRHINT           1
#define ETHARP_SUPPORT_STATIC_ENTRIES   1
/*
 * Queue packets while ARP resolves rather than dropping the first ones
 * (the 45 fragments of a 65,507-byte datagram to a peer not yet resolved
 * must all wait).  No cap per neighbour (ARP_QUEUE_LEN 0, where lwIP would
 * evict silently): the pool alone limits the queue, and lwIP counts each
 * packet it cannot hold (Shunt's arp_queue drops).
 */
#define ARP_QUEUEING                    1
#define ARP_QUEUE_LEN                   0
#define MEMP_NUM_ARP_QUEUE              512

/* ---- IPv4 -------------------------------------------------------------- */

#define LWIP_IPV4                       1
#define IP_DEFAULT_TTL                  64      /* as Linux */
#define IP_FORWARD                      0
#define IP_OPTIONS_ALLOWED              1
#define IP_FRAG                         1
#define IP_REASSEMBLY                   1
/*
 * A 65,507-byte UDP datagram is 45 fragments at MTU 1500; room for about
 * twenty of them in flight at once.  Fragments held here are mbufs, so the
 * mbuf pool is sized with this in mind.
 */
#define IP_REASS_MAX_PBUFS              1024
#define MEMP_NUM_REASSDATA              64
#define MEMP_NUM_FRAG_PBUF              1024
#define IP_REASS_MAXAGE                 15      /* seconds of IP_TMR_INTERVAL */
#define LWIP_ICMP                       1
#define LWIP_BROADCAST_PING             0       /* as Linux: icmp_echo_ignore_broadcasts */
#define LWIP_MULTICAST_PING             1
#define LWIP_IGMP                       1
/* Groups joined: Shunt's own table (port/mcast.h, a hash) decides which
 * multicast frames are the host's; lwIP's IGMP holds each group as well, to
 * send its reports, so its pool takes as many as the table (mcast_groups at
 * most 4096 by default, + all-systems). */
#define MEMP_NUM_IGMP_GROUP             4097
#define LWIP_MULTICAST_TX_OPTIONS       1
/* SO_BROADCAST as on Linux: a pcb must opt in to send to a broadcast
 * address; any socket bound to the port receives broadcasts. */
#define IP_SOF_BROADCAST                1
#define IP_SOF_BROADCAST_RECV           0
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0

/* ---- IPv6 -------------------------------------------------------------- */

#define LWIP_IPV6                       1
/* link-local + the configured address + one spare */
#define LWIP_IPV6_NUM_ADDRESSES         3
#define LWIP_IPV6_FRAG                  1
#define LWIP_IPV6_REASS                 1
/* lwIP's reassembly keeps a pointer inside the fragment header: on 64-bit
 * hosts it does not fit, so the header is copied aside instead. */
#define IPV6_FRAG_COPYHEADER            1
#define LWIP_ICMP6                      1
#define LWIP_IPV6_MLD                   1
/* As for IGMP; each address also joins its solicited-node group. */
#define MEMP_NUM_MLD6_GROUP             (4096 + LWIP_IPV6_NUM_ADDRESSES)
/* nd6.c walks these caches with an s8_t index: 127 at most. */
#define LWIP_ND6_NUM_NEIGHBORS          64
#define LWIP_ND6_NUM_DESTINATIONS       64
#define LWIP_ND6_QUEUEING               1
/* Packets waiting for neighbour discovery, all neighbours together: the
 * first burst of a new connection (a window's worth) is not lost to it. */
#define MEMP_NUM_ND6_QUEUE              512
/* Addresses come from the config file: no SLAAC, no router solicitations. */
#define LWIP_IPV6_AUTOCONFIG            0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT   0
#define LWIP_IPV6_DHCP6                 0

/* ---- UDP --------------------------------------------------------------- */

#define LWIP_UDP                        1
/* One pcb per UDP socket: a feed handler joins a few dozen groups. */
#define MEMP_NUM_UDP_PCB                1024
#define LWIP_RAW                        0

/* ---- TCP --------------------------------------------------------------- */

#define LWIP_TCP                        1
/* 10,000 concurrent connections per instance, plus those in TIME_WAIT. */
#define MEMP_NUM_TCP_PCB                16384
/* One per listening socket: servers listen on a few ports, 256 is plenty
 * (a listen pcb is small: 256 cost about 20 KiB). */
#define MEMP_NUM_TCP_PCB_LISTEN         256
#define SO_REUSE                        1
#define SO_REUSE_RXTOALL                1
/*
 * lwIP's backlog counts half-open connections too (at most 255), so a burst
 * of SYNs beyond it is dropped and retried a second later.  Shunt keeps
 * Linux's rule instead (api/tcp.c, reached through port/hooks.h): SYNs
 * are refused only while the accept queue is full.
 */
#define TCP_LISTEN_BACKLOG              0
/* A pcb carries its socket's SO_REUSEADDR/SO_REUSEPORT into TIME-WAIT
 * (api/bind.c), leaves the connection hash when freed (port/demux.c), and
 * has its loss-recovery state (port/recovery.c), its congestion control's
 * (port/cc.c), the time of its last challenge ACK (port/challenge.c) and
 * the zero-copy buffers lwIP sends from (api/zc.c); in a group of
 * instances it leaves the table of owned flows when freed (port/steer.c). */
#define LWIP_TCP_PCB_NUM_EXT_ARGS       7
#define LWIP_TCP_KEEPALIVE              1
#define LWIP_TCP_TIMESTAMPS             1
#define LWIP_WND_SCALE                  1

/*
 * TCP_MSS is only a ceiling: lwIP derives each connection's MSS from the
 * netif MTU (TCP_CALCULATE_EFF_SEND_MSS), and the netif MTU comes from the
 * DPDK port.  The ceiling allows 9000-byte jumbo frames.
 */
#define TCP_MSS                         8960
#define TCP_CALCULATE_EFF_SEND_MSS      1

/*
 * 256 KiB receive window: enough for several Gbit/s at LAN round-trip
 * times.  Received data stays in mbufs until the application reads it, so the
 * window is also how many mbufs one slow reader can pin; scale 3 allows up to
 * 512 KiB per connection when a socket asks for more.
 */
#define TCP_WND                         (256 * 1024)
#define TCP_RCV_SCALE                   3

/* Send buffer as large as the receive window, so one writer can fill it. */
#define TCP_SND_BUF                     (256 * 1024)
/*
 * Writable again once 16 KiB is free.  lwIP's derived default (half the
 * buffer) breaks its own u16_t sanity check with a buffer above 64 KiB.
 */
#define TCP_SNDLOWAT                    (16 * 1024)
/* Segments queued per connection: a full buffer of 536-byte segments. */
#define TCP_SND_QUEUELEN                512
/*
 * Segments queued by all connections (sent and unacknowledged, or waiting).
 * A bulk sender with full-sized segments queues 256 KiB / 1460 = 180; the
 * many connections of a server queue a few each.  32,768 covers 10,000
 * connections with three segments in flight each, or about 180 bulk
 * senders; past that a send waits (or says EAGAIN) until segments are
 * acknowledged, and loses nothing.  The pool and MEM_SIZE bound the
 * bytes, this the count.
 */
#define MEMP_NUM_TCP_SEG                32768

/* Keep out-of-order segments (and SACK them) instead of dropping them, but
 * cap what one connection may pin while a hole stays open. */
#define TCP_QUEUE_OOSEQ                 1
#define LWIP_TCP_SACK_OUT               1
/* 256 mbufs (one window of 1500-byte frames is 175) per connection. */
#define TCP_OOSEQ_MAX_PBUFS             256

/*
 * lwIP's TCP clock: the fast timer (delayed ACKs) every TCP_TMR_INTERVAL ms,
 * the slow timer (retransmission, keepalive) every 2 * TCP_TMR_INTERVAL.
 * lwIP's default 250 ms makes the retransmission timer tick in 500 ms steps;
 * 100 ms gives 200 ms steps.  The retransmission timer itself is Shunt's,
 * in microseconds (port/recovery.c, port/lwip-patches/0002): lwIP's slow
 * timer only gives up after TCP_MAXRTX of them.
 */
#define TCP_TMR_INTERVAL                100
#define LWIP_TCP_RTO_EXTERNAL           1
/* What port/recovery.c keeps on each segment (port/lwip-patches/0001): when
 * it last left, in the instance's clock's nanoseconds (0: never), and its
 * marks (SACKed, lost, retransmitted). */
#define LWIP_TCP_SEG_EXT                u64_t shunt_sent_ns; u8_t shunt_marks;
#define LWIP_TCP_SEG_EXT_INIT(seg)      ((seg)->shunt_sent_ns = 0, (seg)->shunt_marks = 0)
/* TIME-WAIT lasts 2 * TCP_MSL: 60 s as on Linux (lwIP's default is 120 s,
 * which with 16,384 ephemeral ports caps a client at 136 connections a
 * second). */
#define TCP_MSL                         30000UL

/* Application timers on top of lwIP's own. */
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 16)

/* ---- The netif --------------------------------------------------------- */

/* One DPDK port queue per stack instance, so routing is a single compare. */
#define LWIP_SINGLE_NETIF               1
/*
 * Packets to the instance's own addresses (and multicast with
 * IP_MULTICAST_LOOP) come back through the netif's loop queue, which the
 * poll loop drains each turn; a few hundred in flight is plenty.
 */
#define LWIP_NETIF_LOOPBACK             1
#define LWIP_LOOPBACK_MAX_PBUFS         512
#define LWIP_HAVE_LOOPIF                0
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0
/* Received frames are wrapped mbufs (custom pbufs). */
#define LWIP_SUPPORT_CUSTOM_PBUF        1
/*
 * Checksums are generated and checked per netif, so the driver can hand
 * exactly the ones the port offloads to the NIC (port/netif.c).
 */
#define LWIP_CHECKSUM_CTRL_PER_NETIF    1

/* Shunt's hooks into lwIP's input path (port/hooks.h). */
#define LWIP_HOOK_FILENAME              "hooks.h"

/* ---- Statistics -------------------------------------------------------- */

/* Drop counters by protocol; Shunt reports them (stack/stats.c). */
#define LWIP_STATS                      1
#define LWIP_STATS_DISPLAY              0
#define MIB2_STATS                      0

/* ---- Debugging --------------------------------------------------------- */

/* No debug output (LWIP_NOASSERT is not defined: assertions stay on, they
 * are cheap and catch misuse of the raw API). */
#define LWIP_DBG_TYPES_ON               LWIP_DBG_OFF

#endif /* SHUNT_LWIPOPTS_H */
