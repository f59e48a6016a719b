/*
 * steer.h - every received frame to the instance that owns its flow: a
 * stage of the device pipeline (port/phy.h) for a group of instances (one
 * process each, one queue each, of the same port) whose port spreads frames
 * over its queues by a hash Shunt cannot compute (veth, tap, memif).
 *
 * Who owns a frame, decided from its headers alone (shunt_steer_owner):
 *   TCP   a connection in the group's table (an accepted one, or an active
 *         open from a port the caller chose itself) goes to the instance
 *         that wrote it; else a SYN without ACK stays (listeners are
 *         everywhere: a SYN is accepted where it lands); else a local port
 *         in the active-open range goes to port % N (an active open picks
 *         its port with shunt_steer_pick_port, so its replies need no
 *         table); else it stays.
 *   UDP   a local port in the table to its owner; else the range rule; else
 *         it stays.
 *   ARP and neighbour advertisements stay, and a copy goes to every other
 *         instance, so each learns the peer's address.  A copy of an ARP
 *         request is made a reply, so the peer gets one answer, not N.
 *   The rest stays: ICMP, IP fragments (reassembled where they land: a
 *   fragmented datagram for another instance's UDP port is not steered),
 *   IPv6 with extension headers, what is not IP.  A frame for a flow no
 *   live instance owns stays and is answered (RST, ICMP) as it is today.
 *
 * The table: open addressing in memory every instance maps, each entry
 * written by its owner only.  A writer claims an entry with a compare-and-
 * swap of its state word (empty or free -> busy), writes the key, then
 * publishes it (busy -> valid, a release store); a reader reads the state,
 * the key, then the state again, and believes the key only if the state did
 * not change (a seqlock: every change bumps a version in the state word), so
 * a half-written entry is never matched.  Removal marks the entry free (a
 * tombstone: probe chains stay whole).  Each entry carries its owner's
 * epoch; an instance that restarts takes a new epoch, so the entries of its
 * past life match nothing (and are swept at join).  Why not rte_hash: it
 * keeps pointers (its key store, its rings of free slots, the lcore
 * caches) that are only valid at the address where one process made it,
 * and its writers must be in one process or hold its lock; independent
 * primaries map the file wherever mmap puts it.
 *
 * Liveness: each instance writes a heartbeat (CLOCK_MONOTONIC, once a
 * millisecond of turns) into its record; a peer whose heartbeat is older
 * than SHUNT_STEER_STALE_MS and whose process is gone (its pid with the
 * start time it had at the join: /proc/PID/stat, so a reused pid is not
 * taken for it) is marked gone.  Frames of a gone instance's flows stay where they land.
 * (An instance that sleeps in its idle mode is alive though silent: frames
 * steered to it wait in its ring until it wakes.)
 *
 * Transports, chosen at set-up, one stage and one interface:
 *   SHUNT_STEER_MBUF  instances that share DPDK's memory (one primary and
 *         its secondaries, as on a PCI NIC): the mbuf pointer moves over an
 *         rte_ring in a memzone; no copy.  The receiver frees the mbuf into
 *         the sender's pool (the pools are shared too).
 *   SHUNT_STEER_COPY  independent primaries (AF_XDP in DPDK 22.11 refuses
 *         secondary processes): nothing in common but the group's file, so
 *         the frame's bytes cross: the sender writes them into a slot of an
 *         rte_ring of fixed-size elements in the file (rte_ring_init on
 *         mapped memory; rte_ring_peek_zc writes straight into the ring, no
 *         staging), and the receiver copies them out into an mbuf of its
 *         own pool.  So a frame is copied twice, once each side, and the
 *         sender's mbuf is freed at once.  (Lending the slot to the receiver
 *         as an external buffer would save one copy, but the slot would then
 *         live as long as lwIP holds the pbuf - an out-of-order queue, a
 *         socket's receive queue - and a receiver that dies would strand
 *         the sender's slots.)
 * The rings are single-producer, single-consumer, one per ordered pair of
 * instances: frames from one instance to another arrive in the order they
 * left, and no two processes ever write the same ring end.
 *
 * Joining and leaving (shunt_steer_attach, shunt_steer_detach): the first
 * to attach makes the file; each instance has a record (pid, epoch, state,
 * heartbeat).  An instance joins as JOINING with a new epoch - peers stop
 * using its rings at once - waits out SHUNT_STEER_GRACE_MS if its record
 * says a past life did not leave cleanly (a peer may be in the middle of a
 * burst to it), empties the rings to and from it (frames left there are
 * counted as lost_gone; the MBUF transport frees them), sweeps its old
 * table entries, and becomes ALIVE.  A restarted instance so starts clean
 * without the others restarting.  This is a grace period, not a handshake:
 * a peer descheduled for longer than it in the middle of one burst could
 * race; joins are rare and the period is long.
 *
 * Counted (struct shunt_steer_stats), so that a frame balance holds:
 *   left       frames received here that went to their owner (steered_out),
 *              or were dropped on the way: ring_full (the owner's ring had no
 *              room: it falls behind), too_big (COPY: a frame beyond a slot);
 *              steered_out + ring_full + too_big are the frames that left
 *              this instance's pipeline
 *   came       steered_in: frames (and neighbour copies) the rings brought in
 *              and handed up; nombuf: those that found no mbuf here (lost,
 *              never frames here); lost_gone: frames found in the rings of a
 *              life that ended (at a join or a detach)
 *   copies     neigh_out, neighbour copies sent; neigh_dropped, copies that
 *              could not go (no room, no mbuf, too big) - the frame itself
 *              stays here either way
 *   table_full (an entry that found no room: that flow is not steered);
 *   orphans (frames whose owner by the range rule is gone: they stayed);
 *   peers_gone (peers this instance found dead).
 *
 * Where it sits: between the fault stage and the capture (port/phy.h).
 */
#ifndef SHUNT_STEER_H
#define SHUNT_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "phy.h"

struct tcp_pcb;
struct rte_ring;
struct steer_file;                  /* the mapped group file (steer.c) */

#define SHUNT_STEER_MAX         64  /* instances in a group */
#define SHUNT_STEER_STALE_MS    500 /* a heartbeat this old: ask whether the pid lives */
#define SHUNT_STEER_GRACE_MS    100 /* a join after an unclean leave waits this long */

/* What shunt_steer_owner says besides an instance's index. */
#define SHUNT_STEER_HERE        (-1)    /* this instance handles it */
#define SHUNT_STEER_ALL         (-2)    /* this instance, and a copy to every other */

enum shunt_steer_transport {
    SHUNT_STEER_MBUF,           /* shared DPDK memory: the mbuf moves */
    SHUNT_STEER_COPY,           /* independent primaries: the bytes are copied */
};

struct shunt_steer_conf {
    const char *path;           /* the group's file (/dev/shm/..., or on hugetlbfs) */
    const char *name;           /* MBUF: the rings' names start with it (< 16 chars) */
    unsigned instances;         /* N: 2 .. SHUNT_STEER_MAX */
    unsigned index;             /* this instance: 0 .. N - 1 */
    enum shunt_steer_transport transport;
    unsigned ring_size;         /* frames a ring holds; a power of two (1024) */
    unsigned slot_size;         /* COPY: the largest frame, bytes (MTU + 18) */
    unsigned table_size;        /* owned flows the group holds; a power of two */
    uint16_t port_lo, port_hi;  /* the active-open range (49152 .. 65535) */
    struct rte_mempool *pool;   /* this instance's: frames copied in, neighbour copies */
};

struct shunt_steer_stats {
    uint64_t steered_out, ring_full, too_big;   /* frames that left */
    uint64_t steered_in, nombuf, lost_gone;     /* frames the rings brought */
    uint64_t neigh_out, neigh_dropped;          /* neighbour copies */
    uint64_t table_full, orphans, peers_gone;
};

struct shunt_steer {
    struct shunt_phy phy;               /* the stage; must come first */
    struct steer_file *file;
    size_t file_len;
    unsigned self, n;
    uint32_t epoch;                     /* this life's */
    enum shunt_steer_transport transport;
    unsigned slot_size;                 /* COPY: the ring's element, bytes */
    uint16_t port_lo, port_hi;
    struct rte_mempool *pool;
    struct rte_ring *out[SHUNT_STEER_MAX];  /* to instance j (NULL: self) */
    struct rte_ring *in[SHUNT_STEER_MAX];   /* from instance j */
    unsigned next_in;                   /* the ring to read first, round robin */
    uint64_t check_at;                  /* TSC: the next heartbeat and liveness check */
    uint64_t check_every;
    uint16_t port_cursor;               /* shunt_steer_pick_port's */
    struct shunt_steer_stats stats;
};

/*
 * Join the group conf describes as instance conf->index (see above): map
 * (or make) its file, find or make the rings, take a new epoch.  The MBUF
 * transport needs the EAL up; COPY needs the EAL only for mbufs.  0, or -1
 * with one line in err (a file made for another geometry, the instance
 * already running as a live pid, no memory).
 */
int shunt_steer_attach(struct shunt_steer *s, const struct shunt_steer_conf *conf,
                       char *err, size_t errlen);

/* Leave cleanly: peers stop at once, this instance's entries go, frames
 * left in its rings are freed (counted lost_gone).  Take the stage out of
 * the pipeline first. */
void shunt_steer_detach(struct shunt_steer *s);

/* The stage (its slot: SHUNT_STAGE_STEER). */
struct shunt_phy *shunt_steer_stage(struct shunt_steer *s);

/* Whose the received frame m is: an instance's index, SHUNT_STEER_HERE or
 * SHUNT_STEER_ALL (see above); the stage's own decision, for tests. */
int shunt_steer_owner(struct shunt_steer *s, const struct rte_mbuf *m);

/* ---- ownership, for the socket layer --------------------------------------- */

/* The instance the range rule gives a local port, or -1 outside the range. */
int shunt_steer_port_owner(const struct shunt_steer *s, uint16_t port);

/* The next local port of this instance's in the active-open range (they
 * come round in turn): for an active open (TCP connect, UDP's implicit
 * bind) that the caller then tries to bind, and asks again if it is taken.
 * Its frames then need no table entry. */
uint16_t shunt_steer_pick_port(struct shunt_steer *s);

/*
 * A TCP connection this instance owns outside the rule: every accepted one
 * (shunt_steer_listen does it), and an active open bound to a port of the
 * user's choosing.  Call it before the connection's first segment leaves
 * (an accepted one: before its SYN-ACK).  Its entry goes when lwIP frees
 * the pcb (TIME-WAIT over, reset, aborted).  0, or -1: the table is full
 * (counted table_full: the connection works while its frames land here).
 */
int shunt_steer_own_pcb(struct shunt_steer *s, struct tcp_pcb *pcb);

/* A listener: each connection it accepts is owned (shunt_steer_own_pcb) as
 * lwIP makes it, before its SYN-ACK leaves. */
void shunt_steer_listen(struct shunt_steer *s, struct tcp_pcb *lpcb);

/* A UDP local port this instance owns (bind, explicit or not, of a port
 * outside its rule) and its release (close).  own: 0; -1 with errno
 * EADDRINUSE (another live instance owns it) or ENOSPC (table full). */
int shunt_steer_own_udp(struct shunt_steer *s, uint16_t port);
void shunt_steer_disown_udp(struct shunt_steer *s, uint16_t port);

/* Owned entries in the group's table (live ones; for tests and stats). */
unsigned shunt_steer_table_count(const struct shunt_steer *s);

/* Whether instance i is alive, as this instance last saw it. */
bool shunt_steer_peer_alive(const struct shunt_steer *s, unsigned i);

/* Look at the peers now (the stage does it once a millisecond of turns). */
void shunt_steer_check_peers(struct shunt_steer *s);

#endif /* SHUNT_STEER_H */
