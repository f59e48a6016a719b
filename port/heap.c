/*
 * heap.c - lwIP's heap in mbufs, ordinary memory for the rest.
 */
#include "heap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/mem.h"
#include "lwip/opt.h"

/* What lwIP's mem_malloc puts before the memory it returns when it keeps
 * statistics (lwIP's MEM_LIBC_STATSHELPER_SIZE, private to mem.c). */
#if LWIP_STATS && MEM_STATS
#define STATS_HELPER LWIP_MEM_ALIGN_SIZE(sizeof(mem_size_t))
#else
#define STATS_HELPER 0
#endif

/* Where the pool's mbufs lie: from its lowest chunk to its highest. */
struct range {
    uintptr_t lo, hi;
};

static struct rte_mempool *pool;
static bool (*pool_low)(void *arg);
static void *pool_low_arg;
static uint16_t room;                   /* bytes of one mbuf's buffer */
static uint16_t to_buffer;              /* from an mbuf to its buffer */
static struct range current, retired;   /* the pool's, the one before's */

/* Ordinary memory: its size before it, so that the budget can be kept. */
struct block {
    size_t size;
    max_align_t data[];
};
static size_t ordinary_bytes;

static void widen(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *hdr,
                  unsigned idx)
{
    struct range *r = opaque;
    uintptr_t lo = (uintptr_t)hdr->addr, hi = lo + hdr->len;

    (void)mp;
    if (idx == 0 || lo < r->lo)
        r->lo = lo;
    if (idx == 0 || hi > r->hi)
        r->hi = hi;
}

static bool in(const struct range *r, const void *mem)
{
    return (uintptr_t)mem >= r->lo && (uintptr_t)mem < r->hi;
}

void shunt_heap_use(struct rte_mempool *mp, bool (*low)(void *arg), void *arg)
{
    if (pool != NULL)
        retired = current;
    current = (struct range){ 0, 0 };
    pool = mp;
    pool_low = low;
    pool_low_arg = arg;
    if (mp == NULL)
        return;
    rte_mempool_mem_iter(mp, widen, &current);
    room = rte_pktmbuf_data_room_size(mp);
    to_buffer = (uint16_t)(sizeof(struct rte_mbuf) + rte_pktmbuf_priv_size(mp));
}

static void *ordinary_malloc(size_t size)
{
    if (size > MEM_SIZE - ordinary_bytes)
        return NULL;
    struct block *b = malloc(sizeof(*b) + size);
    if (b == NULL)
        return NULL;
    b->size = size;
    ordinary_bytes += size;
    return b->data;
}

void *shunt_heap_malloc(size_t size)
{
    if (pool != NULL && size <= room && !pool_low(pool_low_arg)) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
        if (m != NULL)
            return m->buf_addr;
    }
    return ordinary_malloc(size);
}

void *shunt_heap_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *mem = shunt_heap_malloc(count * size);
    if (mem != NULL)
        memset(mem, 0, count * size);
    return mem;
}

void shunt_heap_free(void *mem)
{
    if (in(&current, mem)) {
        /* The wire may hold a reference still: it frees the mbuf then. */
        rte_pktmbuf_free_seg((struct rte_mbuf *)((char *)mem - to_buffer));
    } else if (!in(&retired, mem)) {
        struct block *b = (struct block *)((char *)mem - offsetof(struct block, data));
        ordinary_bytes -= b->size;
        free(b);
    }
}

struct rte_mbuf *shunt_heap_mbuf(const void *mem)
{
    const char *buffer = (const char *)mem - STATS_HELPER;

    return in(&current, buffer) ? (struct rte_mbuf *)(uintptr_t)(buffer - to_buffer) : NULL;
}
