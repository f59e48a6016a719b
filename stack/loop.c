/*
 * loop.c - one turn of the poll loop, read top to bottom.
 */
#include "loop.h"

#include <errno.h>

#include "lwip/timeouts.h"

#include "held.h"
#include "netif.h"
#include "recovery.h"
#include "stack.h"
#include "telemetry.h"
#include "tstamp.h"

/* lwIP's timers count whole milliseconds: look at them once a millisecond. */
#define TIMER_LOOK_NS 1000000u

void shunt_loop_init(struct shunt_loop *l, struct shunt_netif *netif,
                     const struct shunt_clock *clock, struct shunt_telemetry *telemetry)
{
    /* The hook stays: a program may set it before the instance is up. */
    l->netif = netif;
    l->clock = clock;
    l->telemetry = telemetry;
    l->next_timer_look = 0;
    l->now = 0;
    l->last_busy = false;
    l->in_turn = false;
    shunt_idle_init(&l->idle);
}

void shunt_loop_set_output(struct shunt_loop *l,
                           void (*fn)(void *arg, struct shunt_turn_work *w), void *arg)
{
    l->output = fn;
    l->output_arg = arg;
}

void shunt_loop_want_turn(struct shunt_loop *l, struct shunt_turn_work *w)
{
    if (w->queued)
        return;
    w->queued = true;
    w->next = l->work;
    l->work = w;
}

void shunt_loop_forget(struct shunt_loop *l, struct shunt_turn_work *w)
{
    if (!w->queued)
        return;
    for (struct shunt_turn_work **p = &l->work; *p != NULL; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->queued = false;
}

/* The output step: each node queued gets its work done (and may queue
 * itself again, for the next turn). */
static void run_output(struct shunt_loop *l)
{
    struct shunt_turn_work *list = l->work;

    l->work = NULL;
    while (list != NULL) {
        struct shunt_turn_work *w = list;
        list = w->next;
        w->queued = false;
        l->output(l->output_arg, w);
    }
}

void shunt_set_poll_hook(shunt_poll_hook fn, void *arg)
{
    struct shunt_loop *l = &shunt_instance()->loop;

    l->hook = fn;
    l->hook_arg = arg;
}

/*
 * lwIP's timers.  Frames leave IP reassembly or a TCP out-of-order queue
 * in a timer only when lwIP gives up on them - fragments missing too long,
 * out-of-order data kept too long or of a connection that died - and lwIP
 * counts none of it: counted here, frame by frame (the frame balance,
 * stack/stats.h).
 */
static void run_timers(struct shunt_loop *l)
{
    struct shunt_held before = shunt_held_in_lwip();

    sys_check_timeouts();
    struct shunt_held after = shunt_held_in_lwip();
    uint64_t *drops = l->netif->counters.drops;
    if (after.reassembly < before.reassembly)
        drops[SHUNT_DROP_REASSEMBLY] += before.reassembly - after.reassembly;
    /* Out-of-order data only: refused data leaves a timer delivered. */
    unsigned ooseq_before = before.tcp - before.refused, ooseq_after = after.tcp - after.refused;
    if (ooseq_after < ooseq_before)
        drops[SHUNT_DROP_LWIP] += ooseq_before - ooseq_after;
}

/*
 * Whether to ask lwIP if a timer is due: once a millisecond, for a clock
 * read rather than lwIP's walk to its first timeout on every turn.  A clock
 * that went back (a test's, restarted) gets a look at once.
 */
static bool time_to_look(struct shunt_loop *l, uint64_t now)
{
    if (now < l->next_timer_look && l->next_timer_look - now <= TIMER_LOOK_NS)
        return false;
    l->next_timer_look = now + TIMER_LOOK_NS;
    return true;
}

uint64_t shunt_loop_idle_ns(struct shunt_loop *l, uint64_t until)
{
    if (!shunt_idle_sleepy(&l->idle, l->now))
        return 0;
    uint64_t wake = until;
    uint32_t lwip_ms = sys_timeouts_sleeptime();    /* from lwIP's own clock read */
    if (lwip_ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE)
        wake = RTE_MIN(wake, l->now + (uint64_t)lwip_ms * 1000000u);
    wake = RTE_MIN(wake, shunt_recovery_next_due_ns());
    return wake > l->now ? wake - l->now : 0;
}

/* The longest span between two turns that is counted as work: a turn and
 * the program's calls around it take microseconds (a burst of 32 full
 * frames some tens); one of a millisecond or more had the thread off its
 * core (preempted by the scheduler, a time slice being milliseconds). */
#define WORK_SPAN_MAX_NS 1000000u

/* The span since the last turn's clock read, as work if a turn at either
 * end of it was busy and the loop did not sleep in it (loop.h: work_ns).
 * A clock that went back (a test's) or the first turn adds nothing. */
static void count_work(struct shunt_loop *l, bool busy, uint64_t last, uint64_t now)
{
    bool slept = l->idle.sleeps != l->last_sleeps;

    if ((busy || l->last_busy) && !slept && last != 0 && now > last &&
        now - last < WORK_SPAN_MAX_NS)
        l->work_ns += now - last;
    l->last_busy = busy;
    l->last_sleeps = l->idle.sleeps;
}

int shunt_loop_turn(struct shunt_loop *l)
{
    struct shunt_netif *sn = l->netif;

    if (l->in_turn)
        return -EDEADLK;
    l->in_turn = true;
    l->turns++;

    /* 1. A burst from the device pipeline (the port's queue, and the
     *    stages on it: capture, faults); each frame is classified and runs
     *    through lwIP to completion.  Then what the stack sent to its own
     *    addresses comes back in. */
    unsigned received = shunt_netif_rx(sn);
    bool looped = sn->netif.loop_first != NULL;
    if (looped)
        shunt_netif_loop_input(sn);

    /* 2. lwIP's timers (TCP retransmission, ARP ageing, reassembly), only
     *    when the earliest is due.  The clock read here also dates the
     *    turn for the idle policy. */
    uint64_t now = shunt_clock_ns(l->clock), last = l->now;
    l->now = now;
    shunt_tstamp_tick(now);
    if (time_to_look(l, now) && sys_timeouts_sleeptime() == 0)
        run_timers(l);
    /*    Shunt's own TCP timers (retransmission, tail loss probe), to the
     *    microsecond: one compare unless one is due. */
    shunt_recovery_poll();

    /* 3. The application's work for this turn. */
    if (l->hook != NULL)
        l->hook(l->hook_arg);

    /* 4. What sockets queued since the last turn: data the application
     *    wrote, ACKs its replies did not carry. */
    if (l->output != NULL)
        run_output(l);

    /* 5. Everything this turn produced goes down the pipeline in one burst.
     *    A turn that received or sends something was busy: the idle policy
     *    spins on for spin_us after it, and shunt-doctor shows the ratio. */
    bool busy = received > 0 || looped || sn->tx_count != 0;
    shunt_idle_note(&l->idle, busy, now);
    l->busy_turns += busy;
    count_work(l, busy, last, now);
    shunt_netif_flush(sn);

    /* 6. A question from shunt-stat, if one waits (one load to find out). */
    shunt_telemetry_poll(l->telemetry);
    l->in_turn = false;
    return (int)received;
}
