/*
 * doctor.h - shunt-doctor's checks: the machine (and, when one runs, the
 * instance) against what a Shunt instance needs for low latency.
 *
 * Every check adds findings to a report: a name, a level, what it measured,
 * why it matters for latency, and the command that fixes it.  The checks
 * are grouped by area, one file each:
 *
 *   memory.c    hugepages, hugetlbfs, transparent hugepages, locked memory
 *               and descriptor limits
 *   cpu.c       the EAL cores against isolcpus / nohz_full / rcu_nocbs,
 *               their governor, C-states and SMT siblings, IRQs on them
 *   port.c      each port: NUMA node, PCI driver binding and IOMMU, AF_XDP
 *               (kernel, bpffs, driver's XDP mode, queues), the DPDK build
 *   instance.c  a running instance, through its telemetry: its core, its
 *               port's node, mbuf headroom, busy turns, drops growing now,
 *               the sockets LD_PRELOAD left on the kernel and why
 *
 * Nothing is read from / directly: every path goes through read.h, under
 * the root (--root DIR), so tests craft each state in a directory.
 */
#ifndef SHUNT_DOCTOR_H
#define SHUNT_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "attach.h"
#include "config.h"

enum doctor_level {
    DOCTOR_OK,
    DOCTOR_WARN,                /* works, but costs latency */
    DOCTOR_FAIL,                /* Shunt will not start, or not as configured */
    DOCTOR_SKIP,                /* could not be checked (unreadable, not asked) */
};

struct doctor_finding {
    char name[48];              /* e.g. "hugepages.2048kB", "cpu1.governor" */
    enum doctor_level level;
    char measured[512];
    const char *why;            /* why it matters for latency */
    char fix[512];              /* the command that fixes it ("" when ok) */
};

#define DOCTOR_CPUS 1024
#define DOCTOR_PORTS 8

/* What the checks look at: the machine under root, the instance's
 * configuration and EAL arguments, and the instance itself when one runs. */
struct doctor {
    const char *root;                   /* "" for the real machine */
    /* The configuration (-c FILE), parsed by stack/config.c. */
    const char *config_path;            /* NULL: none given */
    bool has_config;
    struct shunt_config config;
    /* The EAL arguments (the config's eal line, or the instance's). */
    bool has_eal;
    bool cores[DOCTOR_CPUS];            /* the EAL's cores (-l, -c, --lcores) */
    int ncores;
    bool no_huge, in_memory;
    char prefix[64];                    /* --file-prefix ("" if none) */
    char pci[DOCTOR_PORTS][32];         /* -a / --allow / -w addresses */
    int npci;
    char iface[DOCTOR_PORTS][32];       /* iface= of net_af_xdp / net_af_packet vdevs */
    char iface_pmd[DOCTOR_PORTS][16];   /* "af_xdp" or "af_packet" */
    int niface;
    /* A running instance (-p PREFIX, -P PID, or the config's prefix). */
    bool attached;
    struct attach instance;
    json_t *stats;                      /* its first /shunt/stats snapshot */
    double interval;                    /* seconds between the two snapshots */
    /* The report. */
    struct doctor_finding *findings;
    size_t nfindings, cap;
};

/*
 * Add a finding.  fix is a command (printf-style arguments go to measured:
 * fix is taken as it is); why is a static string.  A finding at DOCTOR_OK
 * carries no fix.
 */
void doctor_add(struct doctor *d, const char *name, enum doctor_level level, const char *why,
                const char *fix, const char *measured, ...)
    __attribute__((format(printf, 6, 7)));

/* A finding for something that could not be read: path and errno's reason. */
void doctor_unreadable(struct doctor *d, const char *name, const char *why, const char *path);

/*
 * Attach to the running instance of prefix or pid (neither: the only one
 * running) and take its first snapshot; without a config file, its EAL
 * arguments stand for the config's.  0, or -1 after a failing finding
 * (none when quiet: looking for an instance that may not run).
 */
int doctor_attach(struct doctor *d, const char *prefix, unsigned long pid, bool quiet);

/* Whether a filesystem of type fstype is mounted (/proc/mounts): ok with
 * where, or at level missing with fix. */
void doctor_mount(struct doctor *d, const char *name, const char *fstype,
                  enum doctor_level missing, const char *why, const char *fix);

/* Parse EAL arguments (one string, split at white space) into d. */
void doctor_parse_eal(struct doctor *d, const char *eal);

/* The checks, area by area. */
void doctor_check_config(struct doctor *d);
void doctor_check_memory(struct doctor *d);
void doctor_check_cpu(struct doctor *d);
void doctor_check_port(struct doctor *d);
void doctor_check_instance(struct doctor *d);

/* The report, as text (one block per finding) or one JSON document; the
 * worst level found. */
void doctor_print(const struct doctor *d, bool json);
enum doctor_level doctor_worst(const struct doctor *d);

const char *doctor_level_name(enum doctor_level l);

#endif /* SHUNT_DOCTOR_H */
