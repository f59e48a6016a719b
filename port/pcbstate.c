/*
 * pcbstate.c - per-connection state pools on lwIP's ext-arg slots (the
 * contract: pcbstate.h).
 */
#include "pcbstate.h"

#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

/* lwIP's destroy callback says only the slot: which pool owns each one. */
static struct shunt_pcb_pool *owners[LWIP_TCP_PCB_NUM_EXT_ARGS];

static void push(struct shunt_pcb_pool *p, void *entry)
{
    memcpy(entry, &p->free, sizeof(p->free));
    p->free = entry;
}

static void entry_freed(u8_t id, void *data)
{
    if (data != NULL && id < LWIP_TCP_PCB_NUM_EXT_ARGS && owners[id] != NULL)
        push(owners[id], data);
}

static const struct tcp_ext_arg_callbacks on_free = { entry_freed, NULL };

void shunt_pcb_pool_init(struct shunt_pcb_pool *p, void *base, size_t size, size_t count)
{
    if (p->ext_id == 0xff) {
        p->ext_id = tcp_ext_arg_alloc_id();
        owners[p->ext_id] = p;
    }
    p->size = size;
    p->free = NULL;
    for (size_t i = count; i-- > 0;)
        push(p, (unsigned char *)base + i * size);
}

/* The slot read in place: several modules ask on every segment, and lwIP's
 * tcp_ext_arg_get is a call with checks that hold here by construction
 * (ext_id came from tcp_ext_arg_alloc_id). */
void *shunt_pcb_pool_find(const struct shunt_pcb_pool *p, const struct tcp_pcb *pcb)
{
    return p->ext_id != 0xff ? pcb->ext_args[p->ext_id].data : NULL;
}

void *shunt_pcb_pool_get(struct shunt_pcb_pool *p, struct tcp_pcb *pcb, bool *fresh)
{
    void *entry = shunt_pcb_pool_find(p, pcb);

    *fresh = entry == NULL && p->free != NULL;
    if (!*fresh)
        return entry;
    entry = p->free;
    memcpy(&p->free, entry, sizeof(p->free));
    memset(entry, 0, p->size);
    tcp_ext_arg_set_callbacks(pcb, p->ext_id, &on_free);
    tcp_ext_arg_set(pcb, p->ext_id, entry);
    return entry;
}
