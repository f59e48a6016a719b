/*
 * held.h - how many received frames lwIP holds now, and where: TCP's
 * out-of-order queues (and data a full socket refused, which lwIP keeps to
 * offer again), and IP reassembly, IPv4 and IPv6.
 *
 * For the frame balance (stack/stats.h): frames held are one of its terms,
 * and frames that leave the out-of-order queues or reassembly in a timer
 * are frames lwIP gave up on (stack/loop.c counts them as drops).  Refused
 * data leaves in a timer too, but delivered: lwIP's fast timer offers it
 * to the socket again.  Counts are of pbufs, which for a
 * received frame of one segment (every frame at the usual MTUs) is one.
 *
 * lwIP keeps the reassembly count in a static of ip4_frag.c and of
 * ip6_frag.c, and no stats field has it: port/reassembly.c is compiled
 * inside each of those two files (the build appends it to their one-line
 * wrappers, Makefile.am), so it reads the count where it lives without an
 * edit to lwIP.
 */
#ifndef SHUNT_HELD_H
#define SHUNT_HELD_H

struct shunt_held {
    unsigned tcp;               /* out-of-order queues, and data refused by a full socket */
    unsigned refused;           /* of tcp, the refused data */
    unsigned reassembly;        /* IPv4 and IPv6 fragments waiting for the rest */
};

struct shunt_held shunt_held_in_lwip(void);

/* port/reassembly.c's, inside lwIP's ip4_frag.c and ip6_frag.c. */
unsigned shunt_reassembly_frames_ip4(void);
unsigned shunt_reassembly_frames_ip6(void);

#endif /* SHUNT_HELD_H */
