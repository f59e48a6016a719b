/*
 * report.c - see report.h.
 */
#include "report.h"

#include <errno.h>
#include <string.h>

/* The percentiles of the table, the JSON and the CSV, with their names. */
static const struct {
    double p;
    const char *name;           /* in JSON and CSV */
    const char *title;          /* in the table */
} percentiles[] = {
    { 50, "p50", "p50" }, { 90, "p90", "p90" }, { 99, "p99", "p99" },
    { 99.9, "p99_9", "p99.9" }, { 99.99, "p99_99", "p99.99" },
};
#define NPCT (sizeof(percentiles) / sizeof(percentiles[0]))

static double us(uint64_t ns)
{
    return (double)ns / 1e3;
}

static double per_second(const struct result *r, uint64_t count)
{
    return r->seconds > 0 ? (double)count / r->seconds : 0.0;
}

static double gbit_per_second(const struct result *r, uint64_t bytes)
{
    return r->seconds > 0 ? (double)bytes * 8 / r->seconds / 1e9 : 0.0;
}

/* What a stream's receiver took in, in payload bytes. */
static uint64_t received_bytes(const struct result *r)
{
    return r->udp ? r->received * r->size : r->bytes;
}

static const char *singular(const char *ops_name)
{
    if (strcmp(ops_name, "round trips") == 0)
        return "round trip";
    if (strcmp(ops_name, "requests") == 0)
        return "request";
    if (strcmp(ops_name, "connections") == 0)
        return "connection";
    return "message";
}

/* ---- the table ------------------------------------------------------------ */

static void table_latency(FILE *f, const struct histogram *h)
{
    fprintf(f, "  latency (us) %9s", "min");
    for (size_t i = 0; i < NPCT; i++)
        fprintf(f, " %9s", percentiles[i].title);
    fprintf(f, " %9s %9s %9s\n", "max", "mean", "stddev");
    fprintf(f, "  %12s %9.3f", "", us(h->min));
    for (size_t i = 0; i < NPCT; i++)
        fprintf(f, " %9.3f", us(hist_percentile(h, percentiles[i].p)));
    fprintf(f, " %9.3f %9.3f %9.3f\n", us(h->max), hist_mean(h) / 1e3, hist_stddev(h) / 1e3);
}

/* A side's cycles per operation (sides.h), where measured. */
static void table_side(FILE *f, const char *side, const struct side_cost *c)
{
    if (c->cycles_per_op < 0)
        return;
    fprintf(f, "  %s: %.0f core cycles per op (softirq ", side, c->cycles_per_op);
    if (c->softirq_cycles_per_op >= 0)
        fprintf(f, "%.0f", c->softirq_cycles_per_op);
    else
        fputs("not read", f);
    fputs("), work ", f);
    if (c->work_cycles_per_op >= 0)
        fprintf(f, "%.0f cycles (the loop's busy spans)\n", c->work_cycles_per_op);
    else
        fputs("not apart (the kernel's path)\n", f);
}

void report_table(FILE *f, const struct result *r)
{
    fprintf(f, "%s: %s, %s, %zu-byte messages", r->tool, r->test, r->proto, r->size);
    if (r->frame)
        fprintf(f, " (%zu-byte frames)", r->frame);
    fprintf(f, ", %s path, poll %s", r->path, r->poll);
    if (r->conns > 1)
        fprintf(f, ", %d connections", r->conns);
    if (r->mps > 0)
        fprintf(f, ", at %.0f/s", r->mps);
    if (r->label)
        fprintf(f, " [%s]", r->label);
    fprintf(f, "\n  %.2f s measured after %.1f s of warm-up: %llu %s, %.1f/s\n",
            r->seconds, r->warmup, (unsigned long long)r->ops, r->ops_name, per_second(r, r->ops));
    if (r->latency != NULL && r->latency->n > 0)
        table_latency(f, r->latency);
    if (strcmp(r->test, "stream") == 0)
        fprintf(f, "  throughput: sent %.3f Gbit/s, received %.3f Gbit/s, %.1f msgs/s received\n",
                gbit_per_second(r, r->bytes), gbit_per_second(r, received_bytes(r)),
                per_second(r, r->udp ? r->received : r->ops));
    if (r->udp)
        fprintf(f, "  %s: %llu sent, %llu received, %llu lost (%.4f%%), %llu out of order\n",
                strcmp(r->proto, "udp") == 0 ? "datagrams" : "frames",
                (unsigned long long)r->sent, (unsigned long long)r->received,
                (unsigned long long)r->lost, r->sent ? 100.0 * (double)r->lost / (double)r->sent : 0.0,
                (unsigned long long)r->out_of_order);
    fprintf(f, "  cpu per %s: ", singular(r->ops_name));
    if (r->cpu.hw)
        fprintf(f, "%.0f cycles, %.0f instructions (perf counters); ",
                r->cpu.cycles_per_op, r->cpu.instructions_per_op);
    else
        fprintf(f, "cycles and instructions %s; ", r->cpu.hw_why);
    fprintf(f, "%.0f TSC cycles of wall time; %.3f us of CPU time\n",
            r->cpu.tsc_cycles_per_op, r->cpu.cpu_ns_per_op / 1e3);
    table_side(f, "client", &r->client);
    table_side(f, "server", &r->server);
}

/* ---- JSON ------------------------------------------------------------------- */

void report_json_str(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

struct json_list {
    FILE *f;
    bool first;
};

static void json_percentile(double p, uint64_t value, void *arg)
{
    struct json_list *l = arg;

    fprintf(l->f, "%s[%.6f, %.3f]", l->first ? "" : ", ", p, us(value));
    l->first = false;
}

static void json_latency(FILE *f, const struct histogram *h)
{
    if (h == NULL || h->n == 0) {
        fputs("  \"latency_us\": null,\n  \"percentiles\": null,\n", f);
        return;
    }
    fprintf(f, "  \"latency_us\": {\"samples\": %llu, \"min\": %.3f",
            (unsigned long long)h->n, us(h->min));
    for (size_t i = 0; i < NPCT; i++)
        fprintf(f, ", \"%s\": %.3f", percentiles[i].name, us(hist_percentile(h, percentiles[i].p)));
    fprintf(f, ", \"max\": %.3f, \"mean\": %.3f, \"stddev\": %.3f},\n",
            us(h->max), hist_mean(h) / 1e3, hist_stddev(h) / 1e3);
    /* [percentile, us] pairs: the latency plot of scripts/bench. */
    struct json_list list = { f, true };
    fputs("  \"percentiles\": [", f);
    hist_for_each_percentile(h, json_percentile, &list);
    fputs("],\n", f);
}

static void json_cpu(FILE *f, const struct cpu_cost *c)
{
    fputs("  \"cpu\": {\"perf_counters\": ", f);
    report_json_str(f, c->hw ? "ok" : c->hw_why);
    if (c->hw)
        fprintf(f, ", \"cycles_per_op\": %.1f, \"instructions_per_op\": %.1f",
                c->cycles_per_op, c->instructions_per_op);
    else
        fputs(", \"cycles_per_op\": null, \"instructions_per_op\": null", f);
    fprintf(f, ", \"tsc_cycles_per_op\": %.1f, \"tsc_hz\": %.0f, \"cpu_us_per_op\": %.4f},\n",
            c->tsc_cycles_per_op, tsc_hz(), c->cpu_ns_per_op / 1e3);
}

/* A value of sides.h's, or null where not measured. */
static void json_num(FILE *f, const char *name, double v)
{
    if (v >= 0)
        fprintf(f, "\"%s\": %.1f", name, v);
    else
        fprintf(f, "\"%s\": null", name);
}

static void json_sides(FILE *f, const struct result *r)
{
    const struct side_cost *sides[] = { &r->client, &r->server };

    fputs("  \"sides\": {", f);
    for (int i = 0; i < 2; i++) {
        fprintf(f, "%s\"%s\": {", i ? ", " : "", i ? "server" : "client");
        json_num(f, "core", sides[i]->cycles_per_op);
        fputs(", ", f);
        json_num(f, "work", sides[i]->work_cycles_per_op);
        fputs(", ", f);
        json_num(f, "softirq", sides[i]->softirq_cycles_per_op);
        fputc('}', f);
    }
    fputs("}\n", f);
}

int report_json(const char *path, const struct result *r)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        fprintf(stderr, "%s: --json %s: %s\n", r->tool, path, strerror(errno));
        return -1;
    }
    fputs("{\n  \"tool\": ", f);
    report_json_str(f, r->tool);
    fputs(", \"path\": ", f);
    report_json_str(f, r->path);
    fputs(", \"label\": ", f);
    report_json_str(f, r->label);
    fputs(",\n  \"test\": ", f);
    report_json_str(f, r->test);
    fputs(", \"proto\": ", f);
    report_json_str(f, r->proto);
    fprintf(f, ", \"size\": %zu, \"frame\": %zu, \"poll\": ", r->size, r->frame);
    report_json_str(f, r->poll);
    fprintf(f, ", \"conns\": %d, \"mps\": %.1f, \"warmup_s\": %.3f,\n", r->conns, r->mps, r->warmup);
    fprintf(f, "  \"seconds\": %.6f, \"ops\": %llu, \"ops_name\": ", r->seconds, (unsigned long long)r->ops);
    report_json_str(f, r->ops_name);
    fprintf(f, ", \"ops_per_s\": %.1f,\n", per_second(r, r->ops));
    if (strcmp(r->test, "stream") == 0)
        fprintf(f, "  \"bytes\": %llu, \"gbit_per_s\": %.4f, \"rx_gbit_per_s\": %.4f, "
                   "\"rx_msgs_per_s\": %.1f,\n",
                (unsigned long long)r->bytes, gbit_per_second(r, r->bytes),
                gbit_per_second(r, received_bytes(r)), per_second(r, r->udp ? r->received : r->ops));
    else
        fputs("  \"bytes\": null, \"gbit_per_s\": null, \"rx_gbit_per_s\": null, "
              "\"rx_msgs_per_s\": null,\n", f);
    if (r->udp)
        fprintf(f, "  \"udp\": {\"sent\": %llu, \"received\": %llu, \"lost\": %llu, "
                   "\"out_of_order\": %llu},\n",
                (unsigned long long)r->sent, (unsigned long long)r->received,
                (unsigned long long)r->lost, (unsigned long long)r->out_of_order);
    else
        fputs("  \"udp\": null,\n", f);
    json_latency(f, r->latency);
    json_cpu(f, &r->cpu);
    json_sides(f, r);
    fputs("}\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "%s: --json %s: %s\n", r->tool, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- CSV -------------------------------------------------------------------- */

/* A text field: quoted, quotes doubled. */
static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int report_csv(const char *path, const struct result *r)
{
    FILE *f = fopen(path, "w");
    const struct histogram *h = r->latency != NULL && r->latency->n > 0 ? r->latency : NULL;
    bool stream = strcmp(r->test, "stream") == 0;

    if (f == NULL) {
        fprintf(stderr, "%s: --csv %s: %s\n", r->tool, path, strerror(errno));
        return -1;
    }
    fputs("tool,path,label,test,proto,size,frame,poll,conns,mps,warmup_s,seconds,ops,ops_per_s,"
          "gbit_per_s,rx_gbit_per_s,sent,received,lost,out_of_order,samples,min_us", f);
    for (size_t i = 0; i < NPCT; i++)
        fprintf(f, ",%s_us", percentiles[i].name);
    fputs(",max_us,mean_us,stddev_us,perf_counters,cycles_per_op,instructions_per_op,"
          "tsc_cycles_per_op,cpu_us_per_op,client_cycles_per_op,client_work_cycles_per_op,"
          "client_softirq_cycles_per_op,server_cycles_per_op,server_work_cycles_per_op,"
          "server_softirq_cycles_per_op\n", f);

    csv_str(f, r->tool);
    fputc(',', f);
    csv_str(f, r->path);
    fputc(',', f);
    csv_str(f, r->label);
    fputc(',', f);
    csv_str(f, r->test);
    fputc(',', f);
    csv_str(f, r->proto);
    fprintf(f, ",%zu,%zu,", r->size, r->frame);
    csv_str(f, r->poll);
    fprintf(f, ",%d,%.1f,%.3f,%.6f,%llu,%.1f,", r->conns, r->mps, r->warmup, r->seconds,
            (unsigned long long)r->ops, per_second(r, r->ops));
    if (stream)
        fprintf(f, "%.4f,%.4f", gbit_per_second(r, r->bytes), gbit_per_second(r, received_bytes(r)));
    else
        fputc(',', f);
    if (r->udp)
        fprintf(f, ",%llu,%llu,%llu,%llu", (unsigned long long)r->sent, (unsigned long long)r->received,
                (unsigned long long)r->lost, (unsigned long long)r->out_of_order);
    else
        fputs(",,,,", f);
    if (h) {
        fprintf(f, ",%llu,%.3f", (unsigned long long)h->n, us(h->min));
        for (size_t i = 0; i < NPCT; i++)
            fprintf(f, ",%.3f", us(hist_percentile(h, percentiles[i].p)));
        fprintf(f, ",%.3f,%.3f,%.3f", us(h->max), hist_mean(h) / 1e3, hist_stddev(h) / 1e3);
    } else {
        fputs(",,", f);
        for (size_t i = 0; i < NPCT; i++)
            fputc(',', f);
        fputs(",,,", f);
    }
    fputc(',', f);
    csv_str(f, r->cpu.hw ? "ok" : r->cpu.hw_why);
    if (r->cpu.hw)
        fprintf(f, ",%.1f,%.1f", r->cpu.cycles_per_op, r->cpu.instructions_per_op);
    else
        fputs(",,", f);
    fprintf(f, ",%.1f,%.4f", r->cpu.tsc_cycles_per_op, r->cpu.cpu_ns_per_op / 1e3);
    const struct side_cost *sides[] = { &r->client, &r->server };
    for (int i = 0; i < 2; i++) {
        double v[] = { sides[i]->cycles_per_op, sides[i]->work_cycles_per_op,
                       sides[i]->softirq_cycles_per_op };
        for (int j = 0; j < 3; j++)
            if (v[j] >= 0)
                fprintf(f, ",%.1f", v[j]);
            else
                fputc(',', f);
    }
    fputc('\n', f);
    if (fclose(f) != 0) {
        fprintf(stderr, "%s: --csv %s: %s\n", r->tool, path, strerror(errno));
        return -1;
    }
    return 0;
}
