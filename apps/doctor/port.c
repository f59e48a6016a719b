/*
 * port.c - each port the EAL line names: its NUMA node against the cores',
 * a PCI port's driver binding and IOMMU, an AF_XDP port's kernel support
 * (version, bpffs, the driver's XDP mode, queues); and the DPDK Shunt was
 * built against, against the one it runs with.
 */
#define _GNU_SOURCE                     /* dladdr */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_version.h>

#include "doctor.h"
#include "read.h"

static const char why_numa[] = "a port on another NUMA node than its core moves every "
                               "packet across the interconnect: ~100 ns more each way";

/* The NUMA node of CPU c, or -1. */
static int node_of_cpu(const struct doctor *d, int c)
{
    char dir[64];
    int node = -1;

    snprintf(dir, sizeof(dir), "/sys/devices/system/cpu/cpu%d", c);
    DIR *cpu = rd_opendir(d->root, dir);
    if (cpu == NULL)
        return -1;
    for (struct dirent *e; node < 0 && (e = readdir(cpu)) != NULL;)
        if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9')
            node = atoi(e->d_name + 4);
    closedir(cpu);
    return node;
}

/* The port's node (from its device's numa_node file) against the cores'. */
static void check_numa(struct doctor *d, const char *port, const char *dev_dir)
{
    char path[200], name[64];
    long node;

    snprintf(name, sizeof(name), "%s.numa", port);
    snprintf(path, sizeof(path), "%s/numa_node", dev_dir);
    if (rd_long(d->root, path, &node) != 0 || node < 0) {
        doctor_add(d, name, DOCTOR_OK, why_numa, NULL, "no NUMA node (%s)",
                   errno == ENOENT ? "a virtual device" : "one node only");
        return;
    }
    for (int c = 0; c < DOCTOR_CPUS; c++) {
        int cn = d->cores[c] ? node_of_cpu(d, c) : -1;
        if (cn >= 0 && cn != node) {
            char fix[160];
            snprintf(fix, sizeof(fix), "pick EAL cores on node %ld (ls -d /sys/devices/system/"
                     "node/node%ld/cpu[0-9]*), or move the card", node, node);
            doctor_add(d, name, DOCTOR_WARN, why_numa, fix, "port on node %ld, cpu%d on node %d",
                       node, c, cn);
            return;
        }
    }
    doctor_add(d, name, DOCTOR_OK, why_numa, NULL, "node %ld, as its cores", node);
}

/* ---- PCI ports ------------------------------------------------------------------ */

static void check_iommu(struct doctor *d, const char *name, const char *driver)
{
    static const char why[] = "vfio-pci needs the IOMMU to map DMA safely; without it only "
                              "its unsafe no-IOMMU mode works";
    DIR *groups = rd_opendir(d->root, "/sys/kernel/iommu_groups");
    int n = 0;
    char mode[8] = "";

    for (struct dirent *e; groups != NULL && (e = readdir(groups)) != NULL;)
        n += e->d_name[0] != '.';
    if (groups != NULL)
        closedir(groups);
    rd_text(d->root, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", mode, sizeof(mode));
    if (n > 0)
        doctor_add(d, name, DOCTOR_OK, why, NULL, "%d IOMMU groups", n);
    else if (mode[0] == 'Y')
        doctor_add(d, name, DOCTOR_WARN, why, "add intel_iommu=on iommu=pt (or amd_iommu=on) "
                   "to the kernel command line", "no IOMMU: vfio in unsafe no-IOMMU mode");
    else
        doctor_add(d, name, strcmp(driver, "vfio-pci") == 0 ? DOCTOR_FAIL : DOCTOR_WARN, why,
                   "add intel_iommu=on iommu=pt to the kernel command line, or "
                   "echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
                   "no IOMMU groups, and vfio's no-IOMMU mode is off");
}

static void check_pci(struct doctor *d, const char *addr)
{
    static const char why[] = "a PCI port must be bound to a driver DPDK can use (vfio-pci), "
                              "or the EAL does not find it";
    char dir[96], path[128], name[64], driver[64], fix[160];

    snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", addr);
    snprintf(name, sizeof(name), "%s.driver", addr);
    snprintf(fix, sizeof(fix), "modprobe vfio-pci && dpdk-devbind.py --bind=vfio-pci %s", addr);
    if (!rd_exists(d->root, dir)) {
        doctor_add(d, name, DOCTOR_FAIL, why, "lspci -D: name a device that exists",
                   "no PCI device %s", addr);
        return;
    }
    snprintf(path, sizeof(path), "%s/driver", dir);
    if (rd_link_name(d->root, path, driver, sizeof(driver)) != 0)
        doctor_add(d, name, DOCTOR_FAIL, why, fix, "bound to no driver");
    else if (strcmp(driver, "vfio-pci") == 0 || strncmp(driver, "mlx", 3) == 0)
        doctor_add(d, name, DOCTOR_OK, why, NULL, "%s", driver);
    else if (strcmp(driver, "uio_pci_generic") == 0 || strcmp(driver, "igb_uio") == 0)
        doctor_add(d, name, DOCTOR_WARN, why, fix, "%s: works, without the IOMMU's protection",
                   driver);
    else
        doctor_add(d, name, DOCTOR_FAIL, why, fix, "bound to the kernel's %s driver", driver);
    snprintf(name, sizeof(name), "%s.iommu", addr);
    check_iommu(d, name, driver);
    check_numa(d, addr, dir);
}

/* ---- AF_XDP and AF_PACKET ports ----------------------------------------------------- */

/* Drivers with XDP in the driver (zero or one copy); the others fall back to
 * generic XDP, on the skb, after the kernel's own allocation and copy. */
static const char *const native_xdp[] = {
    "veth", "virtio_net", "tun", "ixgbe", "ixgbevf", "i40e", "ice", "igb", "igc", "mlx5_core",
    "mlx4_en", "bnxt_en", "nfp", "qede", "ena", "sfc", "thunder", "mvneta", "mvpp2", "stmmac",
    "netdevsim", "dpaa2-eth", "enetc", "fec", "lan966x", "hv_netvsc", "xen-netfront", NULL,
};

/* The interface's driver: its device's driver link, or ethtool's answer. */
static int driver_of(const struct doctor *d, const char *iface, char *out, size_t len)
{
    char path[128];

    snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", iface);
    if (rd_link_name(d->root, path, out, len) == 0)
        return 0;
    if (d->root[0] != '\0')             /* a crafted tree has no ethtool to ask */
        return -1;
    struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
    ifr.ifr_data = (void *)&info;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rc = fd >= 0 ? ioctl(fd, SIOCETHTOOL, &ifr) : -1;
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        snprintf(out, len, "%s", info.driver);
    return rc;
}

static void check_kernel(struct doctor *d)
{
    static const char why[] = "AF_XDP needs Linux 4.18; 5.4 brings need_wakeup (no system "
                              "call per burst while traffic flows), 5.11 busy polling";
    char release[128];
    int major = 0, minor = 0;

    if (rd_text(d->root, "/proc/sys/kernel/osrelease", release, sizeof(release)) != 0) {
        doctor_unreadable(d, "af_xdp.kernel", why, "/proc/sys/kernel/osrelease");
        return;
    }
    sscanf(release, "%d.%d", &major, &minor);
    int v = major * 100 + minor;
    doctor_add(d, "af_xdp.kernel", v < 418 ? DOCTOR_FAIL : v < 504 ? DOCTOR_WARN : DOCTOR_OK, why,
               "a newer kernel (Debian 12's 6.1 has it all)", "Linux %s", release);
}

static void check_bpffs(struct doctor *d)
{
    static const char why[] = "libxdp pins its XDP dispatcher in bpffs; without it each AF_XDP "
                              "port loads its own program and cannot share the interface";
    doctor_mount(d, "af_xdp.bpffs", "bpf", DOCTOR_WARN, why, "mount -t bpf bpf /sys/fs/bpf");
}

static void check_xdp_mode(struct doctor *d, const char *iface)
{
    static const char why[] = "generic XDP runs after the kernel built an skb: a copy and an "
                              "allocation per packet that native XDP does not make";
    char name[64], driver[64];

    snprintf(name, sizeof(name), "%s.xdp", iface);
    if (driver_of(d, iface, driver, sizeof(driver)) != 0) {
        doctor_add(d, name, DOCTOR_SKIP, why, NULL, "the interface's driver is unknown");
        return;
    }
    for (int i = 0; native_xdp[i] != NULL; i++) {
        if (strcmp(driver, native_xdp[i]) == 0) {
            doctor_add(d, name, DOCTOR_OK, why, NULL, "driver %s: native XDP", driver);
            return;
        }
    }
    doctor_add(d, name, DOCTOR_WARN, why, "a NIC whose driver has native XDP (ice, i40e, "
               "mlx5_core, ...), or a PCI port with vfio-pci", "driver %s: generic XDP only",
               driver);
}

static void check_queues(struct doctor *d, const char *iface)
{
    static const char why[] = "each instance owns one RX queue of the port: the queue it "
                              "names must exist, and RSS spreads flows only over queues there are";
    char dir[96], name[64], fix[160];
    int n = 0;

    snprintf(dir, sizeof(dir), "/sys/class/net/%s/queues", iface);
    snprintf(name, sizeof(name), "%s.queues", iface);
    DIR *q = rd_opendir(d->root, dir);
    if (q == NULL) {
        doctor_unreadable(d, name, why, dir);
        return;
    }
    for (struct dirent *e; (e = readdir(q)) != NULL;)
        n += strncmp(e->d_name, "rx-", 3) == 0;
    closedir(q);
    unsigned want = d->has_config ? d->config.queue : 0;
    snprintf(fix, sizeof(fix), "ethtool -L %s combined %u", iface, want + 1);
    doctor_add(d, name, (unsigned)n <= want ? DOCTOR_FAIL : DOCTOR_OK, why, fix,
               "%d RX queues; the instance takes queue %u", n, want);
}

static void check_iface(struct doctor *d, int i)
{
    static const char why_exists[] = "the EAL opens the port on this interface";
    static const char why_packet[] = "AF_PACKET copies every frame and makes a system call per "
                                     "burst: AF_XDP or a PCI port costs less per packet";
    const char *iface = d->iface[i];
    char dir[96], name[64];

    snprintf(dir, sizeof(dir), "/sys/class/net/%s", iface);
    snprintf(name, sizeof(name), "%s.exists", iface);
    if (!rd_exists(d->root, dir)) {
        doctor_add(d, name, DOCTOR_FAIL, why_exists, "ip link show: name an interface that "
                   "exists", "no interface %s", iface);
        return;
    }
    if (strcmp(d->iface_pmd[i], "af_packet") == 0) {
        doctor_add(d, name, DOCTOR_WARN, why_packet, "--vdev=net_af_xdp0,iface=IFACE",
                   "%s through net_af_packet", iface);
    } else {
        doctor_add(d, name, DOCTOR_OK, why_exists, NULL, "%s through net_af_xdp", iface);
        check_xdp_mode(d, iface);
    }
    check_queues(d, iface);
    snprintf(dir, sizeof(dir), "/sys/class/net/%s/device", iface);
    check_numa(d, iface, dir);
}

/* ---- the DPDK ---------------------------------------------------------------------- */

static void check_dpdk(struct doctor *d)
{
    static const char why[] = "Shunt's binaries run against the DPDK ABI they were built "
                              "for: another major release does not load, or misbehaves";
    char built[32], abi[16] = "?";
    Dl_info info;

    snprintf(built, sizeof(built), "%d.%02d.%d", RTE_VER_YEAR, RTE_VER_MONTH, RTE_VER_MINOR);
    if (dladdr((void *)rte_version, &info) != 0 && info.dli_fname != NULL) {
        const char *so = strstr(info.dli_fname, ".so.");
        if (so != NULL)
            snprintf(abi, sizeof(abi), "%.*s", (int)strcspn(so + 4, "."), so + 4);
    }
    char want[16];
    snprintf(want, sizeof(want), "DPDK %d.%02d", RTE_VER_YEAR, RTE_VER_MONTH);
    doctor_add(d, "dpdk", strncmp(rte_version(), want, strlen(want)) == 0 ? DOCTOR_OK : DOCTOR_FAIL,
               why, "rebuild Shunt against the installed DPDK (scripts/build)",
               "built against %s, running %s (ABI %s, %s)", built, rte_version(), abi,
               info.dli_fname != NULL ? info.dli_fname : "?");
}

void doctor_check_port(struct doctor *d)
{
    check_dpdk(d);
    if (!d->has_eal)
        return;
    if (d->npci + d->niface == 0)
        doctor_add(d, "ports", DOCTOR_SKIP, why_numa, NULL,
                   "the eal line names no PCI address (-a) and no AF_XDP/AF_PACKET interface");
    for (int i = 0; i < d->npci; i++)
        check_pci(d, d->pci[i]);
    bool xdp = false;
    for (int i = 0; i < d->niface; i++) {
        check_iface(d, i);
        xdp |= strcmp(d->iface_pmd[i], "af_xdp") == 0;
    }
    if (xdp) {
        check_kernel(d);
        check_bpffs(d);
    }
}
