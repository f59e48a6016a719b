/*
 * kernelif.c - the exception path's tap: its name, its EAL argument, and
 * the addresses the kernel gets on it.
 */
#include "kernelif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eal.h"
#include "text.h"

void shunt_kernelif_port(const struct shunt_config *c, char *name, size_t len)
{
    snprintf(name, len, "net_tap_shunt%u", c->queue);
}

void shunt_kernelif_name(const struct shunt_config *c, char name[IF_NAMESIZE])
{
    char iface[IF_NAMESIZE];

    if (c->exception_iface[0] != '\0')
        snprintf(name, IF_NAMESIZE, "%s", c->exception_iface);
    else if (shunt_eal_iface(c->eal, NULL, iface, sizeof(iface) - 1))
        snprintf(name, IF_NAMESIZE, "k%.*s", IF_NAMESIZE - 2, iface);
    else
        snprintf(name, IF_NAMESIZE, "shunt-k%u", c->queue);
}

void shunt_kernelif_vdev(const struct shunt_config *c, char *arg, size_t len)
{
    char port[64], name[IF_NAMESIZE];

    shunt_kernelif_port(c, port, sizeof(port));
    shunt_kernelif_name(c, name);
    snprintf(arg, len, "--vdev=%s,iface=%s", port, name);
}

/* Write value to /proc/sys/net/ipv6/conf/NAME/key. */
static int ipv6_sysctl(const char *name, const char *key, const char *value)
{
    char path[128];

    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", name, key);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int rc = fputs(value, f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

/* The tap came up with a MAC of its own, and its link-local address was
 * made from it: IPv6 off and on again makes it anew from the port's, the
 * address lwIP has. */
static int fresh_link_local(const char *name)
{
    return ipv6_sysctl(name, "disable_ipv6", "1") != 0 ? -1
                                                       : ipv6_sysctl(name, "disable_ipv6", "0");
}

/* An IPv4 address and its netmask, as ifconfig sets them. */
static int set_ip4(int fd, const char *name, struct in_addr addr, uint32_t prefix)
{
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    sin->sin_family = AF_INET;
    sin->sin_addr = addr;
    if (ioctl(fd, SIOCSIFADDR, &ifr) != 0)
        return -1;
    sin->sin_addr.s_addr = htonl(~0u << (32 - prefix));
    return ioctl(fd, SIOCSIFNETMASK, &ifr);
}

/* The kernel's own struct for SIOCSIFADDR on an IPv6 socket (linux/ipv6.h,
 * which does not mix with glibc's headers). */
struct ifreq6 {
    struct in6_addr addr;
    uint32_t prefixlen;
    int ifindex;
};

static int set_ip6(int fd, const char *name, const struct in6_addr *addr, uint32_t prefix)
{
    struct ifreq6 req = { *addr, prefix, (int)if_nametoindex(name) };

    if (req.ifindex == 0)
        return -1;
    return ioctl(fd, SIOCSIFADDR, &req);
}

int shunt_kernelif_setup(const char *name, const struct shunt_config *c, char *err,
                         size_t errlen)
{
    char text[INET6_ADDRSTRLEN];
    int rc = 0;

    if (c->has_ip4) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        rc = fd < 0 ? -1 : set_ip4(fd, name, c->ip4, c->ip4_prefix);
        if (fd >= 0)
            close(fd);
        if (rc != 0)
            return shunt_fail(err, errlen, "the kernel refused %s/%u on %s (%s): the exception "
                              "path needs root (CAP_NET_ADMIN)",
                              inet_ntop(AF_INET, &c->ip4, text, sizeof(text)), c->ip4_prefix,
                              name, strerror(errno));
    }
    if (c->has_ip6) {
        /* Shunt answers neighbour discovery for the address: the kernel
         * must not probe for it first, nor configure itself from routers. */
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        rc = fd < 0 || ipv6_sysctl(name, "accept_dad", "0") != 0 ||
             ipv6_sysctl(name, "accept_ra", "0") != 0 || fresh_link_local(name) != 0
                 ? -1 : set_ip6(fd, name, &c->ip6, c->ip6_prefix);
        if (fd >= 0)
            close(fd);
        if (rc != 0)
            return shunt_fail(err, errlen, "the kernel refused %s/%u on %s (%s): the exception "
                              "path needs root (CAP_NET_ADMIN) and IPv6 on (net.ipv6.conf.%s."
                              "disable_ipv6 = 0)",
                              inet_ntop(AF_INET6, &c->ip6, text, sizeof(text)), c->ip6_prefix,
                              name, strerror(errno), name);
    }
    return 0;
}
