/*
 * policy.h - which of a program's sockets go to Shunt and which to the
 * kernel, when Shunt runs under a program that was written for the kernel's
 * sockets (api/preload.c).
 *
 * A socket is decided when it is given an address: by bind() (its own
 * address) or by connect(), sendto() or sendmsg() (its peer's).  Until then
 * it is a kernel socket.  The default:
 *
 *   - bind to the wildcard (0.0.0.0, ::) or to one of Shunt's addresses:
 *     Shunt (a wildcard TCP listener listens on the kernel's side too, so
 *     this host's own processes still reach it over loopback);
 *   - connect to an address in Shunt's subnets (ip, ip6), or anywhere but
 *     loopback when Shunt has a gateway: Shunt;
 *   - everything else - loopback, the host's other addresses, AF_UNIX,
 *     netlink, raw sockets: the kernel.
 *
 * The config narrows that (stack/config.h):
 *
 *   program    = redis-server        only this program's sockets go to Shunt
 *   accelerate = tcp:6379, udp       only sockets a rule matches go to Shunt
 *   kernel     = udp:53, 10.9.0.7    sockets a rule matches stay on the kernel
 *
 * A rule is a protocol (tcp, udp), a port or range after it (tcp:6379,
 * udp:5000-5010), an address or subnet (10.9.0.0/24, fd00:9::/64, IPv6 in
 * brackets when a port follows: [fd00:9::5]:80), or both (tcp:10.9.0.7:80).
 * The port and address are those the decision is made on: the socket's own
 * for bind, its peer's for connect.
 */
#ifndef SHUNT_POLICY_H
#define SHUNT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

#define SHUNT_RULES_MAX 16

struct shunt_rule {
    int proto;                  /* IPPROTO_TCP, IPPROTO_UDP, 0: either */
    int family;                 /* AF_INET, AF_INET6, 0: no address */
    uint8_t addr[16];           /* network byte order */
    unsigned prefix;            /* bits of addr that must match */
    uint16_t port_lo, port_hi;  /* 0, 0: any port */
};

struct shunt_rules {
    int n;
    struct shunt_rule rule[SHUNT_RULES_MAX];
};

/* Parse a comma-separated rule list; 0, or -1 with a one-line message. */
int shunt_rules_parse(const char *text, struct shunt_rules *out, char *err, size_t errlen);

struct shunt_policy {
    const struct shunt_config *config;  /* Shunt's addresses, its gateway */
    bool program_matches;               /* no `program`, or this is it */
    bool narrowed;                      /* `accelerate` was given */
    struct shunt_rules accelerate;
    struct shunt_rules kernel;
};

/* The policy of config c for the program named prog; 0, or -1 with err. */
int shunt_policy_init(struct shunt_policy *p, const struct shunt_config *c, const char *prog,
                      char *err, size_t errlen);

enum shunt_policy_op { SHUNT_POLICY_BIND, SHUNT_POLICY_CONNECT };

/*
 * Whether a socket of protocol proto (IPPROTO_TCP/UDP) given address a by
 * op goes to Shunt.  *why says, in a few words, which rule decided.
 */
bool shunt_policy_accelerates(const struct shunt_policy *p, int proto, enum shunt_policy_op op,
                              const struct sockaddr *a, socklen_t len, const char **why);

/* Whether a is the wildcard address (0.0.0.0, ::) of its family. */
bool shunt_policy_is_wildcard(const struct sockaddr *a, socklen_t len);

#endif /* SHUNT_POLICY_H */
