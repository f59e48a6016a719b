/*
 * policy.c - which sockets go to Shunt (policy.h has the rules).
 */
#include "policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing rules ---------------------------------------------------------- */

static int parse_port_range(const char *s, struct shunt_rule *r)
{
    char *end;
    unsigned long lo = strtoul(s, &end, 10), hi = lo;

    if (end == s || !isdigit((unsigned char)*s))
        return -1;
    if (*end == '-') {
        const char *h = end + 1;
        hi = strtoul(h, &end, 10);
        if (end == h || !isdigit((unsigned char)*h))
            return -1;
    }
    if (*end != '\0' || lo == 0 || hi > 65535 || lo > hi)
        return -1;
    r->port_lo = (uint16_t)lo;
    r->port_hi = (uint16_t)hi;
    return 0;
}

/* "ADDR" or "ADDR/PREFIX", IPv4 or IPv6. */
static int parse_net(char *s, struct shunt_rule *r)
{
    char *slash = strchr(s, '/');
    unsigned max;

    if (slash != NULL)
        *slash = '\0';
    if (inet_pton(AF_INET, s, r->addr) == 1) {
        r->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, s, r->addr) == 1) {
        r->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    r->prefix = max;
    if (slash != NULL) {
        char *end;
        unsigned long n = strtoul(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || n > max)
            return -1;
        r->prefix = (unsigned)n;
    }
    return 0;
}

/* After the protocol: a port range, an address, or an address and a port. */
static int parse_target(char *s, struct shunt_rule *r)
{
    char *colon;

    if (isdigit((unsigned char)s[0]) && strspn(s, "0123456789-") == strlen(s))
        return parse_port_range(s, r);
    if (s[0] == '[') {                          /* [v6]:port or [v6/prefix] */
        char *close = strchr(s, ']');
        if (close == NULL)
            return -1;
        *close = '\0';
        if (parse_net(s + 1, r) != 0 || r->family != AF_INET6)
            return -1;
        if (close[1] == '\0')
            return 0;
        return close[1] == ':' ? parse_port_range(close + 2, r) : -1;
    }
    if (strchr(s, '.') != NULL && (colon = strchr(s, ':')) != NULL) {  /* v4:port */
        *colon = '\0';
        if (parse_net(s, r) != 0 || r->family != AF_INET)
            return -1;
        return parse_port_range(colon + 1, r);
    }
    return parse_net(s, r);
}

static int parse_rule(char *s, struct shunt_rule *r)
{
    memset(r, 0, sizeof(*r));
    if ((strncmp(s, "tcp", 3) == 0 || strncmp(s, "udp", 3) == 0) && (s[3] == '\0' || s[3] == ':')) {
        r->proto = s[0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
        if (s[3] == '\0')
            return 0;
        s += 4;
    }
    return parse_target(s, r);
}

int shunt_rules_parse(const char *text, struct shunt_rules *out, char *err, size_t errlen)
{
    char buf[512];

    out->n = 0;
    if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf)) {
        snprintf(err, errlen, "rule list too long (at most %zu characters)", sizeof(buf) - 1);
        return -1;
    }
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*tok == '\0')
            continue;
        char word[128];
        snprintf(word, sizeof(word), "%s", tok);
        if (out->n == SHUNT_RULES_MAX) {
            snprintf(err, errlen, "more than %d rules", SHUNT_RULES_MAX);
            return -1;
        }
        if (parse_rule(tok, &out->rule[out->n]) != 0) {
            snprintf(err, errlen, "'%s' is not a rule: write tcp, udp:53, tcp:5000-5010, "
                     "10.9.0.0/24, [fd00:9::5]:80 or tcp:10.9.0.7:80", word);
            return -1;
        }
        out->n++;
    }
    return 0;
}

int shunt_policy_init(struct shunt_policy *p, const struct shunt_config *c, const char *prog,
                      char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->config = c;
    p->program_matches = c->program[0] == '\0' || (prog != NULL && strcmp(prog, c->program) == 0);
    p->narrowed = c->accelerate[0] != '\0';
    if (shunt_rules_parse(c->accelerate, &p->accelerate, err, errlen) != 0 ||
        shunt_rules_parse(c->kernel, &p->kernel, err, errlen) != 0)
        return -1;
    return 0;
}

/* ---- deciding ------------------------------------------------------------------ */

/* An address as the policy sees it: v4-mapped IPv6 is IPv4. */
struct target {
    int family;                 /* AF_INET, AF_INET6, 0: none */
    uint8_t addr[16];
    uint16_t port;
};

static struct target target_of(const struct sockaddr *a, socklen_t len)
{
    struct target t = { 0 };

    if (a == NULL)
        return t;
    if (a->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const void *)a;
        t.family = AF_INET;
        memcpy(t.addr, &in->sin_addr, 4);
        t.port = ntohs(in->sin_port);
    } else if (a->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const void *)a;
        t.port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            t.family = AF_INET;
            memcpy(t.addr, &in6->sin6_addr.s6_addr[12], 4);
        } else {
            t.family = AF_INET6;
            memcpy(t.addr, &in6->sin6_addr, 16);
        }
    }
    return t;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;

    if (memcmp(a, b, bytes) != 0)
        return false;
    return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

static bool rule_matches(const struct shunt_rule *r, int proto, const struct target *t)
{
    if (r->proto != 0 && r->proto != proto)
        return false;
    if (r->port_lo != 0 && (t->port < r->port_lo || t->port > r->port_hi))
        return false;
    if (r->family != 0 && (r->family != t->family || !prefix_match(r->addr, t->addr, r->prefix)))
        return false;
    return true;
}

static bool rules_match(const struct shunt_rules *rs, int proto, const struct target *t)
{
    for (int i = 0; i < rs->n; i++)
        if (rule_matches(&rs->rule[i], proto, t))
            return true;
    return false;
}

static bool is_any(const struct target *t)
{
    static const uint8_t zero[16];

    return memcmp(t->addr, zero, t->family == AF_INET ? 4 : 16) == 0;
}

static bool is_loopback(const struct target *t)
{
    static const uint8_t one6[16] = { [15] = 1 };

    return t->family == AF_INET ? t->addr[0] == 127 : memcmp(t->addr, one6, 16) == 0;
}

/* Whether t is Shunt's own address (exact) or in its subnet. */
static bool is_shunt(const struct shunt_config *c, const struct target *t, bool subnet)
{
    if (t->family == AF_INET && c->has_ip4)
        return prefix_match(t->addr, (const uint8_t *)&c->ip4, subnet ? c->ip4_prefix : 32);
    if (t->family == AF_INET6 && c->has_ip6)
        return prefix_match(t->addr, c->ip6.s6_addr, subnet ? c->ip6_prefix : 128);
    return false;
}

/* The default, before the config's rules. */
static bool by_default(const struct shunt_config *c, enum shunt_policy_op op,
                       const struct target *t, const char **why)
{
    if (t->family == 0) {
        *why = "not an IP address";
        return false;
    }
    if (is_loopback(t)) {
        *why = "loopback";
        return false;
    }
    if (op == SHUNT_POLICY_BIND) {
        if (is_any(t)) {
            *why = "the wildcard address";
            return true;
        }
        *why = is_shunt(c, t, false) ? "Shunt's address" : "an address of the kernel's";
        return is_shunt(c, t, false);
    }
    if (is_shunt(c, t, true)) {
        *why = "in Shunt's subnet";
        return true;
    }
    if (t->family == AF_INET && c->has_gateway4) {
        *why = "through Shunt's gateway";
        return true;
    }
    *why = "not reachable through Shunt";
    return false;
}

bool shunt_policy_is_wildcard(const struct sockaddr *a, socklen_t len)
{
    struct target t = target_of(a, len);

    return t.family != 0 && is_any(&t);
}

bool shunt_policy_accelerates(const struct shunt_policy *p, int proto, enum shunt_policy_op op,
                              const struct sockaddr *a, socklen_t len, const char **why)
{
    struct target t = target_of(a, len);

    if (!p->program_matches) {
        *why = "another program (config: program)";
        return false;
    }
    if (!by_default(p->config, op, &t, why))
        return false;
    if (rules_match(&p->kernel, proto, &t)) {
        *why = "a kernel rule";
        return false;
    }
    if (p->narrowed && !rules_match(&p->accelerate, proto, &t)) {
        *why = "no accelerate rule";
        return false;
    }
    return true;
}
