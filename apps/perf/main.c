/*
 * shunt-perf - latency and throughput over Shunt's sockets or the kernel's,
 * in the manner of sockperf: one binary, so both paths run the same code.
 *
 *     shunt-perf server    (-c FILE | --kernel) [-p PORT] [--poll epoll|block]
 *     shunt-perf ping-pong (-c FILE | --kernel) [--tcp|--udp] [-m SIZE] [--mps RATE]
 *                          [--poll recv|epoll|block] [--timeout MS] [--zc] [COMMON] HOST
 *     shunt-perf rr        (-c FILE | --kernel) [--conns N] [-m SIZE] [--poll epoll|block]
 *                          [COMMON] HOST
 *     shunt-perf connrate  (-c FILE | --kernel) [-m SIZE] [COMMON] HOST
 *     shunt-perf stream    (-c FILE | --kernel) [--tcp|--udp] [-m SIZE]
 *                          [--poll recv|epoll|block] [COMMON] HOST
 *     COMMON: [-p PORT] [-t SECONDS | -n COUNT] [--warmup SECONDS]
 *             [--server-pid PID] [--json FILE] [--csv FILE] [--label TEXT] [-q]
 *
 * The server echoes TCP and UDP on PORT (TCP_NODELAY on) and discards them
 * on PORT+1, where it also counts each UDP stream's datagrams so the client
 * can ask how many arrived.  The clients:
 *   ping-pong  one message out, its echo back, again: round-trip times;
 *   rr         N connections, each with one request out at a time: requests/s;
 *   connrate   connect, one request and its response, close: connections/s;
 *   stream     messages to the discard port as fast as they go: Gbit/s, and
 *              for UDP how many were lost.
 * Every round trip (request, connection) goes into a histogram, none is
 * sampled; the first --warmup seconds are run but not counted.
 *
 * Busy polling: --poll recv reads the socket without blocking in a loop,
 * --poll epoll asks epoll_wait with timeout 0 in a loop, --poll block lets
 * the call block.  On Shunt's path the program turns the poll loop itself
 * when a non-blocking read finds nothing (shunt_poll), and epoll_wait and
 * blocking calls turn it for it.
 *
 * CPU per operation: each client reports its own thread's CPU time and,
 * on Shunt, its loop's work time (shunt_loop_load), in TSC cycles per
 * round trip (request, message); --server-pid PID adds the server's
 * process, read at the same two instants (common/sides.h).
 *
 * --zc: ping-pong sends each message from a zero-copy buffer it is written
 * into and reads each echo where it arrived (<shunt/zc.h>), to measure
 * those calls beside the copying ones; on the kernel path they copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shunt/shunt.h"

#include "app.h"
#include "cycles.h"
#include "group.h"
#include "opts.h"
#include "perf.h"
#include "sock.h"
#include "udpstream.h"

const char app_name[] = PROG;
const char *const test_names[] = { "server", "ping-pong", "rr", "connrate", "stream", NULL };
const char *const poll_names[] = { "recv", "epoll", "block", NULL };

/* ---- the command line ------------------------------------------------------- */

/* Options given, to check each belongs to the mode. */
enum {
    GAVE_SIZE = 1 << 0, GAVE_TIME = 1 << 1, GAVE_COUNT = 1 << 2, GAVE_WARMUP = 1 << 3,
    GAVE_MPS = 1 << 4, GAVE_CONNS = 1 << 5, GAVE_TIMEOUT = 1 << 6, GAVE_UDP = 1 << 7,
    GAVE_OUTPUT = 1 << 8, GAVE_POLL = 1 << 9, GAVE_RST = 1 << 10, GAVE_ZC = 1 << 11,
    GAVE_SERVER_PID = 1 << 12,
};

#define STR(x) #x
#define XSTR(x) STR(x)
#define AT(field) OPT_AT(struct options, field)

static const struct opt table[] = {
    { 'c', NULL, OPT_STRING, "FILE", AT(config), .help = "stack configuration (default: $SHUNT_CONFIG)" },
    { 0, "instance", OPT_STRING, "I", AT(instance),
      .help = "run only instance I of the configuration's group\n(default: start them all)" },
    { 0, "kernel", OPT_SET, NULL, AT(kernel), .help = "the kernel's sockets instead of Shunt" },
    { 'p', NULL, OPT_UINT, "PORT", AT(port), .min = 1, .max = 65534,
      .help = "the server's echo port (default " XSTR(DEFAULT_PORT) "); PORT+1 discards" },
    { 0, "tcp", OPT_CLEAR, NULL, AT(udp), .help = "TCP (the default; rr and connrate are TCP)" },
    { 0, "udp", OPT_SET, NULL, AT(udp), .gave = GAVE_UDP, .help = "UDP" },
    { 'm', NULL, OPT_UINT, "SIZE", AT(size), .min = 1, .max = STREAM_MAX, .gave = GAVE_SIZE,
      .help = "message bytes (default 64; stream 1472): tcp 1.." XSTR(TCP_MAX_ECHO) "\n"
              "(stream 1.." XSTR(STREAM_MAX) "), udp 1.." XSTR(UDP_MAX_PAYLOAD) " (stream 16..)" },
    { 't', NULL, OPT_REAL, "SECONDS", AT(seconds), .real_min = 0.001, .real_max = 86400 * 365,
      .gave = GAVE_TIME, .help = "how long to measure (default 10)" },
    { 'n', NULL, OPT_UINT, "COUNT", AT(count), .min = 1, .max = UINT64_MAX / 2, .gave = GAVE_COUNT,
      .help = "measure this many round trips, requests, connections\nor messages instead" },
    { 0, "warmup", OPT_REAL, "SECONDS", AT(warmup), .real_min = 0, .real_max = 86400 * 365,
      .gave = GAVE_WARMUP, .help = "run this long first, not measured (default 1)" },
    { 0, "mps", OPT_REAL, "RATE", AT(mps), .real_min = 0.001, .real_max = 1e9, .gave = GAVE_MPS,
      .help = "ping-pong: send at this many messages a second\n"
              "(default: each as soon as the last echo is back)" },
    { 0, "poll", OPT_CHOICE, "HOW", AT(poll), .choices = poll_names, .gave = GAVE_POLL,
      .help = "recv: non-blocking reads in a loop (ping-pong, stream default);\n"
              "epoll: epoll_wait with timeout 0 in a loop (server, rr default);\n"
              "block: blocking calls (connrate always)" },
    { 0, "conns", OPT_UINT, "N", AT(conns), .min = 1, .max = 100000, .gave = GAVE_CONNS,
      .help = "rr: connections, each with one request out (default 16)" },
    { 0, "timeout", OPT_UINT, "MS", AT(timeout_ms), .min = 1, .max = 60000, .gave = GAVE_TIMEOUT,
      .help = "udp ping-pong: an echo later than this is lost (default 100)" },
    { 0, "rst", OPT_SET, NULL, AT(rst), .gave = GAVE_RST,
      .help = "connrate: close with a reset (SO_LINGER 0), leaving no TIME_WAIT" },
    { 0, "zc", OPT_SET, NULL, AT(zc), .gave = GAVE_ZC,
      .help = "ping-pong: zero-copy calls (shunt_zc_alloc/send, shunt_zc_recv)" },
    { 0, "server-pid", OPT_UINT, "PID", AT(server_pid), .min = 1, .max = 4194304,
      .gave = GAVE_SERVER_PID,
      .help = "measure that server process's CPU per operation too (its\n"
              "threads' CPU time, its core's softirqs; a Shunt server's loop work)" },
    { 0, "json", OPT_STRING, "FILE", AT(json), .gave = GAVE_OUTPUT, .help = "write the results as JSON" },
    { 0, "csv", OPT_STRING, "FILE", AT(csv), .gave = GAVE_OUTPUT,
      .help = "write the results as CSV (a header and one row)" },
    { 0, "label", OPT_STRING, "TEXT", AT(label), .gave = GAVE_OUTPUT,
      .help = "a name for this run in the results" },
    { 'q', "quiet", OPT_SET, NULL, AT(quiet), .help = "no progress on stderr" },
    { 'h', "help", OPT_HELP, .help = "this help" },
};

static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-perf server    (-c FILE | --kernel) [-p PORT] [--poll epoll|block]\n"
    "       shunt-perf ping-pong (-c FILE | --kernel) [--tcp|--udp] [-m SIZE] [--mps RATE]\n"
    "                            [--poll recv|epoll|block] [--timeout MS] [--zc] [COMMON] HOST\n"
    "       shunt-perf rr        (-c FILE | --kernel) [--conns N] [-m SIZE]\n"
    "                            [--poll epoll|block] [COMMON] HOST\n"
    "       shunt-perf connrate  (-c FILE | --kernel) [-m SIZE] [--rst] [COMMON] HOST\n"
    "       shunt-perf stream    (-c FILE | --kernel) [--tcp|--udp] [-m SIZE]\n"
    "                            [--poll recv|epoll|block] [COMMON] HOST\n"
    "COMMON: [-p PORT] [-t SECONDS | -n COUNT] [--warmup SECONDS] [--server-pid PID]\n"
    "        [--json FILE] [--csv FILE] [--label TEXT] [-q]\n"
    "\n",
    17, 1, "see shunt-perf --help",
};

static int bad_option(const struct options *o, const char *what)
{
    return opts_mode_error(PROG, test_names[o->test], what);
}

/* The mode's own rules, defaults, and limits. */
static int check_options(struct options *o, unsigned gave)
{
    bool client = o->test != SERVER;

    if (o->kernel && o->config)
        return bad_option(o, "-c and --kernel exclude each other");
    if (!client && (gave & ~GAVE_POLL))
        return bad_option(o, "the server takes only -c [--instance] or --kernel, -p, --poll and -q");
    if (!client && (gave & GAVE_POLL) && o->poll == POLL_RECV)
        return bad_option(o, "--poll is epoll or block for the server");
    if (client && o->host == NULL)
        return bad_option(o, "which server? give its address last, "
                             "e.g. shunt-perf ping-pong --kernel 127.0.0.1");
    if ((gave & GAVE_TIME) && (gave & GAVE_COUNT))
        return bad_option(o, "-t and -n exclude each other: measure for a time or a count");
    if ((gave & GAVE_MPS) && o->test != PING_PONG)
        return bad_option(o, "--mps is for ping-pong");
    if ((gave & GAVE_CONNS) && o->test != RR)
        return bad_option(o, "--conns is for rr");
    if ((gave & GAVE_TIMEOUT) && !(o->test == PING_PONG && o->udp))
        return bad_option(o, "--timeout is for udp ping-pong");
    if ((gave & GAVE_RST) && o->test != CONNRATE)
        return bad_option(o, "--rst is for connrate");
    if ((gave & GAVE_ZC) && (o->test != PING_PONG || o->poll == POLL_BLOCK))
        return bad_option(o, "--zc is for ping-pong, polled (recv or epoll)");
    if ((gave & GAVE_UDP) && (o->test == RR || o->test == CONNRATE))
        return bad_option(o, "it is TCP only: --udp does not apply");
    if (o->test == RR && o->poll == POLL_RECV && (gave & GAVE_POLL))
        return bad_option(o, "--poll is epoll or block for rr");
    if (o->test == CONNRATE && (gave & GAVE_POLL) && o->poll != POLL_BLOCK)
        return bad_option(o, "connrate makes blocking calls; --poll does not apply");

    /* Defaults that depend on the mode. */
    if (!(gave & GAVE_POLL))
        o->poll = o->test == SERVER || o->test == RR ? POLL_EPOLL
                : o->test == CONNRATE ? POLL_BLOCK : POLL_RECV;
    if (!(gave & GAVE_SIZE))
        o->size = o->test == STREAM ? 1472 : 64;

    size_t max = o->udp ? UDP_MAX_PAYLOAD : o->test == STREAM ? STREAM_MAX : TCP_MAX_ECHO;
    if (o->size > max) {
        char why[96];
        snprintf(why, sizeof(why), "-m %zu: at most %zu bytes", o->size, max);
        return bad_option(o, why);
    }
    if (o->test == STREAM && o->udp && o->size < sizeof(struct stream_hdr))
        return bad_option(o, "a udp stream's datagrams carry a 16-byte header: -m 16 or more");
    return 0;
}

/* The mode, then its options, then (clients) the server's address. */
static int parse_options(int argc, char **argv, struct options *o)
{
    unsigned gave = 0;

    *o = (struct options){ .port = DEFAULT_PORT, .seconds = 10, .warmup = 1, .conns = 16,
                           .timeout_ms = 100 };
    int test = opts_mode(&spec, test_names, argc, argv);
    if (test < 0)
        return -1;
    o->test = (enum test)test;
    /* Parsed as if the mode were the program: from argv + 1. */
    int host = opts_parse(&spec, argc - 1, argv + 1, o, &gave) + 1;
    if (host < 1)
        return -1;
    if (host < argc)
        o->host = argv[host];
    if (o->test == SERVER && o->host != NULL) {
        fprintf(stderr, PROG " server: unexpected argument '%s': the server listens on every address\n",
                o->host);
        return -1;
    }
    return check_options(o, gave);
}

int main(int argc, char **argv)
{
    struct options o;

    if (parse_options(argc, argv, &o) != 0)
        return 2;
    tsc_calibrate();
    if (start_sockets(o.kernel, o.config, o.instance) != 0)
        return 1;

    int rc = o.test == SERVER ? serve(&o) : run_client(&o);
    if (o.test != SERVER)
        group_finish();
    shunt_exit();
    return rc;
}
