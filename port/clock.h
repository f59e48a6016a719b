/*
 * clock.h - the one clock of a stack instance.
 *
 * lwIP's timers (sys_now()) and the poll loop read this clock (capture
 * timestamps are the wall clock's, as pcap files want).  It counts the
 * CPU's time-stamp counter by default; a test installs its own source and
 * moves time forward by hand, so retransmission, ARP expiry or reassembly
 * timeouts run in microseconds of real time.
 */
#ifndef SHUNT_CLOCK_H
#define SHUNT_CLOCK_H

#include <stdint.h>

/* A time source: monotonic nanoseconds since any fixed origin. */
typedef uint64_t (*shunt_clock_fn)(void *arg);

/* Calibrate the TSC source; needs the EAL (rte_get_tsc_hz) to be up. */
void shunt_clock_init(void);

/* Use fn instead of the TSC; fn == NULL goes back to the TSC. */
void shunt_clock_set_source(shunt_clock_fn fn, void *arg);

/* Now, in nanoseconds and in milliseconds. */
uint64_t shunt_clock_ns(void);
uint32_t shunt_clock_ms(void);

#endif /* SHUNT_CLOCK_H */
