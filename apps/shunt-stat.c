/*
 * shunt-stat - look inside a running Shunt process: its counters with rates
 * (like top), its sockets (like ss -tuna), its capture, its fault stage.
 *
 *     shunt-stat [-p PREFIX | -P PID] [-i SECONDS] [-n COUNT] [--json]
 *     shunt-stat [-p PREFIX | -P PID] --sockets [--json]
 *     shunt-stat [-p PREFIX | -P PID] --capture start FILE [FILTER] | --capture stop
 *     shunt-stat [-p PREFIX | -P PID] --faults [SPEC | off]
 *
 * It talks to the process through DPDK's telemetry socket
 * (/var/run/dpdk/PREFIX/dpdk_telemetry.v2), asking Shunt's /shunt/...
 * commands; the process answers between two turns of its poll loop.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "app.h"
#include "attach.h"
#include "opts.h"

#define REPLY_MAX ATTACH_REPLY_MAX

const char app_name[] = "shunt-stat";

/* Telemetry's replies are objects of numbers, strings and objects: what
 * is missing, or of another type, reads as 0 or "". */
static double number(const json_t *obj, const char *name)
{
    return json_number_value(json_object_get(obj, name));
}

static const char *string(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s != NULL ? s : "";
}

/* ---- the process, and asking it (apps/common/attach.h) ---------------------------- */

static struct attach target;

/* Ask command: the whole reply, parsed ({"command": value}), and raw.
 * A reply that is not an object for the command ends the program. */
static json_t *ask(const char *command, char *raw, size_t rawlen)
{
    char err[REPLY_MAX / 4];

    json_t *reply = attach_ask(&target, command, raw, rawlen, err, sizeof(err));
    if (reply == NULL) {
        fprintf(stderr, "shunt-stat: %s\n", err);
        exit(1);
    }
    return reply;
}

/* ---- the views ------------------------------------------------------------------ */

static void human(double v, const char *unit, char *out, size_t len)
{
    const char *scale = " kMGT";
    int i = 0;

    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(out, len, "%.*f %c%s", i ? 1 : 0, v, scale[i], unit);
}

static const char *holds(const json_t *b, const char *way)
{
    return number(b, way) != 0 ? "holds" : "DOES NOT HOLD";
}

/* The frame balance (stack/stats.h): where every frame ended. */
static void show_balance(const json_t *b)
{
    printf("frames in  (%s): rx %.0f + copies %.0f + looped %.0f + kernel copies %.0f = "
           "consumed %.0f (in sockets %.0f) + to kernel %.0f + held %.0f (tcp %.0f, "
           "reassembly %.0f, faults %.0f, kernel %.0f) + drops %.0f\n",
           holds(b, "in"), number(b, "rx_packets"), number(b, "rx_copies"), number(b, "looped"),
           number(b, "kernel_copies"), number(b, "consumed"), number(b, "in_sockets"),
           number(b, "to_kernel"),
           number(b, "held_tcp") + number(b, "held_reassembly") + number(b, "held_faults_rx") +
               number(b, "held_kernel"),
           number(b, "held_tcp"), number(b, "held_reassembly"), number(b, "held_faults_rx"),
           number(b, "held_kernel"), number(b, "rx_drops"));
    printf("frames out (%s): produced %.0f + copies %.0f + from kernel %.0f = tx %.0f + "
           "drops %.0f + held %.0f (buffer %.0f, faults %.0f); waiting for ARP/ND %.0f\n",
           holds(b, "out"), number(b, "tx_produced"), number(b, "tx_copies"),
           number(b, "from_kernel"), number(b, "tx_packets"), number(b, "tx_drops"),
           number(b, "held_tx_buffer") + number(b, "held_faults_tx"),
           number(b, "held_tx_buffer"), number(b, "held_faults_tx"), number(b, "arp_waiting"));
}

/* One screen of counters, with rates since the last one. */
/* The groups joined (the host's own included), and how the port lets
 * their frames in: its filter, or allmulticast when it has none or they do
 * not fit. */
static void show_multicast(const json_t *m)
{
    if (m == NULL)
        return;
    printf("multicast: %.0f groups of %.0f; ", number(m, "groups"), number(m, "groups_max"));
    if (strcmp(string(m, "port_filter"), "yes") == 0)
        printf("port filter %.0f of %.0f addresses", number(m, "filter_programmed"),
               number(m, "filter_capacity"));
    else
        printf("port filter none");
    printf(", allmulticast %s\n", string(m, "allmulticast"));
}

static void show_stats(const json_t *now, const json_t *before, double secs)
{
    static const char *const totals[] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
                                          "to_kernel", "to_kernel_bytes", "from_kernel",
                                          "from_kernel_bytes" };
    char a[32], b[32];

    printf("%-17s %18s %14s\n", "", "total", "per second");
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        double v = number(now, totals[i]);
        double rate = before != NULL && secs > 0 ? (v - number(before, totals[i])) / secs : 0;
        bool bytes = strstr(totals[i], "bytes") != NULL;
        human(bytes ? rate * 8 : rate, bytes ? "bit/s" : "pkt/s", b, sizeof(b));
        printf("%-17s %18.0f %14s\n", totals[i], v, before != NULL ? b : "-");
    }
    const json_t *old = json_object_get(before, "drops"), *d;
    const char *cause;
    printf("drops:\n");
    json_object_foreach(json_object_get(now, "drops"), cause, d) {
        double rate = old != NULL && secs > 0 ? (json_number_value(d) - number(old, cause)) / secs : 0;
        human(rate, "/s", a, sizeof(a));
        printf("  %-12s %18.0f %14s\n", cause, json_number_value(d), old != NULL ? a : "-");
    }
    show_balance(json_object_get(now, "balance"));
    const json_t *m = json_object_get(now, "mbufs");
    printf("mbufs: %.0f in use of %.0f\n", number(m, "in_use"), number(m, "size"));
    show_multicast(json_object_get(now, "multicast"));
}

static int stats_view(bool json, double interval, unsigned long count)
{
    char *raw = malloc(REPLY_MAX);
    json_t *before = NULL;          /* the last reply's counters */
    bool tty = isatty(STDOUT_FILENO);

    for (unsigned long i = 0; (count == 0 || i < count) && !stop; i++) {
        json_t *reply = ask("/shunt/stats", raw, REPLY_MAX);
        json_t *now = json_incref(attach_value(reply));
        json_decref(reply);
        if (json) {
            printf("%s\n", raw);
        } else {
            if (tty && count != 1)
                printf("\033[H\033[2J");
            double secs = before != NULL
                ? (number(now, "time_ms") - number(before, "time_ms")) / 1000 : 0;
            show_stats(now, before, secs);
        }
        fflush(stdout);
        json_decref(before);
        before = now;
        if (count == 0 || i + 1 < count) {
            struct timespec t = { (time_t)interval,
                                  (long)((interval - (time_t)interval) * 1e9) };
            nanosleep(&t, NULL);
        }
    }
    json_decref(before);
    free(raw);
    return 0;
}

/* ---- the process's kernel sockets (a program under shunt-run has both) --------- */

/* ss's names for the kernel's TCP states (/proc/net/tcp's st, 1..11). */
static const char *const kernel_states[] = {
    "?", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT",
    "CLOSE", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
};

/* /proc/net's "0100007F:1F90" (IPv4) or 32 hex digits (IPv6) as ss shows it. */
static void kernel_endpoint(const char *hex, char *out, size_t len)
{
    char addr[INET6_ADDRSTRLEN];
    unsigned port = 0;
    const char *colon = strchr(hex, ':');
    size_t digits = colon != NULL ? (size_t)(colon - hex) : 0;
    uint32_t w[4] = { 0 };

    if (colon == NULL || (digits != 8 && digits != 32)) {
        snprintf(out, len, "?");
        return;
    }
    sscanf(colon + 1, "%x", &port);
    for (size_t i = 0; i < digits / 8; i++)     /* each word in host order */
        sscanf(hex + 8 * i, "%8x", &w[i]);
    bool any = (w[0] | w[1] | w[2] | w[3]) == 0;
    if (any) {
        snprintf(out, len, "*:%u", port);
        return;
    }
    inet_ntop(digits == 8 ? AF_INET : AF_INET6, w, addr, sizeof(addr));
    snprintf(out, len, digits == 8 ? "%s:%u" : "[%s]:%u", addr, port);
}

/* The socket inodes of pid's descriptors: inode -> fd, in two arrays. */
static size_t kernel_fds(long pid, unsigned long *inodes, int *fds, size_t max)
{
    char dir[64], path[PATH_MAX], link[64];
    size_t n = 0;
    struct dirent *e;

    snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && n < max) {
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ssize_t len = readlink(path, link, sizeof(link) - 1);
        if (len <= 0)
            continue;
        link[len] = '\0';
        if (sscanf(link, "socket:[%lu]", &inodes[n]) == 1)
            fds[n++] = atoi(e->d_name);
    }
    closedir(d);
    return n;
}

/*
 * The kernel's TCP and UDP sockets of the process, marked "kernel": those
 * the policy left there, the kernel sides of wildcard listeners, and what
 * they accepted.  (Under each Shunt socket lies a kernel socket that is
 * never bound: /proc/net does not list those.)
 */
static void kernel_sockets(bool json, unsigned *listed)
{
    static const char *const tables[] = { "tcp", "tcp6", "udp", "udp6" };
    unsigned long inodes[4096];
    int fds[4096];
    size_t n = target.pid > 0 ? kernel_fds(target.pid, inodes, fds, 4096) : 0;

    for (size_t t = 0; t < 4 && n > 0; t++) {
        char path[64], line[512];
        snprintf(path, sizeof(path), "/proc/%ld/net/%s", target.pid, tables[t]);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        while (fgets(line, sizeof(line), f) != NULL) {
            char local[64], peer[64], l[80], r[80];
            unsigned st;
            unsigned long txq, rxq, inode;
            if (sscanf(line, " %*d: %63s %63s %x %lx:%lx %*s %*s %*s %*s %lu", local, peer,
                       &st, &txq, &rxq, &inode) != 6)
                continue;
            size_t i = 0;
            while (i < n && inodes[i] != inode)
                i++;
            if (i == n)
                continue;
            kernel_endpoint(local, l, sizeof(l));
            kernel_endpoint(peer, r, sizeof(r));
            bool udp = tables[t][0] == 'u';
            const char *state = udp ? (st == 1 ? "ESTAB" : "UNCONN")
                                    : st < 12 ? kernel_states[st] : "?";
            if (json) {
                json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:s, s:s, s:s}", "proto",
                                      tables[t], "state", state, "fd", fds[i], "recv_q",
                                      (json_int_t)rxq, "send_q", (json_int_t)txq, "local", l,
                                      "peer", r, "path", "kernel");
                if ((*listed)++ > 0)
                    putchar(',');
                json_dumpf(o, stdout, JSON_COMPACT);
                json_decref(o);
            } else {
                printf("%-5s %-10s %5d %8lu %8lu %-28s %-28s %s\n", tables[t], state, fds[i],
                       rxq, txq, l, r, "kernel");
            }
        }
        fclose(f);
    }
}

/* A duration in ns, in the unit that keeps it short: "850ns", "12.3us", "4.1ms". */
static void duration(double ns, char *out, size_t len)
{
    if (ns < 1000)
        snprintf(out, len, "%.0fns", ns);
    else if (ns < 1e6)
        snprintf(out, len, "%.1fus", ns / 1e3);
    else if (ns < 1e9)
        snprintf(out, len, "%.1fms", ns / 1e6);
    else
        snprintf(out, len, "%.1fs", ns / 1e9);
}

/* A socket's latency summaries (api/sockstat.h): "queued:p50/p99/p99.9/max
 * tx:..." for the histograms with samples, "" if none has. */
static void latency_of(const json_t *s, char *out, size_t len)
{
    static const char *const hist[2][2] = { { "rx_queued", "queued" }, { "tx_wait", "tx" } };
    static const char *const cols[4] = { "p50_ns", "p99_ns", "p999_ns", "max_ns" };
    size_t at = 0;

    out[0] = '\0';
    for (int h = 0; h < 2; h++) {
        char key[32];
        snprintf(key, sizeof(key), "%s_n", hist[h][0]);
        if (number(s, key) == 0)
            continue;
        at += (size_t)snprintf(out + at, len - at, "%s%s:", at ? " " : "", hist[h][1]);
        for (int c = 0; c < 4 && at < len; c++) {
            char v[16];
            snprintf(key, sizeof(key), "%s_%s", hist[h][0], cols[c]);
            duration(number(s, key), v, sizeof(v));
            at += (size_t)snprintf(out + at, len - at, "%s%s", c ? "/" : "", v);
        }
    }
}

/* Every socket, page by page, as ss -tuna shows them - Shunt's, then the
 * process's kernel sockets, marked "kernel"; or, with json, one document:
 * {"sockets": [{...}, ...]}. */
static int sockets_view(bool json)
{
    char *raw = malloc(REPLY_MAX), command[64];
    unsigned from = 0, listed = 0;

    if (json)
        printf("{\"sockets\":[");
    else
        printf("%-5s %-10s %5s %8s %8s %-28s %-28s %s\n", "Proto", "State", "Fd", "Recv-Q",
               "Send-Q", "Local", "Peer", "TCP / latency p50/p99/p99.9/max");
    do {
        snprintf(command, sizeof(command), "/shunt/sockets,%u", from);
        json_t *reply = ask(command, raw, REPLY_MAX);
        json_t *page = attach_value(reply), *s;
        const char *key;
        json_object_foreach(page, key, s) {
            if (!json_is_object(s))
                continue;
            if (json) {
                if (listed++ > 0)
                    putchar(',');
                json_object_set_new(s, "path", json_string("shunt"));
                json_dumpf(s, stdout, JSON_COMPACT);
                continue;
            }
            char tcp[96] = "";
            if (json_object_get(s, "rtt_us") != NULL)
                snprintf(tcp, sizeof(tcp), "rtt:%.3fms cwnd:%.0f mss:%.0f retrans:%.0f",
                         number(s, "rtt_us") / 1000, number(s, "cwnd"), number(s, "mss"),
                         number(s, "retransmits"));
            char lat[160];
            latency_of(s, lat, sizeof(lat));
            printf("%-5s %-10s %5.0f %8.0f %8.0f %-28s %-28s %s%s%s\n", string(s, "proto"),
                   string(s, "state"), number(s, "fd"), number(s, "recv_q"),
                   number(s, "send_q"), string(s, "local"), string(s, "peer"), tcp,
                   *tcp && *lat ? " " : "", lat);
        }
        from = (unsigned)number(page, "next");
        json_decref(reply);
    } while (from != 0);
    kernel_sockets(json, &listed);
    if (json)
        printf("]}\n");
    free(raw);
    return 0;
}

/*
 * Ask a command that may switch something on or off (the capture, the
 * faults); the reply says how it stands, or what was wrong: show the one,
 * or say the other (exit status 1).
 */
static int switch_view(const char *command, const char *what,
                       void (*show)(const json_t *state))
{
    char *raw = malloc(REPLY_MAX);
    json_t *reply = ask(command, raw, REPLY_MAX);
    const json_t *state = attach_value(reply);
    int rc = 0;

    if (json_object_get(state, "error") != NULL) {
        fprintf(stderr, "shunt-stat: %s%s\n", what, string(state, "error"));
        rc = 1;
    } else {
        show(state);
    }
    json_decref(reply);
    free(raw);
    return rc;
}

static void show_capture(const json_t *c)
{
    if (strcmp(string(c, "state"), "on") == 0)
        printf("capture on: %s, filter '%s', %.0f of %.0f frames written, %.0f files\n",
               string(c, "file"), string(c, "filter"), number(c, "written"), number(c, "seen"),
               number(c, "files"));
    else
        printf("capture off\n");
}

static int capture_view(const char *action, const char *file, const char *filter)
{
    char command[PATH_MAX + 600];

    if (strcmp(action, "stop") == 0)
        snprintf(command, sizeof(command), "/shunt/capture,stop");
    else if (strcmp(action, "start") == 0 && file != NULL)
        snprintf(command, sizeof(command), "/shunt/capture,start,%s%s%s", file,
                 filter != NULL ? "," : "", filter != NULL ? filter : "");
    else
        snprintf(command, sizeof(command), "/shunt/capture");
    return switch_view(command, "", show_capture);
}

static void show_faults(const json_t *f)
{
    static const char *const kinds[] = { "drop", "corrupt", "dup", "reorder", "delay" };

    if (strcmp(string(f, "state"), "on") == 0)
        printf("faults on: %s\n", string(f, "spec"));
    else
        printf("faults off (counts of the last run below)\n");
    for (int d = 0; d < 2; d++) {
        const json_t *way = json_object_get(f, d == 0 ? "rx" : "tx");
        printf("  %s:", d == 0 ? "rx" : "tx");
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            printf(" %s %.0f", kinds[k], number(way, kinds[k]));
        printf("\n");
    }
}

/* The fault stage's state, after switching it to spec (NULL: as it is). */
static int faults_view(const char *spec)
{
    char command[600];

    snprintf(command, sizeof(command), "/shunt/faults%s%s", spec != NULL ? "," : "",
             spec != NULL ? spec : "");
    return switch_view(command, "faults: ", show_faults);
}

/* ---- the command line ---------------------------------------------------------- */

struct options {
    const char *prefix;         /* -p */
    unsigned long pid;          /* -P; 0: none */
    double interval;            /* -i */
    unsigned long count;        /* -n; 0: until interrupted */
    bool json, sockets, capture, faults;
};

#define AT(field) OPT_AT(struct options, field)

static const struct opt table[] = {
    { 'p', NULL, OPT_STRING, "PREFIX", AT(prefix), .help = "the process's EAL --file-prefix" },
    { 'P', NULL, OPT_UINT, "PID", AT(pid), .min = 1, .max = INT32_MAX, .help = "the process's pid" },
    { 'i', NULL, OPT_REAL, "SECONDS", AT(interval), .real_min = 0.001, .real_max = 86400,
      .help = "refresh interval (1)" },
    { 'n', NULL, OPT_UINT, "COUNT", AT(count), .min = 0, .max = LONG_MAX,
      .help = "screens to show (0: until interrupted)" },
    { 0, "json", OPT_SET, NULL, AT(json), .help = "the replies as JSON" },
    { 0, "sockets", OPT_SET, NULL, AT(sockets), .help = "the sockets, as ss -tuna lists them" },
    { 0, "capture", OPT_SET, NULL, AT(capture),
      .help = "the capture's state; start FILE [FILTER] starts one, stop stops it" },
    { 0, "faults", OPT_SET, NULL, AT(faults),
      .help = "the fault stage's state and counts; SPEC (e.g. rx:drop=0.01) starts it, off stops it" },
    { 'h', "help", OPT_HELP, .help = "this help" },
};

static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-stat [-p PREFIX | -P PID] [-i SECONDS] [-n COUNT] [--json]\n"
    "       shunt-stat [-p PREFIX | -P PID] --sockets [--json]\n"
    "       shunt-stat [-p PREFIX | -P PID] --capture [start FILE [FILTER] | stop]\n"
    "       shunt-stat [-p PREFIX | -P PID] --faults [SPEC | off]\n",
    14, 3, NULL,
};

int main(int argc, char **argv)
{
    struct options o = { .interval = 1 };
    char prefix[NAME_MAX + 1] = "", err[512];
    unsigned gave = 0;

    int next = opts_parse(&spec, argc, argv, &o, &gave);
    if (next < 0)
        return 2;
    if (attach_find(o.prefix, o.pid, prefix, sizeof(prefix), err, sizeof(err)) != 0 ||
        attach_connect(&target, prefix, err, sizeof(err)) != 0) {
        fprintf(stderr, "shunt-stat: %s\n", err);
        return 1;
    }
    stop_on_signals();
    if (o.capture)
        return capture_view(next < argc ? argv[next] : "",
                            next + 1 < argc ? argv[next + 1] : NULL,
                            next + 2 < argc ? argv[next + 2] : NULL);
    if (o.faults)
        return faults_view(next < argc ? argv[next] : NULL);
    if (o.sockets)
        return sockets_view(o.json);
    return stats_view(o.json, o.interval, o.count);
}
