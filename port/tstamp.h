/*
 * tstamp.h - when a frame arrived and when one left, on the stack's clock
 * and on CLOCK_REALTIME, for the sockets' SO_TIMESTAMP* and SO_TIMESTAMPING
 * and their latency histograms (api/timestamps.h).
 *
 * A received frame carries its stamp in DPDK's dynamic timestamp field
 * (rte_mbuf_dyn_rx_timestamp_register): a port with
 * RTE_ETH_RX_OFFLOAD_TIMESTAMP writes its own clock's ticks there and sets
 * the field's flag; every other frame gets the stack clock's time of the RX
 * burst it came in, read once for the burst (the TSC, or the clock a test
 * drives).  While lwIP handles a frame (the netif's input, synchronous) the
 * frame's stamp is "the current one", which the sockets take when lwIP hands
 * them its data.
 *
 * CLOCK_REALTIME comes from the stack's clock by a line anchored on
 * clock_gettime() at start and again once a second (each reading bracketed
 * by two clock reads, the narrowest of three): the new anchor carries on
 * from the old line, whose slope is the TSC's rate against CLOCK_REALTIME
 * learnt from the readings (a running average, so NTP's slewing is
 * followed) plus what takes the last second's error in by the next anchor
 * (at most 500 ppm in all).  Stamps stay monotonic and the error stays at
 * the readings' own (tens of ns); a step of the system clock over 1 ms is
 * taken at once, as the kernel's own stamps take it.  A driven clock
 * (tests) is anchored once and then followed exactly.
 *
 * Everything runs on the stack's thread.
 */
#ifndef SHUNT_TSTAMP_H
#define SHUNT_TSTAMP_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct shunt_clock;

/* A moment, as the sockets keep it. */
struct shunt_stamp {
    uint64_t ns;                /* the stack's clock (latency histograms) */
    uint64_t real_ns;           /* CLOCK_REALTIME (software stamps) */
    uint64_t hw_real_ns;        /* the port's stamp on CLOCK_REALTIME; 0: none */
};

/* How the stamps are taken, for telemetry and shunt-doctor. */
struct shunt_tstamp_info {
    bool hw_capable;            /* the port offers RTE_ETH_RX_OFFLOAD_TIMESTAMP */
    bool hw_enabled;            /* and it is on, with its clock readable */
    uint64_t anchors;           /* re-anchorings against clock_gettime() */
    uint64_t steps;             /* of them, steps of more than 1 ms */
    int64_t last_error_ns;      /* CLOCK_REALTIME less the line, at the last one */
    int64_t slew_ppb;           /* the line's correction now */
    uint64_t hw_frames;         /* frames that came with the port's stamp */
};

/* Register the mbuf field and anchor the line on the stack's clock. */
int shunt_tstamp_init(const struct shunt_clock *clock);

/* The port's hardware stamps are on (RTE_ETH_RX_OFFLOAD_TIMESTAMP):
 * calibrate its clock (rte_eth_read_clock) against the stack's.  capable
 * says whether the port offers them at all. */
void shunt_tstamp_hw_port(bool capable, bool enabled, uint16_t port_id);

/* Stamp a received burst: frames without the port's stamp get now. */
void shunt_tstamp_burst(struct rte_mbuf **pkts, unsigned n);

/* lwIP is handling m now (NULL: nothing, after it). */
void shunt_tstamp_set_current(const struct rte_mbuf *m);

/* The stamp of the frame lwIP is handling, or now when it handles none
 * (lwIP's loopback, data held and delivered later). */
void shunt_tstamp_rx(struct shunt_stamp *out);

/* Now (a TX stamp). */
void shunt_tstamp_now(struct shunt_stamp *out);

/* Re-anchor when a second has passed since the last anchor (the loop calls
 * this every turn with the turn's time: one compare otherwise). */
void shunt_tstamp_tick(uint64_t now);

void shunt_tstamp_get_info(struct shunt_tstamp_info *out);

#endif /* SHUNT_TSTAMP_H */
