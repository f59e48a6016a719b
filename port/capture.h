/*
 * capture.h - Shunt's own tcpdump: the frames that cross the wire, written
 * to a pcap file through libpcap.
 *
 * tcpdump cannot see traffic that bypasses the kernel, so an open capture is
 * a stage of the device pipeline (port/phy.h), right above the port's
 * queue: it sees every frame the port receives, as the burst comes in, and
 * every frame handed to the port to send, as it is handed over; that is
 * when each is timestamped.  A tcpdump-syntax filter, compiled by libpcap,
 * picks the frames; a snap length cuts them; the file starts anew (file.1,
 * file.2, ...) when it reaches a size.  The files open in tcpdump, tshark
 * and Wireshark.
 */
#ifndef SHUNT_CAPTURE_H
#define SHUNT_CAPTURE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "phy.h"

struct shunt_capture;

struct shunt_capture_conf {
    char path[PATH_MAX];
    char filter[512];           /* tcpdump syntax; "" keeps every frame */
    uint32_t snaplen;           /* bytes kept of each frame; 0: all */
    uint64_t rotate_bytes;      /* a new file after this many; 0: never */
};

struct shunt_capture_stats {
    uint64_t seen;              /* frames offered */
    uint64_t written;           /* frames the filter kept */
    uint64_t bytes;             /* bytes written, this file */
    uint32_t files;             /* files started */
};

/*
 * Open the file and compile the filter.  NULL when either fails, with one
 * line in err saying why (a filter that does not compile, a path that
 * cannot be written).
 */
struct shunt_capture *shunt_capture_open(const struct shunt_capture_conf *conf,
                                         char *err, size_t errlen);

/* Flush and close the file. */
void shunt_capture_close(struct shunt_capture *c);

/* The capture as a pipeline stage (its slot: SHUNT_STAGE_CAPTURE). */
struct shunt_phy *shunt_capture_stage(struct shunt_capture *c);

/* Offer n frames, all stamped with the time now. */
void shunt_capture_frames(struct shunt_capture *c, struct rte_mbuf *const *pkts, uint16_t n);

void shunt_capture_stats(const struct shunt_capture *c, struct shunt_capture_stats *out);
const struct shunt_capture_conf *shunt_capture_conf(const struct shunt_capture *c);

#endif /* SHUNT_CAPTURE_H */
