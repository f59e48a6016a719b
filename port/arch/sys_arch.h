/*
 * arch/sys_arch.h - lwIP's OS layer.  With NO_SYS=1 lwIP needs no threads,
 * semaphores or mailboxes; only sys_now() (port/sys_arch.c) remains.
 */
#ifndef SHUNT_ARCH_SYS_ARCH_H
#define SHUNT_ARCH_SYS_ARCH_H

/* SYS_LIGHTWEIGHT_PROT is 0: lwIP is only entered from its owner thread. */
typedef int sys_prot_t;

#endif /* SHUNT_ARCH_SYS_ARCH_H */
