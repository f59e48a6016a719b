/*
 * loop.c - one turn of the poll loop, read top to bottom.
 */
#include "loop.h"

#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"

#include "clock.h"
#include "telemetry.h"

/* lwIP's timers count whole milliseconds: look at them once a millisecond. */
#define TIMER_LOOK_NS 1000000u

static shunt_poll_hook hook;
static void *hook_arg;
static void (*output)(void);
static uint64_t next_timer_look;        /* shunt_clock_ns() */

void shunt_loop_set_output(void (*fn)(void))
{
    output = fn;
}

void shunt_set_poll_hook(shunt_poll_hook fn, void *arg)
{
    hook = fn;
    hook_arg = arg;
}

/* Datagrams under reassembly, IPv4 and IPv6. */
static unsigned reassembling(void)
{
    return lwip_stats.memp[MEMP_REASSDATA]->used + lwip_stats.memp[MEMP_IP6_REASSDATA]->used;
}

/*
 * lwIP's timers.  Only the reassembly timers free reassembly slots, so the
 * slots freed here are the datagrams given up on - which lwIP itself does
 * not count.
 */
static void run_timers(struct shunt_netif *sn)
{
    unsigned before = reassembling();

    sys_check_timeouts();
    unsigned after = reassembling();
    if (after < before)
        sn->counters.drops[SHUNT_DROP_REASSEMBLY] += before - after;
}

/*
 * Whether to ask lwIP if a timer is due: once a millisecond, for a clock
 * read rather than lwIP's walk to its first timeout on every turn.  A clock
 * that went back (a test's, restarted) gets a look at once.
 */
static bool time_to_look(void)
{
    uint64_t now = shunt_clock_ns();

    if (now < next_timer_look && next_timer_look - now <= TIMER_LOOK_NS)
        return false;
    next_timer_look = now + TIMER_LOOK_NS;
    return true;
}

unsigned shunt_loop_turn(struct shunt_netif *sn)
{
    /* 1. Receive a burst; each frame runs through lwIP to completion.
     *    Then what the stack sent to its own addresses comes back in. */
    unsigned received = shunt_netif_rx(sn);
    if (sn->netif.loop_first != NULL)
        shunt_netif_loop_input(sn);

    /* 2. lwIP's timers (TCP retransmission, ARP ageing, reassembly), only
     *    when the earliest is due. */
    if (time_to_look() && sys_timeouts_sleeptime() == 0)
        run_timers(sn);

    /* 3. The application's (and the socket layer's) work for this turn. */
    if (hook != NULL)
        hook(hook_arg);

    /* 4. What sockets queued since the last turn: data the application
     *    wrote, ACKs its replies did not carry. */
    if (output != NULL)
        output();

    /* 5. Everything this turn produced leaves in one TX burst. */
    shunt_netif_flush(sn);

    /* 6. A question from shunt-stat, if one waits (one load to find out). */
    shunt_telemetry_poll();
    return received;
}
