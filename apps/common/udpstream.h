/*
 * udpstream.h - how shunt-perf's UDP stream asks the server how much of it
 * arrived.  Each datagram of a stream starts with a header; the client's
 * run id keeps its warm-up (an even id) apart from the measured run (the
 * id + 1).  After the run the client sends REPORT, and the discard server
 * (server.h) answers with what it counted for that run.  Fields are
 * big-endian.
 */
#ifndef SHUNT_APPS_UDPSTREAM_H
#define SHUNT_APPS_UDPSTREAM_H

#include <stdint.h>

#define STREAM_DATA     0x53504431u     /* "SPD1" */
#define STREAM_REPORT   0x53505231u     /* "SPR1" */
#define STREAM_ANSWER   0x53504131u     /* "SPA1" */

struct stream_hdr {
    uint32_t magic;
    uint32_t run;
    uint64_t seq;
};

struct stream_answer {
    struct stream_hdr h;
    uint64_t received;
    uint64_t out_of_order;
};

#endif /* SHUNT_APPS_UDPSTREAM_H */
