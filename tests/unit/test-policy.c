/*
 * test-policy.c - which sockets an interposed program's stack takes
 * (stack/policy.h): the default by address, the config's rules, and the
 * one-line error for a rule that is not one.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "suite.h"

#define BASE "eal = -l 0 --no-pci --vdev=net_af_xdp0,iface=sh0\n" \
             "ip = 10.9.0.2/24\nip6 = fd00:9::2/64\n"

static struct shunt_config c;
static struct shunt_policy p;
static char err[512];

/* The policy of BASE plus extra, for the program prog. */
static void policy(const char *extra, const char *prog)
{
    char text[1024];

    snprintf(text, sizeof(text), BASE "%s", extra);
    ck_assert_msg(shunt_config_parse(&c, text, "t.conf", err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(shunt_policy_init(&p, &c, prog, err, sizeof(err)) == 0, "%s", err);
}

/* Whether a socket of proto given addr:port by op goes to Shunt; *why out. */
static bool to_shunt(int proto, enum shunt_policy_op op, const char *addr, int port,
                     const char **why)
{
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if (inet_pton(AF_INET, addr, &in.sin_addr) == 1)
        return shunt_policy_accelerates(&p, proto, op, (struct sockaddr *)&in, sizeof(in), why);
    ck_assert(inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1);
    return shunt_policy_accelerates(&p, proto, op, (struct sockaddr *)&in6, sizeof(in6), why);
}

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define BIND SHUNT_POLICY_BIND
#define CONNECT SHUNT_POLICY_CONNECT

START_TEST(by_default)
{
    const char *why;

    policy("", "redis-server");
    ck_assert(to_shunt(TCP, BIND, "0.0.0.0", 6379, &why));
    ck_assert_str_eq(why, "the wildcard address");
    ck_assert(to_shunt(TCP, BIND, "::", 5201, NULL));
    ck_assert(to_shunt(UDP, BIND, "10.9.0.2", 53, &why));
    ck_assert_str_eq(why, "Shunt's address");
    ck_assert(to_shunt(TCP, BIND, "fd00:9::2", 80, NULL));
    ck_assert(!to_shunt(TCP, BIND, "127.0.0.1", 6379, &why));
    ck_assert_str_eq(why, "loopback");
    ck_assert(!to_shunt(TCP, BIND, "::1", 6379, NULL));
    ck_assert(!to_shunt(TCP, BIND, "::ffff:127.0.0.1", 6379, NULL));   /* v4-mapped is IPv4 */
    ck_assert(!to_shunt(TCP, BIND, "192.168.1.5", 80, &why));
    ck_assert_str_eq(why, "an address of the kernel's");

    ck_assert(to_shunt(TCP, CONNECT, "10.9.0.1", 80, &why));
    ck_assert_str_eq(why, "in Shunt's subnet");
    ck_assert(to_shunt(UDP, CONNECT, "::ffff:10.9.0.7", 5201, NULL));
    ck_assert(to_shunt(TCP, CONNECT, "fd00:9::1", 80, NULL));
    ck_assert(!to_shunt(TCP, CONNECT, "10.8.0.1", 80, &why));
    ck_assert_str_eq(why, "not reachable through Shunt");
    ck_assert(!to_shunt(TCP, CONNECT, "127.0.0.1", 80, NULL));

    /* With a gateway, anything but loopback is reachable. */
    policy("gateway = 10.9.0.1\n", "curl");
    ck_assert(to_shunt(TCP, CONNECT, "10.8.0.1", 80, &why));
    ck_assert_str_eq(why, "through Shunt's gateway");
    ck_assert(!to_shunt(TCP, CONNECT, "127.0.0.53", 53, NULL));
    ck_assert(!to_shunt(TCP, CONNECT, "2001:db8::1", 80, NULL));     /* no IPv6 gateway */

    struct sockaddr_in any4 = { .sin_family = AF_INET }, one4 = any4;
    struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
    one4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(shunt_policy_is_wildcard((struct sockaddr *)&any4, sizeof(any4)));
    ck_assert(shunt_policy_is_wildcard((struct sockaddr *)&any6, sizeof(any6)));
    ck_assert(!shunt_policy_is_wildcard((struct sockaddr *)&one4, sizeof(one4)));
    ck_assert(!shunt_policy_is_wildcard((struct sockaddr *)&any4, 4));   /* too short */
}
END_TEST

START_TEST(rules)
{
    const char *why;

    /* accelerate: only what a rule matches; kernel: never what one does. */
    policy("accelerate = tcp:6379, udp:5000-5010, 10.9.0.7\nkernel = udp:5005\n", "app");
    ck_assert(to_shunt(TCP, BIND, "0.0.0.0", 6379, NULL));
    ck_assert(!to_shunt(TCP, BIND, "0.0.0.0", 80, &why));
    ck_assert_str_eq(why, "no accelerate rule");
    ck_assert(!to_shunt(UDP, BIND, "0.0.0.0", 6379, NULL));
    ck_assert(to_shunt(UDP, BIND, "0.0.0.0", 5010, NULL));
    ck_assert(!to_shunt(UDP, BIND, "0.0.0.0", 5011, NULL));
    ck_assert(!to_shunt(UDP, BIND, "0.0.0.0", 5005, &why));
    ck_assert_str_eq(why, "a kernel rule");
    ck_assert(to_shunt(TCP, CONNECT, "10.9.0.7", 443, NULL));      /* any port of that host */
    ck_assert(!to_shunt(TCP, CONNECT, "10.9.0.8", 443, NULL));
    /* Rules narrow the default: they never send loopback to Shunt. */
    ck_assert(!to_shunt(TCP, BIND, "127.0.0.1", 6379, NULL));

    policy("kernel = 10.9.0.0/28, [fd00:9::5]:80, tcp:10.9.0.100:22\n", "app");
    ck_assert(!to_shunt(TCP, CONNECT, "10.9.0.15", 80, NULL));
    ck_assert(to_shunt(TCP, CONNECT, "10.9.0.16", 80, NULL));
    ck_assert(!to_shunt(UDP, CONNECT, "fd00:9::5", 80, NULL));
    ck_assert(to_shunt(UDP, CONNECT, "fd00:9::5", 81, NULL));
    ck_assert(!to_shunt(TCP, CONNECT, "10.9.0.100", 22, NULL));
    ck_assert(to_shunt(UDP, CONNECT, "10.9.0.100", 22, NULL));
    ck_assert(to_shunt(TCP, CONNECT, "10.9.0.100", 23, NULL));
}
END_TEST

START_TEST(program)
{
    const char *why;

    policy("program = redis-server\n", "redis-server");
    ck_assert(to_shunt(TCP, BIND, "0.0.0.0", 6379, NULL));
    policy("program = redis-server\n", "redis-benchmark");
    ck_assert(!to_shunt(TCP, BIND, "0.0.0.0", 6379, &why));
    ck_assert_str_eq(why, "another program (config: program)");
}
END_TEST

static void refused(const char *line, const char *want)
{
    char text[1024];

    snprintf(text, sizeof(text), BASE "%s", line);
    ck_assert_int_eq(shunt_config_parse(&c, text, "t.conf", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, want) != NULL, "'%s' not in '%s'", want, err);
    ck_assert_msg(strstr(err, "write tcp, udp:53") != NULL, "no example in '%s'", err);
    ck_assert_msg(strchr(err, '\n') == NULL, "not one line: '%s'", err);
}

START_TEST(bad_rules)
{
    refused("accelerate = tcp:99999\n", "t.conf:4: accelerate: 'tcp:99999' is not a rule");
    refused("kernel = udp:53, sctp:9\n", "'sctp:9' is not a rule");
    refused("kernel = tcp:90-80\n", "'tcp:90-80'");
    refused("kernel = 10.9.0.0/33\n", "'10.9.0.0/33'");
    refused("kernel = [fd00::1\n", "'[fd00::1'");
    refused("kernel = 10.9.0.1:0\n", "'10.9.0.1:0'");
    refused("accelerate = tcp:\n", "'tcp:'");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("decide");

    tcase_add_test(tc, by_default);
    tcase_add_test(tc, rules);
    tcase_add_test(tc, program);
    tcase_add_test(tc, bad_rules);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
