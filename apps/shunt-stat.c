/*
 * shunt-stat - look inside a running Shunt process: its counters with rates
 * (like top), its sockets (like ss -tuna), its capture.
 *
 *     shunt-stat [-p PREFIX | -P PID] [-i SECONDS] [-n COUNT] [--json]
 *     shunt-stat [-p PREFIX | -P PID] --sockets [--json]
 *     shunt-stat [-p PREFIX | -P PID] --capture start FILE [FILTER] | --capture stop
 *
 * It talks to the process through DPDK's telemetry socket
 * (/var/run/dpdk/PREFIX/dpdk_telemetry.v2), asking Shunt's /shunt/...
 * commands; the process answers between two turns of its poll loop.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR "/var/run/dpdk"
#define RUN_DIR_REAL "/run/dpdk"          /* /var/run is a link to /run */
#define SOCKET_NAME "dpdk_telemetry.v2"
#define REPLY_MAX (64 * 1024)

/* ---- a small JSON reader: telemetry's replies are objects of numbers,
 *      strings and objects ------------------------------------------------ */

enum jtype { J_NUMBER, J_STRING, J_OBJECT, J_OTHER };

struct jvalue {
    enum jtype type;
    char *name;                 /* within an object */
    double number;
    char *string;
    struct jvalue *first;       /* an object's members */
    struct jvalue *next;
};

static const char *skip(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

static char *parse_string(const char **pp)
{
    const char *p = *pp + 1;
    size_t n = 0;
    char *out = malloc(strlen(p) + 1);

    while (*p != '\0' && *p != '"') {
        if (*p == '\\' && p[1] != '\0')
            p++;
        out[n++] = *p++;
    }
    out[n] = '\0';
    *pp = *p == '"' ? p + 1 : p;
    return out;
}

static struct jvalue *parse_value(const char **pp);

static struct jvalue *parse_object(const char **pp)
{
    struct jvalue *obj = calloc(1, sizeof(*obj)), **tail = &obj->first;
    const char *p = skip(*pp + 1);

    obj->type = J_OBJECT;
    while (*p == '"') {
        char *name = parse_string(&p);
        p = skip(p);
        if (*p == ':')
            p = skip(p + 1);
        struct jvalue *v = parse_value(&p);
        v->name = name;
        *tail = v;
        tail = &v->next;
        p = skip(p);
        if (*p == ',')
            p = skip(p + 1);
    }
    *pp = *p == '}' ? p + 1 : p;
    return obj;
}

static struct jvalue *parse_value(const char **pp)
{
    const char *p = skip(*pp);
    struct jvalue *v;

    if (*p == '{') {
        v = parse_object(&p);
    } else {
        v = calloc(1, sizeof(*v));
        if (*p == '"') {
            v->type = J_STRING;
            v->string = parse_string(&p);
        } else if (*p == '-' || isdigit((unsigned char)*p)) {
            char *end;
            v->type = J_NUMBER;
            v->number = strtod(p, &end);
            p = end;
        } else {                        /* arrays, true/false/null: skipped */
            v->type = J_OTHER;
            int depth = 0;
            while (*p != '\0' && (depth > 0 || (*p != ',' && *p != '}'))) {
                depth += *p == '[' || *p == '{';
                depth -= *p == ']' || *p == '}';
                p++;
            }
        }
    }
    *pp = p;
    return v;
}

static void jfree(struct jvalue *v)
{
    while (v != NULL) {
        struct jvalue *next = v->next;
        jfree(v->first);
        free(v->name);
        free(v->string);
        free(v);
        v = next;
    }
}

static const struct jvalue *member(const struct jvalue *obj, const char *name)
{
    for (const struct jvalue *v = obj != NULL ? obj->first : NULL; v != NULL; v = v->next)
        if (strcmp(v->name, name) == 0)
            return v;
    return NULL;
}

static double number(const struct jvalue *obj, const char *name)
{
    const struct jvalue *v = member(obj, name);
    return v != NULL && v->type == J_NUMBER ? v->number : 0;
}

static const char *string(const struct jvalue *obj, const char *name)
{
    const struct jvalue *v = member(obj, name);
    return v != NULL && v->type == J_STRING ? v->string : "";
}

/* ---- finding the process and asking it ------------------------------------- */

/* The telemetry socket's address; prefixes too long for one are refused. */
static void socket_path(const char *prefix, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%.64s/%s", RUN_DIR, prefix,
                         SOCKET_NAME) >= sizeof(sun->sun_path))
        sun->sun_path[0] = '\0';
}

/* Whether a live process listens on prefix's telemetry socket (the files
 * of processes that ended stay behind). */
static bool alive(const char *prefix)
{
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

    socket_path(prefix, &sun);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The file-prefix of process pid: the run directory it keeps files open in. */
static int prefix_of_pid(long pid, char *prefix, size_t len)
{
    char dir[64], link[PATH_MAX], target[PATH_MAX];

    snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        const char *p = NULL;
        if (strncmp(target, RUN_DIR "/", strlen(RUN_DIR) + 1) == 0)
            p = target + strlen(RUN_DIR) + 1;
        else if (strncmp(target, RUN_DIR_REAL "/", strlen(RUN_DIR_REAL) + 1) == 0)
            p = target + strlen(RUN_DIR_REAL) + 1;
        if (p != NULL) {
            size_t l = strcspn(p, "/");
            if (l > 0 && l < len) {
                memcpy(prefix, p, l);
                prefix[l] = '\0';
                closedir(d);
                return 0;
            }
        }
    }
    closedir(d);
    return -1;
}

/* With no -p or -P: the one process there is. */
static int only_prefix(char *prefix, size_t len)
{
    DIR *d = opendir(RUN_DIR);
    int found = 0;

    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || !alive(e->d_name))
            continue;
        if (found++ == 0)
            snprintf(prefix, len, "%s", e->d_name);
        else
            fprintf(stderr, "shunt-stat: also %s\n", e->d_name);
    }
    closedir(d);
    return found == 1 ? 0 : -1;
}

static int connect_to(const char *prefix)
{
    struct sockaddr_un sun;
    char info[1024];

    socket_path(prefix, &sun);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        fprintf(stderr, "shunt-stat: cannot reach %s: %s (is the process running, with "
                "telemetry, and --file-prefix=%s?)\n", sun.sun_path, strerror(errno), prefix);
        exit(1);
    }
    if (read(fd, info, sizeof(info)) <= 0) {    /* the greeting: version, pid */
        fprintf(stderr, "shunt-stat: %s said nothing\n", sun.sun_path);
        exit(1);
    }
    return fd;
}

/* Ask command; the reply's value for that command, parsed (and raw). */
static struct jvalue *ask(int fd, const char *command, char *raw, size_t rawlen)
{
    if (write(fd, command, strlen(command)) < 0) {
        perror("shunt-stat: write");
        exit(1);
    }
    ssize_t n = read(fd, raw, rawlen - 1);
    if (n <= 0) {
        fprintf(stderr, "shunt-stat: no answer to %s\n", command);
        exit(1);
    }
    raw[n] = '\0';
    const char *p = raw;
    struct jvalue *reply = parse_value(&p);
    const struct jvalue *v = reply->first;
    if (v == NULL || v->type != J_OBJECT) {
        fprintf(stderr, "shunt-stat: %s: %s (does the process run Shunt, and turn its loop?)\n",
                command, raw);
        exit(1);
    }
    return reply;
}

/* ---- the views ------------------------------------------------------------------ */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

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

/* One screen of counters, with rates since the last one. */
static void show_stats(const struct jvalue *now, const struct jvalue *before, double secs)
{
    static const char *const totals[] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes" };
    char a[32], b[32];

    printf("%-14s %18s %14s\n", "", "total", "per second");
    for (int i = 0; i < 4; i++) {
        double v = number(now, totals[i]);
        double rate = before != NULL && secs > 0 ? (v - number(before, totals[i])) / secs : 0;
        bool bytes = strstr(totals[i], "bytes") != NULL;
        human(bytes ? rate * 8 : rate, bytes ? "bit/s" : "pkt/s", b, sizeof(b));
        printf("%-14s %18.0f %14s\n", totals[i], v, before != NULL ? b : "-");
    }
    const struct jvalue *drops = member(now, "drops");
    const struct jvalue *old = before != NULL ? member(before, "drops") : NULL;
    printf("drops:\n");
    for (const struct jvalue *d = drops != NULL ? drops->first : NULL; d != NULL; d = d->next) {
        double rate = old != NULL && secs > 0 ? (d->number - number(old, d->name)) / secs : 0;
        human(rate, "/s", a, sizeof(a));
        printf("  %-12s %18.0f %14s\n", d->name, d->number, old != NULL ? a : "-");
    }
    const struct jvalue *m = member(now, "mbufs");
    printf("mbufs: %.0f in use of %.0f\n", number(m, "in_use"), number(m, "size"));
}

static int stats_view(int fd, bool json, double interval, long count)
{
    char *raw = malloc(REPLY_MAX);
    struct jvalue *before = NULL;
    bool tty = isatty(STDOUT_FILENO);

    for (long i = 0; (count == 0 || i < count) && !stop; i++) {
        struct jvalue *reply = ask(fd, "/shunt/stats", raw, REPLY_MAX);
        const struct jvalue *now = reply->first;
        if (json) {
            printf("%s\n", raw);
        } else {
            if (tty && count != 1)
                printf("\033[H\033[2J");
            double secs = before != NULL
                ? (number(now, "time_ms") - number(before->first, "time_ms")) / 1000 : 0;
            show_stats(now, before != NULL ? before->first : NULL, secs);
        }
        fflush(stdout);
        jfree(before);
        before = reply;
        if (count == 0 || i + 1 < count) {
            struct timespec t = { (time_t)interval,
                                  (long)((interval - (time_t)interval) * 1e9) };
            nanosleep(&t, NULL);
        }
    }
    jfree(before);
    free(raw);
    return 0;
}

/* A parsed value written back as JSON (strings, numbers, objects). */
static void print_json(const struct jvalue *v)
{
    if (v->type == J_NUMBER) {
        printf("%.17g", v->number);
    } else if (v->type == J_STRING) {
        putchar('"');
        for (const char *c = v->string; *c != '\0'; c++)
            printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        putchar('"');
    } else if (v->type == J_OBJECT) {
        putchar('{');
        for (const struct jvalue *m = v->first; m != NULL; m = m->next) {
            printf("\"%s\":", m->name);
            print_json(m);
            if (m->next != NULL)
                putchar(',');
        }
        putchar('}');
    } else {
        printf("null");
    }
}

/* Every socket, page by page, as ss -tuna shows them; or, with json, one
 * document: {"sockets": [{...}, ...]}. */
static int sockets_view(int fd, bool json)
{
    char *raw = malloc(REPLY_MAX), command[64];
    unsigned from = 0, listed = 0;

    if (json)
        printf("{\"sockets\":[");
    else
        printf("%-5s %-10s %5s %8s %8s %-28s %-28s %s\n", "Proto", "State", "Fd", "Recv-Q",
               "Send-Q", "Local", "Peer", "TCP");
    do {
        snprintf(command, sizeof(command), "/shunt/sockets,%u", from);
        struct jvalue *reply = ask(fd, command, raw, REPLY_MAX);
        const struct jvalue *page = reply->first;
        for (const struct jvalue *s = page->first; s != NULL; s = s->next) {
            if (s->type != J_OBJECT)
                continue;
            if (json) {
                if (listed++ > 0)
                    putchar(',');
                print_json(s);
                continue;
            }
            char tcp[96] = "";
            if (member(s, "rtt_us") != NULL)
                snprintf(tcp, sizeof(tcp), "rtt:%.3fms cwnd:%.0f mss:%.0f retrans:%.0f",
                         number(s, "rtt_us") / 1000, number(s, "cwnd"), number(s, "mss"),
                         number(s, "retransmits"));
            printf("%-5s %-10s %5.0f %8.0f %8.0f %-28s %-28s %s\n", string(s, "proto"),
                   string(s, "state"), number(s, "fd"), number(s, "recv_q"),
                   number(s, "send_q"), string(s, "local"), string(s, "peer"), tcp);
        }
        from = (unsigned)number(page, "next");
        jfree(reply);
    } while (from != 0);
    if (json)
        printf("]}\n");
    free(raw);
    return 0;
}

static int capture_view(int fd, const char *action, const char *file, const char *filter)
{
    char *raw = malloc(REPLY_MAX), command[PATH_MAX + 600];

    if (strcmp(action, "stop") == 0)
        snprintf(command, sizeof(command), "/shunt/capture,stop");
    else if (strcmp(action, "start") == 0 && file != NULL)
        snprintf(command, sizeof(command), "/shunt/capture,start,%s%s%s", file,
                 filter != NULL ? "," : "", filter != NULL ? filter : "");
    else
        snprintf(command, sizeof(command), "/shunt/capture");
    struct jvalue *reply = ask(fd, command, raw, REPLY_MAX);
    const struct jvalue *c = reply->first;
    int rc = 0;
    if (member(c, "error") != NULL) {
        fprintf(stderr, "shunt-stat: %s\n", string(c, "error"));
        rc = 1;
    } else if (strcmp(string(c, "state"), "on") == 0) {
        printf("capture on: %s, filter '%s', %.0f of %.0f frames written, %.0f files\n",
               string(c, "file"), string(c, "filter"), number(c, "written"), number(c, "seen"),
               number(c, "files"));
    } else {
        printf("capture off\n");
    }
    jfree(reply);
    free(raw);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: shunt-stat [-p PREFIX | -P PID] [-i SECONDS] [-n COUNT] [--json]\n"
               "       shunt-stat [-p PREFIX | -P PID] --sockets [--json]\n"
               "       shunt-stat [-p PREFIX | -P PID] --capture [start FILE [FILTER] | stop]\n"
               "  -p PREFIX   the process's EAL --file-prefix\n"
               "  -P PID      the process's pid\n"
               "  -i SECONDS  refresh interval (1)\n"
               "  -n COUNT    screens to show (0: until interrupted)\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'j' },
        { "sockets", no_argument, NULL, 's' },
        { "capture", no_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char prefix[NAME_MAX + 1] = "";
    bool json = false, sockets = false, capture = false;
    double interval = 1;
    long count = 0;
    int opt;

    while ((opt = getopt_long(argc, argv, "p:P:i:n:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            snprintf(prefix, sizeof(prefix), "%s", optarg);
            break;
        case 'P':
            if (prefix_of_pid(strtol(optarg, NULL, 10), prefix, sizeof(prefix)) != 0) {
                fprintf(stderr, "shunt-stat: process %s runs no DPDK instance this can see "
                        "(no files under %s)\n", optarg, RUN_DIR);
                return 1;
            }
            break;
        case 'i':
            interval = strtod(optarg, NULL);
            break;
        case 'n':
            count = strtol(optarg, NULL, 10);
            break;
        case 'j':
            json = true;
            break;
        case 's':
            sockets = true;
            break;
        case 'c':
            capture = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (prefix[0] == '\0' && only_prefix(prefix, sizeof(prefix)) != 0) {
        fprintf(stderr, "shunt-stat: not exactly one DPDK process running: name one with "
                "-p PREFIX or -P PID\n");
        return 1;
    }
    if (interval <= 0)
        interval = 1;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int fd = connect_to(prefix);
    if (capture)
        return capture_view(fd, optind < argc ? argv[optind] : "",
                            optind + 1 < argc ? argv[optind + 1] : NULL,
                            optind + 2 < argc ? argv[optind + 2] : NULL);
    if (sockets)
        return sockets_view(fd, json);
    return stats_view(fd, json, interval, count);
}
