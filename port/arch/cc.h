/*
 * arch/cc.h - the compiler and C library lwIP is built with: Linux, glibc,
 * GCC or clang, x86-64.
 */
#ifndef SHUNT_ARCH_CC_H
#define SHUNT_ARCH_CC_H

#include <endian.h>     /* BYTE_ORDER, LITTLE_ENDIAN */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>   /* struct timeval: lwIP must not define its own */
#include <sys/types.h>

#define LWIP_TIMEVAL_PRIVATE    0
#define LWIP_ERRNO_STDINCLUDE   1

/* The compiler's byte swaps, not lwIP's portable C versions. */
#define lwip_htons(x)           ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x)           ((u32_t)__builtin_bswap32((u32_t)(x)))
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS

/* The Internet checksum 8 to 32 bytes at a time (port/chksum.h), not lwIP's
 * two: on ports without checksum offload it is paid on every segment. */
#include "chksum.h"
#define LWIP_CHKSUM             shunt_chksum

/* lwIP's heap (lwipopts.h: MEM_LIBC_MALLOC), in mbufs (port/heap.h). */
void *shunt_heap_malloc(size_t size);
void *shunt_heap_calloc(size_t count, size_t size);
void shunt_heap_free(void *mem);

/* Random numbers for ephemeral ports and initial sequence numbers. */
uint32_t shunt_lwip_rand(void);
#define LWIP_RAND()             shunt_lwip_rand()

/* A failed lwIP assertion is a bug: say where, then abort. */
void shunt_lwip_assert(const char *msg, const char *file, int line)
    __attribute__((noreturn));
#define LWIP_PLATFORM_ASSERT(x) shunt_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_PLATFORM_DIAG(x)   do { printf x; } while (0)

#endif /* SHUNT_ARCH_CC_H */
