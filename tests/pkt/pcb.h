/*
 * pcb.h - what lwIP holds for a connection a packet test plays the peer
 * of, seen from outside the socket API: a connection lives on in lwIP
 * after its socket is closed (FIN-WAIT-2, LAST-ACK, TIME-WAIT).
 *
 * Its own file because lwIP's headers and DPDK's cannot meet in one.
 */
#ifndef SHUNT_TEST_PCB_H
#define SHUNT_TEST_PCB_H

#include <stdbool.h>
#include <stdint.h>

/* The state of Shunt's connection from local_port to the peer's
 * remote_port, named as shunt-stat names it ("ESTAB", "TIME-WAIT"...);
 * "CLOSE" when lwIP holds none. */
const char *pcb_state(uint16_t local_port, uint16_t remote_port);

/* The next sequence number Shunt's connection from local_port to the peer's
 * remote_port expects (rcv_nxt) and sends (snd_nxt); false when lwIP holds
 * none. */
bool pcb_seqs(uint16_t local_port, uint16_t remote_port, uint32_t *rcv_nxt, uint32_t *snd_nxt);

/* Reset every connection lwIP holds, TIME-WAIT included (listeners stay). */
void pcb_abort_all(void);

/* A pcb lwIP has made but not connected, named by its two IPv6 ends (ports
 * in host order) - as an active open bound by the user is before
 * tcp_connect; and its end (tcp_close: lwIP frees it). */
struct tcp_pcb *pcb_made_v6(const uint8_t laddr[16], uint16_t lport, const uint8_t raddr[16],
                            uint16_t rport);
void pcb_drop(struct tcp_pcb *pcb);

/* lwIP's listener on local_port, or NULL. */
struct tcp_pcb *pcb_listener(uint16_t local_port);

#endif /* SHUNT_TEST_PCB_H */
