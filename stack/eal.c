/*
 * eal.c - start the EAL from the configuration's `eal` line.
 */
#define _GNU_SOURCE                     /* rte_cpuset_t */
#include "eal.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>

#include "kernelif.h"
#include "log.h"

#define MAX_EAL_ARGS 64

/* The EAL may keep pointers into argv, so the words live as long as we do. */
static char eal_words[sizeof(((struct shunt_config *)0)->eal)];
static char *eal_argv[MAX_EAL_ARGS + 5];   /* and Shunt's own words, and NULL */
static char kernel_vdev[128];

static bool has_arg(int argc, char **argv, const char *prefix)
{
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

/* Free hugepages of every size, as the kernel counts them. */
static unsigned long free_hugepages(void)
{
    unsigned long total = 0;
    glob_t g;

    if (glob("/sys/kernel/mm/hugepages/hugepages-*/free_hugepages", 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        unsigned long n = 0;
        if (f != NULL) {
            if (fscanf(f, "%lu", &n) == 1)
                total += n;
            fclose(f);
        }
    }
    globfree(&g);
    return total;
}

static bool hugetlbfs_mounted(void)
{
    FILE *f = fopen("/proc/mounts", "r");
    char line[512];
    bool found = false;

    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, " hugetlbfs ") != NULL;
    fclose(f);
    return found;
}

/* What the EAL needs from the machine; false after saying what is missing. */
static bool machine_ready(int argc, char **argv)
{
    if (has_arg(argc, argv, "--no-huge"))
        return true;
    if (free_hugepages() == 0) {
        SHUNT_LOG(ERR, "no free hugepages: run scripts/setup, or "
                  "echo 512 > /proc/sys/vm/nr_hugepages (or add --no-huge to the eal line)");
        errno = ENOMEM;
        return false;
    }
    if (!has_arg(argc, argv, "--in-memory") && !has_arg(argc, argv, "--huge-dir") &&
        !hugetlbfs_mounted()) {
        SHUNT_LOG(ERR, "hugetlbfs is not mounted: run scripts/setup, or "
                  "mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages");
        errno = ENOENT;
        return false;
    }
    return true;
}

/* Split the eal line at white space into argv, after a program name. */
static int split_words(const char *line, char *words, char **argv)
{
    int argc = 0;

    strcpy(words, line);
    argv[argc++] = "shunt";
    for (char *w = strtok(words, " \t"); w != NULL; w = strtok(NULL, " \t")) {
        if (argc == MAX_EAL_ARGS)
            return -1;
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    return argc;
}

/* The --vdev arguments of the eal line, "--vdev=a, --vdev=b", into out;
 * returns how many there are. */
static int vdevs(int argc, char **argv, char *out, size_t len)
{
    size_t used = 0;
    int n = 0;

    out[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *v = strncmp(argv[i], "--vdev=", 7) == 0 ? argv[i] + 7 :
                        strcmp(argv[i], "--vdev") == 0 && i + 1 < argc ? argv[++i] : NULL;
        if (v != NULL && used < len) {
            used += (size_t)snprintf(out + used, len - used, "%s--vdev=%s",
                                     used ? ", " : "", v);
            n++;
        }
    }
    return n;
}

bool shunt_eal_iface(const char *eal, const char *driver, char *iface, size_t len)
{
    const char *vdev = strstr(eal, "--vdev");
    if (vdev == NULL)
        return false;
    vdev += strlen("--vdev") + strspn(vdev + strlen("--vdev"), "= \t");
    if (driver != NULL && strncmp(vdev, driver, strlen(driver)) != 0)
        return shunt_eal_iface(vdev, driver, iface, len);
    const char *end = vdev + strcspn(vdev, " \t");
    const char *arg = strstr(vdev, "iface=");
    if (arg == NULL || arg > end)
        return false;
    arg += strlen("iface=");
    size_t n = strcspn(arg, ", \t");
    if (n == 0 || n >= len)
        return false;
    memcpy(iface, arg, n);
    iface[n] = '\0';
    return true;
}

/* The file a shared group's primary keeps in its run directory while its
 * port is up: its secondaries wait for it. */
#define PORT_UP_FILE "shunt_port_up"
#define PRIMARY_WAIT_S 30
/* The file a secondary holds a lock on while it runs. */
#define ALIVE_FILE "alive"

/* A prefix's run directory, as the EAL makes it (before the EAL is up). */
static void run_dir(const char *prefix, char *dir, size_t len)
{
    const char *base = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
    snprintf(dir, len, "%s/dpdk/%s", base != NULL ? base : "/tmp", prefix);
}

/*
 * A secondary attaches to what its primary has made: the port's queues
 * are set up once the primary has started it (net_tap hands a secondary
 * its queues' descriptors as the secondary's EAL starts).  So wait until
 * the primary is alive (it holds its config file's lock) and says its
 * port is up.
 */
static int wait_for_primary(const struct shunt_config *c)
{
    char dir[PATH_MAX], config[PATH_MAX + 16], up[PATH_MAX + 32];

    run_dir(c->prefix, dir, sizeof(dir));
    snprintf(config, sizeof(config), "%s/config", dir);
    snprintf(up, sizeof(up), "%s/" PORT_UP_FILE, dir);
    for (unsigned i = 0; i < PRIMARY_WAIT_S * 10; i++) {
        if (access(up, F_OK) == 0 && rte_eal_primary_proc_alive(config))
            return 0;
        if (i == 0)
            SHUNT_LOG(INFO, "instance %u waits for instance 0, the port's primary (%s)",
                      c->instance, dir);
        usleep(100 * 1000);
    }
    SHUNT_LOG(ERR, "instance %u is a secondary of instance 0, which has not brought the port "
              "up in %d s (%s): start the group, or instance 0 first", c->instance,
              PRIMARY_WAIT_S, dir);
    errno = ETIMEDOUT;
    return -1;
}

void shunt_eal_port_up(const struct shunt_config *c, bool up)
{
    char path[PATH_MAX];

    if (!c->shared || c->instance != 0)
        return;
    snprintf(path, sizeof(path), "%s/" PORT_UP_FILE, rte_eal_get_runtime_dir());
    if (!up) {
        unlink(path);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

/* DPDK 22.11 starts telemetry in primaries only; the function its EAL
 * calls is internal (telemetry_internal.h, not installed). */
int rte_telemetry_init(const char *runtime_dir, const char *rte_version, rte_cpuset_t *cpuset,
                       int (*log_fn)(uint32_t level, uint32_t logtype, const char *format, ...),
                       uint32_t registered_logtype);

int shunt_eal_shared_join(const struct shunt_config *c)
{
    char dir[PATH_MAX], own[PATH_MAX + 16];

    if (!c->shared)
        return 0;
    snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
    snprintf(own, sizeof(own), "%s-%u", dir, c->instance);
    if (c->instance == 0) {
        /* The primary answers in its own run directory; PREFIX-0 names it. */
        unlink(own);
        return symlink(basename(dir), own);
    }
    rte_cpuset_t cpus;
    char alive[PATH_MAX + 32];
    if (mkdir(own, 0700) != 0 && errno != EEXIST)
        return -1;
    /* Held shared until the process is gone, however it ends: the primary
     * waits for it before it frees the memory this one uses. */
    snprintf(alive, sizeof(alive), "%s/" ALIVE_FILE, own);
    int fd = open(alive, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        flock(fd, LOCK_SH);
    rte_thread_get_affinity(&cpus);
    return rte_telemetry_init(own, rte_version(), &cpus, rte_log, shunt_logtype);
}

void shunt_eal_shared_leave(const struct shunt_config *c)
{
    char own[PATH_MAX + 16];

    if (!c->shared)
        return;
    snprintf(own, sizeof(own), "%s-%u", rte_eal_get_runtime_dir(), c->instance);
    if (c->instance == 0)
        unlink(own);
}

unsigned shunt_eal_secondaries_alive(const struct shunt_config *c)
{
    char path[PATH_MAX + 48];
    unsigned alive = 0;

    for (uint32_t i = 1; c->shared && c->instance == 0 && i < c->instances; i++) {
        snprintf(path, sizeof(path), "%s-%u/" ALIVE_FILE, rte_eal_get_runtime_dir(), i);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0)
            alive++;
        close(fd);
    }
    return alive;
}

int shunt_eal_init(const struct shunt_config *c)
{
    int argc = split_words(c->eal, eal_words, eal_argv);
    if (argc < 0) {
        SHUNT_LOG(ERR, "%s: the eal line has more than %d words", c->source, MAX_EAL_ARGS);
        errno = E2BIG;
        return -1;
    }
    /* The exception path's tap is Shunt's to add: the eal line is the user's. */
    if (c->exception) {
        shunt_kernelif_vdev(c, kernel_vdev, sizeof(kernel_vdev));
        eal_argv[argc++] = kernel_vdev;
        eal_argv[argc] = NULL;
    }
    if (!has_arg(argc, eal_argv, "--log-level")) {
        /* The EAL's start-up chatter is noise unless asked for; so are
         * net_tap's errors about the flow rules (a qdisc this kernel may
         * lack) that Shunt does not use. */
        eal_argv[argc++] = "--log-level=lib.eal:notice";
        if (c->exception)
            eal_argv[argc++] = "--log-level=pmd.net.tap:critical";
        eal_argv[argc] = NULL;
    }
#ifdef __SANITIZE_ADDRESS__
    /* DPDK maps its memory from 4 GiB up, which is AddressSanitizer's
     * shadow; refused there, it lands beside the shared libraries, where
     * a secondary process (dpdk-dumpcap, dpdk-proc-info), which must map
     * it at the same addresses, finds its own libraries now and then.
     * 32 TiB is free in both. */
    if (!has_arg(argc, eal_argv, "--base-virtaddr")) {
        eal_argv[argc++] = "--base-virtaddr=0x200000000000";
        eal_argv[argc] = NULL;
    }
#endif
    if (!machine_ready(argc, eal_argv))
        return -1;
    if (c->shared && c->instance > 0 && wait_for_primary(c) != 0)
        return -1;

    /* Named now: the EAL reorders its arguments as it parses them. */
    char named[256];
    int n = vdevs(argc, eal_argv, named, sizeof(named));
    if (rte_eal_init(argc, eal_argv) < 0) {
        int err = rte_errno;
        if (err == ENODEV && n > 0) {
            /* The EAL's own words ("failed to parse device") hide the cause. */
            SHUNT_LOG(ERR, "no DPDK driver takes %s%s (the eal line in %s): check the driver's "
                      "name, e.g. net_af_xdp0, net_af_packet0, net_memif0, net_tap0, net_ring0",
                      n > 1 ? "one of " : "", named, c->source);
            errno = ENODEV;
            return -1;
        }
        SHUNT_LOG(ERR, "the EAL did not start%s%s%s: fix the eal line in %s "
                  "(an unknown --vdev driver, a bad core list or option: see the EAL's "
                  "message above; two DPDK processes need different --file-prefix)",
                  err ? " (" : "", err ? rte_strerror(err) : "", err ? ")" : "", c->source);
        errno = err == EALREADY ? EALREADY : EINVAL;
        return -1;
    }
    return 0;
}

/* The group's run directory (.../PREFIX-i's parent) into dir. */
static const char *group_dir(char dir[PATH_MAX])
{
    snprintf(dir, PATH_MAX, "%s", rte_eal_get_runtime_dir());
    return dirname(dir);
}

int shunt_eal_group_lock(const struct shunt_config *c)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];

    snprintf(path, sizeof(path), "%s/%s.group-lock", group_dir(dir), c->prefix);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        flock(fd, LOCK_EX);
    return fd;
}

unsigned shunt_eal_group_leave(const struct shunt_config *c)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    const char *parent = group_dir(dir);
    unsigned alive = 0;

    shunt_eal_group_lock(c);            /* kept until the process is gone: see eal.h */
    for (uint32_t i = 0; i < c->instances; i++) {
        if (i == c->instance)
            continue;
        snprintf(path, sizeof(path), "%s/%s-%u/config", parent, c->prefix, i);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK)
            alive++;
        close(fd);
    }
    return alive;
}
