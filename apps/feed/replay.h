/*
 * replay.h - the UDP datagrams of a pcap file, one at a time, with their
 * original timing: for shunt-feed publish --pcap, which sends a message for
 * each at the same offset from the first (the traffic's real bursts and
 * silences, not a steady rate) and of the same size.
 *
 * Link types: Ethernet (with VLAN tags), Linux cooked (SLL), raw IP and
 * BSD loopback; IPv4 and IPv6.  Each destination (address and port) of the
 * capture becomes a group, in the order they first appear, modulo the
 * publisher's K groups.  Other packets (not UDP, fragments after the first)
 * are skipped and counted.
 */
#ifndef SHUNT_FEED_REPLAY_H
#define SHUNT_FEED_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct replay;

struct replay_packet {
    uint64_t offset_ns;         /* since the capture's first datagram */
    size_t length;              /* its UDP payload bytes */
    unsigned group;             /* < groups */
};

/* Open path for groups groups: NULL after saying why on stderr. */
struct replay *replay_open(const char *path, unsigned groups);

/* The next datagram: 1, 0 at the end of the file, -1 after saying why. */
int replay_next(struct replay *r, struct replay_packet *p);

/* Packets of the file that were not UDP datagrams, so far. */
uint64_t replay_skipped(const struct replay *r);

void replay_close(struct replay *r);

#endif /* SHUNT_FEED_REPLAY_H */
