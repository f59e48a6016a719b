/*
 * profile.c - see profile.h.
 */
#include "profile.h"

#include <signal.h>
#include <stddef.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else                                   /* no valgrind headers: no profile */
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(what) ((void)(what))
#endif

static volatile sig_atomic_t marks;     /* SIGUSR1s received */
static sig_atomic_t seen;               /* marks acted on */

void profile_begin(void)
{
    CALLGRIND_ZERO_STATS;
}

void profile_end(void)
{
    CALLGRIND_DUMP_STATS_AT("measured");
}

static void on_mark(int sig)
{
    (void)sig;
    marks = marks + 1;
}

void profile_on_signal(void)
{
    struct sigaction sa = { .sa_handler = on_mark, .sa_flags = SA_RESTART };

    sigaction(SIGUSR1, &sa, NULL);
}

void profile_poll(void)
{
    if (marks == seen)
        return;
    seen = marks;
    if (seen % 2 == 1)
        profile_begin();
    else
        profile_end();
}
