/*
 * demux.h - find a TCP segment's connection in one hash lookup.
 *
 * lwIP finds the pcb of each arriving segment by walking its list of active
 * connections (and moves each hit to the front, which is cheap only while
 * traffic stays with a few of them).  With thousands of connections that walk
 * is most of what a segment costs.  So Shunt keeps a hash of its connections,
 * each from its first segment on (the SYN it sends or answers), and when a
 * segment finds its pcb there, lwIP is handed an active list holding just
 * that pcb while it processes the segment; the real list is put back
 * afterwards - without the pcb, if lwIP closed it meanwhile, and with any pcb
 * lwIP added.  A segment the hash does not know belongs to no active
 * connection (a SYN for a listener, most often): lwIP is handed an empty
 * active list, and goes straight to TIME-WAIT and the listeners.
 *
 * A decorator on the netif's input (lwIP's ethernet_input).  It stays out of
 * the way while there are few connections: the walk is shorter than a hash
 * lookup then.
 */
#ifndef SHUNT_DEMUX_H
#define SHUNT_DEMUX_H

#include "lwip/err.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

struct tcp_pcb;

/* Make the hash, for up to capacity connections; 0 or -1 (no memory). */
int shunt_demux_init(unsigned capacity);
void shunt_demux_free(void);

/* A connection has sent its SYN (or is established): find its segments by
 * hash from now on.  It leaves the hash when lwIP frees the pcb.  Adding it
 * again is harmless. */
void shunt_demux_add(struct tcp_pcb *pcb);

/* A listener: the connections it accepts go into the hash as lwIP makes
 * them, before their SYN-ACK leaves. */
void shunt_demux_listen(struct tcp_pcb *lpcb);

/* The netif's input: lwIP's ethernet_input, with the lookup done first. */
err_t shunt_demux_input(struct pbuf *p, struct netif *netif);

/* Connections in the hash. */
unsigned shunt_demux_count(void);

#endif /* SHUNT_DEMUX_H */
