/*
 * cpu.c - the EAL's cores: isolated from the scheduler, the tick and RCU
 * callbacks; their frequency governor and idle states; their SMT siblings;
 * and the interrupts that may land on them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "read.h"

#define BOOT_FIX(param) "add " param "=CORES to GRUB_CMDLINE_LINUX in /etc/default/grub, " \
                        "update-grub, reboot"

/* The cores as a list, for messages. */
static void cores_text(const struct doctor *d, char *out, size_t len)
{
    rd_format_cpulist(d->cores, DOCTOR_CPUS, out, len);
}

/* Which of the cores set lacks: as a list into out; how many. */
static int missing(const struct doctor *d, const bool *set, char *out, size_t len)
{
    bool miss[DOCTOR_CPUS];
    int n = 0;

    for (int c = 0; c < DOCTOR_CPUS; c++)
        n += miss[c] = d->cores[c] && !set[c];
    rd_format_cpulist(miss, DOCTOR_CPUS, out, len);
    return n;
}

/* One kernel CPU set (from a sysfs file, or a boot parameter) against the
 * cores. */
static void check_set(struct doctor *d, const char *name, const char *what, const char *text,
                      const char *why, const char *fix)
{
    bool set[DOCTOR_CPUS];
    char cores[128], miss[128];

    if (rd_cpulist(strcmp(text, "(null)") == 0 ? "" : text, set, DOCTOR_CPUS) != 0) {
        doctor_add(d, name, DOCTOR_WARN, why, fix, "%s is '%s', not a CPU list", what, text);
        return;
    }
    cores_text(d, cores, sizeof(cores));
    if (missing(d, set, miss, sizeof(miss)) > 0)
        doctor_add(d, name, DOCTOR_WARN, why, fix, "cores %s; %s: '%s' (not %s)", cores, what,
                   text, miss);
    else
        doctor_add(d, name, DOCTOR_OK, why, NULL, "cores %s; %s: %s", cores, what, text);
}

static void check_isolation(struct doctor *d)
{
    static const char why_iso[] = "on a core the scheduler may use, other tasks preempt the "
                                  "poll loop: tens of microseconds each time";
    static const char why_nohz[] = "without nohz_full the scheduler tick interrupts the loop "
                                   "up to 1000 times a second";
    static const char why_rcu[] = "without rcu_nocbs, RCU callbacks run on the loop's core in "
                                  "softirq context";
    char text[256];

    if (rd_text(d->root, "/sys/devices/system/cpu/isolated", text, sizeof(text)) == 0)
        check_set(d, "cpus.isolated", "isolated", text, why_iso, BOOT_FIX("isolcpus"));
    else
        doctor_unreadable(d, "cpus.isolated", why_iso, "/sys/devices/system/cpu/isolated");
    if (rd_text(d->root, "/sys/devices/system/cpu/nohz_full", text, sizeof(text)) == 0)
        check_set(d, "cpus.nohz_full", "nohz_full", text, why_nohz, BOOT_FIX("nohz_full"));
    else if (errno == ENOENT)           /* a kernel without NO_HZ_FULL */
        doctor_add(d, "cpus.nohz_full", DOCTOR_WARN, why_nohz,
                   "a kernel built with CONFIG_NO_HZ_FULL", "this kernel has no nohz_full");
    else
        doctor_unreadable(d, "cpus.nohz_full", why_nohz, "/sys/devices/system/cpu/nohz_full");
    if (rd_cmdline_param(d->root, "rcu_nocbs", text, sizeof(text)) == 0)
        check_set(d, "cpus.rcu_nocbs", "rcu_nocbs", text, why_rcu, BOOT_FIX("rcu_nocbs"));
    else if (errno == ENOENT)
        check_set(d, "cpus.rcu_nocbs", "rcu_nocbs", "", why_rcu, BOOT_FIX("rcu_nocbs"));
    else
        doctor_unreadable(d, "cpus.rcu_nocbs", why_rcu, "/proc/cmdline");
}

static void check_governor(struct doctor *d, int c)
{
    static const char why[] = "a governor other than performance lowers the clock while the "
                              "loop waits, and the first packet after a pause pays for the ramp";
    char path[96], name[32], gov[64], fix[256];

    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", c);
    snprintf(name, sizeof(name), "cpu%d.governor", c);
    if (rd_text(d->root, path, gov, sizeof(gov)) != 0) {
        if (errno == ENOENT)
            doctor_add(d, name, DOCTOR_OK, why, NULL,
                       "no cpufreq (a fixed clock, or a VM whose host sets it)");
        else
            doctor_unreadable(d, name, why, path);
        return;
    }
    snprintf(fix, sizeof(fix), "echo performance > %s (or cpupower -c %d frequency-set -g "
             "performance)", path, c);
    doctor_add(d, name, strcmp(gov, "performance") == 0 ? DOCTOR_OK : DOCTOR_WARN, why, fix,
               "%s", gov);
}

/* Idle states deeper than this many microseconds of exit latency cost the
 * first packet after a pause. */
#define CSTATE_LATENCY_US 10

static void check_cstates(struct doctor *d, int c)
{
    static const char why[] = "an idle core in a deep C-state takes tens to hundreds of "
                              "microseconds to wake: a loop that sleeps pays it per wake-up";
    char dir[96], path[200], name[32], deep[256] = "", all[256] = "", fix[200];
    size_t ld = 0, la = 0;

    snprintf(dir, sizeof(dir), "/sys/devices/system/cpu/cpu%d/cpuidle", c);
    snprintf(name, sizeof(name), "cpu%d.cstates", c);
    DIR *states = rd_opendir(d->root, dir);
    if (states == NULL) {
        if (errno == ENOENT)
            doctor_add(d, name, DOCTOR_OK, why, NULL, "no cpuidle states");
        else
            doctor_unreadable(d, name, why, dir);
        return;
    }
    for (struct dirent *e; (e = readdir(states)) != NULL;) {
        char sname[32];
        long latency, disabled = 0;
        if (strncmp(e->d_name, "state", 5) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%.32s/name", dir, e->d_name);
        if (rd_text(d->root, path, sname, sizeof(sname)) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%.32s/latency", dir, e->d_name);
        if (rd_long(d->root, path, &latency) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%.32s/disable", dir, e->d_name);
        rd_long(d->root, path, &disabled);
        la += (size_t)snprintf(all + la, sizeof(all) > la ? sizeof(all) - la : 0, "%s%s %ldus%s",
                               la ? ", " : "", sname, latency, disabled ? " (off)" : "");
        if (!disabled && latency > CSTATE_LATENCY_US)
            ld += (size_t)snprintf(deep + ld, sizeof(deep) > ld ? sizeof(deep) - ld : 0,
                                   "%s%s", ld ? ", " : "", sname);
    }
    closedir(states);
    snprintf(fix, sizeof(fix), "cpupower -c %d idle-set -D %d (or echo 1 > %s/stateN/disable)",
             c, CSTATE_LATENCY_US, dir);
    if (ld > 0)
        doctor_add(d, name, DOCTOR_WARN, why, fix, "%s; deeper than %d us and on: %s", all,
                   CSTATE_LATENCY_US, deep);
    else
        doctor_add(d, name, DOCTOR_OK, why, NULL, "%s", la ? all : "none");
}

static void check_smt(struct doctor *d, int c, const bool *isolated)
{
    static const char why[] = "a hyperthread sibling shares the core's caches and pipelines: "
                              "whatever runs there slows the loop";
    char path[96], name[32], text[64], fix[160];
    bool sib[DOCTOR_CPUS];

    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", c);
    snprintf(name, sizeof(name), "cpu%d.smt", c);
    if (rd_text(d->root, path, text, sizeof(text)) != 0 || rd_cpulist(text, sib, DOCTOR_CPUS) != 0) {
        doctor_unreadable(d, name, why, path);
        return;
    }
    for (int s = 0; s < DOCTOR_CPUS; s++) {
        if (!sib[s] || s == c)
            continue;
        snprintf(fix, sizeof(fix), "echo 0 > /sys/devices/system/cpu/cpu%d/online (or add it "
                 "to isolcpus and run nothing there)", s);
        if (d->cores[s]) {
            doctor_add(d, name, DOCTOR_WARN, why, fix,
                       "sibling cpu%d is an EAL core too: two loops share one core", s);
            return;
        }
        if (!isolated[s]) {
            doctor_add(d, name, DOCTOR_WARN, why, fix,
                       "sibling cpu%d is online and not isolated: the kernel runs tasks there", s);
            return;
        }
    }
    doctor_add(d, name, DOCTOR_OK, why, NULL, "siblings %s: none other in use", text);
}

/* ---- interrupts ---------------------------------------------------------------- */

/* The name /proc/interrupts gives irq (its last column), into out. */
static void irq_name(const char *interrupts, long irq, char *out, size_t len)
{
    snprintf(out, len, "?");
    for (const char *p = interrupts; (p = strchr(p, '\n')) != NULL; p++) {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (n != irq || *end != ':')
            continue;
        const char *eol = strchr(end, '\n');
        size_t l = eol ? (size_t)(eol - end) : strlen(end);
        while (l > 0 && end[l - 1] == ' ')
            l--;
        const char *last = end + l;
        while (last > end && last[-1] != ' ')
            last--;
        snprintf(out, len, "%.*s", (int)(end + l - last), last);
        return;
    }
}

/* Whether irq belongs to the port: listed in one of its msi_irqs dirs. */
static bool port_irq(const struct doctor *d, long irq)
{
    char path[160];

    for (int i = 0; i < d->npci; i++) {
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs/%ld", d->pci[i], irq);
        if (rd_exists(d->root, path))
            return true;
    }
    for (int i = 0; i < d->niface; i++) {
        snprintf(path, sizeof(path), "/sys/class/net/%s/device/msi_irqs/%ld", d->iface[i], irq);
        if (rd_exists(d->root, path))
            return true;
    }
    return false;
}

static void check_irqs(struct doctor *d)
{
    static const char why_kernel[] = "an interrupt on the loop's core stops it for the handler "
                                     "and the softirq after it: kernel NICs' above all";
    static const char why_port[] = "the port's own interrupts (AF_XDP's wake-ups, the kernel "
                                   "driver's NAPI) on the loop's core take turns from it";
    static char interrupts[1 << 16];
    char kernel[400] = "", port[400] = "", cores[128], fix[300];
    size_t lk = 0, lp = 0;
    int nk = 0, np = 0;

    if (rd_text(d->root, "/proc/interrupts", interrupts, sizeof(interrupts)) != 0)
        interrupts[0] = '\0';
    DIR *dir = rd_opendir(d->root, "/proc/irq");
    if (dir == NULL) {
        doctor_unreadable(d, "irq.kernel", why_kernel, "/proc/irq");
        return;
    }
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char path[96], text[256], name[64];
        bool set[DOCTOR_CPUS];
        char *end;
        long irq = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0')
            continue;
        snprintf(path, sizeof(path), "/proc/irq/%ld/effective_affinity_list", irq);
        if (rd_text(d->root, path, text, sizeof(text)) != 0 || text[0] == '\0') {
            snprintf(path, sizeof(path), "/proc/irq/%ld/smp_affinity_list", irq);
            if (rd_text(d->root, path, text, sizeof(text)) != 0)
                continue;
        }
        if (rd_cpulist(text, set, DOCTOR_CPUS) != 0)
            continue;
        bool on = false;
        for (int c = 0; c < DOCTOR_CPUS && !on; c++)
            on = set[c] && d->cores[c];
        if (!on)
            continue;
        irq_name(interrupts, irq, name, sizeof(name));
        bool mine = port_irq(d, irq);
        char *list = mine ? port : kernel;
        size_t *l = mine ? &lp : &lk;
        if (*l < sizeof(kernel) - 64)
            *l += (size_t)snprintf(list + *l, sizeof(kernel) - *l, "%s%ld %s (cpus %s)",
                                   *l ? ", " : "", irq, name, text);
        ++*(mine ? &np : &nk);
    }
    closedir(dir);
    cores_text(d, cores, sizeof(cores));
    snprintf(fix, sizeof(fix), "echo OTHER-CPUS > /proc/irq/N/smp_affinity_list for each; "
             "with irqbalance, IRQBALANCE_BANNED_CPULIST=%s in /etc/default/irqbalance", cores);
    if (nk > 0)
        doctor_add(d, "irq.kernel", DOCTOR_WARN, why_kernel, fix, "%d may land on cores %s: %s",
                   nk, cores, kernel);
    else
        doctor_add(d, "irq.kernel", DOCTOR_OK, why_kernel, NULL, "none may land on cores %s",
                   cores);
    if (d->npci + d->niface == 0)
        return;
    if (np > 0)
        doctor_add(d, "irq.port", DOCTOR_WARN, why_port, fix, "%d of the port's land on cores "
                   "%s: %s", np, cores, port);
    else
        doctor_add(d, "irq.port", DOCTOR_OK, why_port, NULL, "none of the port's land on cores %s",
                   cores);
}

void doctor_check_cpu(struct doctor *d)
{
    static const char why[] = "the poll loop's latency depends on its core being its own";
    char text[256];
    bool isolated[DOCTOR_CPUS];

    if (!d->has_eal) {
        doctor_add(d, "cpus", DOCTOR_SKIP, why, "shunt-doctor -c FILE, or -p PREFIX",
                   "no EAL cores known: no config file and no instance");
        return;
    }
    if (d->ncores == 0) {               /* no -l/-c/--lcores: the EAL takes every CPU */
        if (rd_text(d->root, "/sys/devices/system/cpu/online", text, sizeof(text)) == 0)
            rd_cpulist(text, d->cores, DOCTOR_CPUS);
        for (int c = 0; c < DOCTOR_CPUS; c++)
            d->ncores += d->cores[c];
        doctor_add(d, "cpus", DOCTOR_WARN, why, "add -l CORE to the eal line",
                   "the eal line names no cores: the EAL takes all of them (%s)", text);
    }
    check_isolation(d);
    if (rd_text(d->root, "/sys/devices/system/cpu/isolated", text, sizeof(text)) != 0 ||
        rd_cpulist(text, isolated, DOCTOR_CPUS) != 0)
        memset(isolated, 0, sizeof(isolated));
    for (int c = 0; c < DOCTOR_CPUS; c++) {
        if (!d->cores[c])
            continue;
        check_governor(d, c);
        check_cstates(d, c);
        check_smt(d, c, isolated);
    }
    check_irqs(d);
}
