/*
 * sides.c - see sides.h.
 */
#define _GNU_SOURCE
#include "sides.h"

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cycles.h"

/* The core a process last ran on (/proc/PID/stat's 39th field), or -1. */
static int core_of(long pid)
{
    char path[64], line[1024];
    FILE *f;
    int core = -1;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    if (fgets(line, sizeof(line), f) != NULL) {
        /* After the command's closing parenthesis: fields 3 on. */
        char *p = strrchr(line, ')');
        int field = 2;
        for (char *tok = p ? strtok(p + 1, " ") : NULL; tok; tok = strtok(NULL, " "))
            if (++field == 39) {
                core = atoi(tok);
                break;
            }
    }
    fclose(f);
    return core;
}

/* The softirq time of one core so far (/proc/stat's cpuN line, 7th value,
 * in clock ticks). */
static bool softirq_ns(int core, uint64_t *ns)
{
    char want[32], line[512];
    FILE *f = fopen("/proc/stat", "r");
    bool found = false;

    if (f == NULL || core < 0) {
        if (f != NULL)
            fclose(f);
        return false;
    }
    int wlen = snprintf(want, sizeof(want), "cpu%d ", core);
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        unsigned long long v[7];
        if (strncmp(line, want, (size_t)wlen) == 0 &&
            sscanf(line + wlen, "%llu %llu %llu %llu %llu %llu %llu",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) == 7) {
            *ns = v[6] * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* A process's CPU time so far, all its threads (schedstat's first value). */
static bool process_cpu_ns(long pid, uint64_t *ns)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    bool any = false;

    snprintf(path, sizeof(path), "/proc/%ld/task", pid);
    if ((d = opendir(path)) == NULL)
        return false;
    *ns = 0;
    while ((e = readdir(d)) != NULL) {
        char stat[sizeof(path) + sizeof(e->d_name) + 16];
        unsigned long long run;
        if (e->d_name[0] == '.')
            continue;
        snprintf(stat, sizeof(stat), "%s/%s/schedstat", path, e->d_name);
        FILE *f = fopen(stat, "r");
        if (f == NULL)
            continue;           /* a thread that just ended */
        if (fscanf(f, "%llu", &run) == 1) {
            *ns += run;
            any = true;
        }
        fclose(f);
    }
    closedir(d);
    return any;
}

/* The server's loop work time so far, from its /shunt/stats. */
static bool peer_work_ns(struct sides *s, uint64_t *ns)
{
    static char raw[ATTACH_REPLY_MAX];
    char err[256];

    if (!s->attached)
        return false;
    json_t *reply = attach_ask(&s->peer, "/shunt/stats", raw, sizeof(raw), err, sizeof(err));
    json_t *v = json_object_get(json_object_get(attach_value(reply), "loop"), "work_ns");
    bool ok = json_is_integer(v);
    if (ok)
        *ns = (uint64_t)json_integer_value(v);
    json_decref(reply);
    return ok;
}

void sides_open(struct sides *s, long peer_pid, sides_work_fn self_work)
{
    char prefix[NAME_MAX + 1], err[256];

    memset(s, 0, sizeof(*s));
    s->self_work = self_work;
    s->peer_pid = peer_pid;
    s->peer.fd = -1;
    /* A server with no DPDK files is the kernel's: no work time to ask. */
    s->attached = peer_pid > 0 &&
                  attach_find(NULL, (unsigned long)peer_pid, prefix, sizeof(prefix),
                              err, sizeof(err)) == 0 &&
                  attach_connect(&s->peer, prefix, err, sizeof(err)) == 0;
}

/* The server's telemetry answer (composed on its threads) is kept out of
 * the interval: asked before its CPU time is read at the start, after at
 * the end. */
static void sample(struct sides *s, struct side_sample *self, struct side_sample *peer,
                   bool start)
{
    memset(self, 0, sizeof(*self));
    memset(peer, 0, sizeof(*peer));
    s->self_core = sched_getcpu();
    self->softirq = softirq_ns(s->self_core, &self->softirq_ns);
    self->work = s->self_work != NULL && s->self_work(&self->work_ns) == 0;
    if (s->peer_pid <= 0)
        return;
    s->peer_core = core_of(s->peer_pid);
    if (start)
        peer->work = peer_work_ns(s, &peer->work_ns);
    peer->cpu = process_cpu_ns(s->peer_pid, &peer->cpu_ns);
    /* Two pinned sides on one core would count its softirqs twice. */
    if (s->peer_core != s->self_core)
        peer->softirq = softirq_ns(s->peer_core, &peer->softirq_ns);
    if (!start)
        peer->work = peer_work_ns(s, &peer->work_ns);
}

void sides_start(struct sides *s)
{
    sample(s, &s->self0, &s->peer0, true);
}

void sides_stop(struct sides *s)
{
    sample(s, &s->self1, &s->peer1, false);
}

/* Per operation, in TSC cycles; -1 when either end was not read. */
static double per_op(bool ok0, uint64_t v0, bool ok1, uint64_t v1, double ops)
{
    if (!ok0 || !ok1 || v1 < v0)
        return -1;
    return (double)(v1 - v0) * tsc_hz() / 1e9 / ops;
}

static void cost(const struct side_sample *a, const struct side_sample *b, double ops,
                 struct side_cost *c)
{
    c->softirq_cycles_per_op = per_op(a->softirq, a->softirq_ns, b->softirq, b->softirq_ns, ops);
    c->work_cycles_per_op = per_op(a->work, a->work_ns, b->work, b->work_ns, ops);
    c->cycles_per_op = per_op(a->cpu, a->cpu_ns, b->cpu, b->cpu_ns, ops);
    if (c->cycles_per_op >= 0 && c->softirq_cycles_per_op > 0)
        c->cycles_per_op += c->softirq_cycles_per_op;
}

void sides_cost(const struct sides *s, uint64_t ops, uint64_t self_cpu_ns,
                struct side_cost *client, struct side_cost *server)
{
    double n = ops > 0 ? (double)ops : 1.0;
    struct side_sample a = s->self0, b = s->self1;

    a.cpu = b.cpu = true;
    a.cpu_ns = 0;
    b.cpu_ns = self_cpu_ns;
    cost(&a, &b, n, client);
    cost(&s->peer0, &s->peer1, n, server);
}

void sides_close(struct sides *s)
{
    if (s->attached)
        attach_close(&s->peer);
    s->attached = false;
}
