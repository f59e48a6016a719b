/*
 * scenario.h - the TCP conformance scenarios' format (tests/pkt/scenarios/
 * *.pkt): read a file into events, and the segments' text, options and
 * comparison.  tests/pkt/test-scenarios.c runs them; this is the format's
 * contract.  In the spirit of packetdrill, smaller, one event a line:
 *
 *     # RFC 9293 3.5: passive open, the peer offers MSS and SACK
 *     +0      socket() = 3
 *     +0      bind(3, 8080) = 0
 *     +0      listen(3, 1) = 0
 *     +0      < S 0:0(0) win 65535 <mss 1460,sackOK>
 *     +0      > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>
 *     +0.010  < . 1:1(0) ack 1 win 65535
 *     +0      accept(3) = 4
 *     +0      write(4, 100) = 100
 *     +0      > P. 1:101(100) ack 1
 *     +0.200~+0.300 > P. 1:101(100) ack 1     # the RTO, somewhere in there
 *     +1      state ESTAB
 *
 * Blank lines and '#' to the end of a line are comments.  Every event
 * starts with its time: "+0.200" is 200 ms after the previous event
 * happened, "1.5" is 1.5 s after the script began; milliseconds at most.
 * The test's clock stands still between events: time passes only as the
 * lines say.  An expected segment may give a range, "+0.1~+0.3" (or
 * "1~1.2"): it must leave within it, and the event happened when it did.
 *
 * Segments.  "<" is one the peer (the runner) sends, ">" one Shunt must
 * send next:
 *     < FLAGS SEQ:END(LEN) [ack N] [win N] [<OPTIONS>]
 * FLAGS from S (SYN), F (FIN), R (RST), P (PSH), U (URG), E (ECE), W (CWR)
 * and . (ACK): "S.", "P.", "F.", "R.", "." ...  END is SEQ + LEN (mod
 * 2^32; the parser checks it).  Sequence numbers are packetdrill's: the
 * peer's own are absolute (the script picks its ISN), Shunt's are relative
 * to Shunt's ISN, which the runner learns from Shunt's first SYN (before
 * that, absolute), and again from a SYN that answers the peer's SYN with
 * a new ISN (a new connection on the same ports).  So "<" gives its SEQ absolute and its ack (and SACK
 * blocks) relative; ">" gives its SEQ relative and its ack (and SACK
 * blocks) absolute.  Data is a pattern of its sequence numbers, so a
 * segment's bytes, and what read() returns, are checked too.
 * OPTIONS, comma-separated, in the order they are on the wire: "mss N",
 * "wscale N", "sackOK", "TS val N ecr N", "sack L:R L:R...", "nop", "eol".
 * In a ">" line "*" matches any value (seq, ack, win, an option's value),
 * and what is left out (ack, win, the options) is not checked; a "<" line
 * without win says 65535, without options has none, and its "ecr *" echoes
 * the last TS val Shunt sent.
 *
 * Socket calls, each returning at once (sockets are non-blocking); the
 * result, and after -1 the errno, must be what the line says:
 *     socket() = 3                     an AF_INET TCP socket, labelled 3
 *     bind(3, 8080) = 0                INADDR_ANY, that port
 *     listen(3, 1) = 0
 *     accept(3) = 4                    labels the new socket 4
 *     connect(3, 40000) = -1 EINPROGRESS   to the peer, 10.0.0.1:40000
 *     write(4, 1000) = 1000            1000 bytes of the pattern
 *     read(4, 100) = 100               and checks them; 0 is the peer's FIN
 *     shutdown(4, SHUT_WR) = 0         SHUT_RD, SHUT_WR, SHUT_RDWR
 *     close(4) = 0
 *     setsockopt(4, TCP_KEEPIDLE, 10) = 0   SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE,
 *                                      SO_LINGER (seconds, on), TCP_NODELAY,
 *                                      TCP_KEEPIDLE, TCP_KEEPINTVL,
 *                                      TCP_KEEPCNT, TCP_MAXSEG
 *     getsockopt(4, SO_ERROR, [ETIMEDOUT]) = 0
 *     getsockopt(4, TCP_INFO, [snd_mss 1460, rcv_wscale 3]) = 0
 * Descriptors are labels: the number a line gives stands for whatever
 * descriptor Shunt returned.  TCP_INFO's fields by their tcpi_ names without
 * the prefix: rto (us), backoff, retransmits, probes, unacked, snd_cwnd,
 * snd_ssthresh, snd_mss, rcv_mss, snd_wscale, rcv_wscale, options (glibc's
 * struct: the TCPI_OPT_ bits).
 *
 * Other events:
 *     +1 state TIME-WAIT   lwIP's state of the connection, as shunt-stat
 *                          names it (CLOSE: lwIP holds none), socket or not
 *     +5 wait              let 5 s pass
 * Directives, not timed:
 *     config mtu = 1280    a line of the instance's configuration (before
 *                          any event); keys ring.c does not already set
 *     port 40001           the peer's port from here on (40000 at first):
 *                          several connections in one file
 * Shunt's port is 8080, or what bind() gave, or what its SYN came from.
 *
 * Between events nothing may leave: a segment Shunt sends that the script
 * does not expect fails the test at once, and so does one still waiting
 * when the script ends.  The runner answers Shunt's ARP requests itself.
 */
#ifndef SHUNT_TEST_SCENARIO_H
#define SHUNT_TEST_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_MAX_OPTS    16
#define SCN_MAX_NUMS    8       /* an option's values: 4 SACK blocks */
#define SCN_MAX_ARGS    4
#define SCN_LINE        256

/* A number in a segment, or "*". */
struct scn_num {
    bool any;
    uint32_t v;
};

/* One TCP option: its kind (TCPOPT_ numbers: 0 eol, 1 nop, 2 mss,
 * 3 wscale, 4 sackOK, 5 sack, 8 TS) and values (mss, wscale: 1; TS: val,
 * ecr; sack: left, right for each block; another kind: its length). */
struct scn_opt {
    uint8_t kind;
    unsigned n;
    struct scn_num v[SCN_MAX_NUMS];
};

struct scn_seg {
    uint8_t flags;                      /* RTE_TCP_*_FLAG */
    struct scn_num seq, len;
    bool has_ack, has_win, has_opts;
    struct scn_num ack, win;
    unsigned nopts;
    struct scn_opt opts[SCN_MAX_OPTS];
};

/* name(arg, ...) = ret [ERRNO]; an argument in brackets is what an out
 * parameter must hold. */
struct scn_call {
    char name[16];
    unsigned nargs;
    char args[SCN_MAX_ARGS][96];
    long ret;
    int err;                            /* 0: any (ret is not -1) */
};

enum scn_kind {
    SCN_IN,                             /* "<" */
    SCN_OUT,                            /* ">" */
    SCN_CALL,
    SCN_STATE,
    SCN_WAIT,
    SCN_PORT,                           /* not timed */
};

struct scn_event {
    int line;
    char text[SCN_LINE];                /* as written, comment and time cut */
    enum scn_kind kind;
    bool absolute;                      /* the time from the script's start */
    uint64_t at_ms, until_ms;           /* until_ms > at_ms: a range */
    union {
        struct scn_seg seg;
        struct scn_call call;
        char state[16];
        uint16_t port;
    } u;
};

struct scn_script {
    char config[1024];                  /* the config lines, one after another */
    unsigned n;
    struct scn_event *ev;               /* n events, malloc'ed */
};

/* Read the scenario in path; false, with "path:line: what is wrong" in
 * err, when it cannot be read or does not follow the format. */
bool scn_read(const char *path, struct scn_script *s, char *err, size_t errlen);
void scn_free(struct scn_script *s);

/* The segment as a ">" or "<" line shows it, without the direction. */
void scn_format(const struct scn_seg *g, char *buf, size_t len);

/* Options on the wire into the list (false: a length runs past their end,
 * or more than SCN_MAX_OPTS), and the list onto the wire, padded to a
 * multiple of 4 with eol (returns the bytes, at most 40). */
bool scn_opts_parse(const uint8_t *o, size_t len, struct scn_seg *g);
size_t scn_opts_build(const struct scn_seg *g, uint8_t *o);

/* Whether got (every number known) is what want says; if not, which part
 * differs, in why. */
bool scn_match(const struct scn_seg *want, const struct scn_seg *got, char *why,
               size_t len);

/* An errno by its name (0 for one the format does not know), and back. */
int scn_errno(const char *name);
const char *scn_errno_name(int err);

/* The byte at relative sequence number r of either side's data. */
static inline uint8_t scn_pattern(uint32_t r)
{
    return (uint8_t)('!' + r % 89);     /* printable; 89 is prime */
}

#endif /* SHUNT_TEST_SCENARIO_H */
