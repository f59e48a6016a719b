/*
 * doctor.c - the report (findings, printed as text or JSON), the EAL
 * arguments read the way the EAL reads them, and the config file checked
 * by the stack's own parser.
 */
#include "doctor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

static const char *const level_names[] = { "ok", "warn", "fail", "skip" };

const char *doctor_level_name(enum doctor_level l)
{
    return level_names[l];
}

void doctor_add(struct doctor *d, const char *name, enum doctor_level level, const char *why,
                const char *fix, const char *measured, ...)
{
    if (d->nfindings == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        struct doctor_finding *f = realloc(d->findings, cap * sizeof(*f));
        if (f == NULL)
            return;                     /* the report goes short, not wrong */
        d->findings = f;
        d->cap = cap;
    }
    struct doctor_finding *f = &d->findings[d->nfindings++];
    va_list ap;

    snprintf(f->name, sizeof(f->name), "%s", name);
    f->level = level;
    f->why = why;
    snprintf(f->fix, sizeof(f->fix), "%s", level == DOCTOR_OK || fix == NULL ? "" : fix);
    va_start(ap, measured);
    vsnprintf(f->measured, sizeof(f->measured), measured, ap);
    va_end(ap);
}

void doctor_unreadable(struct doctor *d, const char *name, const char *why, const char *path)
{
    int e = errno;

    doctor_add(d, name, DOCTOR_SKIP, why, e == EACCES ? "run shunt-doctor as root" : NULL,
               "could not read %s%s: %s", d->root, path, strerror(e));
}

void doctor_mount(struct doctor *d, const char *name, const char *fstype,
                  enum doctor_level missing, const char *why, const char *fix)
{
    char dir[512];

    if (rd_mount_of(d->root, fstype, dir, sizeof(dir)) == 0)
        doctor_add(d, name, DOCTOR_OK, why, NULL, "mounted at %s", dir);
    else if (errno != ENOENT)
        doctor_unreadable(d, name, why, "/proc/mounts");
    else
        doctor_add(d, name, missing, why, fix, "not mounted");
}

enum doctor_level doctor_worst(const struct doctor *d)
{
    enum doctor_level worst = DOCTOR_OK;

    for (size_t i = 0; i < d->nfindings; i++)
        if (d->findings[i].level != DOCTOR_SKIP && d->findings[i].level > worst)
            worst = d->findings[i].level;
    return worst;
}

/* ---- the report --------------------------------------------------------------- */

static void print_text(const struct doctor *d)
{
    unsigned count[4] = { 0 };

    for (size_t i = 0; i < d->nfindings; i++) {
        const struct doctor_finding *f = &d->findings[i];
        count[f->level]++;
        printf("%-5s %-24s %s\n", level_names[f->level], f->name, f->measured);
        if (f->level == DOCTOR_OK)
            continue;
        printf("      why: %s\n", f->why);
        if (f->fix[0] != '\0')
            printf("      fix: %s\n", f->fix);
    }
    printf("%u ok, %u warn, %u fail, %u not checked\n", count[DOCTOR_OK], count[DOCTOR_WARN],
           count[DOCTOR_FAIL], count[DOCTOR_SKIP]);
}

static void print_json(const struct doctor *d)
{
    json_t *list = json_array();

    for (size_t i = 0; i < d->nfindings; i++) {
        const struct doctor_finding *f = &d->findings[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", f->name,
                                              "level", level_names[f->level], "measured",
                                              f->measured, "why", f->why, "fix", f->fix));
    }
    json_t *doc = json_pack("{s:s, s:s?, s:s?, s:I, s:s, s:o}", "root",
                            d->root[0] ? d->root : "/", "config", d->config_path,
                            "instance", d->attached ? d->instance.prefix : NULL,
                            "pid", (json_int_t)(d->attached ? d->instance.pid : 0),
                            "worst", level_names[doctor_worst(d)], "findings", list);
    json_dumpf(doc, stdout, JSON_INDENT(1));
    putchar('\n');
    json_decref(doc);
}

void doctor_print(const struct doctor *d, bool json)
{
    if (json)
        print_json(d);
    else
        print_text(d);
}

/* ---- the EAL arguments ------------------------------------------------------------ */

/* A -c hex mask into the core set. */
static void core_mask(struct doctor *d, const char *mask)
{
    if (strncmp(mask, "0x", 2) == 0 || strncmp(mask, "0X", 2) == 0)
        mask += 2;
    size_t n = strlen(mask);
    for (size_t i = 0; i < n; i++) {
        char c = mask[n - 1 - i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
        for (int b = 0; b < 4; b++)
            if (v & (1 << b) && 4 * i + (size_t)b < DOCTOR_CPUS)
                d->cores[4 * i + (size_t)b] = true;
    }
}

/* A CPU list, parentheses dropped, added to the core set. */
static void add_cpus(struct doctor *d, const char *list, size_t len)
{
    char buf[256];
    bool set[DOCTOR_CPUS];
    size_t n = 0;

    for (size_t i = 0; i < len && n < sizeof(buf) - 1; i++)
        if (list[i] != '(' && list[i] != ')')
            buf[n++] = list[i];
    buf[n] = '\0';
    if (rd_cpulist(buf, set, DOCTOR_CPUS) == 0)
        for (int c = 0; c < DOCTOR_CPUS; c++)
            d->cores[c] |= set[c];
}

/* -l and --lcores: "1,2", "1-3", "(1,2)@3", "1@(3-4)": each element's CPUs
 * are after its '@' where it has one, else its lcore numbers. */
static void core_lcores(struct doctor *d, const char *spec)
{
    const char *p = spec;

    while (*p != '\0') {
        const char *end = p;
        int depth = 0;
        while (*end != '\0' && (*end != ',' || depth > 0))
            depth += *end == '(' ? 1 : *end == ')' ? -1 : 0, end++;
        const char *at = memchr(p, '@', (size_t)(end - p));
        if (at != NULL)
            add_cpus(d, at + 1, (size_t)(end - at - 1));
        else
            add_cpus(d, p, (size_t)(end - p));
        p = *end == ',' ? end + 1 : end;
    }
}

/* A --vdev: the interface of an AF_XDP or AF_PACKET port. */
static void vdev(struct doctor *d, const char *spec)
{
    const char *pmd = strncmp(spec, "net_af_xdp", 10) == 0      ? "af_xdp"
                      : strncmp(spec, "net_af_packet", 13) == 0 ? "af_packet" : NULL;
    const char *iface = strstr(spec, "iface=");

    if (pmd == NULL || iface == NULL || d->niface == DOCTOR_PORTS)
        return;
    iface += 6;
    snprintf(d->iface[d->niface], sizeof(d->iface[0]), "%.*s", (int)strcspn(iface, ","), iface);
    snprintf(d->iface_pmd[d->niface], sizeof(d->iface_pmd[0]), "%s", pmd);
    d->niface++;
}

/* The value of option opt at argv[*i]: "-lX", "-l X", "--opt=X", "--opt X". */
static const char *value_of(char **argv, int argc, int *i, const char *shortopt,
                            const char *longopt)
{
    const char *a = argv[*i];
    size_t sl = shortopt ? strlen(shortopt) : 0, ll = longopt ? strlen(longopt) : 0;

    if (longopt != NULL && strncmp(a, longopt, ll) == 0) {
        if (a[ll] == '=')
            return a + ll + 1;
        if (a[ll] == '\0')
            return *i + 1 < argc ? argv[++*i] : NULL;
    }
    if (shortopt != NULL && strncmp(a, shortopt, sl) == 0) {
        if (a[sl] != '\0')
            return a + sl;
        return *i + 1 < argc ? argv[++*i] : NULL;
    }
    return NULL;
}

void doctor_parse_eal(struct doctor *d, const char *eal)
{
    char buf[sizeof(d->config.eal)], *argv[128];
    int argc = 0;

    snprintf(buf, sizeof(buf), "%s", eal);
    for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w != NULL && argc < 128;
         w = strtok_r(NULL, " \t", &save))
        argv[argc++] = w;
    d->has_eal = true;
    for (int i = 0; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--no-huge") == 0)
            d->no_huge = true;
        else if (strcmp(argv[i], "--in-memory") == 0)
            d->in_memory = true;
        else if ((v = value_of(argv, argc, &i, NULL, "--file-prefix")) != NULL)
            snprintf(d->prefix, sizeof(d->prefix), "%s", v);
        else if ((v = value_of(argv, argc, &i, NULL, "--lcores")) != NULL)
            core_lcores(d, v);
        else if ((v = value_of(argv, argc, &i, NULL, "--vdev")) != NULL)
            vdev(d, v);
        else if (((v = value_of(argv, argc, &i, "-a", "--allow")) != NULL ||
                  (v = value_of(argv, argc, &i, "-w", NULL)) != NULL) && d->npci < DOCTOR_PORTS)
            snprintf(d->pci[d->npci++], sizeof(d->pci[0]), "%.*s", (int)strcspn(v, ","), v);
        else if ((v = value_of(argv, argc, &i, "-l", NULL)) != NULL)
            core_lcores(d, v);
        else if ((v = value_of(argv, argc, &i, "-c", NULL)) != NULL)
            core_mask(d, v);
    }
    d->ncores = 0;
    for (int c = 0; c < DOCTOR_CPUS; c++)
        d->ncores += d->cores[c];
}

/* ---- the configuration file ------------------------------------------------------------ */

void doctor_check_config(struct doctor *d)
{
    static const char why[] = "the instance reads this file at start: an error there stops it";
    char err[512];

    if (d->config_path == NULL) {
        doctor_add(d, "config", DOCTOR_SKIP, why, "shunt-doctor -c FILE",
                   "no config file given: the EAL cores and ports come from the instance, if any");
        return;
    }
    if (shunt_config_load(&d->config, d->config_path, err, sizeof(err)) != 0) {
        doctor_add(d, "config", DOCTOR_FAIL, why, "correct the file as the message says",
                   "%s", err);
        return;
    }
    d->has_config = true;
    doctor_parse_eal(d, d->config.eal);
    doctor_add(d, "config", DOCTOR_OK, why, NULL, "%s parses: eal = %s", d->config_path,
               d->config.eal);
}
