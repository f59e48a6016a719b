/*
 * app.h - what every program under apps/ has: its name, for the messages
 * the shared code prints, and the stop flag its signals set.
 */
#ifndef SHUNT_APPS_APP_H
#define SHUNT_APPS_APP_H

#include <signal.h>

/* The program's name as its messages start ("shunt-perf"): each program
 * defines it, so the shared code speaks with the program's voice. */
extern const char app_name[];

/* Set once SIGINT or SIGTERM arrives (after stop_on_signals). */
extern volatile sig_atomic_t stop;

/* The longest a waiting call sleeps in one go, in ms: a stop is seen this
 * soon. */
#define TICK_MS 100

/* No answer for this long ends a client's TCP wait, in seconds. */
#define STALL_SECONDS 10

/*
 * SIGINT and SIGTERM set stop.  No SA_RESTART: a signal also cuts short a
 * kernel call that would block (epoll_wait, read), so loops see stop at once.
 */
void stop_on_signals(void);

#endif /* SHUNT_APPS_APP_H */
