/*
 * signals.h - the program's signal handlers, seen by the interposer.
 *
 * A call that waits in the kernel ends with EINTR when a handler runs
 * without SA_RESTART, and is restarted after one with it (signal(7)).  A
 * call that waits in Shunt spins the poll loop instead, so it would never
 * see a signal at all: each handler the program installs runs through a
 * trampoline that counts, per thread, the handlers run with and without
 * SA_RESTART, and the waiting call asks between loop turns.
 */
#ifndef SHUNT_SIGNALS_H
#define SHUNT_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* The program's sigaction(), signal() (BSD: SA_RESTART) and sysv_signal(). */
int shunt_signals_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
__sighandler_t shunt_signals_signal(int sig, __sighandler_t handler, int flags);

/* A call that may wait begins: handlers counted from now on end it. */
void shunt_signals_call_begins(void);

/*
 * Whether a handler ran on this thread since the call began that ends it:
 * one without SA_RESTART, or any for a call that is not restartable.
 */
bool shunt_signals_interrupted(bool restartable);

#endif /* SHUNT_SIGNALS_H */
