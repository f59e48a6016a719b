/*
 * test-config.c - the configuration file: what it accepts, its defaults,
 * and the one-line error for each way it can be wrong.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exception.h"
#include "kernelif.h"
#include "suite.h"

#define GOOD_EAL "eal = -l 0 --no-pci --vdev=net_af_xdp0,iface=sh0\n"

static struct shunt_config c;
static char err[512];

static int parse(const char *text)
{
    err[0] = '\0';
    return shunt_config_parse(&c, text, "t.conf", err, sizeof(err));
}

/* text must be refused with a message containing each of the strings. */
static void refused(const char *text, const char *want1, const char *want2)
{
    ck_assert_int_eq(parse(text), -1);
    ck_assert_msg(strstr(err, want1) != NULL, "'%s' not in '%s'", want1, err);
    if (want2 != NULL)
        ck_assert_msg(strstr(err, want2) != NULL, "'%s' not in '%s'", want2, err);
    ck_assert_msg(strchr(err, '\n') == NULL, "not one line: '%s'", err);
}

START_TEST(full_file)
{
    const char *text =
        "# a Shunt instance\n"
        "\n"
        "eal = -l 1 --file-prefix=x --vdev=net_af_xdp0,iface=sh0   # trailing comment\n"
        "  port=net_af_xdp0\n"
        "mac = 02:00:00:00:aa:01\n"
        "ip = 10.9.0.2/24\n"
        "gateway = 10.9.0.1\n"
        "ip6 = fd00:9::2/64\n"
        "mtu = 9000\n"
        "mbufs = 65535\n"
        "mbuf_cache = 128\n"
        "mbuf_size = 9216\n"
        "rx_ring = 2048\n"
        "tx_ring = 512\n"
        "burst = 64\n"
        "stats = no\n"
        "tcp_rto_min_us = 5000\n"
        "tcp_rto_max_us = 2000000\n"
        "tcp_congestion = reno\n"
        "tcp_invalid_ratelimit = 0\n"
        "tcp_challenge_ack_limit = 1000\n";
    char ip[INET6_ADDRSTRLEN];

    ck_assert_int_eq(parse(text), 0);
    ck_assert_str_eq(c.eal, "-l 1 --file-prefix=x --vdev=net_af_xdp0,iface=sh0");
    ck_assert_str_eq(c.port, "net_af_xdp0");
    ck_assert(c.has_mac);
    ck_assert_int_eq(c.mac[0], 0x02);
    ck_assert_int_eq(c.mac[4], 0xaa);
    ck_assert_int_eq(c.mac[5], 0x01);
    ck_assert(c.has_ip4);
    ck_assert_str_eq(inet_ntop(AF_INET, &c.ip4, ip, sizeof(ip)), "10.9.0.2");
    ck_assert_uint_eq(c.ip4_prefix, 24);
    ck_assert(c.has_gateway4);
    ck_assert_str_eq(inet_ntop(AF_INET, &c.gateway4, ip, sizeof(ip)), "10.9.0.1");
    ck_assert(c.has_ip6);
    ck_assert_str_eq(inet_ntop(AF_INET6, &c.ip6, ip, sizeof(ip)), "fd00:9::2");
    ck_assert_uint_eq(c.ip6_prefix, 64);
    ck_assert_uint_eq(c.mtu, 9000);
    ck_assert_uint_eq(c.mbufs, 65535);
    ck_assert_uint_eq(c.mbuf_cache, 128);
    ck_assert_uint_eq(c.mbuf_size, 9216);
    ck_assert_uint_eq(c.rx_ring, 2048);
    ck_assert_uint_eq(c.tx_ring, 512);
    ck_assert_uint_eq(c.burst, 64);
    ck_assert(!c.stats);
    ck_assert_uint_eq(c.tcp_rto_min_us, 5000);
    ck_assert_uint_eq(c.tcp_rto_max_us, 2000000);
    ck_assert_str_eq(c.tcp_congestion, "reno");
    ck_assert_uint_eq(c.tcp_invalid_ratelimit, 0);
    ck_assert_uint_eq(c.tcp_challenge_ack_limit, 1000);
    ck_assert_str_eq(c.source, "t.conf");
}
END_TEST

START_TEST(defaults)
{
    ck_assert_int_eq(parse(GOOD_EAL "ip6 = fd00::2/64"), 0);    /* no final newline */
    ck_assert(!c.has_ip4);
    ck_assert(!c.has_gateway4);
    ck_assert(!c.has_mac);
    ck_assert_str_eq(c.port, "");
    ck_assert_uint_eq(c.mtu, 0);
    ck_assert_uint_eq(c.mbufs, 16383);
    ck_assert_uint_eq(c.mbuf_cache, 256);
    ck_assert_uint_eq(c.mbuf_size, 2048);
    ck_assert_uint_eq(c.rx_ring, 1024);
    ck_assert_uint_eq(c.tx_ring, 1024);
    ck_assert_uint_eq(c.burst, 32);
    ck_assert(c.stats);
    ck_assert_uint_eq(c.tcp_rto_min_us, 200000);        /* Linux's */
    ck_assert_uint_eq(c.tcp_rto_max_us, 120000000);
    ck_assert_str_eq(c.tcp_congestion, "cubic");        /* Linux's */
    ck_assert_uint_eq(c.tcp_invalid_ratelimit, 500);            /* Linux 6.1's */
    ck_assert_uint_eq(c.tcp_challenge_ack_limit, 2147483647);   /* no limit, as Linux >= 6.0 */
    ck_assert_int_eq(c.poll, SHUNT_POLL_SPIN);
    ck_assert_uint_eq(c.spin_us, 100);
    ck_assert_int_eq(c.checksum, SHUNT_CHKSUM_AUTO);
}
END_TEST

START_TEST(line_errors)
{
    refused(GOOD_EAL "ip = 10.0.0.2/24\nspeed = 10G\n", "t.conf:3:", "unknown key 'speed'");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nip = 10.0.0.3/24\n", "t.conf:3:", "ip is set twice");
    refused(GOOD_EAL "ip 10.0.0.2/24\n", "t.conf:2:", "not a 'key = value' line");
    refused(GOOD_EAL "ip =\n", "t.conf:2:", "ip has no value");
    refused(GOOD_EAL "ip = # nothing\n", "t.conf:2:", "ip has no value");
}
END_TEST

START_TEST(bad_addresses)
{
    refused(GOOD_EAL "ip = 10.0.0.300/24\n", "t.conf:2: ip:", "e.g. 10.9.0.2/24");
    refused(GOOD_EAL "ip = 10.0.0.2\n", "t.conf:2: ip:", "address/prefix");
    refused(GOOD_EAL "ip = 10.0.0.2/33\n", "t.conf:2: ip:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/0\n", "t.conf:2: ip:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24x\n", "t.conf:2: ip:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\ngateway = 10.0.0\n", "t.conf:3: gateway:", "IPv4 address");
    refused(GOOD_EAL "ip = 10.0.0.2/24\ngateway = 10.0.1.1\n", "gateway 10.0.1.1", "not inside the ip subnet");
    refused(GOOD_EAL "ip6 = fd00::2/64\ngateway = 10.0.1.1\n", "not inside the ip subnet", NULL);
    refused(GOOD_EAL "ip6 = fd00::zz/64\n", "t.conf:2: ip6:", "e.g. fd00:9::2/64");
    refused(GOOD_EAL "ip6 = fd00::2/48\n", "t.conf:2: ip6:", "/64");
    refused(GOOD_EAL "ip6 = fd00::2/129\n", "t.conf:2: ip6:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmac = 01:00:5e:00:00:01\n", "t.conf:3: mac:", "unicast");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmac = 00:00:00:00:00:00\n", "t.conf:3: mac:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmac = 02:00:00:00:00\n", "t.conf:3: mac:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmac = 02:00:00:00:00:0g\n", "t.conf:3: mac:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmac = 02:00:00:00:00:01:03\n", "t.conf:3: mac:", NULL);

    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/32\ngateway = 10.0.0.2\n"), 0);
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.255.0.2/8\ngateway = 10.0.0.1\n"), 0);
}
END_TEST

START_TEST(bad_numbers)
{
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmtu = 100\n", "t.conf:3: mtu:", "from 1280 to 9702");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmtu = 1500b\n", "t.conf:3: mtu:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nburst = 0\n", "t.conf:3: burst:", "from 1 to 64");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmbuf_size = 512\n", "t.conf:3: mbuf_size:", "from 1024 to");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nburst = 65\n", "t.conf:3: burst:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nburst = -1\n", "t.conf:3: burst:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmbufs = 99999999999999999999\n", "t.conf:3: mbufs:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nstats = maybe\n", "t.conf:3: stats:", "yes nor no");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nmbufs = 2047\n", "mbufs = 2047", "at least 4096");
    refused(GOOD_EAL "ip = 10.0.0.2/24\ntcp_rto_min_us = 0\n", "t.conf:3: tcp_rto_min_us:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\ntcp_rto_max_us = 120000001\n", "tcp_rto_max_us:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\ntcp_rto_min_us = 300000\ntcp_rto_max_us = 200000\n",
            "tcp_rto_min_us = 300000", "must not exceed the maximum");
    refused(GOOD_EAL "ip = 10.0.0.2/24\ntcp_congestion = bbr\n", "tcp_congestion = bbr",
            "shunt_cc_register");
    refused(GOOD_EAL "ip = 10.0.0.2/24\ntcp_congestion = a-name-much-too-long\n",
            "tcp_congestion", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\ntcp_challenge_ack_limit = 0\n",
            "t.conf:3: tcp_challenge_ack_limit:", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\ntcp_challenge_ack_limit = 2147483648\n",
            "t.conf:3: tcp_challenge_ack_limit:", NULL);
}
END_TEST

START_TEST(missing_pieces)
{
    refused("ip = 10.0.0.2/24\n", "no eal line", "eal = ");
    refused(GOOD_EAL, "no address", "ip = ");
    refused("", "no eal line", NULL);
}
END_TEST

START_TEST(long_line)
{
    char *text = malloc(10000);
    strcpy(text, "eal = ");
    memset(text + 6, 'x', 9000);
    text[9006] = '\0';
    refused(text, "t.conf:1:", "longer than");
    free(text);
    refused("port = 0123456789012345678901234567890123456789012345678901234567890123456789\n",
            "t.conf:1: port:", "longer than 63");
}
END_TEST

/* The queue, and faults: checked as the file is read, kept as written. */
START_TEST(queue_and_faults)
{
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\nqueue = 3\n"
                           "faults = rx:drop=0.01,reorder=0.05;tx:dup=0.01\nfaults_seed = 42\n"), 0);
    ck_assert_uint_eq(c.queue, 3);
    ck_assert_str_eq(c.faults, "rx:drop=0.01,reorder=0.05;tx:dup=0.01");
    ck_assert_uint_eq(c.faults_seed, 42);
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\n"), 0);
    ck_assert_uint_eq(c.queue, 0);
    ck_assert_str_eq(c.faults, "");
    ck_assert_uint_eq(c.faults_seed, 1);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nqueue = 1024\n", "t.conf:3: queue:", "from 0 to 1023");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nfaults = rx:drop=2\n", "t.conf:3: faults:",
            "from 0 to 1");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nfaults = sideways:drop=0.1\n", "t.conf:3: faults:",
            "rx: or tx:");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nfaults = rx:lose=0.1\n", "t.conf:3: faults:",
            "unknown setting 'lose'");
}
END_TEST

/* The poll mode (stack/idle.h), and the key it replaced. */
START_TEST(poll_mode)
{
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\npoll = spin-then-sleep\nspin_us = 0\n"), 0);
    ck_assert_int_eq(c.poll, SHUNT_POLL_SLEEP);
    ck_assert_uint_eq(c.spin_us, 0);
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\npoll = spin\nspin_us = 1000000\n"), 0);
    ck_assert_int_eq(c.poll, SHUNT_POLL_SPIN);
    ck_assert_uint_eq(c.spin_us, 1000000);
    refused(GOOD_EAL "ip = 10.0.0.2/24\npoll = sleep\n", "t.conf:3: poll:",
            "neither spin nor spin-then-sleep");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nspin_us = 1000001\n", "t.conf:3: spin_us:",
            "from 0 to 1000000");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nwait_sleep_us = 1000\n", "t.conf:3: wait_sleep_us is gone",
            "poll = spin-then-sleep");
}
END_TEST

/* The IGMP and MLD versions a host may be forced to speak. */
START_TEST(forced_report_versions)
{
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\n"), 0);
    ck_assert_uint_eq(c.force_igmp_version, 0);
    ck_assert_uint_eq(c.force_mld_version, 0);
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\nforce_igmp_version = 2\n"
                                    "force_mld_version = 1\n"), 0);
    ck_assert_uint_eq(c.force_igmp_version, 2);
    ck_assert_uint_eq(c.force_mld_version, 1);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nforce_igmp_version = 4\n", "t.conf:3: force_igmp_version:",
            "from 0 to 3");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nforce_mld_version = 3\n", "t.conf:3: force_mld_version:",
            "from 0 to 2");
}
END_TEST

/* The checksum's variant by name: each this CPU has, and the valid ones
 * named when a value is none. */
START_TEST(checksum_variant)
{
    for (int k = 0; k < SHUNT_CHKSUM_KINDS; k++) {
        char text[256];
        snprintf(text, sizeof(text), GOOD_EAL "ip = 10.0.0.2/24\nchecksum = %s\n",
                 shunt_chksum_name(k));
        if (!shunt_chksum_has(k)) {
            refused(text, "t.conf:3: checksum:", "this CPU has no");
            continue;
        }
        ck_assert_int_eq(parse(text), 0);
        ck_assert_int_eq(c.checksum, k);
    }
    refused(GOOD_EAL "ip = 10.0.0.2/24\nchecksum = avx512\n", "t.conf:3: checksum:",
            "use auto, portable, sse or avx2");
}
END_TEST

/* Whether port is in the exception list for TCP (udp false) or UDP. */
static bool excepted(const struct shunt_exception_ports *p, bool udp, unsigned port)
{
    const uint64_t *bits = udp ? p->udp : p->tcp;

    return (bits[port / 64] >> (port % 64)) & 1;
}

/* The exception path's keys, its list of ports, and the tap's names. */
START_TEST(exception_keys)
{
    static struct shunt_exception_ports ports;
    char name[IF_NAMESIZE], vdev[128];

    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\n"), 0);
    ck_assert(!c.exception);
    ck_assert_str_eq(c.exception_ports, "");
    shunt_kernelif_name(&c, name);
    ck_assert_str_eq(name, "ksh0");                 /* k + the vdev's iface */

    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\nexception = yes\nqueue = 2\n"
                           "exception_ports = 22, tcp:8000-8002 ,udp:53\n"
                           "exception_iface = host0\n"), 0);
    ck_assert(c.exception);
    shunt_kernelif_vdev(&c, vdev, sizeof(vdev));
    ck_assert_str_eq(vdev, "--vdev=net_tap_shunt2,iface=host0");
    ck_assert_int_eq(shunt_exception_ports_parse(c.exception_ports, &ports, err, sizeof(err)), 0);
    ck_assert(excepted(&ports, false, 22) && excepted(&ports, true, 22));
    ck_assert(excepted(&ports, false, 8000) && excepted(&ports, false, 8002));
    ck_assert(!excepted(&ports, true, 8001) && !excepted(&ports, false, 8003));
    ck_assert(excepted(&ports, true, 53) && !excepted(&ports, false, 53));
    ck_assert(!excepted(&ports, false, 21) && !excepted(&ports, true, 7));

    /* No iface= on the eal line: named after the queue. */
    ck_assert_int_eq(parse("eal = -l 0 --vdev=net_ring0\nip = 10.0.0.2/24\nexception = yes\n"
                           "queue = 1\n"), 0);
    shunt_kernelif_name(&c, name);
    ck_assert_str_eq(name, "shunt-k1");

    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception = yes\nexception_ports = 0\n",
            "t.conf:4: exception_ports: '0' is not a port or range from 1 to 65535", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception = yes\nexception_ports = 22, 70000\n",
            "'70000' is not a port", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception = yes\nexception_ports = sctp:22\n",
            "'sctp:22' is not a port", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception = yes\nexception_ports = 90-80\n",
            "'90-80' is not a port", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception = yes\nexception_ports = 22,,53\n",
            "'' is not a port", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception = yes\nexception_iface = a-name-too-long-for-linux\n",
            "t.conf:4: exception_iface: longer than 15 characters", NULL);
    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception_ports = 22\n",
            "exception_ports is set but the exception path is off", "exception = yes");
    refused(GOOD_EAL "ip = 10.0.0.2/24\nexception = maybe\n", "t.conf:3: exception:", "yes nor no");
}
END_TEST

/* A group: instances and cores, and each instance's file made from it. */
#define GROUP_EAL "eal = --no-pci --file-prefix=g --vdev=net_af_xdp0,iface=nosuch0\n"

START_TEST(group_keys)
{
    ck_assert_int_eq(parse(GOOD_EAL "ip = 10.0.0.2/24\n"), 0);
    ck_assert_uint_eq(c.instances, 1);
    ck_assert_uint_eq(c.instance, 0);               /* one instance: chosen already */

    ck_assert_int_eq(parse(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\ncores = 1,0\n"), 0);
    ck_assert_uint_eq(c.instances, 2);
    ck_assert_uint_eq(c.ncores, 2);
    ck_assert_uint_eq(c.cores[0], 1);
    ck_assert_uint_eq(c.cores[1], 0);
    ck_assert_uint_eq(c.instance, SHUNT_INSTANCE_NONE);
    struct shunt_config group = c;

    /* No index: a line saying how to choose one. */
    ck_assert_int_eq(shunt_config_select(&c, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "--instance") != NULL && strchr(err, '\n') == NULL, "%s", err);
    ck_assert_int_eq(shunt_config_select(&c, "2", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "instance '2' is out of range") != NULL &&
                  strstr(err, "0 to 1") != NULL, "%s", err);
    ck_assert_int_eq(shunt_config_select(&c, "x", err, sizeof(err)), -1);

    /* Instance 1: its core, its prefix, queue 1 of the interface. */
    ck_assert_msg(shunt_config_select(&c, "1", err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(c.instance, 1);
    ck_assert_str_eq(c.eal, "--no-pci --file-prefix=g-1 "
                     "--vdev=net_af_xdp0,iface=nosuch0,start_queue=1,queue_count=1 -l 0");
    ck_assert_str_eq(c.prefix, "g");
    ck_assert_uint_eq(c.queue, 0);                  /* DPDK's queue 0 is the kernel's 1 */
    ck_assert(!c.shared);
    c = group;
    ck_assert_int_eq(shunt_config_select(&c, "0", err, sizeof(err)), 0);
    ck_assert_str_eq(c.eal, "--no-pci --file-prefix=g-0 "
                     "--vdev=net_af_xdp0,iface=nosuch0,start_queue=0,queue_count=1 -l 1");

    /* No file-prefix: shunt-i; "--file-prefix P" as two words too. */
    ck_assert_int_eq(parse("eal = --vdev net_af_xdp0,iface=nosuch0\nip = 10.0.0.2/24\n"
                           "instances = 2\ncores = 0,1\n"), 0);
    ck_assert_int_eq(shunt_config_select(&c, "1", err, sizeof(err)), 0);
    ck_assert_str_eq(c.eal, "--vdev net_af_xdp0,iface=nosuch0,start_queue=1,queue_count=1 -l 1 "
                     "--file-prefix=shunt-1");
    ck_assert_str_eq(c.prefix, "shunt");
    ck_assert_int_eq(parse("eal = --file-prefix p --vdev=net_af_xdp0,iface=nosuch0\n"
                           "ip = 10.0.0.2/24\ninstances = 2\ncores = 0,1\n"), 0);
    ck_assert_int_eq(shunt_config_select(&c, "0", err, sizeof(err)), 0);
    ck_assert_str_eq(c.eal, "--file-prefix p-0 --vdev=net_af_xdp0,iface=nosuch0,start_queue=0,"
                     "queue_count=1 -l 0");

    /* A shared port: one prefix, instance 0 the primary, the others its
     * secondaries, instance i on queue i. */
    ck_assert_int_eq(parse("eal = --no-pci --file-prefix=t --vdev=net_tap0,iface=t0\n"
                           "ip = 10.0.0.2/24\ninstances = 2\ncores = 1,0\n"), 0);
    group = c;
    ck_assert_msg(shunt_config_select(&c, "0", err, sizeof(err)) == 0, "%s", err);
    ck_assert(c.shared);
    ck_assert_uint_eq(c.queue, 0);
    ck_assert_str_eq(c.eal, "--no-pci --file-prefix=t --vdev=net_tap0,iface=t0 -l 1 "
                     "--proc-type=primary");
    c = group;
    ck_assert_msg(shunt_config_select(&c, "1", err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(c.queue, 1);
    ck_assert_str_eq(c.prefix, "t");
    ck_assert_str_eq(c.eal, "--no-pci --file-prefix=t --vdev=net_tap0,iface=t0 -l 0 "
                     "--proc-type=secondary");
    ck_assert_int_eq(parse("eal = --vdev=net_tap0\nip = 10.0.0.2/24\ninstances = 2\n"
                           "cores = 0,1\n"), 0);
    ck_assert_int_eq(shunt_config_select(&c, "1", err, sizeof(err)), 0);
    ck_assert_str_eq(c.eal, "--vdev=net_tap0 -l 1 --file-prefix=shunt --proc-type=secondary");

    /* A queue the interface does not have (lo has one). */
    ck_assert_int_eq(parse("eal = --vdev=net_af_xdp0,iface=lo\nip = 10.0.0.2/24\n"
                           "instances = 3\ncores = 0,1,2\n"), 0);
    ck_assert_int_eq(shunt_config_select(&c, "2", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "needs queue 2 of lo, which has 1") != NULL, "%s", err);

    /* $SHUNT_INSTANCE chooses as the file is loaded. */
    char path[] = "/tmp/shunt-test-group-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\ncores = 0,1\n", f);
    fclose(f);
    unsetenv(SHUNT_INSTANCE_ENV);
    ck_assert_int_eq(shunt_config_load(&c, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.instance, SHUNT_INSTANCE_NONE);
    setenv(SHUNT_INSTANCE_ENV, "1", 1);
    ck_assert_int_eq(shunt_config_load(&c, path, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.instance, 1);
    ck_assert_msg(strstr(c.eal, "--file-prefix=g-1") != NULL, "%s", c.eal);
    unsetenv(SHUNT_INSTANCE_ENV);
    unlink(path);

    refused(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\n", "instances = 2 needs cores",
            "cores = 0,1");
    refused(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\ncores = 0\n",
            "cores lists 1 core for instances = 2", NULL);
    refused(GROUP_EAL "ip = 10.0.0.2/24\ncores = 0,1\n", "cores lists 2 cores for instances = 1",
            NULL);
    refused(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\ncores = 0,0\n",
            "t.conf:4: cores: core 0 is listed twice", NULL);
    refused(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\ncores = 0,x\n",
            "t.conf:4: cores: '0,x' is not a list of cores", NULL);
    refused(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 65\n", "t.conf:3: instances:", "1 to 64");
    refused("eal = -l 0 --vdev=net_af_xdp0,iface=lo\nip = 10.0.0.2/24\ninstances = 2\n"
            "cores = 0,1\n", "takes no -l", NULL);
    refused(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\ncores = 0,1\nqueue = 1\n",
            "instance i owns queue i", "remove queue");
    refused("eal = --vdev=net_af_packet0,iface=lo\nip = 10.0.0.2/24\ninstances = 2\n"
            "cores = 0,1\n", "cannot share a net_af_packet port", "use net_af_xdp");
    refused("eal = --vdev=net_af_xdp0,iface=lo,start_queue=1\nip = 10.0.0.2/24\n"
            "instances = 2\ncores = 0,1\n", "remove start_queue", NULL);
    refused(GROUP_EAL "ip = 10.0.0.2/24\ninstances = 2\ncores = 0,1\nexception = yes\n",
            "the exception path takes one instance", NULL);
}
END_TEST

START_TEST(load_file)
{
    char path[] = "/tmp/shunt-test-config-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(GOOD_EAL "ip = 10.0.0.2/24\n", f);
    fclose(f);

    ck_assert_int_eq(shunt_config_load(&c, path, err, sizeof(err)), 0);
    ck_assert_str_eq(c.source, path);

    /* No path: $SHUNT_CONFIG names the file. */
    unsetenv(SHUNT_CONFIG_ENV);
    ck_assert_int_eq(shunt_config_load(&c, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, SHUNT_CONFIG_ENV) != NULL, "%s", err);
    setenv(SHUNT_CONFIG_ENV, path, 1);
    ck_assert_int_eq(shunt_config_load(&c, NULL, err, sizeof(err)), 0);
    ck_assert(c.has_ip4);

    unlink(path);
    ck_assert_int_eq(shunt_config_load(&c, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, path) != NULL && strstr(err, "No such file") != NULL, "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, full_file);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, line_errors);
    tcase_add_test(tc, bad_addresses);
    tcase_add_test(tc, bad_numbers);
    tcase_add_test(tc, missing_pieces);
    tcase_add_test(tc, long_line);
    tcase_add_test(tc, queue_and_faults);
    tcase_add_test(tc, poll_mode);
    tcase_add_test(tc, forced_report_versions);
    tcase_add_test(tc, checksum_variant);
    tcase_add_test(tc, exception_keys);
    tcase_add_test(tc, group_keys);
    tcase_add_test(tc, load_file);
    suite_add_tcase(s, tc);

    return run_suite(s);
}
