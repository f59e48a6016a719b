/*
 * challenge.h - which segments of a synchronized connection Shunt refuses
 * before lwIP reads them, and how often it answers those: RFC 5961's
 * defences against blind in-window attacks (a stranger who guesses a
 * sequence number inside the window must not reset the connection, nor
 * inject data), and the throttling of the ACKs sent in answer, as Linux
 * does it.
 *
 * lwIP 2.1.3 already answers an RST inside the window that is not exact,
 * and a SYN on a synchronized connection, with an ACK (RFC 5961 3.2, 4.2),
 * and any segment outside the window with an ACK, but without any limit,
 * and it takes data whatever its ACK says.  This module sees every segment
 * first (port/hooks.h) and, for a connection in ESTABLISHED, FIN-WAIT-1/2,
 * CLOSE-WAIT, CLOSING or LAST-ACK, applies these rules in RFC 793's order
 * (the code cites the section again):
 * - RST (RFC 5961 3.2): exactly at RCV.NXT, lwIP resets the connection;
 *   elsewhere inside the window, a challenge ACK; outside, dropped.
 * - SYN (RFC 5961 4.2): whatever its sequence number, a challenge ACK.
 * - No ACK bit (RFC 793 3.9, "fifth, check the ACK field"): dropped.
 * - ACK acceptability (RFC 5961 5.2): an ACK below SND.UNA - MAX.SND.WND
 *   or above SND.NXT: a challenge ACK, and the data is not delivered.
 * - Outside the window without data (RFC 793 3.9, "first check sequence
 *   number"): lwIP answers with an ACK, unless the connection's limit
 *   holds it back; then dropped.  Data outside the window is lwIP's to
 *   answer, never throttled: such a segment is no part of an ACK loop
 *   (Linux's tcp_oow_rate_limited says the same).
 * Every challenge ACK passes two limits (RFC 5961 7), as Linux's
 * tcp_send_challenge_ack: first the connection's (at most one answer to
 * an invalid or out-of-window segment per invalid_ratelimit_ms, Linux's
 * tcp_invalid_ratelimit), then the instance's (at most about
 * challenge_ack_limit challenge ACKs a second: each second's allowance is
 * drawn at random from [limit/2, limit + limit/2), so an off-path
 * observer cannot count them out, CVE-2016-5696).  A segment whose answer
 * a limit withholds is dropped without one.
 *
 * Not done: Linux also bounds MAX.SND.WND by the bytes acknowledged so
 * far (no ACK below the initial sequence number); lwIP keeps no ISS.
 * TIME-WAIT is left to lwIP (RFC 1337).
 */
#ifndef SHUNT_CHALLENGE_H
#define SHUNT_CHALLENGE_H

#include <stdint.h>

struct shunt_clock;
struct tcp_pcb;
struct tcp_hdr;

/* The defaults of the config keys tcp_invalid_ratelimit (ms) and
 * tcp_challenge_ack_limit (a second), Linux 6.1's: since Linux 6.0 the
 * instance-wide limit is off (INT_MAX) by default, the connection's
 * limit being enough against ACK storms. */
#define SHUNT_INVALID_RATELIMIT_MS      500u
#define SHUNT_CHALLENGE_ACK_LIMIT       2147483647u     /* INT_MAX: no limit */

enum shunt_challenge_verdict {
    SHUNT_CHALLENGE_PASS,       /* lwIP's to process */
    SHUNT_CHALLENGE_ANSWERED,   /* refused, and a challenge ACK sent */
    SHUNT_CHALLENGE_DROPPED,    /* refused, and no answer is due */
    SHUNT_CHALLENGE_THROTTLED,  /* refused, and the answer due withheld */
};

/* Before lwIP's TCP runs: the clock, and the limits (0 ms: no limit per
 * connection; SHUNT_CHALLENGE_ACK_LIMIT: none per instance). */
void shunt_challenge_init(const struct shunt_clock *clock, uint32_t invalid_ratelimit_ms,
                          uint32_t challenge_ack_limit);

/* A segment for pcb before lwIP reads it (hdr in host order) carrying
 * datalen bytes of data.  Anything but PASS: the caller drops it. */
enum shunt_challenge_verdict shunt_challenge_check(struct tcp_pcb *pcb,
                                                   const struct tcp_hdr *hdr,
                                                   uint16_t datalen);

#endif /* SHUNT_CHALLENGE_H */
