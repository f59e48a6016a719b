/*
 * shunt-stat - look inside a running Shunt process: its counters with rates
 * (like top), its sockets (like ss -tuna), its capture, its fault stage.
 *
 *     shunt-stat [-p PREFIX | -P PID] [-i SECONDS] [-n COUNT] [--json]
 *     shunt-stat -p GROUP [-i SECONDS] [-n COUNT] [--json]
 *     shunt-stat [-p PREFIX | -P PID] --sockets [--json]
 *     shunt-stat [-p PREFIX | -P PID] --capture start FILE [FILTER] | --capture stop
 *     shunt-stat [-p PREFIX | -P PID] --faults [SPEC | off]
 *
 * It talks to the process through DPDK's telemetry socket
 * (/var/run/dpdk/PREFIX/dpdk_telemetry.v2), asking Shunt's /shunt/...
 * commands; the process answers between two turns of its poll loop.
 *
 * A group of instances (config instances = N, each a process with its
 * own file-prefix GROUP-i) is shown by its GROUP: one line per instance
 * and their total - frames, drops, sockets, frames steered to and from
 * the others, and each core's load (loop turns that did work / all turns,
 * over the last interval, or since the start on the first screen).
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
#include <sys/stat.h>
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
    printf("frames in  (%s): rx %.0f + steered in %.0f + copies %.0f + looped %.0f + kernel "
           "copies %.0f = steered away %.0f + consumed %.0f (in sockets %.0f) + to kernel %.0f "
           "+ held %.0f (tcp %.0f, reassembly %.0f, faults %.0f, kernel %.0f) + drops %.0f\n",
           holds(b, "in"), number(b, "rx_packets"), number(b, "steered_in"), number(b, "rx_copies"),
           number(b, "looped"), number(b, "kernel_copies"), number(b, "steered_away"),
           number(b, "consumed"), number(b, "in_sockets"),
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
    const char *const names[] = { "igmp", "mld" }, *const shown[] = { "IGMP", "MLD" };
    for (int i = 0; i < 2; i++) {
        const json_t *r = json_object_get(m, names[i]);
        if (r == NULL)
            continue;
        printf("%s  %sv%.0f%s: queries %.0f, reports %.0f (%.0f records), suppressed %.0f, "
               "bad queries %.0f\n", i == 0 ? "multicast:" : "          ", shown[i],
               number(r, "version"), number(r, "forced") != 0 ? " (forced)" : "",
               number(r, "queries"), number(r, "reports"), number(r, "records"),
               number(r, "suppressed"), number(r, "bad_queries"));
    }
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
        printf("  %-15s %18.0f %14s\n", cause, json_number_value(d), old != NULL ? a : "-");
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

/* ---- a group of instances ----------------------------------------------------- */

/* The numbers a group's line shows, from one /shunt/stats reply. */
struct member {
    bool up;
    double core, rx, tx, drops, sockets, steered_in, steered_out, turns, busy;
};

static struct member member_of(const json_t *st)
{
    const json_t *d, *pools = json_object_get(st, "pools"), *loop = json_object_get(st, "loop");
    const json_t *steer = json_object_get(st, "steer");
    struct member m = {
        .up = true,
        .core = number(json_object_get(st, "group"), "core"),
        .rx = number(st, "rx_packets"), .tx = number(st, "tx_packets"),
        .sockets = number(json_object_get(pools, "TCP_PCB"), "used") +
                   number(json_object_get(pools, "TCP_PCB_LISTEN"), "used") +
                   number(json_object_get(pools, "UDP_PCB"), "used"),
        .steered_in = number(steer, "steered_in"), .steered_out = number(steer, "steered_out"),
        .turns = number(loop, "turns"), .busy = number(loop, "busy_turns"),
    };
    const char *cause;
    json_object_foreach(json_object_get(st, "drops"), cause, d)
        m.drops += json_number_value(d);
    return m;
}

static void show_member(const char *name, const struct member *m, const struct member *old)
{
    double turns = m->turns - (old != NULL && old->up ? old->turns : 0);
    double busy = m->busy - (old != NULL && old->up ? old->busy : 0);

    if (!m->up) {
        printf("%-9s %5s %14s\n", name, "-", "down");
        return;
    }
    char core[16] = "-", load[16] = "-";
    if (m->core >= 0)
        snprintf(core, sizeof(core), "%.0f", m->core);
    if (turns > 0)
        snprintf(load, sizeof(load), "%.1f%%", 100 * busy / turns);
    printf("%-9s %5s %14.0f %14.0f %10.0f %8.0f %11.0f %11.0f %7s\n", name, core, m->rx, m->tx,
           m->drops, m->sockets, m->steered_in, m->steered_out, load);
}

/* The group's instances GROUP-0 .. GROUP-(N-1), N as instance 0 (or the
 * first that answers) says; each screen a line each and the total. */
static int group_view(const char *group, bool json, double interval, unsigned long count)
{
    char *raw = malloc(REPLY_MAX), name[NAME_MAX + 1], err[512];
    struct member old[64] = { 0 }, total_old = { 0 };
    unsigned n = 64;
    bool tty = isatty(STDOUT_FILENO);

    for (unsigned long k = 0; (count == 0 || k < count) && !stop; k++) {
        struct member now[64] = { 0 }, total = { .up = true, .core = -1 };
        json_t *all = json_array();
        unsigned up = 0;
        for (unsigned i = 0; i < n; i++) {
            struct attach a;
            snprintf(name, sizeof(name), "%s-%u", group, i);
            if (attach_connect(&a, name, err, sizeof(err)) != 0) {
                json_array_append_new(all, json_null());
                continue;
            }
            json_t *reply = attach_ask(&a, "/shunt/stats", raw, REPLY_MAX, err, sizeof(err));
            attach_close(&a);
            json_t *st = attach_value(reply);
            if (st == NULL) {
                json_array_append_new(all, json_null());
                json_decref(reply);
                continue;
            }
            unsigned said = (unsigned)number(json_object_get(st, "group"), "instances");
            if (up++ == 0 && said >= 1 && said < n)
                n = said;
            now[i] = member_of(st);
            total.rx += now[i].rx, total.tx += now[i].tx, total.drops += now[i].drops;
            total.sockets += now[i].sockets, total.turns += now[i].turns;
            total.busy += now[i].busy, total.steered_in += now[i].steered_in;
            total.steered_out += now[i].steered_out;
            json_array_append(all, st);
            json_decref(reply);
        }
        while (json_array_size(all) > n)
            json_array_remove(all, n);
        if (up == 0) {
            fprintf(stderr, "shunt-stat: no instance of group %s answers (%s)\n", group, err);
            json_decref(all);
            free(raw);
            return 1;
        }
        if (json) {
            char *text = json_dumps(all, JSON_COMPACT);
            printf("{\"group\":\"%s\",\"instances\":%s}\n", group, text);
            free(text);
        } else {
            if (tty && count != 1)
                printf("\033[H\033[2J");
            printf("%-9s %5s %14s %14s %10s %8s %11s %11s %7s\n", "instance", "core",
                   "rx_packets", "tx_packets", "drops", "sockets", "steered_in", "steered_out",
                   "load");
            for (unsigned i = 0; i < n; i++) {
                char label[16];
                snprintf(label, sizeof(label), "%u", i);
                show_member(label, &now[i], k > 0 ? &old[i] : NULL);
            }
            show_member("total", &total, k > 0 ? &total_old : NULL);
        }
        fflush(stdout);
        json_decref(all);
        memcpy(old, now, sizeof(old));
        total_old = total;
        if (count == 0 || k + 1 < count) {
            struct timespec t = { (time_t)interval,
                                  (long)((interval - (time_t)interval) * 1e9) };
            nanosleep(&t, NULL);
        }
    }
    free(raw);
    return 0;
}

/* Whether prefix names a group: a GROUP-0, and no process of its own - or
 * its process is the primary of a shared group, which links GROUP-0 to it. */
static bool is_group(const char *prefix)
{
    char path[PATH_MAX], first[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", ATTACH_RUN_DIR, prefix);
    snprintf(first, sizeof(first), "%s/%s-0", ATTACH_RUN_DIR, prefix);
    if (lstat(first, &st) != 0)
        return false;
    return S_ISLNK(st.st_mode) || stat(path, &st) != 0;
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
            char tcp[224] = "";
            if (json_object_get(s, "rtt_us") != NULL)
                snprintf(tcp, sizeof(tcp),
                         "rtt:%.3fms cwnd:%.0f mss:%.0f retrans:%.0f snd_wnd:%.0f in_flight:%.0f "
                         "unacked:%.0f unsent:%.0f rto:%.0fms rtimer:%.0fms",
                         number(s, "rtt_us") / 1000, number(s, "cwnd"), number(s, "mss"),
                         number(s, "retransmits"), number(s, "snd_wnd"),
                         number(s, "snd_in_flight"), number(s, "unacked"), number(s, "unsent"),
                         number(s, "rto_ms"), number(s, "rtime_ms"));
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
    "       shunt-stat -p GROUP [-i SECONDS] [-n COUNT] [--json]   (instances GROUP-0, -1...)\n"
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
    if (o.prefix != NULL && is_group(o.prefix)) {
        if (o.sockets || o.capture || o.faults) {
            fprintf(stderr, "shunt-stat: %s is a group: ask one instance (-p %s-0) for its "
                    "sockets, capture or faults\n", o.prefix, o.prefix);
            return 2;
        }
        stop_on_signals();
        return group_view(o.prefix, o.json, o.interval, o.count);
    }
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
