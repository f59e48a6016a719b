/*
 * run.c - see run.h.
 */
#include "run.h"

#include <stdio.h>

#include "profile.h"

int run_open(struct run *r)
{
    /* The meter first: it cannot fail, and run_close closes it. */
    cpu_meter_open(&r->cpu);
    sides_open(&r->sides, r->server_pid, r->work);
    return hist_init(&r->lat);
}

void run_close(struct run *r)
{
    cpu_meter_close(&r->cpu);
    sides_close(&r->sides);
    hist_free(&r->lat);
}

void run_begin(struct run *r, double warmup)
{
    r->measuring = false;
    r->warm_end = tsc_now() + tsc_from_s(warmup);
}

/* What the warm-up counted is thrown away. */
void run_start_measuring(struct run *r, uint64_t now)
{
    /* The sides are read first (the server's telemetry takes a while), so
     * the interval starts after. */
    sides_start(&r->sides);
    now = tsc_now();
    r->measuring = true;
    r->ops = r->bytes = r->sent = r->received = r->out_of_order = 0;
    hist_reset(&r->lat);
    r->start = now;
    r->end = now + tsc_from_s(r->seconds);
    r->next_progress = now + tsc_from_s(1.0);
    cpu_meter_start(&r->cpu);
    profile_begin();        /* under callgrind, the profile starts here */
}

/* How far the run is, the rate, and latency or throughput, on stderr. */
void run_progress(struct run *r, uint64_t now)
{
    double secs = tsc_to_s(now - r->start);

    r->next_progress += tsc_from_s(1.0);
    if (r->quiet)
        return;
    /* One write: the instances of a group share stderr. */
    char line[256];
    int n;
    if (r->count)
        n = snprintf(line, sizeof(line), "%s: %llu/%llu %s", app_name,
                     (unsigned long long)r->ops, (unsigned long long)r->count, r->ops_name);
    else
        n = snprintf(line, sizeof(line), "%s: %.0f/%.0f s: %llu %s", app_name, secs, r->seconds,
                     (unsigned long long)r->ops, r->ops_name);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ", %.0f/s",
                  secs > 0 ? (double)r->ops / secs : 0.0);
    if (r->lat.n > 0)
        n += snprintf(line + n, sizeof(line) - (size_t)n, ", p50 %.3f us, p99 %.3f us",
                      hist_percentile(&r->lat, 50) / 1e3, hist_percentile(&r->lat, 99) / 1e3);
    if (r->bytes > 0)
        snprintf(line + n, sizeof(line) - (size_t)n, ", %.3f Gbit/s sent",
                 secs > 0 ? (double)r->bytes * 8 / secs / 1e9 : 0.0);
    fprintf(stderr, "%s\n", line);
}

void run_result(struct run *r, uint64_t end, struct result *out)
{
    profile_end();
    cpu_meter_stop(&r->cpu);
    sides_stop(&r->sides);
    out->seconds = tsc_to_s(end - r->start);
    out->ops = r->ops;
    out->ops_name = r->ops_name;
    out->bytes = r->bytes;
    out->sent = r->sent;
    out->received = r->received;
    out->lost = r->sent > r->received ? r->sent - r->received : 0;
    out->out_of_order = r->out_of_order;
    out->latency = &r->lat;
    cpu_meter_cost(&r->cpu, r->ops, &out->cpu);
    sides_cost(&r->sides, r->ops, r->cpu.cpu_ns, &out->client, &out->server);
}
