/*
 * server.h - one epoll loop that echoes TCP and UDP on a port and, if
 * asked, discards both on the next port, and checks or sends the test
 * pattern (pattern.h) over TCP on the two after: shunt-echo's server and
 * shunt-perf's.  The ports, from the first:
 *
 *     PORT     echo (TCP and UDP)
 *     PORT+1   discard (TCP and UDP), with discard
 *     PORT+2   check: a pattern_request, then the pattern it announces;
 *              after the client's FIN the server answers with the count of
 *              bytes it checked (8 bytes, big-endian) and closes.  A byte
 *              that differs, or a count that does not match, closes the
 *              connection with no answer (and a line saying where).
 *     PORT+3   source: a pattern_request; the server sends the bytes it
 *              asks for, then closes.
 *              (both with one_way: a transfer in one direction each, the
 *              way echo is both at once)
 *  Sockets are dual-stack ([::]:PORT takes IPv4 too) and
 * non-blocking; a connection whose echo the peer does not take stops being
 * read, so its receive window closes (backpressure), and a connection that
 * fails ends alone.  On the discard port, UDP streams are counted the way
 * udpstream.h says, so a client can ask what arrived.
 *
 * Messages start with app_name; the program prints its own summary from
 * server_counts().
 */
#ifndef SHUNT_APPS_SERVER_H
#define SHUNT_APPS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

/* The echo a connection holds at most, unread by its peer: a message the
 * server echoes whole can be no bigger (a literal: shunt-perf's help prints
 * it). */
#define SERVER_ECHO_BUF 65536

struct server_config {
    uint16_t port;              /* echo; the others follow it (above) */
    bool discard;
    bool one_way;               /* check on port + 2, source on port + 3 */
    int backlog;                /* of each listener */
    bool no_accept;             /* listen, but never accept: the backlog fills */
    bool nodelay;               /* TCP_NODELAY on echo connections: each echo leaves at once */
    bool busy;                  /* epoll_wait never sleeps (on Shunt: each call is a loop turn) */
    bool quiet_resets;          /* a reset by the peer is counted, not said */
    const char *join;           /* GROUP[,IFADDR]: the echo UDP socket joins it, or NULL */
    const char *congestion;     /* TCP_CONGESTION of the listeners (and so of their
                                   connections), or NULL: the stack's default */
};

struct server_counts {
    unsigned long long accepted, closed;
    unsigned long long resets;          /* connections the peer reset (ECONNRESET, EPIPE) */
    unsigned long long failures;        /* connections ended by any other error */
    unsigned long long echoed_bytes;    /* TCP */
    unsigned long long echoed_dgrams, echoed_dgram_bytes, not_echoed;  /* UDP */
    unsigned long long discarded_bytes, discarded_dgrams;
    unsigned long long checked_bytes, sourced_bytes;    /* the pattern, in and out */
};

struct server;

/* The sockets, bound and listening: the server, or NULL after saying why. */
struct server *server_open(const struct server_config *c);

/* Serve until stop: 0, or -1 if epoll_wait failed. */
int server_run(struct server *srv);

const struct server_counts *server_counts(const struct server *srv);

/* Close every connection and socket; srv may be NULL. */
void server_close(struct server *srv);

#endif /* SHUNT_APPS_SERVER_H */
