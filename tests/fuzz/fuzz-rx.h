/*
 * fuzz-rx.h - the input of the receive path's fuzz target (fuzz-rx.c), for
 * it and for what writes inputs (seeds.c).
 *
 * Before each input's records the peer (10.0.0.1:40000) has opened a
 * connection to Shunt's listener on 8080 and Shunt has accepted it; the
 * handshake's options come from the input's first byte.  A UDP socket
 * listens on 7000 (IPv4) and 7002 (IPv6), a TCP listener on 8082 (IPv6).
 * Then the input is a sequence of records, each a kind byte and its body
 * (numbers little-endian; a body cut short by the input's end ends it):
 *
 *   FRAME  len:2 bytes[len]     an Ethernet frame, as it is
 *   FIXED  len:2 bytes[len]     the same, its IPv4/IPv6 lengths and IP, TCP,
 *                               UDP, ICMP checksums made right first
 *   SEG    to:1 flags:1 dseq:4 dack:4 win:2 optlen:1 opts[optlen] dlen:2
 *          a TCP segment from the peer's port 40000 + (to >> 2) % 8 to
 *          Shunt's 8080 (to & 3 = 0..2) or to a closed port (3); its seq and
 *          ack are dseq and dack past what that connection's pcb expects
 *          (rcv_nxt) and sends next (snd_nxt) - 0 and 0 are in order - or
 *          past the peer's ISN and 0 when lwIP holds no such connection;
 *          optlen rounded down to a multiple of 4 (at most 40), dlen bytes
 *          of data (at most 1460)
 *   TIME   ms:2                 the clock moves on (at most 4 s)
 *   CALL   op:1 arg:2           a socket call (enum fuzz_call)
 *
 * So mutated frames reach TCP's states on a live connection (ESTABLISHED,
 * the FIN states, TIME-WAIT) instead of stopping at the demultiplexer.
 */
#ifndef SHUNT_TEST_FUZZ_RX_H
#define SHUNT_TEST_FUZZ_RX_H

enum {
    FUZZ_PORT = 8080, FUZZ_PORT6 = 8082, FUZZ_CLOSED_PORT = 8081,
    FUZZ_UDP_PORT = 7000, FUZZ_UDP_PORT6 = 7002,
    FUZZ_PEER_PORT = 40000, FUZZ_PEER_ISN = 1000,
    FUZZ_MAX_ADVANCE_MS = 4000, FUZZ_MAX_DATA = 1460,
};

/* The first byte: what the peer's SYN offers. */
enum fuzz_offer {
    FUZZ_OFFER_MSS = 1, FUZZ_OFFER_WSCALE = 2, FUZZ_OFFER_SACK = 4, FUZZ_OFFER_TS = 8,
    /* bits 4-7: the window scale */
};

enum fuzz_record { FUZZ_FRAME, FUZZ_FIXED, FUZZ_SEG, FUZZ_TIME, FUZZ_CALL, FUZZ_RECORDS };

enum fuzz_call {
    FUZZ_WRITE,         /* arg bytes on the connection */
    FUZZ_READ,          /* up to arg bytes from it */
    FUZZ_SHUTDOWN,      /* arg % 3: SHUT_RD, SHUT_WR, SHUT_RDWR */
    FUZZ_CLOSE,         /* the connection */
    FUZZ_ACCEPT,        /* from the listener: another connection the input made */
    FUZZ_CONNECT,       /* a new socket to the peer's port 40100 + arg % 8 */
    FUZZ_SETSOCKOPT,    /* arg % 4: TCP_NODELAY, SO_RCVBUF arg, keepalive (1 s), SO_LINGER 0 */
    FUZZ_UDP,           /* read a datagram on arg & 1 ? IPv6 : IPv4, send it back */
    FUZZ_CALLS
};

#endif /* SHUNT_TEST_FUZZ_RX_H */
