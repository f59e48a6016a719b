/*
 * memory.c - hugepages (reserved, free, per NUMA node, hugetlbfs mounted),
 * transparent hugepages, and the limits on locked memory and descriptors.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "read.h"

/* What one mbuf costs in the pool besides its data room: the rte_mbuf, the
 * headroom, Shunt's private area and the mempool's object header. */
#define MBUF_OVERHEAD 384

static const char why_huge[] = "DPDK's mbuf pool and rings live in hugepages: with 4 KiB pages "
    "every packet touches more TLB entries, and without hugepages the EAL does not start";

/* The pool the configuration asks for, in bytes (0 without one). */
static unsigned long long pool_bytes(const struct doctor *d)
{
    if (!d->has_config)
        return 0;
    return (unsigned long long)d->config.mbufs * (d->config.mbuf_size + MBUF_OVERHEAD);
}

/* One size's counts under dir (/sys/kernel/mm/hugepages or a node's). */
static int size_counts(const char *root, const char *dir, const char *size, long *nr, long *fr)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s/nr_hugepages", dir, size);
    if (rd_long(root, path, nr) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s/free_hugepages", dir, size);
    return rd_long(root, path, fr);
}

/* Per NUMA node: the pages of each size, and which nodes have none free. */
static void check_nodes(struct doctor *d, const char *size)
{
    DIR *nodes = rd_opendir(d->root, "/sys/devices/system/node");
    char dir[300], name[64];
    long nr, fr;

    if (nodes == NULL)
        return;                         /* no NUMA: the totals say it all */
    for (struct dirent *e; (e = readdir(nodes)) != NULL;) {
        if (strncmp(e->d_name, "node", 4) != 0 || e->d_name[4] < '0' || e->d_name[4] > '9')
            continue;
        snprintf(dir, sizeof(dir), "/sys/devices/system/node/%s/hugepages", e->d_name);
        if (size_counts(d->root, dir, size, &nr, &fr) != 0)
            continue;
        snprintf(name, sizeof(name), "hugepages.%.12s.%.20s", e->d_name, size + 10);
        doctor_add(d, name, nr > 0 && fr == 0 ? DOCTOR_WARN : DOCTOR_OK,
                   "memory on another NUMA node than the core costs a remote access on "
                   "every packet: each node with Shunt's cores needs free pages",
                   "echo N > /sys/devices/system/node/NODE/hugepages/SIZE/nr_hugepages",
                   "%ld reserved, %ld free", nr, fr);
    }
    closedir(nodes);
}

static void check_hugepages(struct doctor *d)
{
    const char *top = "/sys/kernel/mm/hugepages";
    DIR *dir = rd_opendir(d->root, top);
    unsigned long long free_bytes = 0, need = pool_bytes(d);
    char name[64];
    int sizes = 0;

    if (dir == NULL) {
        doctor_unreadable(d, "hugepages", why_huge, top);
        return;
    }
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        long nr, fr, kb;
        if (sscanf(e->d_name, "hugepages-%ldkB", &kb) != 1)
            continue;
        if (size_counts(d->root, top, e->d_name, &nr, &fr) != 0) {
            snprintf(name, sizeof(name), "%s/%.20s/nr", top, e->d_name);
            doctor_unreadable(d, "hugepages", why_huge, name);
            continue;
        }
        sizes++;
        free_bytes += (unsigned long long)fr * (unsigned long long)kb * 1024;
        snprintf(name, sizeof(name), "hugepages.%ldkB", kb);
        doctor_add(d, name, DOCTOR_OK, why_huge, NULL, "%ld reserved, %ld free (%ld MiB free)",
                   nr, fr, fr * kb / 1024);
        check_nodes(d, e->d_name);
    }
    closedir(dir);
    const char *fix = "echo 512 > /proc/sys/vm/nr_hugepages";
    if (d->no_huge)
        doctor_add(d, "hugepages", DOCTOR_WARN, why_huge, "drop --no-huge from the eal line",
                   "not used: the eal line says --no-huge (4 KiB pages)");
    else if (sizes == 0 || free_bytes == 0)
        doctor_add(d, "hugepages", DOCTOR_FAIL, why_huge, fix,
                   "no free hugepages (%d sizes): the EAL cannot start", sizes);
    else if (need > free_bytes)
        doctor_add(d, "hugepages", DOCTOR_FAIL, why_huge, fix,
                   "%llu MiB free, the config's pool needs about %llu MiB (mbufs = %u)",
                   free_bytes >> 20, need >> 20, d->config.mbufs);
    else
        doctor_add(d, "hugepages", DOCTOR_OK, why_huge, NULL, "%llu MiB free%s", free_bytes >> 20,
                   need ? " (the config's pool needs about that or less)" : "");
}

static void check_hugetlbfs(struct doctor *d)
{
    static const char why[] = "DPDK maps its hugepages through a hugetlbfs mount: without "
                              "one the EAL does not start (unless --in-memory or --no-huge)";
    bool needed = !d->no_huge && !d->in_memory;

    doctor_mount(d, "hugetlbfs", "hugetlbfs", needed ? DOCTOR_FAIL : DOCTOR_OK, why,
                 "mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages");
}

static void check_thp(struct doctor *d)
{
    static const char why[] = "with transparent hugepages always on, khugepaged compacts and "
                              "collapses pages behind the program: stalls of milliseconds";
    const char *path = "/sys/kernel/mm/transparent_hugepage/enabled";
    char text[128];

    if (rd_text(d->root, path, text, sizeof(text)) != 0) {
        doctor_unreadable(d, "thp", why, path);
        return;
    }
    doctor_add(d, "thp", strstr(text, "[always]") != NULL ? DOCTOR_WARN : DOCTOR_OK, why,
               "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled", "%s", text);
}

/* A limit's soft value from /proc/PID/limits ("unlimited": -1). */
static int limit_of(const char *limits, const char *name, long long *soft)
{
    const char *line = strstr(limits, name);
    char value[32];

    if (line == NULL || sscanf(line + strlen(name), " %31s", value) != 1)
        return -1;
    *soft = strcmp(value, "unlimited") == 0 ? -1 : atoll(value);
    return 0;
}

/* Whether the process of limits_path (/proc/PID/limits) has CAP_IPC_LOCK,
 * which lifts the locked-memory limit (root has it). */
static bool ipc_lock(const struct doctor *d, const char *limits_path)
{
    char path[64], status[4096];
    unsigned long long caps;

    snprintf(path, sizeof(path), "%.*s/status", (int)(strrchr(limits_path, '/') - limits_path),
             limits_path);
    const char *eff = rd_text(d->root, path, status, sizeof(status)) == 0
                      ? strstr(status, "CapEff:") : NULL;
    return eff != NULL && sscanf(eff + 7, "%llx", &caps) == 1 && (caps >> 14 & 1);
}

static void check_limits(struct doctor *d)
{
    static const char why_lock[] = "AF_XDP's UMEM and vfio's DMA mappings are locked memory: "
                                   "below what they need the port does not open";
    static const char why_files[] = "every Shunt socket stands on a kernel descriptor, and DPDK "
                                    "holds some forty: a low limit caps the connections";
    char path[64], limits[4096];
    long long memlock, nofile;

    /* The instance's own limits when one runs, else this process's. */
    if (d->attached)
        snprintf(path, sizeof(path), "/proc/%ld/limits", d->instance.pid);
    else
        snprintf(path, sizeof(path), "/proc/self/limits");
    if (rd_text(d->root, path, limits, sizeof(limits)) != 0) {
        doctor_unreadable(d, "limits", why_lock, path);
        return;
    }
    unsigned long long need = pool_bytes(d) ? pool_bytes(d) : 64ull << 20;
    if (ipc_lock(d, path)) {
        doctor_add(d, "limits.memlock", DOCTOR_OK, why_lock, NULL,
                   "CAP_IPC_LOCK: locked memory is not limited (%s)", path);
    } else if (limit_of(limits, "Max locked memory", &memlock) == 0) {
        char shown[32] = "unlimited";
        if (memlock >= 0)
            snprintf(shown, sizeof(shown), "%lld KiB", memlock / 1024);
        doctor_add(d, "limits.memlock",
                   memlock >= 0 && (unsigned long long)memlock < need ? DOCTOR_WARN : DOCTOR_OK,
                   why_lock, "ulimit -l unlimited (or LimitMEMLOCK=infinity in the unit)",
                   "%s, the pool needs about %llu MiB (%s)", shown, need >> 20, path);
    }
    if (limit_of(limits, "Max open files", &nofile) == 0)
        doctor_add(d, "limits.nofile", nofile >= 0 && nofile < 4096 ? DOCTOR_WARN : DOCTOR_OK,
                   why_files, "ulimit -n 65536 (or LimitNOFILE=65536 in the unit)",
                   "%lld (%s)", nofile, path);
}

void doctor_check_memory(struct doctor *d)
{
    check_hugepages(d);
    check_hugetlbfs(d);
    check_thp(d);
    check_limits(d);
}
