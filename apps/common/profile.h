/*
 * profile.h - the measured interval's marks for callgrind (scripts/profile).
 *
 * Under valgrind --tool=callgrind, profile_begin() zeroes the counts and
 * profile_end() dumps them to FILE.1, so the profile holds the measured
 * interval alone: no start-up, connecting or exit.  Natively each is a few
 * instructions that do nothing (valgrind's client requests).
 *
 * A server does not know its client's interval: SIGUSR1 marks it from
 * outside (the first begins it, the second ends it), and the server's loop
 * calls profile_poll() to act on a mark where it is safe to.
 */
#ifndef SHUNT_APPS_PROFILE_H
#define SHUNT_APPS_PROFILE_H

void profile_begin(void);
void profile_end(void);

/* SIGUSR1 marks the interval's start, then its end. */
void profile_on_signal(void);

/* Begins or ends the interval if a mark came since the last call: one load
 * when none did. */
void profile_poll(void);

#endif /* SHUNT_APPS_PROFILE_H */
