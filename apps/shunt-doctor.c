/*
 * shunt-doctor - check this machine (and a running instance) against what
 * a Shunt instance needs for low latency: for each finding ok, warn or
 * fail, what was measured, why it matters, and the command that fixes it.
 *
 *     shunt-doctor [-c FILE] [-p PREFIX | -P PID] [--root DIR] [--json]
 *
 * The checks are in apps/doctor/ (doctor.h lists them), one file per area.
 */
#include <stdio.h>
#include <string.h>

#include "doctor.h"
#include "opts.h"

const char app_name[] = "shunt-doctor";

struct options {
    const char *config;         /* -c */
    const char *prefix;         /* -p */
    unsigned long pid;          /* -P */
    const char *root;           /* --root */
    double interval;            /* -i */
    bool json;
};

#define AT(field) OPT_AT(struct options, field)

static const struct opt table[] = {
    { 'c', "config", OPT_STRING, "FILE", AT(config),
      .help = "the instance's config file: its EAL cores and ports are checked" },
    { 'p', NULL, OPT_STRING, "PREFIX", AT(prefix),
      .help = "check the running instance of this --file-prefix too" },
    { 'P', NULL, OPT_UINT, "PID", AT(pid), .min = 1, .max = INT32_MAX,
      .help = "check the running instance of this pid too" },
    { 0, "root", OPT_STRING, "DIR", AT(root),
      .help = "read /proc, /sys (and /proc/mounts) under DIR, not / (for tests)" },
    { 'i', NULL, OPT_REAL, "SECONDS", AT(interval), .real_min = 0.01, .real_max = 60,
      .help = "between the instance's two snapshots (0.5)" },
    { 0, "json", OPT_SET, NULL, AT(json), .help = "the report as one JSON document" },
    { 'h', "help", OPT_HELP, .help = "this help" },
};

static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-doctor [-c FILE] [-p PREFIX | -P PID] [--root DIR] [--json]\n"
    "Checks hugepages, the EAL cores (isolation, governor, C-states, SMT, IRQs),\n"
    "the ports (NUMA, driver, IOMMU, AF_XDP), limits, transparent hugepages and the\n"
    "config file; with an instance, its core, pool, loop, drops and sockets.\n"
    "What it cannot read (not root) is reported, not failed.\n"
    "Exit status: 0 when no check fails (warnings allowed), 1 when one fails,\n"
    "2 for a bad command line.\n",
    20, 0, NULL,
};

int main(int argc, char **argv)
{
    struct options o = { .interval = 0.5, .root = "" };
    static struct doctor d;
    unsigned gave = 0;

    if (opts_parse(&spec, argc, argv, &o, &gave) < 0)
        return 2;
    d.root = strcmp(o.root, "/") == 0 ? "" : o.root;
    d.config_path = o.config;
    d.interval = o.interval;

    doctor_check_config(&d);
    /* An instance named is one that must run; the config's own prefix is
     * looked for quietly. */
    if (o.prefix != NULL || o.pid != 0)
        doctor_attach(&d, o.prefix, o.pid, false);
    else if (d.has_eal && d.prefix[0] != '\0')
        doctor_attach(&d, d.prefix, 0, true);
    doctor_check_memory(&d);
    doctor_check_cpu(&d);
    doctor_check_port(&d);
    doctor_check_instance(&d);

    doctor_print(&d, o.json);
    return doctor_worst(&d) == DOCTOR_FAIL ? 1 : 0;
}
