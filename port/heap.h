/*
 * heap.h - lwIP's heap (mem_malloc, and so every PBUF_RAM pbuf) in mbufs.
 *
 * lwIP builds each frame it sends - a TCP segment's data and its headers,
 * a UDP datagram, an ACK - in one PBUF_RAM pbuf: the pbuf header, then
 * room for the headers, then the data.  Carved out of an mbuf's data room,
 * that pbuf is already the frame, and the netif sends the mbuf itself
 * (shunt_mbuf_from_pbuf) instead of copying it into another.  lwipopts.h
 * maps lwIP's MEM_LIBC_MALLOC calls here.
 *
 * An allocation takes one mbuf of the pool given to shunt_heap_use(),
 * starting at the mbuf's buffer; one too large for an mbuf, one made while
 * the pool is low (so that queued send data cannot starve receive), or one
 * with no pool yet comes from ordinary memory, MEM_SIZE bytes of it at most
 * (NULL past that, which lwIP reports as ERR_MEM).  An address says which
 * kind an allocation is: the pool's memory is a range of its own.
 */
#ifndef SHUNT_HEAP_H
#define SHUNT_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#include <rte_mbuf.h>

/*
 * Carve allocations out of mp's mbufs from now on, except while low(arg)
 * says the pool is low.  NULL mp: no more (the port is going); allocations
 * still held in the old pool are not given back to it when lwIP frees them,
 * as the pool may be gone by then.
 */
void shunt_heap_use(struct rte_mempool *mp, bool (*low)(void *arg), void *arg);

/* lwIP's mem_clib_malloc, mem_clib_calloc and mem_clib_free. */
void *shunt_heap_malloc(size_t size);
void *shunt_heap_calloc(size_t count, size_t size);
void shunt_heap_free(void *mem);

/* The mbuf whose buffer holds mem, an address mem_malloc returned; NULL
 * when mem is in ordinary memory. */
struct rte_mbuf *shunt_heap_mbuf(const void *mem);

#endif /* SHUNT_HEAP_H */
