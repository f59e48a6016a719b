/*
 * kernelif.h - the kernel's side of the exception path (port/exception.h):
 * the net_tap device Shunt adds to the EAL line, and the kernel interface
 * it makes, given the port's MAC and Shunt's addresses so the host answers
 * as one machine.
 *
 * The device is named after the instance (net_tap_shunt<queue>), so
 * instances in one DPDK memory do not clash; the kernel's name is
 * exception_iface, else "k" and the port's interface (the iface= of the eal
 * line's vdev: sh0 gives ksh0), else shunt-k<queue>.
 *
 * The kernel gets the addresses, and no duplicate-address detection and no
 * router advertisements of its own on that interface (Shunt answers
 * neighbour discovery for both; the routes stay the operator's).  The
 * interface goes when the device closes.
 */
#ifndef SHUNT_KERNELIF_H
#define SHUNT_KERNELIF_H

#include <net/if.h>
#include <stddef.h>

#include "config.h"

/* The DPDK name of the exception path's port, e.g. net_tap_shunt0. */
void shunt_kernelif_port(const struct shunt_config *c, char *name, size_t len);

/* The kernel's name of its interface (at most IF_NAMESIZE - 1 characters). */
void shunt_kernelif_name(const struct shunt_config *c, char name[IF_NAMESIZE]);

/* The EAL argument that makes it: --vdev=net_tap_shunt0,iface=ksh0. */
void shunt_kernelif_vdev(const struct shunt_config *c, char *arg, size_t len);

/*
 * Give the kernel's interface name the configuration's addresses.  Returns
 * 0, or -1 with one line in err saying what the kernel refused.
 */
int shunt_kernelif_setup(const char *name, const struct shunt_config *c, char *err,
                         size_t errlen);

#endif /* SHUNT_KERNELIF_H */
