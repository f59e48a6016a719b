/*
 * shunt-echo - a Shunt stack instance that answers the network.
 *
 * It brings up the stack from a configuration file and polls it until
 * SIGINT or SIGTERM, answering ARP, ICMP echo, IPv6 neighbour discovery and
 * ICMPv6 echo; the counters are printed on the way out.
 *
 *     shunt-echo -c shunt.conf
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "shunt/shunt.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: shunt-echo [-c FILE]\n"
               "  -c FILE  stack configuration (default: $SHUNT_CONFIG)\n");
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    if (shunt_init(config) != 0)
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("shunt-echo: running; SIGINT or SIGTERM stops it\n");
    fflush(stdout);

    while (!stop)
        shunt_poll();

    shunt_exit();
    return 0;
}
